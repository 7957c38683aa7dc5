"""Pure pieces of the prober: tokens, datagram tallies, CAMERA parsing, port pairs, tracks."""

from __future__ import annotations

import pytest

from tests.probe.probe_helpers import plan_of
from truenprobe.errors import ScenarioError
from truenprobe.plan.model import Media, PortRange
from truenprobe.probe.datagrams import ArrivalBook, Expectations, InterleavedBook, classify
from truenprobe.probe.rtsp_client import parse_transport
from truenprobe.probe.runner import CheckRequest, overall_bound, pairs_to_test, stream_tracks
from truenprobe.probe.target import parse_camera
from truenprobe.probe.tcp import first_line
from truenprobe.probe.token import build_token, parse_token
from truenprobe.rtp.packet import RtpPacket, SenderReport, build_rtp, build_sender_report

CAM = "203.0.113.5"


def rtp(seq: int, ssrc: int = 0xAA, pt: int = 96) -> bytes:
    return build_rtp(RtpPacket(pt, seq & 0xFFFF, seq * 10, ssrc, payload=b"x"))


def sr(ssrc: int = 0xAA) -> bytes:
    return build_sender_report(SenderReport(ssrc, 1, 2, 3, 4))


# --- tokens -------------------------------------------------------------------------------


def test_token_round_trip_and_rejections() -> None:
    data = build_token("site-42", 4334, PortRange(4333, 4432), 2)
    parsed = parse_token(data)
    assert parsed is not None
    assert (parsed.token, parsed.port, parsed.ports, parsed.round) == (
        "site-42",
        4334,
        PortRange(4333, 4432),
        2,
    )
    assert parse_token(b"TRUENPROBE/1 t 9999 4333-4432 1") is None  # port outside its range
    assert parse_token(b"TRUENPROBE/1 t 4333 4432-4333 1") is None  # inverted range
    assert parse_token(b"TRUENPROBE/1 bad token 1 1-2 1") is None
    assert parse_token(rtp(1)) is None
    with pytest.raises(ValueError, match="token"):
        build_token("has space", 1, PortRange(1, 2), 1)


# --- classification and tallies -----------------------------------------------------------


def test_classify() -> None:
    assert classify(rtp(5)).kind == "rtp"
    assert classify(rtp(5)).payload_type == 96
    c = classify(sr())
    assert (c.kind, c.sender_reports, c.ssrc) == ("rtcp", 1, 0xAA)
    assert classify(b"hello world").kind == "other"
    assert classify(b"\x80\xc8\x00\x09").kind == "other"  # RTCP header promising more
    assert classify(build_token("t", 5, PortRange(5, 6), 1)).kind == "token"


def test_sequence_gaps_across_the_wrap() -> None:
    book = ArrivalBook()
    for seq in (65533, 65534, 1, 2):  # 65535 and 0 lost
        book.add(1.0, 554, CAM, 554, rtp(seq))
    expect = Expectations(CAM)
    expect.announce(554, 0xAA, 555)
    (a,) = book.udp_arrivals(expect)
    assert (a.packets, a.sequence_gaps, a.belongs) == (4, 2, True)


def test_belonging_rules() -> None:
    book = ArrivalBook()
    book.add(1.0, 554, CAM, 554, rtp(1))  # announced SSRC, camera's address: belongs
    book.add(2.0, 554, "198.51.100.7", 554, rtp(1))  # another host
    book.add(3.0, 554, CAM, 554, rtp(1, ssrc=0xBB))  # SSRC not announced
    book.add(4.0, 554, CAM, 554, b"junk")
    expect = Expectations(CAM)
    expect.announce(554, 0xAA, 555)
    result = {(a.source, a.ssrc, a.kind): a for a in book.udp_arrivals(expect)}
    assert result[(CAM, 0xAA, "rtp")].belongs
    assert not result[("198.51.100.7", 0xAA, "rtp")].belongs
    assert "not from the camera" in (result[("198.51.100.7", 0xAA, "rtp")].note or "")
    assert "not announced" in (result[(CAM, 0xBB, "rtp")].note or "")
    assert not result[(CAM, None, "other")].belongs


