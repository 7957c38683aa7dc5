"""compare(plan, observations): pure rules, case by case, from hand-built Observations."""

from __future__ import annotations

from typing import Any

import pytest

from truenprobe.observations import (
    CameraFeedback,
    InterleavedArrival,
    Limitation,
    ListenAttempt,
    MediaRequest,
    Observations,
    Record,
    RtspReply,
    TcpAttempt,
    TcpOutcome,
    UdpArrival,
    UdpSent,
)
from truenprobe.plan.model import Media, Plan, PortRange
from truenprobe.plan.resolve import resolve
from truenprobe.plan.scenario import build_scenario
from truenprobe.report.model import FlowResult, Report, Status, Verdict
from truenprobe.verdict import compare

CAMERA = "203.0.113.5"
SSRC = 0x1234ABCD


def plan_of(**values: Any) -> Plan:
    return resolve(build_scenario(values))


def decoder_udp(**extra: Any) -> Plan:
    return plan_of(client="decoder", protocol="rtsp", transport="udp", **extra)


def run(plan: Plan, *records: Record, source: str = "probe", duration: float = 5000) -> Report:
    return compare(plan, Observations(CAMERA, records=records, duration_ms=duration, source=source))


def result(report: Report, flow: str) -> FlowResult:
    return next(r for r in report.results if r.flow == flow)


def rtsp_open(port: int = 554) -> TcpAttempt:
    return TcpAttempt(port, TcpOutcome.OPEN, connect_ms=1.2, greeting="RTSP/1.0 200 OK")


def udp_request(first: int = 554, played: float | None = 100.0, **kw: Any) -> MediaRequest:
    ports = PortRange(first, first + 1)
    return MediaRequest(
        "udp",
        Media.VIDEO,
        ports,
        accepted=True,
        status=200,
        played_at_ms=played,
        granted_ports=ports,
        ssrc=SSRC,
        **kw,
    )


def arrival(port: int, kind: str = "rtp", first: float = 120.0, **kw: Any) -> UdpArrival:
    values: dict[str, Any] = {
        "source": CAMERA,
        "source_port": port,
        "kind": kind,
        "packets": 10,
        "bytes": 5000,
        "first_ms": first,
        "last_ms": first + 500,
        "ssrc": SSRC,
        "payload_type": 96 if kind == "rtp" else None,
        "sender_reports": 1 if kind == "rtcp" else 0,
        "belongs": True,
    }
    values.update(kw)
    return UdpArrival(port=port, **values)


# --- TCP ------------------------------------------------------------------------------------


def test_all_pass_for_a_working_decoder_udp_site() -> None:
    plan = decoder_udp(camera_side="public")
    report = run(plan, rtsp_open(), udp_request(), arrival(554), arrival(555, "rtcp", 900))
    assert [r.status for r in report.results if r.required] == [Status.PASS] * 3
    assert report.verdict is Verdict.PASS
    rtp = result(report, "rtp-video")
    assert rtp.evidence["first_after_play_ms"] == 20.0
    assert rtp.evidence["ssrc"] == "0x1234abcd"
    assert rtp.diagnosis is None


def test_refused_base_port_names_the_camera_side_forward() -> None:
    plan = plan_of(client="sdk", transport="tcp")
    report = run(plan, TcpAttempt(2222, TcpOutcome.REFUSED, connect_ms=0.5))
    r = result(report, "base-control")
    assert r.status is Status.FAIL
    assert r.forward is not None
    assert r.forward.router.value == "camera"
    assert "camera-side IP sharer: forward TCP 2222 to the camera" in (r.diagnosis or "")
    assert report.verdict is Verdict.FAIL


def test_refused_port_of_a_public_camera_points_at_its_setting() -> None:
    plan = plan_of(client="sdk", transport="tcp", camera_side="public")
    r = result(run(plan, TcpAttempt(2222, TcpOutcome.REFUSED)), "base-control")
    assert r.forward is None
    assert "is the camera's base port 2222?" in (r.diagnosis or "")


def test_syn_timeout_says_dropped() -> None:
    plan = plan_of(client="web")
    attempt = TcpAttempt(80, TcpOutcome.TIMEOUT, detail="no answer to SYN within 5 s")
    r = result(run(plan, attempt), "http")
    assert r.status is Status.FAIL
    assert "dropped" in (r.diagnosis or "")
    assert "forward TCP 80" in (r.diagnosis or "")


