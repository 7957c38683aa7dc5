"""Captures of whole sessions -> the prober's records, from either side of the routers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.capture import synth
from tests.capture.synth import CAMERA_LAN, CAMERA_PUBLIC, CLIENT_LAN, CLIENT_PUBLIC, SSRC
from truenprobe.capture.analyze import analyze_capture
from truenprobe.capture.observe import Subject
from truenprobe.observations import (
    CameraFeedback,
    InterleavedArrival,
    Limitation,
    MediaRequest,
    MulticastJoin,
    Observations,
    RtspReply,
    TcpAttempt,
    TcpOutcome,
    UdpArrival,
    UdpSent,
    Vantage,
)
from truenprobe.plan import Plan, PortRange, build_scenario, resolve

URL = f"rtsp://{CAMERA_PUBLIC}/video1"
UDP_ASKED = "RTP/AVP;unicast;client_port=554-555"
UDP_GRANTED = f"RTP/AVP;unicast;client_port=554-555;server_port=554-555;ssrc={SSRC:08X}"


def plan_for(**options: Any) -> Plan:
    return resolve(build_scenario(options))


DECODER_UDP = {"client": "decoder", "protocol": "rtsp", "transport": "udp"}


def analyze(
    tmp_path: Path,
    scene: synth.Scene,
    options: dict[str, Any] = DECODER_UDP,
    cameras: tuple[str, ...] = (CAMERA_PUBLIC,),
    client: str | None = None,
    **write: Any,
) -> Observations:
    path = synth.write(tmp_path / "c.pcap", scene.frames, **write)
    return analyze_capture(str(path), Subject(plan_for(**options), cameras, client, "c.pcap"))


def client_side_session(scene: synth.Scene, *, media: bool = True, rtcp_back: bool = True) -> None:
    """A decoder behind its IP sharer plays video1 over RTSP/UDP; captured on the decoder."""
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(*conv.handshake())
    player = synth.RtspPlayer(scene, conv, URL)
    player.session(UDP_ASKED, UDP_GRANTED)
    if media:
        for seq in range(30):
            scene.add(synth.udp(CAMERA_PUBLIC, 554, CLIENT_LAN, 554, synth.rtp(seq), ttl=62))
        scene.add(synth.udp(CAMERA_PUBLIC, 555, CLIENT_LAN, 555, synth.sender_report(), ttl=62))
    if rtcp_back:
        scene.add(synth.udp(CLIENT_LAN, 555, CAMERA_PUBLIC, 555, synth.receiver_report()))


def test_working_rtsp_udp_session_on_the_client(tmp_path: Path) -> None:
    scene = synth.Scene()
    client_side_session(scene)
    obs = analyze(tmp_path, scene, link="sll2", outgoing_from=CLIENT_LAN)
    assert obs.vantage is Vantage.CLIENT
    assert obs.client == CLIENT_LAN
    assert obs.source == "capture:c.pcap"
    assert "taken on the client's side" in obs.notes[0]
    (attempt,) = obs.of(TcpAttempt)
    assert attempt.port == 554
    assert attempt.outcome is TcpOutcome.OPEN
    assert attempt.greeting == "RTSP/1.0 200 OK"
    assert attempt.connect_ms == pytest.approx(10.0)
    replies = obs.of(RtspReply)
    assert [(r.method, r.status) for r in replies] == [
        ("DESCRIBE", 200),
        ("SETUP", 200),
        ("PLAY", 200),
    ]
    setup = replies[1]
    assert setup.client_ports == PortRange(554, 555)
    assert setup.server_ports == PortRange(554, 555)
    assert setup.ssrc == SSRC
    assert setup.session == "4242"
    assert setup.media is not None
    assert setup.media.value == "video"
    (request,) = obs.of(MediaRequest)
    assert request.mode == "udp"
    assert request.accepted
    assert request.granted_ports == PortRange(554, 555)
    assert request.played_at_ms == replies[2].at_ms
    rtp, rtcp = obs.of(UdpArrival)
    assert (rtp.port, rtp.kind, rtp.packets, rtp.ssrc, rtp.payload_type) == (
        554,
        "rtp",
        30,
        SSRC,
        96,
    )
    assert rtp.belongs
    assert rtp.source == CAMERA_PUBLIC
    assert rtp.sequence_gaps == 0
    assert (rtcp.port, rtcp.kind, rtcp.sender_reports, rtcp.belongs) == (555, "rtcp", 1, True)
    assert rtp.first_ms is not None
    assert request.played_at_ms is not None
    assert rtp.first_ms > request.played_at_ms
    (sent,) = obs.of(UdpSent)
    assert (sent.port, sent.source_port, sent.kind, sent.packets) == (555, 555, "rtcp", 1)
    (limit,) = obs.of(Limitation)
    assert limit.flow == "rtcp-return"
    assert "cannot show whether they arrive" in limit.reason


def test_camera_side_capture_cannot_decide_what_reached_the_client(tmp_path: Path) -> None:
    """Taken behind the camera's IP sharer: the camera has its LAN address, the client its
    public one, and the camera's own packets carry their initial TTL."""
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_PUBLIC, 40000, CAMERA_LAN, 554, client_ttl=61, server_ttl=64)
    scene.add(*conv.handshake())
    player = synth.RtspPlayer(scene, conv, URL)
    player.session(UDP_ASKED, UDP_GRANTED)
    for seq in range(5):
        scene.add(synth.udp(CAMERA_LAN, 554, CLIENT_PUBLIC, 554, synth.rtp(seq), ttl=64))
    scene.add(synth.udp(CLIENT_PUBLIC, 555, CAMERA_LAN, 555, synth.receiver_report(), ttl=61))
    obs = analyze(tmp_path, scene, {**DECODER_UDP, "client_side": "private"})
    assert obs.vantage is Vantage.CAMERA
    assert any(f"{CAMERA_LAN} is the only host reached" in n for n in obs.notes)
    assert obs.of(TcpAttempt)[0].outcome is TcpOutcome.OPEN
    assert obs.of(UdpArrival) == []  # sent by the camera, not seen arriving
    limits = {lim.flow: lim for lim in obs.of(Limitation)}
    assert set(limits) == {"rtp-video", "rtcp-video"}
    assert "camera sending 5 packet(s) to 198.51.100.7:554" in limits["rtp-video"].reason
    (feedback,) = obs.of(CameraFeedback)
    assert (feedback.port, feedback.kind, feedback.packets, feedback.source) == (
        555,
        "rtcp-rr",
        1,
        CLIENT_PUBLIC,
    )