def test_unannounced_ssrc_is_learned_from_the_cameras_rtp_and_applies_to_rtcp() -> None:
    book = ArrivalBook()
    for seq in range(5):
        book.add(1.0, 6000, CAM, 7000, rtp(seq, ssrc=0xCC))
    book.add(2.0, 6000, CAM, 7000, rtp(1, ssrc=0xDD))
    book.add(3.0, 6001, CAM, 7001, sr(0xCC))
    expect = Expectations(CAM)
    expect.announce(6000, None, 6001)
    result = {(a.port, a.ssrc): a.belongs for a in book.udp_arrivals(expect)}
    assert result == {(6000, 0xCC): True, (6000, 0xDD): False, (6001, 0xCC): True}


def test_multicast_accepts_the_cameras_own_address_and_loopback_is_one_host() -> None:
    book = ArrivalBook()
    book.add(1.0, 64704, "192.168.1.20", 64704, rtp(1), group="239.1.1.1")
    expect = Expectations(CAM)
    expect.announce(64704, 0xAA, 64705)
    (a,) = book.udp_arrivals(expect)
    assert a.belongs
    assert "camera's own address" in (a.note or "")
    local = Expectations("127.0.0.2")
    local.announce(554, 0xAA)
    book2 = ArrivalBook()
    book2.add(1.0, 554, "127.0.0.1", 40000, rtp(1))
    assert book2.udp_arrivals(local)[0].belongs


def test_tokens_belong_by_token_and_announce_their_range() -> None:
    book = ArrivalBook()
    book.add(5.0, 4333, "198.51.100.1", 5555, build_token("ours", 4333, PortRange(4333, 4336), 1))
    book.add(6.0, 4334, "198.51.100.1", 5555, build_token("else", 4334, PortRange(4333, 4336), 1))
    result = {a.port: a.belongs for a in book.udp_arrivals(Expectations(CAM, token="ours"))}
    assert result == {4333: True, 4334: False}
    assert book.announced["ours"] == {PortRange(4333, 4336): 5.0}


def test_interleaved_book() -> None:
    book = InterleavedBook(554)
    book.set_up(Media.VIDEO, 0, 1, 0xAA)
    book.add(1.0, 0, rtp(1))
    book.add(2.0, 1, sr())
    book.add(3.0, 4, rtp(1))  # a channel nobody set up
    result = {(a.channel, a.kind): a for a in book.arrivals()}
    assert result[(0, "rtp")].belongs
    assert result[(0, "rtp")].media is Media.VIDEO
    assert result[(1, "rtcp")].belongs
    assert result[(1, "rtcp")].sender_reports == 1
    assert not result[(4, "rtp")].belongs


# --- parsing ------------------------------------------------------------------------------


def test_parse_transport() -> None:
    t = parse_transport(
        'RTP/AVP;unicast;client_port=554-555;server_port=6970-6971;ssrc=0BADCAFE;mode="PLAY"'
    )
    assert t.client_ports == PortRange(554, 555)
    assert t.server_ports == PortRange(6970, 6971)
    assert t.ssrc == 0x0BADCAFE
    assert not t.multicast
    m = parse_transport("RTP/AVP;multicast;destination=239.1.2.3;port=64704-64705;ttl=16")
    assert m.multicast
    assert m.destination == "239.1.2.3"
    assert m.ports == PortRange(64704, 64705)
    i = parse_transport("RTP/AVP/TCP;unicast;interleaved=2-3")
    assert i.interleaved == (2, 3)
    with pytest.raises(ValueError, match="client_port"):
        parse_transport("RTP/AVP;unicast;client_port=x-y")


@pytest.mark.parametrize(
    ("text", "host", "port", "user", "password", "path"),
    [
        ("203.0.113.5", "203.0.113.5", None, None, None, None),
        ("cam.example.net", "cam.example.net", None, None, None, None),
        ("[2001:db8::5]", "2001:db8::5", None, None, None, None),
        (
            "rtsp://admin:p%40ss@203.0.113.5:8554/video1s",
            "203.0.113.5",
            8554,
            "admin",
            "p@ss",
            "/video1s",
        ),
        ("rtsp://203.0.113.5/", "203.0.113.5", None, None, None, None),
    ],
)
def test_parse_camera(
    text: str, host: str, port: int | None, user: str | None, password: str | None, path: str | None
) -> None:
    t = parse_camera(text)
    assert (t.host, t.port, t.user, t.password, t.path) == (host, port, user, password, path)


@pytest.mark.parametrize(
    "text", ["", "http://cam/", "rtsp://:554/", "bad host!", "rtsp://h:99999/"]
)
def test_parse_camera_rejects(text: str) -> None:
    with pytest.raises(ScenarioError):
        parse_camera(text)