def test_unreachable_camera() -> None:
    plan = plan_of(client="web")
    attempt = TcpAttempt(80, TcpOutcome.UNREACHABLE, detail="errno 113: No route to host")
    r = result(run(plan, attempt), "http")
    assert r.status is Status.FAIL
    assert "unreachable" in (r.diagnosis or "")


def test_http_port_answered_by_something_else_fails() -> None:
    plan = plan_of(client="web", camera_side="public")
    attempt = TcpAttempt(80, TcpOutcome.OPEN, connect_ms=1, greeting="SSH-2.0-OpenSSH_9.2")
    r = result(run(plan, attempt, TcpAttempt(2222, TcpOutcome.OPEN)), "http")
    assert r.status is Status.FAIL
    assert "SSH-2.0" in (r.diagnosis or "")
    assert "another server" in (r.diagnosis or "")


def test_rtsp_port_silent_after_connect_fails() -> None:
    plan = plan_of(client="vlc", transport="tcp", camera_side="public")
    attempt = TcpAttempt(554, TcpOutcome.OPEN, unanswered="did not answer OPTIONS within 5 s")
    r = result(run(plan, attempt), "rtsp-control")
    assert r.status is Status.FAIL
    assert "did not answer OPTIONS" in (r.diagnosis or "")


def test_untested_tcp_flow_is_skipped() -> None:
    r = result(run(plan_of(client="web")), "http")
    assert r.status is Status.SKIPPED


# --- RTSP over TCP: interleaved media -------------------------------------------------------


def interleaved(kind: str = "rtp", belongs: bool = True) -> InterleavedArrival:
    return InterleavedArrival(
        554, 0, kind, 30, 9000, 80.0, 900.0, SSRC, 96, belongs=belongs, media=Media.VIDEO
    )


def test_tcp_mode_needs_interleaved_rtp() -> None:
    plan = plan_of(client="decoder", protocol="rtsp", transport="tcp")
    tcp_request = MediaRequest("tcp", Media.VIDEO, accepted=True, status=200, played_at_ms=50)
    ok = result(run(plan, rtsp_open(), tcp_request, interleaved()), "rtsp-control")
    assert ok.status is Status.PASS
    assert ok.evidence["interleaved"]["video"]["rtp_packets"] == 30
    silent = result(run(plan, rtsp_open(), tcp_request), "rtsp-control")
    assert silent.status is Status.FAIL
    assert "no RTP inside the RTSP connection" in (silent.diagnosis or "")


def test_foreign_interleaved_is_unexpected_not_a_pass() -> None:
    plan = plan_of(client="decoder", protocol="rtsp", transport="tcp")
    tcp_request = MediaRequest("tcp", Media.VIDEO, accepted=True, status=200, played_at_ms=50)
    report = run(plan, rtsp_open(), tcp_request, interleaved(belongs=False))
    assert result(report, "rtsp-control").status is Status.FAIL
    assert report.unexpected
    assert report.unexpected[0]["channel"] == 0


# --- UDP from the camera --------------------------------------------------------------------


def test_nothing_arrived_names_the_client_side_forward() -> None:
    plan = decoder_udp()
    report = run(plan, rtsp_open(), udp_request())
    r = result(report, "rtp-video")
    assert r.status is Status.FAIL
    assert r.forward is not None
    assert r.forward.router.value == "client"
    assert r.forward.ports == PortRange(554, 555)
    assert "client-side IP sharer: forward UDP 554–555 to the decoder" in (r.diagnosis or "")
    assert "4.9 s after PLAY" in (r.diagnosis or "")


def test_forward_covering_only_rtp_says_so_on_rtcp() -> None:
    plan = decoder_udp()
    r = result(run(plan, rtsp_open(), udp_request(), arrival(554)), "rtcp-video")
    assert r.status is Status.FAIL
    assert "554 did receive, so the forward covers only part of 554–555" in (r.diagnosis or "")


def test_public_client_blames_a_firewall() -> None:
    plan = decoder_udp(client_side="public")
    r = result(run(plan, rtsp_open(), udp_request()), "rtp-video")
    assert r.forward is None
    assert "firewall" in (r.diagnosis or "")
    assert "public" in (r.diagnosis or "")