def test_unanswered_syns_are_a_timeout(tmp_path: Path) -> None:
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(conv.syn())
    for wait in (1.0, 2.0, 4.0):
        scene.wait(wait)
        scene.add(conv.syn())
    obs = analyze(tmp_path, scene)
    (attempt,) = obs.of(TcpAttempt)
    assert attempt.outcome is TcpOutcome.TIMEOUT
    assert attempt.detail == "SYN sent 4 times over 7.0 s, no answer"
    assert obs.vantage is Vantage.CLIENT  # the client's own SYNs carry TTL 64


def test_a_second_copy_of_a_syn_is_not_a_retransmission(tmp_path: Path) -> None:
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(conv.syn())
    scene.add(conv.syn(), step=0.0001)  # the same SYN seen on a second interface
    scene.wait(5)
    scene.add(synth.udp(CLIENT_LAN, 5353, "224.0.0.251", 5353, b"x"))  # the capture goes on
    obs = analyze(tmp_path, scene)
    (attempt,) = obs.of(TcpAttempt)
    assert attempt.detail is not None
    assert attempt.detail.startswith("SYN sent once")


def test_rst_is_refused(tmp_path: Path) -> None:
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(conv.syn(), conv.rst())
    obs = analyze(tmp_path, scene)
    (attempt,) = obs.of(TcpAttempt)
    assert attempt.outcome is TcpOutcome.REFUSED


