"""A flood from a foreign host at the planned port, carrying the camera's own SSRC, while the
camera sends nothing: the check must fail. Between real addresses (two namespaces), since on
loopback any local address may be the camera's."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.tools import require_netns

ROOT = Path(__file__).resolve().parents[2]
CAMERA_IP, FOREIGN_IP, CLIENT_IP = "198.51.100.1", "198.51.100.3", "198.51.100.2"
CLIENT_PORT = 40000


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def camera_and_client() -> Iterator[tuple[str, str]]:
    """Namespaces (camera, client) on one veth link; the camera's side also holds FOREIGN_IP."""
    require_netns()
    pid = os.getpid()
    camera, client = f"tp-robust-{pid}-cam", f"tp-robust-{pid}-cli"
    created = []
    try:
        for ns in (camera, client):
            _ip("netns", "add", ns)
            created.append(ns)
        veth = f"tpr{pid % 100000}"
        _ip("link", "add", f"{veth}a", "netns", camera, "type", "veth", "peer", "name", f"{veth}b")
        _ip("link", "set", f"{veth}b", "netns", client)
        for ns, dev, addresses in (
            (camera, f"{veth}a", (CAMERA_IP, FOREIGN_IP)),
            (client, f"{veth}b", (CLIENT_IP,)),
        ):
            _ip("-n", ns, "link", "set", "lo", "up")
            for address in addresses:
                _ip("-n", ns, "addr", "add", f"{address}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
        yield camera, client
    finally:
        for ns in created:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30, check=False)


@pytest.mark.netns
@pytest.mark.timeout(120)
def test_foreign_flood_with_the_announced_ssrc_fails() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    with camera_and_client() as (camera_ns, client_ns):
        serve = ["tests.robustness.flood_server", CAMERA_IP, FOREIGN_IP]
        server = subprocess.Popen(
            ["ip", "netns", "exec", camera_ns, sys.executable, "-m", *serve],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=env,
            text=True,
        )
        try:
            assert server.stdout is not None
            ready = server.stdout.readline()  # bounded by the test's timeout
            assert ready.startswith("READY "), ready + (
                server.stderr.read() if server.stderr else ""
            )
            port = ready.split()[1]
            args = ["ip", "netns", "exec", client_ns, sys.executable, "-m", "truenprobe", "check"]
            args += [CAMERA_IP, "--client", "vlc", "--transport", "udp", "--camera-side", "public"]
            args += ["--client-port", str(CLIENT_PORT), "--rtsp-port", port, "--timeout", "1.5"]
            check = subprocess.run(
                [*args, "--format", "json"],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=ROOT,
                env=env,
                check=False,
            )
        finally:
            if server.stdin is not None:
                server.stdin.close()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=10)
    assert "Traceback" not in check.stderr, check.stderr
    assert check.returncode == 1, check.stdout + check.stderr
    report = json.loads(check.stdout)
    flows = {r["flow"]: r for r in report["results"]}
    assert flows["rtp-video"]["status"] == "fail"
    assert "nothing from the camera arrived" in flows["rtp-video"]["diagnosis"]
    assert flows["rtp-video"]["evidence"]["foreign_packets"] > 1000
    assert flows["rtcp-video"]["status"] == "fail"
    foreign = [u for u in report["unexpected"] if u["source"].startswith(FOREIGN_IP)]
    assert foreign
    assert all("not from the camera" in u["note"] for u in foreign)
    assert {u["ssrc"] for u in foreign} == {"0x5eed5eed"}  # the announced SSRC, still foreign
