from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truenprobe.rtp.packet import (
    RTCP_SDES,
    OtherRtcp,
    PacketError,
    ReceiverReport,
    ReportBlock,
    RtpPacket,
    SenderReport,
    build_receiver_report,
    build_rtp,
    build_sdes_cname,
    build_sender_report,
    looks_like_rtcp,
    ntp_timestamp,
    parse_rtcp,
    parse_rtp,
)

# A packet written out by hand from RFC 3550 §5.1: V=2, M=1, PT=96, seq 0x1234,
# timestamp 0x01020304, SSRC 0xDEADBEEF, payload "hi".
HAND_WRITTEN = bytes.fromhex("80e0123401020304deadbeef") + b"hi"


def test_parse_hand_written_packet():
    p = parse_rtp(HAND_WRITTEN)
    assert (p.payload_type, p.marker, p.sequence) == (96, True, 0x1234)
    assert (p.timestamp, p.ssrc, p.payload) == (0x01020304, 0xDEADBEEF, b"hi")
    assert build_rtp(p) == HAND_WRITTEN


@given(
    pt=st.integers(0, 63) | st.integers(96, 127),  # 64-95 collide with RTCP (RFC 5761)
    seq=st.integers(0, 0xFFFF),
    ts=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    marker=st.booleans(),
    payload=st.binary(max_size=64),
    csrcs=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15),
    ext=st.none()
    | st.tuples(
        st.integers(0, 0xFFFF), st.binary(max_size=12).map(lambda b: b + bytes(-len(b) % 4))
    ),
    padding=st.integers(0, 8),
)
def test_round_trip(pt, seq, ts, ssrc, marker, payload, csrcs, ext, padding):
    packet = RtpPacket(pt, seq, ts, ssrc, marker, payload, tuple(csrcs), ext, padding)
    assert parse_rtp(build_rtp(packet)) == packet


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "12 bytes"),
        (bytes.fromhex("40e0123401020304deadbeef"), "version 1"),
        (bytes.fromhex("83e0123401020304deadbeef"), "CSRC"),
        (bytes.fromhex("90e0123401020304deadbeef0001"), "extension"),
        (bytes.fromhex("a0e0123401020304deadbeef00"), "padding"),
        (bytes.fromhex("80c8000601020304deadbeef"), "RTCP"),
    ],
)
def test_rejects_what_is_not_rtp(data, why):
    with pytest.raises(PacketError, match=why):
        parse_rtp(data)


def test_sender_report_round_trip_in_a_compound_packet():
    block = ReportBlock(7, 12, -3, 65000, 44, 0x11223344, 5)
    sr = SenderReport(0xCAFE, ntp_timestamp(1_700_000_000.5), 90000, 10, 12345, (block,))
    data = build_sender_report(sr) + build_sdes_cname(0xCAFE, "camera@truenprobe")
    assert looks_like_rtcp(data)
    parsed = parse_rtcp(data)
    assert parsed[0] == sr
    assert isinstance(parsed[1], OtherRtcp)
    assert parsed[1].packet_type == RTCP_SDES
    assert parsed[1].ssrc == 0xCAFE


def test_receiver_report_round_trip():
    rr = ReceiverReport(1, (ReportBlock(2, 0, 0, 1, 2, 3, 4),))
    assert parse_rtcp(build_receiver_report(rr)) == (rr,)


def test_rtcp_length_past_end_is_rejected():
    data = build_sender_report(SenderReport(1, 0, 0, 0, 0))
    with pytest.raises(PacketError, match="runs past"):
        parse_rtcp(data[:-4])


def test_ntp_timestamp_epoch():
    assert ntp_timestamp(0) >> 32 == 2_208_988_800
    assert ntp_timestamp(0.5) & 0xFFFFFFFF == 1 << 31
