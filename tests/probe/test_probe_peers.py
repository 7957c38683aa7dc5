"""Against a server we did not write: GStreamer's gst-rtsp-server (Debian, through gi).

UDP and TCP on loopback; multicast, a dropped UDP port and a wrong multicast port
between two network namespaces this test creates.
"""

from __future__ import annotations

import pytest

from tests.probe.netns import namespace_pair, results
from tests.probe.peers.gst import gst_rtsp_server
from tests.probe.probe_helpers import DECODER_RTSP_UDP, by_flow, check, free_rtsp_port, plan_of
from truenprobe.report.model import Status, Verdict

pytestmark = [pytest.mark.peer, pytest.mark.slow]


async def test_gst_decoder_udp() -> None:
    port = free_rtsp_port()
    with gst_rtsp_server("127.0.0.2", port):
        plan = plan_of(
            client="decoder", protocol="rtsp", transport="udp", rtsp_port=port, camera_side="public"
        )
        report, _ = await check(plan, stage_s=8.0)
    flows = by_flow(report)
    assert flows["rtp-video"].status is Status.PASS, flows["rtp-video"].diagnosis
    assert flows["rtcp-video"].status is Status.PASS, flows["rtcp-video"].diagnosis
    assert flows["rtp-video"].evidence["payload_type"] == 96
    assert report.verdict is Verdict.PASS


async def test_gst_vlc_tcp_with_audio() -> None:
    port = free_rtsp_port()
    with gst_rtsp_server("127.0.0.2", port, "--audio"):
        plan = plan_of(client="vlc", transport="tcp", stream="video1+audio1", rtsp_port=port)
        report, _ = await check(plan, stage_s=8.0)
    r = by_flow(report)["rtsp-control"]
    assert r.status is Status.PASS, r.diagnosis
    assert set(r.evidence["interleaved"]) == {"video", "audio"}


@pytest.mark.netns
@pytest.mark.parametrize("camera_port", [64704, 64710])
def test_gst_multicast_between_namespaces(camera_port: int) -> None:
    """The camera streams video1 to ``camera_port``; the plan expects 64704."""
    group = f"239.255.12.{camera_port % 100}"
    with (
        namespace_pair(f"m{camera_port % 100}") as pair,
        gst_rtsp_server(
            pair.camera_ip,
            8554,
            "--multicast-group",
            group,
            "--multicast-port",
            str(camera_port),
            netns=pair.camera,
        ),
    ):
        report = pair.check(
            "--client",
            "decoder",
            "--protocol",
            "rtsp",
            "--transport",
            "multicast",
            "--rtsp-port",
            "8554",
            "--timeout",
            "8",
        )
    r = results(report)["multicast-video"]
    if camera_port == 64704:
        assert r["status"] == "pass", r
        assert r["evidence"]["group"] == group
        assert report["verdict"] == "pass"
    else:
        assert r["status"] == "fail"
        assert f"streams video1 to multicast port {camera_port}" in r["diagnosis"]
        assert "the plan expects 64704" in r["diagnosis"]


@pytest.mark.netns
def test_udp_dropped_by_nftables_names_the_forward() -> None:
    """The client's side drops UDP to R..R+1: the report names the client-side forward."""
    with (
        namespace_pair("dr") as pair,
        gst_rtsp_server(pair.camera_ip, 8554, netns=pair.camera),
    ):
        pair.drop_udp_input(pair.client, "8554-8555")
        report = pair.check(
            *DECODER_RTSP_UDP,
            "--rtsp-port",
            "8554",
            "--camera-side",
            "public",
            "--timeout",
            "2",
        )
    r = results(report)["rtp-video"]
    assert r["status"] == "fail"
    assert "client-side IP sharer: forward UDP 8554–8555 to the decoder" in r["diagnosis"]
    assert r["forward"]["router"] == "client"
    assert results(report)["rtsp-control"]["status"] == "pass"
    assert report["verdict"] == "fail"