def test_foreign_packets_never_pass() -> None:
    plan = decoder_udp()
    other = arrival(554, source="198.51.100.9", belongs=False, note="not from the camera")
    report = run(plan, rtsp_open(), udp_request(), other)
    r = result(report, "rtp-video")
    assert r.status is Status.FAIL
    assert r.evidence["foreign_packets"] == 10
    assert report.unexpected[0]["source"] == "198.51.100.9:554"


def test_media_after_the_client_sent_from_that_port_is_a_pinhole_not_a_pass() -> None:
    plan = decoder_udp()
    sent = UdpSent(555, 555, "rtcp", 1, first_ms=150.0, destination=CAMERA)
    late_rtcp = arrival(555, "rtcp", first=400.0)
    r = result(run(plan, rtsp_open(), udp_request(), arrival(554), sent, late_rtcp), "rtcp-video")
    assert r.status is Status.FAIL
    assert "NAT pinhole" in (r.diagnosis or "")
    early = arrival(555, "rtcp", first=140.0)
    ok = result(run(plan, rtsp_open(), udp_request(), arrival(554), sent, early), "rtcp-video")
    assert ok.status is Status.PASS


def test_no_pinhole_wording_when_nothing_arrived_at_all() -> None:
    plan = decoder_udp()
    sent = UdpSent(555, 555, "rtcp", 1, first_ms=150.0, destination=CAMERA)
    r = result(run(plan, rtsp_open(), udp_request(), arrival(554), sent), "rtcp-video")
    assert r.status is Status.FAIL
    assert "pinhole" not in (r.diagnosis or "")
    assert "nothing from the camera arrived" in (r.diagnosis or "")


def test_401_in_a_capture_advises_the_captured_client() -> None:
    reply = RtspReply("DESCRIBE", "rtsp://203.0.113.5:554/video1", 401, "Unauthorized", at_ms=10)
    live = result(run(decoder_udp(), rtsp_open(), reply), "rtp-video")
    assert "give --user and --password" in (live.diagnosis or "")
    captured = result(run(decoder_udp(), rtsp_open(), reply, source="capture:x.pcap"), "rtp-video")
    assert "--user" not in (captured.diagnosis or "")
    assert "captured client" in (captured.diagnosis or "")


def test_port_in_use_is_a_local_cause_and_skipped() -> None:
    plan = decoder_udp()
    busy = ListenAttempt(554, False, "port 554 is in use by another program on this host")
    r = result(run(plan, rtsp_open(), busy), "rtp-video")
    assert r.status is Status.SKIPPED
    assert "in use by another program" in (r.diagnosis or "")


def test_camera_granting_other_client_ports_fails() -> None:
    plan = decoder_udp()
    moved = udp_request()
    moved = MediaRequest(
        "udp",
        Media.VIDEO,
        PortRange(554, 555),
        accepted=True,
        status=200,
        played_at_ms=None,
        granted_ports=PortRange(6000, 6001),
    )
    r = result(run(plan, rtsp_open(), moved), "rtp-video")
    assert r.status is Status.FAIL
    assert "client_port=6000-6001 instead of 554-555" in (r.diagnosis or "")


@pytest.mark.parametrize(
    ("status", "authenticated", "expected_status", "words"),
    [
        (401, False, Status.SKIPPED, "give --user and --password"),
        (401, True, Status.SKIPPED, "rejected the credentials"),
        (404, False, Status.FAIL, "no stream at rtsp://203.0.113.5:554/video1"),
        (503, False, Status.SKIPPED, "refused another session"),
        (500, False, Status.FAIL, "answered 500"),
    ],
)
def test_rtsp_refusals(
    status: int, authenticated: bool, expected_status: Status, words: str
) -> None:
    plan = decoder_udp()
    reply = RtspReply(
        "DESCRIBE",
        "rtsp://203.0.113.5:554/video1",
        status,
        reason="Whatever",
        at_ms=10,
        authenticated=authenticated,
    )
    report = run(plan, rtsp_open(), reply)
    r = result(report, "rtp-video")
    assert r.status is expected_status
    assert words in (r.diagnosis or "")
    assert result(report, "rtsp-control").status is Status.PASS


