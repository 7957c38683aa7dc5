"""`check --pcap` against the emulated camera in a namespace; `analyze` of the recording agrees."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CAMERA = "127.0.0.2"
SCENARIO = [
    "--client", "vlc", "--transport", "udp", "--client-port", "5000",
    "--camera-side", "public", "--client-side", "public", "--stream", "video1s",
]  # fmt: skip


@pytest.fixture
def camera_in(netns: str, tmp_path: Path) -> Iterator[str]:
    """The emulated camera on 127.0.0.2 inside the test's namespace, stopped afterwards."""
    log = (tmp_path / "camera.log").open("w")
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, "-m", "truenprobe", "camera",
         "--host", CAMERA],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        probe = (
            "import socket,sys\n"
            "try: socket.create_connection(('127.0.0.2', 554), timeout=1).close()\n"
            "except OSError: sys.exit(1)\n"
        )
        deadline = time.monotonic() + 30
        while subprocess.run(
            ["ip", "netns", "exec", netns, sys.executable, "-c", probe], check=False, timeout=30
        ).returncode:
            assert proc.poll() is None, (tmp_path / "camera.log").read_text()
            assert time.monotonic() < deadline, "the camera did not open RTSP 554 in 30 s"
            time.sleep(0.1)
        yield netns
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def test_check_records_and_analyze_agrees(camera_in: str, tmp_path: Path) -> None:
    pcap = tmp_path / "check.pcap"
    check = subprocess.run(
        ["ip", "netns", "exec", camera_in, sys.executable, "-m", "truenprobe", "check", CAMERA,
         *SCENARIO, "--format", "json", "--timeout", "3", "--pcap", str(pcap)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert "recorded " in check.stderr
    assert str(pcap) in check.stderr
    live = json.loads(check.stdout)
    analyzed = subprocess.run(
        [sys.executable, "-m", "truenprobe", "analyze", str(pcap), "--camera", CAMERA,
         *SCENARIO, "--format", "json"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert analyzed.returncode == 0, analyzed.stdout + analyzed.stderr
    offline = json.loads(analyzed.stdout)
    status = {r["flow"]: r["status"] for r in live["results"]}
    assert {r["flow"]: r["status"] for r in offline["results"]} == status
    assert status["rtp-video"] == "pass"
    assert any("no router between client and camera" in f for f in offline["findings"])


def test_check_without_capture_rights_still_runs(camera_in: str, tmp_path: Path) -> None:
    pcap = tmp_path / "check.pcap"
    check = subprocess.run(
        ["ip", "netns", "exec", camera_in, "setpriv", "--bounding-set=-net_raw", sys.executable,
         "-m", "truenprobe", "check", CAMERA, *SCENARIO, "--format", "json", "--timeout", "3",
         "--pcap", str(pcap)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stderr.splitlines() == [
        "truenprobe: --pcap: capturing packets needs root or the CAP_NET_RAW capability; the "
        "check runs without recording"
    ]
    assert json.loads(check.stdout)["verdict"] == "pass"
    assert not pcap.exists()


def test_pcap_with_an_inventory_is_refused(tmp_path: Path) -> None:
    inventory = tmp_path / "cameras.csv"
    inventory.write_text("camera\n192.0.2.1\n")
    done = subprocess.run(
        [sys.executable, "-m", "truenprobe", "check", "--inventory", str(inventory), *SCENARIO,
         "--pcap", str(tmp_path / "x.pcap")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--pcap records one camera's check, not an --inventory" in done.stderr
