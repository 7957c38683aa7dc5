"""`plan` must start fast: it may not import scapy (over a second here) nor aiortsp."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("scapy", "aiortsp", "asyncio_dgram", "yaml")


def test_plan_json_imports_nothing_heavy():
    result = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "truenprobe",
            "plan",
            "--client",
            "decoder",
            "--protocol",
            "rtsp",
            "--transport",
            "udp",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0] for line in result.stderr.splitlines()
    }
    assert not imported & set(HEAVY), imported & set(HEAVY)
