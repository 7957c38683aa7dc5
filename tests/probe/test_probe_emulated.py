"""Whole checks against the emulated camera (`EmulatedCamera`), one per client kind, and the
negative cases with the diagnosis each must give.

Loopback: the camera on 127.0.0.2, the prober's listeners on 127.0.0.1 (R..R+1 on both).
Multicast, a dropped UDP port and the RTCP return flow lost: between two network
namespaces this module creates, with `truenprobe camera` and `truenprobe check` as processes.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from tests.camera.process import camera_process
from tests.probe.netns import Pair, namespace_pair, results
from tests.probe.probe_helpers import (
    CAMERA_HOST,
    DECODER_RTSP_UDP,
    by_flow,
    check,
    free_rtsp_port,
    plan_of,
)
from tests.support.fixed_ports import with_fixed_ports
from truenprobe.camera import EmulatedCamera
from truenprobe.report.model import Report, Status, Verdict


def camera(rtsp_port: int, **options: Any) -> EmulatedCamera:
    return EmulatedCamera(
        host=CAMERA_HOST, http_port=0, base_port=0, rtsp_port=rtsp_port, **options
    )


# --- each client kind, on loopback ---------------------------------------------------------


async def test_web_client() -> None:
    async with camera(0) as cam:
        plan = plan_of(client="web", http_port=cam.http_port, base_port=cam.base_port)
        report, _ = await check(plan)
    flows = by_flow(report)
    assert flows["http"].status is Status.PASS, flows["http"].diagnosis
    assert flows["http"].evidence["greeting"].startswith("HTTP/1.")
    assert flows["base-control"].status is Status.PASS
    assert report.verdict is Verdict.PASS


async def test_decoder_rtsp_udp_proves_every_flow_including_rtcp_back() -> None:
    port = free_rtsp_port()
    async with camera(port) as cam:
        plan = plan_of(client="decoder", protocol="rtsp", transport="udp", rtsp_port=port)
        report, _ = await check(plan)
        assert not cam.sessions  # torn down
    flows = by_flow(report)
    for name in ("rtsp-control", "rtp-video", "rtcp-video", "rtcp-return"):
        assert flows[name].status is Status.PASS, (name, flows[name].diagnosis)
    assert flows["rtp-video"].evidence["source"] == f"{CAMERA_HOST}:{port}"
    assert flows["rtcp-return"].evidence["camera_received"] >= 1
    assert report.verdict is Verdict.PASS


async def test_decoder_rtsp_tcp() -> None:
    port = free_rtsp_port()
    async with camera(port):
        plan = plan_of(client="decoder", protocol="rtsp", transport="tcp", rtsp_port=port)
        report, _ = await check(plan)
    r = by_flow(report)["rtsp-control"]
    assert r.status is Status.PASS, r.diagnosis
    assert r.evidence["interleaved"]["video"]["rtp_packets"] > 0


@pytest.mark.parametrize("client", ["decoder", "sdk"])
def test_vsnm_udp_through_the_cameras_rtsp(client: str) -> None:
    async def run() -> Report:
        port = free_rtsp_port()
        async with camera(port) as cam:
            plan = plan_of(
                client=client,
                protocol="vsnm",
                transport="udp",
                rtsp_port=port,
                base_port=cam.base_port,
                http_port=cam.http_port,
            )
            report, _ = await check(plan)
        return report

    report = with_fixed_ports(f"vsnm-{client}", range(4333, 4433), run)
    flows = by_flow(report)
    assert flows["base-control"].status is Status.PASS
    assert flows["vsnm-media"].status is Status.PASS, flows["vsnm-media"].diagnosis
    expected = ["4333", "4334", "4431", "4432"] if client == "decoder" else ["4333", "4334"]
    assert sorted(flows["vsnm-media"].evidence["arrived"]) == expected


async def test_vsnm_tcp() -> None:
    async with camera(0) as cam:
        plan = plan_of(
            client="sdk", transport="tcp", base_port=cam.base_port, http_port=cam.http_port
        )
        report, _ = await check(plan)
    assert report.verdict is Verdict.PASS


async def test_vlc_udp_video_and_audio() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with camera(port):
        plan = plan_of(
            client="vlc",
            transport="udp",
            stream="video1+audio1",
            rtsp_port=port,
            client_port=client_port,
            client_audio_port=client_port + 2,
        )
        report, _ = await check(plan)
    flows = by_flow(report)
    for name in ("rtsp-control", "rtp-video", "rtcp-video", "rtp-audio", "rtcp-audio"):
        assert flows[name].status is Status.PASS, (name, flows[name].diagnosis)
    assert flows["rtp-audio"].evidence["payload_type"] == 0  # G.711 u-law
    assert report.verdict is Verdict.PASS


async def test_vlc_tcp_video_and_audio() -> None:
    port = free_rtsp_port()
    async with camera(port):
        plan = plan_of(client="vlc", transport="tcp", stream="video1s+audio1", rtsp_port=port)
        report, _ = await check(plan)
    r = by_flow(report)["rtsp-control"]
    assert r.status is Status.PASS, r.diagnosis
    assert set(r.evidence["interleaved"]) == {"video", "audio"}


# --- negative cases on loopback ------------------------------------------------------------


async def test_401_without_credentials_then_with_them() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with camera(port, user="admin", password="s3cret"):
        plan = plan_of(client="vlc", transport="udp", rtsp_port=port, client_port=client_port)
        without, _ = await check(plan)
        with_them, _ = await check(plan, username="admin", password="s3cret")
    r = by_flow(without)["rtp-video"]
    assert r.status is Status.SKIPPED
    assert "requires credentials (401 Unauthorized to DESCRIBE): give --user and --password" in (
        r.diagnosis or ""
    )
    assert without.verdict is Verdict.INCOMPLETE
    assert with_them.verdict is Verdict.PASS


async def test_404_path() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with camera(port):
        plan = plan_of(client="vlc", transport="udp", rtsp_port=port, client_port=client_port)
        report, _ = await check(plan, path="/video9")
    r = by_flow(report)["rtp-video"]
    assert r.status is Status.FAIL
    assert f"no stream at rtsp://{CAMERA_HOST}:{port}/video9" in (r.diagnosis or "")


async def test_closed_base_port() -> None:
    async with camera(0) as cam:
        with socket.socket() as s:
            s.bind((CAMERA_HOST, 0))
            closed = s.getsockname()[1]
        plan = plan_of(client="web", http_port=cam.http_port, base_port=closed)
        report, _ = await check(plan)
    r = by_flow(report)["base-control"]
    assert r.status is Status.FAIL
    assert f"camera-side IP sharer: forward TCP {closed} to the camera" in (r.diagnosis or "")
    assert r.forward is not None


async def test_local_port_already_in_use() -> None:
    port = free_rtsp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", port))
        async with camera(port):
            plan = plan_of(client="decoder", protocol="rtsp", transport="udp", rtsp_port=port)
            report, _ = await check(plan)
    r = by_flow(report)["rtp-video"]
    assert r.status is Status.SKIPPED
    assert f"port {port} is in use by another program on this host" in (r.diagnosis or "")


# --- between namespaces --------------------------------------------------------------------


def in_camera_ns(pair: Pair) -> tuple[str, ...]:
    return ("ip", "netns", "exec", pair.camera)


@pytest.mark.netns
@pytest.mark.parametrize(
    ("client", "stream", "flows"),
    [
        ("decoder", "video1s", ("multicast-video",)),
        ("vlc", "video1+audio1", ("multicast-video", "multicast-audio", "multicast-metadata")),
    ],
)
def test_multicast(client: str, stream: str, flows: tuple[str, ...]) -> None:
    with (
        namespace_pair(f"e{client[0]}") as pair,
        camera_process(
            "--host",
            pair.camera_ip,
            "--rtsp-port",
            "554",
            "--multicast-group",
            "239.255.42.1",
            prefix=in_camera_ns(pair),
        ),
    ):
        report = pair.check(
            "--client",
            client,
            "--protocol",
            "rtsp",
            "--transport",
            "multicast",
            "--stream",
            stream,
        )
    got = results(report)
    for name in flows:
        assert got[name]["status"] == "pass", got[name]
        assert got[name]["evidence"]["group"] == "239.255.42.1"
    assert report["verdict"] == "pass"


@pytest.mark.netns
def test_camera_streaming_to_the_wrong_multicast_port() -> None:
    with (
        namespace_pair("ew") as pair,
        camera_process(
            "--host",
            pair.camera_ip,
            "--rtsp-port",
            "554",
            "--multicast-group",
            "239.255.42.2",
            "--multicast-port",
            "video1=64710",
            prefix=in_camera_ns(pair),
        ),
    ):
        report = pair.check("--client", "decoder", "--protocol", "rtsp", "--transport", "multicast")
    r = results(report)["multicast-video"]
    assert r["status"] == "fail"
    assert "the camera streams video1 to multicast port 64710" in r["diagnosis"]
    assert "the plan expects 64704" in r["diagnosis"]
    assert any(u["port"] == 64710 for u in report["unexpected"])


@pytest.mark.netns
def test_udp_dropped_between_camera_and_client() -> None:
    with (
        namespace_pair("ed") as pair,
        camera_process("--host", pair.camera_ip, "--rtsp-port", "554", prefix=in_camera_ns(pair)),
    ):
        pair.drop_udp_input(pair.client, "554-555")
        report = pair.check(
            *DECODER_RTSP_UDP,
            "--timeout",
            "2",
        )
    got = results(report)
    assert got["rtsp-control"]["status"] == "pass"
    for name in ("rtp-video", "rtcp-video"):
        assert got[name]["status"] == "fail"
        assert "client-side IP sharer: forward UDP 554–555 to the decoder" in got[name]["diagnosis"]
        assert got[name]["forward"]["router"] == "client"
    assert report["verdict"] == "fail"


@pytest.mark.netns
def test_rtcp_return_dropped_before_the_camera() -> None:
    """The camera's side drops UDP to its R+1: only its GET_PARAMETER count can tell."""
    with (
        namespace_pair("er") as pair,
        camera_process("--host", pair.camera_ip, "--rtsp-port", "554", prefix=in_camera_ns(pair)),
    ):
        pair.drop_udp_input(pair.camera, "555")
        report = pair.check(
            *DECODER_RTSP_UDP,
            "--timeout",
            "2",
        )
    got = results(report)
    assert got["rtp-video"]["status"] == "pass"
    r = got["rtcp-return"]
    assert r["status"] == "fail"
    assert "camera-side IP sharer: forward UDP 555 to the camera" in r["diagnosis"]
    assert r["evidence"]["camera_received"] == 0


@pytest.mark.netns
def test_vsnm_multicast_cannot_be_generated_by_a_camera_that_picks_its_port() -> None:
    """The camera's RTSP multicast ignores port=: base port + 16 is skipped, saying why."""
    with (
        namespace_pair("ev") as pair,
        camera_process(
            "--host",
            pair.camera_ip,
            "--rtsp-port",
            "554",
            "--base-port",
            "2222",
            "--multicast-group",
            "239.255.42.3",
            prefix=in_camera_ns(pair),
        ),
    ):
        report = pair.check("--client", "decoder", "--protocol", "vsnm", "--transport", "multicast")
    got = results(report)
    assert got["base-control"]["status"] == "pass"
    r = got["vsnm-multicast"]
    assert r["status"] == "skipped"
    assert "goes to port 64704 whatever port is asked for" in r["diagnosis"]
    assert "--listen-only" in r["diagnosis"]
    assert report["verdict"] == "incomplete"
