"""The truen_camera fixture, as our tests and another project's tests use it."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from truenprobe.camera import EmulatedCamera


def _options(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.settimeout(5)
        sock.sendall(b"DESCRIBE rtsp://127.0.0.1/video1 RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        return sock.recv(4096)


def test_fixture_gives_a_running_camera(truen_camera: EmulatedCamera) -> None:
    assert truen_camera.url("video1").startswith("rtsp://127.0.0.1:")
    assert _options(truen_camera.rtsp_port).startswith(b"RTSP/1.0 200 OK\r\n")


@pytest.mark.truen_camera(user="ci", password="pw")
def test_marker_passes_options(truen_camera: EmulatedCamera) -> None:
    assert _options(truen_camera.rtsp_port).startswith(b"RTSP/1.0 401 Unauthorized\r\n")


async def test_fixture_in_an_async_test(truen_camera: EmulatedCamera) -> None:
    assert truen_camera.http_port > 0


def test_another_projects_ci_gets_the_fixture_from_the_entry_point(tmp_path: Path) -> None:
    test_file = tmp_path / "test_vms.py"
    test_file.write_text(
        textwrap.dedent(
            """
            import socket

            def test_vms_reaches_the_camera(truen_camera):
                with socket.create_connection(("127.0.0.1", truen_camera.rtsp_port), 5) as s:
                    s.sendall(b"OPTIONS * RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n")
                    assert s.recv(100).startswith(b"RTSP/1.0 200")
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