def test_capture_ending_right_after_the_syn_decides_nothing(tmp_path: Path) -> None:
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(conv.syn())
    obs = analyze(tmp_path, scene)
    assert obs.of(TcpAttempt) == []
    (limit,) = [lim for lim in obs.of(Limitation) if lim.protocol == "tcp"]
    assert limit.ports == PortRange(554, 554)
    assert "before its outcome could be seen" in limit.reason


def test_icmp_unreachable_for_a_syn(tmp_path: Path) -> None:
    sc = synth.scapy()
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    syn = conv.syn()
    scene.add(syn)
    icmp = sc.IP(src="192.168.0.1", dst=CLIENT_LAN) / sc.ICMP(type=3, code=1) / bytes(syn)[:28]
    scene.add(icmp)
    scene.wait(4)
    scene.add(synth.udp(CLIENT_LAN, 5353, "224.0.0.251", 5353, b"x"))
    obs = analyze(tmp_path, scene)
    (attempt,) = obs.of(TcpAttempt)
    assert attempt.outcome is TcpOutcome.UNREACHABLE
    assert attempt.detail == "host unreachable (ICMP from 192.168.0.1)"


def test_camera_answers_but_handshake_never_completes_on_the_camera_side(tmp_path: Path) -> None:
    """SYN-ACKs that never reach the client: the camera's default gateway is wrong."""
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_PUBLIC, 40000, CAMERA_LAN, 554, client_ttl=60, server_ttl=64)
    for wait in (0, 1, 2):
        scene.wait(wait)
        scene.add(conv.syn(), conv.synack())
    obs = analyze(tmp_path, scene)
    (attempt,) = obs.of(TcpAttempt)
    assert attempt.outcome is TcpOutcome.TIMEOUT
    assert attempt.detail is not None
    assert "default gateway" in attempt.detail


def test_digest_challenge_is_mechanics_but_a_final_401_is_kept(tmp_path: Path) -> None:
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(*conv.handshake())
    player = synth.RtspPlayer(scene, conv, URL)
    challenge = ['WWW-Authenticate: Digest realm="cam", nonce="abc"']
    auth = 'Authorization: Digest username="a"'
    setup = f"{URL}/trackID=1"
    # DESCRIBE: challenged, then accepted with credentials
    player.exchange("DESCRIBE", URL, (401, "Unauthorized"), answer_headers=challenge)
    player.exchange("DESCRIBE", URL, (200, "OK"), auth)
    # SETUP: challenged, then refused again with credentials (a wrong password)
    transport = f"Transport: {UDP_ASKED}"
    player.exchange("SETUP", setup, (401, "Unauthorized"), transport, answer_headers=challenge)
    player.exchange("SETUP", setup, (401, "Unauthorized"), transport, auth,
                    answer_headers=challenge)  # fmt: skip
    # OPTIONS: refused, and the client had no credentials to retry with
    player.exchange("OPTIONS", URL, (401, "Unauthorized"), answer_headers=challenge)
    obs = analyze(tmp_path, scene)
    replies = [(r.method, r.status, r.authenticated) for r in obs.of(RtspReply)]
    assert replies == [("DESCRIBE", 200, True), ("SETUP", 401, True), ("OPTIONS", 401, False)]
    assert [(m.accepted, m.status) for m in obs.of(MediaRequest)] == [(False, 401)]


def test_request_without_answer(tmp_path: Path) -> None:
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(*conv.handshake())
    scene.add(conv.client_sends(synth.request("OPTIONS", URL, 1)))
    scene.wait(10)
    scene.add(synth.udp(CLIENT_LAN, 5353, "224.0.0.251", 5353, b"x"))
    obs = analyze(tmp_path, scene)
    (reply,) = obs.of(RtspReply)
    assert reply.status is None
    assert reply.error == "no answer in the 10.0 s the capture shows after it"


