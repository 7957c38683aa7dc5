"""Two namespaces (never loopback): multicast with ffmpeg and GStreamer on the document's
ports, and unicast from a camera on its own address."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.camera.netns import CAMERA_ADDRESS, NamespacePair, namespace_pair
from tests.camera.peers import ffmpeg_frames, gst_plays
from tests.camera.process import CameraProcess, camera_process
from tests.support.tools import require_netns, require_tools

pytestmark = [pytest.mark.netns, pytest.mark.peer, pytest.mark.slow]


@pytest.fixture(scope="module")
def multicast_site() -> Iterator[tuple[NamespacePair, CameraProcess]]:
    require_netns()
    with (
        namespace_pair("mc") as pair,
        camera_process(
            "--host",
            CAMERA_ADDRESS,
            "--rtsp-port",
            "554",
            "--http-port",
            "80",
            "--base-port",
            "2222",
            prefix=pair.exec_prefix(pair.camera),
        ) as cam,
    ):
        yield pair, cam


@pytest.mark.parametrize("path", ["video1", "video1s", "video1+audio1", "video1s+audio1"])
def test_ffmpeg_udp_multicast_decodes_30_frames(
    multicast_site: tuple[NamespacePair, CameraProcess], path: str
) -> None:
    require_tools("ffmpeg")
    pair, cam = multicast_site
    url = cam.url(path, CAMERA_ADDRESS)
    assert ffmpeg_frames(url, "udp_multicast", prefix=pair.exec_prefix(pair.client)) >= 30


def test_gstreamer_plays_multicast(multicast_site: tuple[NamespacePair, CameraProcess]) -> None:
    require_tools("gst-launch-1.0")
    pair, cam = multicast_site
    gst_plays(cam.url("video1", CAMERA_ADDRESS), "udp-mcast", prefix=pair.exec_prefix(pair.client))


def _probe(pair: NamespacePair, url: str, track: int) -> list[str]:
    script = Path(__file__).with_name("mcast_probe.py")
    result = subprocess.run(
        [*pair.exec_prefix(pair.client), sys.executable, str(script), url, str(track)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize(
    ("path", "track", "port"),
    [("video1", 1, 64704), ("video1", 2, 64904), ("video1+audio1", 2, 64802)],
)
def test_media_arrives_on_the_document_multicast_ports(
    multicast_site: tuple[NamespacePair, CameraProcess], path: str, track: int, port: int
) -> None:
    pair, cam = multicast_site
    group, got_port, ssrc_ok = _probe(pair, cam.url(path, CAMERA_ADDRESS), track)
    assert group == "239.192.0.10"
    assert int(got_port) == port
    assert ssrc_ok == "True"


def test_overridden_multicast_port_is_where_media_goes() -> None:
    require_netns()
    with (
        namespace_pair("mo") as pair,
        camera_process(
            "--host",
            CAMERA_ADDRESS,
            "--rtsp-port",
            "554",
            "--multicast-port",
            "video1=64710",
            "--multicast-group",
            "239.192.0.77",
            prefix=pair.exec_prefix(pair.camera),
        ) as cam,
    ):
        group, port, _ = _probe(pair, cam.url("video1", CAMERA_ADDRESS), 1)
        assert (group, int(port)) == ("239.192.0.77", 64710)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_ffmpeg_unicast_between_namespaces(
    multicast_site: tuple[NamespacePair, CameraProcess], transport: str
) -> None:
    """The camera on its own address (not loopback) with a client on another host."""
    require_tools("ffmpeg")
    pair, cam = multicast_site
    url = cam.url("video1+audio1", CAMERA_ADDRESS)
    assert ffmpeg_frames(url, transport, prefix=pair.exec_prefix(pair.client)) >= 30