def test_461_on_setup_fails_the_media() -> None:
    plan = decoder_udp()
    ok = RtspReply("DESCRIBE", "rtsp://x/video1", 200, at_ms=5)
    refused = RtspReply("SETUP", "rtsp://x/video1/t0", 461, "Unsupported Transport", at_ms=8)
    r = result(run(plan, rtsp_open(), ok, refused), "rtp-video")
    assert r.status is Status.FAIL
    assert "refused the transport" in (r.diagnosis or "")


def test_multicast_port_other_than_the_plan_is_a_finding() -> None:
    plan = plan_of(client="decoder", protocol="rtsp", transport="multicast")
    request = MediaRequest(
        "multicast",
        Media.VIDEO,
        None,
        accepted=True,
        status=200,
        played_at_ms=90,
        granted_ports=PortRange(64710, 64711),
        group="239.1.2.3",
    )
    media = arrival(64710, group="239.1.2.3", source="192.168.1.20")
    report = run(plan, rtsp_open(), request, media)
    r = result(report, "multicast-video")
    assert r.status is Status.FAIL
    assert "streams video1 to multicast port 64710" in (r.diagnosis or "")
    assert "the plan expects 64704" in (r.diagnosis or "")
    assert report.unexpected
    assert report.unexpected[0]["port"] == 64710


def test_multicast_on_the_plan_port_passes_and_missing_mentions_routing() -> None:
    plan = plan_of(client="decoder", protocol="rtsp", transport="multicast")
    request = MediaRequest(
        "multicast",
        Media.VIDEO,
        None,
        accepted=True,
        status=200,
        played_at_ms=90,
        granted_ports=PortRange(64704, 64705),
        group="239.1.2.3",
    )
    media = arrival(64704, group="239.1.2.3", source="192.168.1.20")
    assert result(run(plan, rtsp_open(), request, media), "multicast-video").status is Status.PASS
    missing = result(run(plan, rtsp_open(), request), "multicast-video")
    assert missing.status is Status.FAIL
    assert "route multicast" in (missing.diagnosis or "")


# --- VSNM through the traffic generator -----------------------------------------------------


def test_vsnm_range_first_and_last_pair() -> None:
    plan = plan_of(client="decoder", protocol="vsnm", transport="udp")
    records: list[Record] = [TcpAttempt(2222, TcpOutcome.OPEN)]
    for first in (4333, 4431):
        records.append(udp_request(first, purpose=f"generator {first}"))
        records += [arrival(first), arrival(first + 1, "rtcp")]
    r = result(run(plan, *records), "vsnm-media")
    assert r.status is Status.PASS
    assert r.evidence["tested_ports"] == [[4333, 4334], [4431, 4432]]
    assert r.evidence["untested_ports"] == 96


def test_vsnm_partial_forward_fails_with_the_missing_ports() -> None:
    plan = plan_of(client="decoder", protocol="vsnm", transport="udp")
    records: list[Record] = [udp_request(4333), arrival(4333), arrival(4334, "rtcp")]
    records.append(udp_request(4431))
    r = result(run(plan, *records), "vsnm-media")
    assert r.status is Status.FAIL
    assert "4431–4432" in (r.diagnosis or "")
    assert "covers only part of 4333–4432" in (r.diagnosis or "")


def test_vsnm_without_reachable_rtsp_is_skipped_with_the_limitation() -> None:
    plan = plan_of(client="decoder", protocol="vsnm", transport="udp")
    lim = Limitation(
        PortRange(4333, 4432), "udp", "add a temporary forward of TCP 554", flow="vsnm-media"
    )
    report = run(plan, TcpAttempt(2222, TcpOutcome.OPEN), lim)
    r = result(report, "vsnm-media")
    assert r.status is Status.SKIPPED
    assert "temporary forward" in (r.diagnosis or "")
    assert report.verdict is Verdict.INCOMPLETE


# --- RTCP toward the camera -----------------------------------------------------------------