def test_tcp_mode_interleaved_media(tmp_path: Path) -> None:
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(*conv.handshake())
    player = synth.RtspPlayer(scene, conv, URL)
    player.session(
        "RTP/AVP/TCP;unicast;interleaved=0-1",
        f"RTP/AVP/TCP;unicast;interleaved=0-1;ssrc={SSRC:08X}",
    )
    frames = b"".join(synth.interleaved(0, synth.rtp(s)) for s in range(20))
    frames += synth.interleaved(1, synth.sender_report())
    # split across segments at awkward places, as TCP does
    for start in range(0, len(frames), 700):
        scene.add(conv.server_sends(frames[start : start + 700]))
    scene.add(conv.client_sends(synth.interleaved(1, synth.receiver_report())))
    obs = analyze(tmp_path, scene, {"client": "decoder", "protocol": "rtsp", "transport": "tcp"})
    (request,) = obs.of(MediaRequest)
    assert request.mode == "tcp"
    assert request.played_at_ms is not None
    rtp, rtcp = obs.of(InterleavedArrival)
    assert (rtp.port, rtp.channel, rtp.kind, rtp.packets, rtp.ssrc, rtp.belongs) == (
        554,
        0,
        "rtp",
        20,
        SSRC,
        True,
    )
    assert rtp.media is not None
    assert rtp.media.value == "video"
    assert (rtcp.channel, rtcp.kind, rtcp.sender_reports) == (1, "rtcp", 1)


def test_lost_bytes_in_the_rtsp_stream_are_skipped_to_the_next_message(tmp_path: Path) -> None:
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(*conv.handshake())
    player = synth.RtspPlayer(scene, conv, URL)
    player.describe()
    lost = conv.client_sends(
        synth.request("SETUP", f"{URL}/trackID=1", 2, f"Transport: {UDP_ASKED}")
    )
    del lost  # the capture missed this segment
    scene.add(
        conv.server_sends(
            synth.response(200, "OK", 2, f"Transport: {UDP_GRANTED}", "Session: 4242")
        )
    )
    player.cseq = 2
    player.play()
    obs = analyze(tmp_path, scene)
    assert [r.method for r in obs.of(RtspReply)] == ["DESCRIBE", "PLAY"]
    assert any("bytes from the client are missing" in n for n in obs.notes)


def test_multicast_session_with_igmp_join(tmp_path: Path) -> None:
    sc = synth.scapy()
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(*conv.handshake())
    player = synth.RtspPlayer(scene, conv, URL)
    player.describe()
    player.setup(
        "trackID=1",
        "RTP/AVP;multicast",
        f"RTP/AVP;multicast;destination=239.1.1.1;port=64704-64705;ttl=16;ssrc={SSRC:08X}",
    )
    from scapy.layers.igmp import IGMP, IGMPv3_MR, IGMPv3_MR_Group

    group = IGMPv3_MR_Group(rtype=4, maddr="239.1.1.1")
    scene.add(sc.IP(src=CLIENT_LAN, dst="224.0.0.22", ttl=1) / IGMPv3_MR(records=[group]))
    scene.add(sc.IP(src=CLIENT_LAN, dst="239.1.1.1", ttl=1) / IGMP(type=0x16, gaddr="239.1.1.1"))
    leave = IGMP(type=0x17, gaddr="239.1.1.1")
    scene.add(sc.IP(src="192.168.0.31", dst="224.0.0.2", ttl=1) / leave)
    player.play()
    for seq in range(10):  # multicast keeps the camera's LAN address
        scene.add(synth.udp(CAMERA_LAN, 40002, "239.1.1.1", 64704, synth.rtp(seq), ttl=14))
    obs = analyze(
        tmp_path, scene, {"client": "decoder", "protocol": "rtsp", "transport": "multicast"}
    )
    (request,) = obs.of(MediaRequest)
    assert (request.mode, request.group, request.granted_ports) == (
        "multicast",
        "239.1.1.1",
        PortRange(64704, 64705),
    )
    joins = [(j.group, j.source) for j in obs.of(MulticastJoin)]
    assert joins == [("239.1.1.1", CLIENT_LAN)] * 2  # IGMPv3 and v2 reports; a leave is no join
    (arrival,) = obs.of(UdpArrival)
    assert (arrival.port, arrival.group, arrival.belongs, arrival.source) == (
        64704,
        "239.1.1.1",
        True,
        CAMERA_LAN,
    )
    assert arrival.note is not None
    assert "multicast keeps the camera's own address" in arrival.note


