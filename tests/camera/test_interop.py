"""Real clients we did not write play the camera: ffmpeg (TCP, UDP) and GStreamer rtspsrc.

Multicast is in test_multicast_netns.py (two namespaces, never loopback).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.camera.peers import ffmpeg_frames, gst_plays
from tests.camera.process import CameraProcess, camera_process
from tests.support.tools import require_tools

pytestmark = [pytest.mark.peer, pytest.mark.slow]

VIDEO_PATHS = ["video1", "video1s", "video1+audio1", "video1s+audio1"]


@pytest.fixture(scope="module")
def served() -> Iterator[CameraProcess]:
    with camera_process(
        "--host", "127.0.0.1", "--rtsp-port", "0", "--http-port", "0", "--base-port", "0"
    ) as cam:
        yield cam


@pytest.mark.parametrize("transport", ["tcp", "udp"])
@pytest.mark.parametrize("path", VIDEO_PATHS)
def test_ffmpeg_decodes_30_frames(served: CameraProcess, path: str, transport: str) -> None:
    require_tools("ffmpeg")
    assert ffmpeg_frames(served.url(path, "127.0.0.1"), transport) >= 30


@pytest.mark.parametrize(
    ("path", "protocols"),
    [("video1", "tcp"), ("video1", "udp"), ("video1s+audio1", "tcp"), ("video1+audio1", "udp")],
)
def test_gstreamer_rtspsrc_plays(served: CameraProcess, path: str, protocols: str) -> None:
    require_tools("gst-launch-1.0")
    gst_plays(served.url(path, "127.0.0.1"), protocols)


@pytest.fixture(scope="module")
def served_with_auth() -> Iterator[CameraProcess]:
    with camera_process(
        "--host", "127.0.0.1", "--rtsp-port", "0", "--http-port", "0", "--base-port", "0",
        "--user", "admin", "--password", "pa55word",
    ) as cam:  # fmt: skip
        yield cam


def test_ffmpeg_answers_the_digest_challenge(served_with_auth: CameraProcess) -> None:
    require_tools("ffmpeg")
    url = served_with_auth.url("video1", "admin:pa55word@127.0.0.1")
    assert ffmpeg_frames(url, "tcp") >= 30
    with pytest.raises(AssertionError, match="401"):
        ffmpeg_frames(served_with_auth.url("video1", "admin:wrong@127.0.0.1"), "tcp")


def test_gstreamer_answers_the_digest_challenge(served_with_auth: CameraProcess) -> None:
    require_tools("gst-launch-1.0")
    gst_plays(served_with_auth.url("video1", "admin:pa55word@127.0.0.1"), "tcp")
