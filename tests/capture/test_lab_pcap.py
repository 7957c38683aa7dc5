"""`lab run --pcap`: the prober records inside the lab's client namespace; analyze agrees."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tools import require_netns

DECODER_UDP = ["--client", "decoder", "--protocol", "rtsp", "--transport", "udp"]


@pytest.mark.netns
@pytest.mark.slow
def test_lab_run_records_and_analyze_agrees(tmp_path: Path) -> None:
    require_netns()
    pcap = tmp_path / "lab.pcap"
    lab = subprocess.run(
        [sys.executable, "-m", "truenprobe", "lab", "run", *DECODER_UDP, "--format", "json",
         "--pcap", str(pcap)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert lab.returncode == 0, lab.stdout + lab.stderr
    assert f"lab: the prober's packets are in {pcap}" in lab.stderr
    live = json.loads(lab.stdout)
    analyzed = subprocess.run(
        [sys.executable, "-m", "truenprobe", "analyze", str(pcap), "--camera", live["camera"],
         *DECODER_UDP, "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    offline = json.loads(analyzed.stdout)
    statuses = {r["flow"]: r["status"] for r in live["results"]}
    assert {r["flow"]: r["status"] for r in offline["results"]} == statuses
    assert analyzed.returncode == 0, offline
    # the decoder's RTCP to the camera is proven by the camera's own count, in both
    (returned,) = [r for r in offline["results"] if r["flow"] == "rtcp-return"]
    assert returned["status"] == "pass"
    assert returned["evidence"]["camera_received"] > 0
    assert any("taken on the client's side" in f for f in offline["findings"])