def test_media_with_an_unannounced_ssrc_does_not_belong(tmp_path: Path) -> None:
    scene = synth.Scene()
    client_side_session(scene, media=False, rtcp_back=False)
    for seq in range(10):
        scene.add(
            synth.udp(CAMERA_PUBLIC, 554, CLIENT_LAN, 554, synth.rtp(seq, ssrc=0xBAD), ttl=62)
        )
    obs = analyze(tmp_path, scene)
    (arrival,) = obs.of(UdpArrival)
    assert not arrival.belongs
    assert arrival.note == f"SSRC 0x00000bad was not announced by the session (0x{SSRC:08x})"


def test_traffic_on_a_planned_port_from_elsewhere_is_foreign(tmp_path: Path) -> None:
    scene = synth.Scene()
    client_side_session(scene, media=False, rtcp_back=False)
    for seq in range(5):
        scene.add(synth.udp("192.0.2.99", 554, CLIENT_LAN, 554, synth.rtp(seq), ttl=50))
    obs = analyze(tmp_path, scene)
    (arrival,) = obs.of(UdpArrival)
    assert not arrival.belongs
    assert arrival.note == "not from the camera (192.0.2.99 sent it)"


def test_port_unreachable_answers_are_noted(tmp_path: Path) -> None:
    sc = synth.scapy()
    scene = synth.Scene()
    client_side_session(scene, media=False, rtcp_back=False)
    packet = synth.udp(CAMERA_PUBLIC, 554, CLIENT_LAN, 554, synth.rtp(1), ttl=62)
    scene.add(packet)
    scene.add(
        sc.IP(src=CLIENT_LAN, dst=CAMERA_PUBLIC) / sc.ICMP(type=3, code=3) / bytes(packet)[:28]
    )
    obs = analyze(tmp_path, scene)
    (arrival,) = obs.of(UdpArrival)
    assert arrival.note is not None
    assert (
        "answered 1 of them with ICMP port unreachable: nothing listened on UDP 554" in arrival.note
    )


@pytest.mark.parametrize("vlans", [(), (7,), (100, 7)])
def test_vlan_tags_do_not_change_anything(tmp_path: Path, vlans: tuple[int, ...]) -> None:
    scene = synth.Scene()
    client_side_session(scene)
    obs = analyze(tmp_path, scene, vlans=vlans)
    assert [a.kind for a in obs.of(UdpArrival)] == ["rtp", "rtcp"]
    assert obs.of(TcpAttempt)[0].greeting == "RTSP/1.0 200 OK"


def test_ipv6_session(tmp_path: Path) -> None:
    camera, client = "2001:db8::10", "2001:db8:1::30"
    url = f"rtsp://[{camera}]/video1"
    scene = synth.Scene()
    conv = synth.Conversation(client, 40000, camera, 554)
    scene.add(*conv.handshake())
    player = synth.RtspPlayer(scene, conv, url)
    player.session(UDP_ASKED, UDP_GRANTED)
    for seq in range(10):
        scene.add(synth.udp(camera, 554, client, 554, synth.rtp(seq), ttl=60))
    obs = analyze(tmp_path, scene, cameras=(camera,))
    assert obs.vantage is Vantage.CLIENT
    assert obs.of(TcpAttempt)[0].outcome is TcpOutcome.OPEN
    (arrival,) = obs.of(UdpArrival)
    assert (arrival.source, arrival.packets, arrival.belongs) == (camera, 10, True)


