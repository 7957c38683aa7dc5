"""Whole checks against the scripted camera on loopback: each misbehaviour, its diagnosis."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys

import pytest

from tests.probe.probe_helpers import (
    CAMERA_HOST,
    by_flow,
    check,
    free_rtsp_port,
    plan_of,
)
from tests.probe.scripted_camera import Script, scripted_camera
from tests.support.fixed_ports import with_fixed_ports
from truenprobe.observations import RtspReply, UdpSent
from truenprobe.report.model import Report, Status, Verdict


def vlc_plan(rtsp_port: int, client_port: int, **extra: object):  # type: ignore[no-untyped-def]
    return plan_of(
        client="vlc",
        transport="udp",
        rtsp_port=rtsp_port,
        client_port=client_port,
        camera_side="public",
        **extra,
    )


async def test_decoder_udp_passes_and_proves_rtcp_return() -> None:
    port = free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(truen_ports=True), port) as cam:
        plan = plan_of(client="decoder", protocol="rtsp", transport="udp", rtsp_port=port)
        report, obs = await check(plan)
    flows = by_flow(report)
    assert flows["rtsp-control"].status is Status.PASS
    assert flows["rtp-video"].status is Status.PASS
    assert flows["rtcp-video"].status is Status.PASS
    assert flows["rtcp-return"].status is Status.PASS, flows["rtcp-return"].diagnosis
    assert flows["rtcp-return"].evidence["camera_received"] >= 1
    assert report.verdict is Verdict.PASS
    assert cam.teardowns == 1
    # The receiver reports left from a port of their own, never from the planned R..R+1
    # (which stay the camera's media's), and the evidence says why.
    sent = [r for r in obs.records if isinstance(r, UdpSent)]
    assert sent
    assert {s.port for s in sent} == {port + 1}
    assert all(s.source_port not in (port, port + 1) for s in sent)
    method = flows["rtcp-return"].evidence["method"]
    assert f"from UDP {sent[0].source_port}, a port the camera never sent to" in method
    assert flows["rtcp-return"].evidence["sent_from"] == [sent[0].source_port]


async def test_camera_without_feedback_leaves_rtcp_return_skipped() -> None:
    port = free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(truen_ports=True, feedback="451"), port):
        plan = plan_of(client="decoder", protocol="rtsp", transport="udp", rtsp_port=port)
        report, _ = await check(plan)
    r = by_flow(report)["rtcp-return"]
    assert r.status is Status.SKIPPED
    assert "not observable from the client" in (r.diagnosis or "")
    assert "451" in (r.diagnosis or "")
    assert report.verdict is Verdict.INCOMPLETE


async def test_vlc_two_tracks_on_the_players_ports() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    script = Script(tracks=("video", "audio"))
    async with scripted_camera(CAMERA_HOST, script, port):
        plan = vlc_plan(
            port, client_port, stream="video1+audio1", client_audio_port=client_port + 2
        )
        report, _ = await check(plan)
    flows = by_flow(report)
    for name in ("rtp-video", "rtcp-video", "rtp-audio", "rtcp-audio"):
        assert flows[name].status is Status.PASS, (name, flows[name].diagnosis)
    assert flows["rtp-audio"].evidence["ssrc"] == "0x0a0d10aa"


async def test_tcp_interleaved() -> None:
    port = free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(), port):
        plan = plan_of(client="decoder", protocol="rtsp", transport="tcp", rtsp_port=port)
        report, _ = await check(plan)
    r = by_flow(report)["rtsp-control"]
    assert r.status is Status.PASS, r.diagnosis
    assert r.evidence["interleaved"]["video"]["rtp_packets"] > 0


async def test_401_without_credentials_is_skipped_with_the_fix() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(user="admin", password="1234"), port):
        report, _ = await check(vlc_plan(port, client_port))
    r = by_flow(report)["rtp-video"]
    assert r.status is Status.SKIPPED
    assert "requires credentials" in (r.diagnosis or "")
    assert "--user and --password" in (r.diagnosis or "")
    assert report.verdict is Verdict.INCOMPLETE


async def test_digest_credentials_work_and_wrong_ones_are_named() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(user="admin", password="1234"), port):
        good, _ = await check(vlc_plan(port, client_port), username="admin", password="1234")
        bad, _ = await check(vlc_plan(port, client_port), username="admin", password="nope")
    assert good.verdict is Verdict.PASS, [r.diagnosis for r in good.results]
    r = by_flow(bad)["rtp-video"]
    assert r.status is Status.SKIPPED
    assert "rejected the credentials" in (r.diagnosis or "")


async def test_404_path_fails_the_media() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(describe_status=404), port):
        report, _ = await check(vlc_plan(port, client_port))
    r = by_flow(report)["rtp-video"]
    assert r.status is Status.FAIL
    assert f"no stream at rtsp://{CAMERA_HOST}:{port}/video1" in (r.diagnosis or "")
    assert report.verdict is Verdict.FAIL


async def test_461_fails_the_media() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(setup_status=461), port):
        report, _ = await check(vlc_plan(port, client_port))
    assert "refused the transport" in (by_flow(report)["rtp-video"].diagnosis or "")


async def test_unannounced_ssrc_is_foreign_and_listed() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(send_ssrc=0x11111111), port):
        report, _ = await check(vlc_plan(port, client_port), stage_s=1.0)
    r = by_flow(report)["rtp-video"]
    assert r.status is Status.FAIL
    assert r.evidence["foreign_packets"] > 0
    assert any("SSRC 0x11111111 not announced" in (u["note"] or "") for u in report.unexpected)


async def test_ssrc_learned_when_the_camera_does_not_announce_it() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(announce_ssrc=False), port):
        report, _ = await check(vlc_plan(port, client_port))
    r = by_flow(report)["rtp-video"]
    assert r.status is Status.PASS
    assert "not announced" in r.evidence["note"]


async def test_camera_that_accepts_but_sends_nothing() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(send_media=False), port) as cam:
        report, _ = await check(vlc_plan(port, client_port, client_side="private"), stage_s=0.8)
    assert cam.teardowns == 1
    r = by_flow(report)["rtp-video"]
    assert r.status is Status.FAIL
    assert f"client-side IP sharer: forward UDP {client_port}–{client_port + 1}" in (
        r.diagnosis or ""
    )
    assert r.forward is not None


async def test_camera_granting_other_ports_is_named() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, Script(grant_client_port="40000-40001"), port):
        report, _ = await check(vlc_plan(port, client_port), stage_s=0.8)
    assert "client_port=40000-40001" in (by_flow(report)["rtp-video"].diagnosis or "")


@pytest.mark.timeout(30)  # the point: bounded, whatever the server does
@pytest.mark.parametrize(
    ("script", "words"),
    [
        (Script(garbage=b"SSH-2.0-OpenSSH_9.2\r\n" * 4), "not RTSP"),
        (Script(silent=True), "timed out"),
        (Script(flood=True), "not RTSP"),
    ],
)
async def test_bad_servers_give_a_verdict_within_the_bound(script: Script, words: str) -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    async with scripted_camera(CAMERA_HOST, script, port):
        report, obs = await check(vlc_plan(port, client_port), stage_s=0.8)
    assert report.verdict is not Verdict.PASS
    describe = [r for r in obs.records if isinstance(r, RtspReply) and r.method == "DESCRIBE"]
    assert describe
    assert words in (describe[0].error or ""), describe


async def test_closed_rtsp_port() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    report, _ = await check(vlc_plan(port, client_port))
    flows = by_flow(report)
    assert flows["rtsp-control"].status is Status.FAIL
    assert "refused TCP" in (flows["rtsp-control"].diagnosis or "")
    assert flows["rtp-video"].status is Status.SKIPPED


async def test_local_port_in_use() -> None:
    port, client_port = free_rtsp_port(), free_rtsp_port()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", client_port))
        async with scripted_camera(CAMERA_HOST, Script(), port) as cam:
            report, _ = await check(vlc_plan(port, client_port))
    r = by_flow(report)["rtp-video"]
    assert r.status is Status.SKIPPED
    assert f"port {client_port} is in use by another program" in (r.diagnosis or "")
    assert "SETUP" not in cam.requests  # never asked the camera to stream at a busy port


@pytest.mark.timeout(60)
async def test_ctrl_c_still_tears_the_session_down() -> None:
    """SIGINT while the check waits for media: TEARDOWN goes out, exit 130, no traceback."""
    port, client_port = free_rtsp_port(), free_rtsp_port()
    script = Script(send_sender_report=False)  # the check keeps waiting for RTCP
    async with scripted_camera(CAMERA_HOST, script, port) as cam:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "truenprobe",
            "check",
            CAMERA_HOST,
            "--client",
            "vlc",
            "--transport",
            "udp",
            "--rtsp-port",
            str(port),
            "--client-port",
            str(client_port),
            "--timeout",
            "30",
            "--format",
            "json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await asyncio.wait_for(cam.played.wait(), 20)
            proc.send_signal(signal.SIGINT)
            await asyncio.wait_for(cam.torn_down.wait(), 10)
            _out, err = await asyncio.wait_for(proc.communicate(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    assert cam.teardowns == 1
    assert proc.returncode == 130
    assert err.decode() == "truenprobe: interrupted\n"


def test_vsnm_range_through_the_cameras_rtsp() -> None:
    """Truen's protocol cannot be triggered: the camera's RTSP sends into the SDK's pair."""

    async def run() -> tuple[Report, int]:
        port = free_rtsp_port()
        async with scripted_camera(CAMERA_HOST, Script(), port) as cam:
            plan = plan_of(client="sdk", transport="udp", rtsp_port=port, camera_side="public")
            report, _ = await check(plan)
        return report, cam.teardowns

    report, teardowns = with_fixed_ports("sdk-pair", (4333, 4334), run)
    r = by_flow(report)["vsnm-media"]
    assert r.status is Status.PASS, r.diagnosis
    assert sorted(r.evidence["arrived"]) == ["4333", "4334"]
    assert "traffic generator" in r.evidence["method"]
    assert teardowns == 1


def test_vsnm_without_a_reachable_rtsp_port_is_skipped_with_the_way_to_test() -> None:
    async def run() -> tuple[Report, int]:
        port = free_rtsp_port()  # nothing listens there
        report, _ = await check(plan_of(client="sdk", transport="udp", rtsp_port=port))
        return report, port

    report, port = with_fixed_ports("sdk-closed", (4333, 4334), run)
    r = by_flow(report)["vsnm-media"]
    assert r.status is Status.SKIPPED
    assert f"camera-side IP sharer (TCP {port} to the camera)" in (r.diagnosis or "")
    assert "--listen-only" in (r.diagnosis or "")
    assert "truenprobe send" in (r.diagnosis or "")
