"""Run GStreamer's RTSP server (a peer we did not write) as a subprocess, with cleanup."""

from __future__ import annotations

import contextlib
import selectors
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tests.support.tools import require_python_module

SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
PYTHON = "/usr/bin/python3"  # Debian's: gi is not importable from the venv (NOTES.md)


@contextlib.contextmanager
def gst_rtsp_server(
    address: str, port: int = 0, *extra: str, netns: str | None = None
) -> Iterator[int]:
    """Start it; yield the RTSP port once it listens; stop it however the test ends."""
    require_python_module(PYTHON, "gi")
    command = [PYTHON, str(SCRIPT), "--address", address, "--port", str(port), *extra]
    if netns is not None:
        command = ["ip", "netns", "exec", netns, *command]
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        yield _wait_ready(proc)
    finally:
        if proc.stdin is not None:
            proc.stdin.close()  # the server stops when its stdin closes
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _wait_ready(proc: subprocess.Popen[str], bound_s: float = 20.0) -> int:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if not selector.select(timeout=deadline - time.monotonic()):
            break
        line = proc.stdout.readline()
        if line.startswith("READY "):
            return int(line.split()[1])
        if not line:
            break
    proc.kill()
    _out, err = proc.communicate(timeout=5)
    raise RuntimeError(f"gst-rtsp-server did not start: {err.strip()[-500:]}")