def test_no_traffic_to_the_camera(tmp_path: Path) -> None:
    scene = synth.Scene()
    scene.add(synth.udp("192.168.0.5", 5353, "224.0.0.251", 5353, b"x"))
    obs = analyze(tmp_path, scene)
    assert obs.vantage is Vantage.UNKNOWN
    assert any("no packet to or from the camera (203.0.113.10)" in n for n in obs.notes)
    assert obs.of(TcpAttempt) == []
    assert obs.of(UdpArrival) == []
    flows = {lim.flow for lim in obs.of(Limitation)}
    assert {"rtsp-control", "rtp-video", "rtcp-video", "rtcp-return"} <= flows


def test_several_clients_and_a_chosen_one(tmp_path: Path) -> None:
    scene = synth.Scene()
    client_side_session(scene)
    other = synth.Conversation("192.168.0.31", 40001, CAMERA_PUBLIC, 554, cseq=777)
    scene.add(other.syn(), other.rst())
    both = analyze(tmp_path, scene)
    assert any("several hosts talk to the camera" in n for n in both.notes)
    assert len(both.of(TcpAttempt)) == 2
    one = analyze(tmp_path, scene, client=CLIENT_LAN)
    assert [a.outcome for a in one.of(TcpAttempt)] == [TcpOutcome.OPEN]
    assert one.client == CLIENT_LAN


def test_mld_join_over_ipv6(tmp_path: Path) -> None:
    sc = synth.scapy()
    from scapy.layers.inet6 import ICMPv6MLDMultAddrRec, ICMPv6MLReport2, IPv6ExtHdrHopByHop

    scene = synth.Scene()
    record = ICMPv6MLDMultAddrRec(rtype=4, dst="ff15::1234")
    scene.add(
        sc.IPv6(src="2001:db8:1::30", dst="ff02::16", hlim=1)
        / IPv6ExtHdrHopByHop()
        / ICMPv6MLReport2(records=[record])
    )
    obs = analyze(tmp_path, scene, cameras=("2001:db8::10",))
    assert [(j.group, j.source) for j in obs.of(MulticastJoin)] == [
        ("ff15::1234", "2001:db8:1::30")
    ]


def test_another_server_on_the_rtsp_port(tmp_path: Path) -> None:
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_LAN, 40000, CAMERA_PUBLIC, 554)
    scene.add(*conv.handshake())
    scene.add(conv.server_sends(b"SSH-2.0-OpenSSH_9.2\r\n"))
    scene.add(conv.client_sends(synth.request("OPTIONS", URL, 1)))
    obs = analyze(tmp_path, scene)
    (attempt,) = obs.of(TcpAttempt)
    assert attempt.greeting == "SSH-2.0-OpenSSH_9.2"
    assert "RTSP on TCP 554: not RTSP from the camera: it sent 'SSH-2.0-OpenSSH_9.2'" in obs.notes


def test_header_only_capture(tmp_path: Path) -> None:
    obs = analyze(tmp_path, synth.Scene())
    assert obs.duration_ms == 0.0
    assert obs.records == tuple(obs.of(Limitation))
    assert any("no packet to or from the camera" in n for n in obs.notes)


