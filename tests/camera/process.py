"""``truenprobe camera`` as a subprocess (optionally inside a network namespace)."""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class CameraProcess:
    process: subprocess.Popen[bytes]
    output: str
    rtsp_port: int
    http_port: int
    base_port: int

    def url(self, stream: str, host: str) -> str:
        return f"rtsp://{host}:{self.rtsp_port}/{stream}"


def _read_until_ready(process: subprocess.Popen[bytes], within: float) -> str:
    """The camera's summary, read without blocking past ``within`` seconds."""
    if process.stdout is None:
        raise RuntimeError("no stdout pipe")
    fd = process.stdout.fileno()
    selector = selectors.DefaultSelector()
    selector.register(fd, selectors.EVENT_READ)
    data = b""
    deadline = time.monotonic() + within
    while b"Ready" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if selector.select(left):
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    selector.close()
    return data.decode(errors="replace")


@contextmanager
def camera_process(*args: str, prefix: tuple[str, ...] = ()) -> Iterator[CameraProcess]:
    """Start the CLI, wait (bounded) for its summary, stop it with SIGINT at the end."""
    command = [*prefix, sys.executable, "-m", "truenprobe", "camera", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        text = _read_until_ready(process, 30)
        if "Ready" not in text:
            process.kill()
            _, err = process.communicate(timeout=10)
            raise RuntimeError(f"camera did not start: {text}{err.decode(errors='replace')}")
        rtsp = re.search(r"RTSP\s+TCP (\d+)", text)
        http = re.search(r"HTTP\s+http://[^:]+:(\d+)/", text)
        base = re.search(r"base port\s+TCP (\d+)", text)
        if rtsp is None or http is None or base is None:
            raise RuntimeError(f"unexpected camera summary: {text}")
        yield CameraProcess(
            process, text, int(rtsp.group(1)), int(http.group(1)), int(base.group(1))
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