def test_first_line_is_printable_and_short() -> None:
    assert first_line(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n") == "RTSP/1.0 200 OK"
    assert first_line(b"\x00\x01abc") == "??abc"
    assert len(first_line(b"A" * 1000)) == 120


# --- plans to probe actions ---------------------------------------------------------------


def test_pairs_to_test() -> None:
    assert pairs_to_test(PortRange(4333, 4432), False) == [
        PortRange(4333, 4334),
        PortRange(4431, 4432),
    ]
    assert len(pairs_to_test(PortRange(4333, 4432), True)) == 50
    assert pairs_to_test(PortRange(4333, 4334), False) == [PortRange(4333, 4334)]
    assert pairs_to_test(PortRange(2238, 2238), False) == [PortRange(2238, 2238)]


def test_stream_tracks_follow_the_plan() -> None:
    udp = stream_tracks(plan_of(client="decoder", protocol="rtsp", transport="udp"))
    assert [(t.media, t.mode, t.client_ports) for t in udp] == [
        (Media.VIDEO, "udp", PortRange(554, 555))
    ]
    assert udp[0].return_flow is not None
    assert udp[0].return_flow.name == "rtcp-return"
    vlc = stream_tracks(
        plan_of(
            client="vlc",
            transport="udp",
            stream="video1+audio1",
            client_port=5000,
            client_audio_port=5002,
        )
    )
    assert [(t.media, t.client_ports) for t in vlc] == [
        (Media.VIDEO, PortRange(5000, 5001)),
        (Media.AUDIO, PortRange(5002, 5003)),
    ]
    multicast = stream_tracks(plan_of(client="vlc", transport="multicast", stream="video1+audio1"))
    assert [t.media for t in multicast] == [Media.VIDEO, Media.AUDIO, Media.METADATA]
    tcp = stream_tracks(plan_of(client="vlc", transport="tcp", stream="video1s+audio1"))
    assert [(t.media, t.mode) for t in tcp] == [(Media.VIDEO, "tcp"), (Media.AUDIO, "tcp")]


def test_overall_bound_grows_with_a_sweep_and_listening() -> None:
    plan = plan_of(client="decoder", protocol="vsnm", transport="udp")
    base = overall_bound(plan, CheckRequest("x", stage_s=2))
    assert overall_bound(plan, CheckRequest("x", stage_s=2, sweep=True)) > base
    assert overall_bound(plan, CheckRequest("x", stage_s=2, listen_only_s=30)) == 32


def test_a_flood_from_many_sources_stays_bounded() -> None:
    from truenprobe.probe.datagrams import MAX_TALLIES

    book = ArrivalBook()
    for i in range(MAX_TALLIES + 500):
        book.add(1.0, 554, f"198.51.{i // 250}.{i % 250}", 1000 + i, b"junk")
    arrivals = book.udp_arrivals(Expectations(CAM))
    assert len(arrivals) == MAX_TALLIES + 1
    assert sum(a.packets for a in arrivals) == MAX_TALLIES + 500
    assert not any(a.belongs for a in arrivals)


def test_multicast_group_and_port_from_the_sdp_when_setup_omits_them() -> None:
    from aiortsp.rtsp.sdp import SDP

    from truenprobe.probe.session import _multicast_from_sdp

    sdp = SDP("v=0\r\nc=IN IP4 239.1.2.3/16\r\nm=video 64704 RTP/AVP 96\r\n")
    media = {"connection": sdp.get("connection"), **sdp.get_media("video")}
    bare = parse_transport("RTP/AVP;multicast;ssrc=0000ABCD")
    filled = _multicast_from_sdp(bare, media)
    assert filled.destination == "239.1.2.3"
    assert filled.ports == PortRange(64704, 64705)
    assert filled.ssrc == 0xABCD
    named = parse_transport("RTP/AVP;multicast;destination=239.9.9.9;port=64710-64711")
    assert _multicast_from_sdp(named, media) == named  # the SETUP answer wins


def test_bind_errors_name_the_local_cause() -> None:
    import errno

    from truenprobe.probe.local import bind_error_text

    in_use = bind_error_text(OSError(errno.EADDRINUSE, "Address already in use"), 554)
    assert in_use == "port 554 is in use by another program on this host"
    low = bind_error_text(OSError(errno.EACCES, "Permission denied"), 554)
    assert "below 1024: run as root, grant CAP_NET_BIND_SERVICE" in low