def test_rtcp_return_proven_by_camera_feedback() -> None:
    plan = decoder_udp()
    sent = UdpSent(555, 555, "rtcp", 2, first_ms=1000)
    common = (rtsp_open(), udp_request(), arrival(554), arrival(555, "rtcp"), sent)
    ok = result(run(plan, *common, CameraFeedback(555, "rtcp", 2)), "rtcp-return")
    assert ok.status is Status.PASS
    assert ok.evidence["camera_received"] == 2
    lost = result(run(plan, *common, CameraFeedback(555, "rtcp", 0)), "rtcp-return")
    assert lost.status is Status.FAIL
    assert lost.forward is not None
    assert lost.forward.router.value == "camera"
    assert "camera-side IP sharer: forward UDP 555 to the camera" in (lost.diagnosis or "")


def test_rtcp_return_not_observable_without_feedback() -> None:
    plan = decoder_udp()
    lim = Limitation(PortRange(555, 555), "udp", "the camera answered 451", flow="rtcp-return")
    report = run(plan, rtsp_open(), udp_request(), arrival(554), arrival(555, "rtcp"), lim)
    r = result(report, "rtcp-return")
    assert r.status is Status.SKIPPED
    assert (r.diagnosis or "").startswith("not observable from the client")
    # The flow-specific limitation must not leak onto the camera's RTCP on the same port.
    assert result(report, "rtcp-video").status is Status.PASS
    assert report.verdict is Verdict.INCOMPLETE


def test_rtcp_return_lost_with_camera_private_client_public_names_the_missing_rule() -> None:
    plan = decoder_udp(client_side="public")
    sent = UdpSent(555, 555, "rtcp", 3)
    r = result(run(plan, rtsp_open(), sent, CameraFeedback(555, "rtcp", 0)), "rtcp-return")
    assert r.status is Status.FAIL
    assert r.forward is None
    assert "the document asks for no forward here" in (r.diagnosis or "")


def test_rtcp_return_from_a_fresh_port_says_how_and_leaves_the_media_ports_counted() -> None:
    """Sent from a port the camera never sent to: the evidence says so, and the media on
    the planned R..R+1 (which the client never sent from) still proves the forwards."""
    plan = decoder_udp()
    why = "sent from UDP 40001, a port the camera never sent to"
    sent = UdpSent(555, 40001, "rtcp", 2, first_ms=50.0, purpose=why)
    records = (rtsp_open(), udp_request(), arrival(554), arrival(555, "rtcp", 900), sent)
    report = run(plan, *records, CameraFeedback(555, "rtcp", 1))
    back = result(report, "rtcp-return")
    assert back.status is Status.PASS
    assert back.evidence["method"] == why
    assert back.evidence["sent_from"] == [40001]
    assert result(report, "rtp-video").status is Status.PASS  # sent before, but not from 554
    assert result(report, "rtcp-video").status is Status.PASS
    lost = result(run(plan, *records, CameraFeedback(555, "rtcp", 0)), "rtcp-return")
    assert lost.status is Status.FAIL
    assert "sent to UDP 555" in (lost.diagnosis or "")


def test_vlc_optional_return_flow_fails_naming_its_forward_while_the_verdict_passes() -> None:
    plan = plan_of(client="vlc", transport="udp", client_port=5000, client_side="public")
    sent = UdpSent(5001, 40001, "rtcp", 3, first_ms=900.0)
    records = (
        rtsp_open(),
        udp_request(5000),
        arrival(5000),
        arrival(5001, "rtcp", 900),
        sent,
        CameraFeedback(5001, "rtcp", 0),
    )
    report = run(plan, *records)
    back = result(report, "video-return")
    assert back.status is Status.FAIL
    assert not back.required
    assert back.forward is not None
    assert not back.forward.required
    assert "forward UDP 5000–5001 to the camera (not mandatory)" in (back.diagnosis or "")
    assert report.verdict is Verdict.PASS


# --- NAT loopback -------------------------------------------------------------------------


def _inside_camera_lan() -> Limitation:
    from truenprobe.nat_loopback import nat_loopback_limitation

    return nat_loopback_limitation(CAMERA, "192.168.1.50")


