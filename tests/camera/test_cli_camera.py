"""`truenprobe camera` as a user runs it: what it prints, bind errors, Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.camera.process import camera_process
from tests.support.tools import require_root, require_tools

Cli = Callable[..., subprocess.CompletedProcess[str]]
FREE = ("--http-port", "0", "--base-port", "0")


def test_prints_what_it_serves_and_stops_cleanly_on_ctrl_c() -> None:
    with camera_process("--host", "127.0.0.1", "--rtsp-port", "0", *FREE) as cam:
        for stream in ("video1", "video1s", "video1+audio1", "audio1", "video1s+audio1"):
            assert f"rtsp://127.0.0.1:{cam.rtsp_port}/{stream}" in cam.output
        assert "multicast video 64704, metadata 64904" in cam.output
        assert "video 64718, audio 64818, metadata 64918" in cam.output
        cam.process.send_signal(signal.SIGINT)
        out, err = cam.process.communicate(timeout=15)
        assert b"camera stopped" in out  # stopped cleanly, then says so like every command
        assert err == b"truenprobe: interrupted\n"
        assert cam.process.returncode == 130


def test_sigterm_is_a_clean_stop_with_exit_0() -> None:
    with camera_process("--host", "127.0.0.1", "--rtsp-port", "0", *FREE) as cam:
        cam.process.send_signal(signal.SIGTERM)
        out, err = cam.process.communicate(timeout=15)
        assert b"camera stopped" in out
        assert err == b""
        assert cam.process.returncode == 0


def test_audio_pair_of_its_own() -> None:
    """--server-audio-port: the player's audio ports, as the document's optional forwards
    have the camera use them."""
    audio = _free_udp_pair()
    args = ("--host", "127.0.0.1", "--rtsp-port", "0", "--server-audio-port", str(audio))
    with camera_process(*args, *FREE) as cam:
        assert f"audio {audio}-{audio + 1}" in cam.output


def test_port_in_use_is_one_line_naming_the_option(cli: Cli) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("camera", "--host", "127.0.0.1", "--rtsp-port", str(port), *FREE)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "already in use" in lines[0]
    assert "--rtsp-port" in lines[0]


def test_http_port_in_use_names_http_port(cli: Cli) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = cli("camera", "--host", "127.0.0.1", "--rtsp-port", "0", "--http-port", str(port))
    assert result.returncode == 2
    assert "--http-port" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_privileged_port_without_root_names_the_option() -> None:
    require_root("dropping to an unprivileged user")
    require_tools("setpriv")
    setpriv = shutil.which("setpriv")
    assert setpriv is not None
    result = subprocess.run(
        [
            setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
            sys.executable, "-m", "truenprobe", "camera", "--host", "127.0.0.1",
            "--rtsp-port", "0", "--http-port", "81", "--base-port", "0",
        ],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "below 1024 need root" in result.stderr
    assert "--http-port" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--multicast-group", "10.0.0.1"), "--multicast-group"),
        (("--multicast-port", "video9=1"), "--multicast-port"),
        (("--multicast-port", "video1=70000"), "--multicast-port"),
        (("--user", "admin"), "--password"),
        (("--host", "not-an-ip"), "--host"),
        (("--multicast-ttl", "0"), "--multicast-ttl"),
    ],
)
def test_bad_options_exit_2_with_one_line(cli: Cli, args: tuple[str, ...], message: str) -> None:
    result = cli("camera", "--rtsp-port", "0", *FREE, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_credentials_are_never_logged() -> None:
    secret = "Zebra-Paint-42"
    with camera_process(
        "--host", "127.0.0.1", "--rtsp-port", "0", *FREE,
        "--user", "admin", "--password", secret, "--verbose",
    ) as cam:  # fmt: skip
        with socket.create_connection(("127.0.0.1", cam.rtsp_port), timeout=5) as sock:
            sock.settimeout(5)
            url = cam.url("video1", "127.0.0.1")
            sock.sendall(
                f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAuthorization: Digest "
                f'username="admin", realm="x", nonce="n", uri="{url}", response="{secret}"'
                "\r\n\r\n".encode()
            )
            assert sock.recv(4096).startswith(b"RTSP/1.0 401")
        with socket.create_connection(("127.0.0.1", cam.rtsp_port), timeout=5) as sock:
            sock.settimeout(5)
            sock.sendall(
                f"OPTIONS rtsp://admin:{secret}@127.0.0.1/ RTSP/1.0\r\nCSeq: 2\r\n\r\n".encode()
            )
            assert sock.recv(4096).startswith(b"RTSP/1.0 200")
        for broken in (
            f"OPTIONS * RTSP/1.0\r\nAuthorization {secret}\r\n\r\n",
            f"OPTIONS rtsp://admin:{secret}@h/ HTTP/1.1\r\nCSeq: 3\r\n\r\n",
        ):
            with socket.create_connection(("127.0.0.1", cam.rtsp_port), timeout=5) as sock:
                sock.settimeout(5)
                sock.sendall(broken.encode())
                assert sock.recv(4096).startswith(b"RTSP/1.0 400")
        cam.process.send_signal(signal.SIGINT)
        out, err = cam.process.communicate(timeout=15)
    assert b"DESCRIBE" in err  # --verbose logs requests...
    assert secret.encode() not in out + err  # ...never credentials
    assert secret not in cam.output


def test_unusable_media_dir_is_one_line(cli: Cli, tmp_path: Path) -> None:
    missing = cli("camera", "--rtsp-port", "0", *FREE, "--media-dir", str(tmp_path / "none"))
    assert missing.returncode == 2
    assert "cannot read clip video1.h264" in missing.stderr
    (tmp_path / "video1.h264").write_bytes(b"not h264")
    broken = cli("camera", "--rtsp-port", "0", *FREE, "--media-dir", str(tmp_path))
    assert broken.returncode == 2
    assert "video1: no SPS and PPS" in broken.stderr
    assert len(broken.stderr.strip().splitlines()) == 1


def _free_udp_pair() -> int:
    """A port P with P and P+1 free for UDP on 127.0.0.1, found now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return int(port)
    raise RuntimeError("no free UDP pair")