def test_flow_limit_keeps_what_matters(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from truenprobe.capture import scan

    monkeypatch.setattr(scan, "MAX_FLOWS", 5)
    scene = synth.Scene()
    for port in range(10):  # unrelated flows first
        scene.add(synth.udp("192.168.0.5", 30000 + port, "192.168.0.6", 9000, b"x"))
    client_side_session(scene)
    obs = analyze(tmp_path, scene)
    assert [a.kind for a in obs.of(UdpArrival)] == ["rtp", "rtcp"]
    assert any("beyond the analyzer's flow limit" in n for n in obs.notes)


def test_pcapng_with_interfaces_of_different_link_types(tmp_path: Path) -> None:
    """A pcapng from several interfaces: one Ethernet, one Linux cooked."""
    import struct

    def block(kind: int, body: bytes) -> bytes:
        body += bytes(-len(body) % 4)
        return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    def epb(iface: int, ts: float, frame: bytes) -> bytes:
        micros = int(ts * 1e6)
        head = struct.pack(
            "<IIIII", iface, micros >> 32, micros & 0xFFFFFFFF, len(frame), len(frame)
        )
        return block(6, head + frame)

    scene = synth.Scene()
    client_side_session(scene)
    data = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    data += block(1, struct.pack("<HHI", 1, 0, 0)) + block(1, struct.pack("<HHI", 113, 0, 0))
    sc = synth.scapy()
    for i, (ts, packet) in enumerate(scene.frames):
        if i % 2:
            frame = bytes(sc.Ether() / packet)
            data += epb(0, ts, frame)
        else:
            frame = struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x0800) + bytes(packet)
            data += epb(1, ts, frame)
    path = tmp_path / "multi.pcapng"
    path.write_bytes(data)
    obs = analyze_capture(str(path), Subject(plan_for(**DECODER_UDP), (CAMERA_PUBLIC,)))
    assert [a.kind for a in obs.of(UdpArrival)] == ["rtp", "rtcp"]
    assert [r.status for r in obs.of(RtspReply)] == [200, 200, 200]


def test_capture_on_the_clients_ip_sharer(tmp_path: Path) -> None:
    """Every packet twice: on the LAN (the client's address) and on the WAN (translated)."""
    lan = synth.Scene()
    client_side_session(lan)
    scene = synth.Scene()
    sc = synth.scapy()
    for ts, packet in lan.frames:
        scene.frames.append((ts, packet))
        wan = packet.copy()
        if wan[sc.IP].src == CLIENT_LAN:
            wan[sc.IP].src = CLIENT_PUBLIC
            wan[sc.IP].ttl -= 1
        elif wan[sc.IP].dst == CLIENT_LAN:
            wan[sc.IP].dst = CLIENT_PUBLIC
            wan[sc.IP].ttl += 1  # seen on the WAN before the sharer forwarded it
        del wan[sc.IP].chksum
        scene.frames.append((ts + 0.00001, wan))
    obs = analyze(tmp_path, scene)
    assert any("taken on the client's IP sharer" in n for n in obs.notes)
    assert not any("several hosts" in n for n in obs.notes)
    assert obs.vantage is Vantage.CLIENT
    assert [a.outcome for a in obs.of(TcpAttempt)] == [TcpOutcome.OPEN]
    assert [(a.port, a.kind) for a in obs.of(UdpArrival)] == [(554, "rtp"), (555, "rtcp")]


def test_capture_on_the_cameras_ip_sharer(tmp_path: Path) -> None:
    """The camera appears under its public address (WAN) and its LAN address."""
    scene = synth.Scene()
    conv = synth.Conversation(CLIENT_PUBLIC, 40000, CAMERA_LAN, 554, client_ttl=61, server_ttl=64)
    scene.add(*conv.handshake())
    player = synth.RtspPlayer(scene, conv, URL)
    player.session(UDP_ASKED, UDP_GRANTED)
    sc = synth.scapy()
    both = synth.Scene()
    for ts, packet in scene.frames:
        wan = packet.copy()
        if wan[sc.IP].src == CAMERA_LAN:
            wan[sc.IP].src = CAMERA_PUBLIC
            wan[sc.IP].ttl -= 1
        else:
            wan[sc.IP].dst = CAMERA_PUBLIC
            wan[sc.IP].ttl += 1
        del wan[sc.IP].chksum
        both.frames += [(ts, packet), (ts + 0.00001, wan)]
    obs = analyze(tmp_path, both)
    assert any("taken on the camera's IP sharer" in n for n in obs.notes)
    assert obs.vantage is Vantage.CAMERA
    assert [a.outcome for a in obs.of(TcpAttempt)] == [TcpOutcome.OPEN, TcpOutcome.OPEN]