def test_nat_loopback_blames_no_forward_and_says_how_to_test() -> None:
    plan = decoder_udp()
    refused = TcpAttempt(554, TcpOutcome.REFUSED, connect_ms=0.4)
    rtsp_down = RtspReply("DESCRIBE", "rtsp://x/video1", None, error="cannot connect: refused")
    report = run(plan, refused, rtsp_down, _inside_camera_lan())
    assert report.verdict is Verdict.INCOMPLETE
    assert all(r.forward is None for r in report.results)
    control = result(report, "rtsp-control")
    assert control.status is Status.SKIPPED
    assert "NAT loopback" in (control.diagnosis or "")
    assert control.evidence["outcome"] == "refused"  # what was seen stays in the record
    rtp = result(report, "rtp-video")
    assert rtp.status is Status.SKIPPED
    assert "see rtsp-control" in (rtp.diagnosis or "")
    finding = report.findings[0]
    assert finding.startswith("NAT loopback: this client (192.168.1.50)")
    assert "mobile hotspot" in finding
    assert "did not do it for what failed" in finding
    # without the limitation the same evidence blames the camera-side forward
    plain = result(run(plan, refused, rtsp_down), "rtsp-control")
    assert plain.status is Status.FAIL
    assert plain.forward is not None


def test_nat_loopback_keeps_what_the_camera_itself_answered() -> None:
    plan = decoder_udp()
    not_found = RtspReply("DESCRIBE", "rtsp://x/video9", 404, "Not Found", at_ms=20.0)
    report = run(plan, rtsp_open(), not_found, _inside_camera_lan())
    rtp = result(report, "rtp-video")
    assert rtp.status is Status.FAIL  # a 404 is the camera's, wherever the client stands
    assert "no stream" in (rtp.diagnosis or "")
    assert report.verdict is Verdict.FAIL


def test_nat_loopback_that_worked_is_said_so() -> None:
    plan = decoder_udp(camera_side="public")
    records = (rtsp_open(), udp_request(), arrival(554), arrival(555, "rtcp", 900))
    report = run(plan, *records, _inside_camera_lan())
    assert report.verdict is Verdict.PASS
    assert "this IP sharer does NAT loopback" in report.findings[0]
    assert "confirm from outside" in report.findings[0]


# --- listen-only and send -------------------------------------------------------------------


def test_listen_only_tokens_prove_and_disprove_ports() -> None:
    plan = plan_of(client="sdk", transport="udp", sdk_cameras=2)
    announced = MediaRequest(
        "token",
        None,
        PortRange(4333, 4336),
        accepted=True,
        played_at_ms=10,
        granted_ports=PortRange(4333, 4336),
    )
    got = [arrival(p, "token", ssrc=None) for p in (4333, 4334, 4335)]
    r = result(run(plan, announced, *got, source="listen-only"), "vsnm-media")
    assert r.status is Status.FAIL
    assert "`truenprobe send`" in (r.diagnosis or "")
    assert "4336" in (r.diagnosis or "")


def test_listen_only_with_nothing_heard_is_skipped() -> None:
    plan = plan_of(client="sdk", transport="udp")
    r = result(run(plan, source="listen-only"), "vsnm-media")
    assert r.status is Status.SKIPPED
    assert "while listening" in (r.diagnosis or "")


# --- the report as a whole ------------------------------------------------------------------


def test_unsupported_flow_is_skipped_and_optional() -> None:
    r = result(run(decoder_udp()), "rtp-audio")
    assert r.status is Status.SKIPPED
    assert not r.required


def test_notes_and_stray_limitations_become_findings() -> None:
    plan = decoder_udp()
    stray = Limitation(None, None, "capture taken behind the camera's IP sharer")
    obs = Observations(CAMERA, records=(stray,), notes=("overall bound reached",))
    report = compare(plan, obs)
    assert report.findings == (
        "overall bound reached",
        "capture taken behind the camera's IP sharer",
    )


def test_compare_is_deterministic_and_json_ready() -> None:
    import json

    plan = decoder_udp()
    records = (rtsp_open(), udp_request(), arrival(554))
    first = run(plan, *records).to_dict()
    assert first == run(plan, *records).to_dict()
    text = json.dumps(first)
    assert json.loads(text)["verdict"] == "fail"
    assert set(first) >= {"scenario", "camera", "verdict", "duration_s", "results"}
    assert set(first["results"][0]) >= {
        "flow",
        "protocol",
        "ports",
        "status",
        "evidence",
        "diagnosis",
        "forward",
    }
