"""fixtures/captures/record.py still records what the committed fixtures hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.capture.test_cli_analyze import CASES, FIXTURES, Cli, run_json
from tests.support.tools import require_netns, require_tools

SCENES = ["vlc-udp-gstreamer-ok", "vlc-udp-camera-forward-missing-rst"]


@pytest.mark.netns
@pytest.mark.peer
@pytest.mark.slow
def test_record_again_and_judge(cli: Cli, tmp_path: Path) -> None:
    require_netns()
    require_tools("tcpdump", "ffmpeg", "gst-launch-1.0")
    done = subprocess.run(
        [sys.executable, str(FIXTURES / "record.py"), *SCENES, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    expected = {case[0]: case for case in CASES}
    for scene in SCENES:
        _name, options, code, flows, _forward = expected[scene]
        returncode, report = run_json(cli, str(tmp_path / f"{scene}.pcap"), *options)
        assert returncode == code, report
        statuses = {r["flow"]: r["status"] for r in report["results"]}
        assert {flow: statuses[flow] for flow in flows} == {f: s for f, (s, _) in flows.items()}
