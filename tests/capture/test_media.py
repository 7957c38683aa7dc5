"""RTP/RTCP recognised in place agrees with the shared parser; flows are judged as a whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tests.capture import synth
from truenprobe.capture.media import (
    KIND_OTHER,
    KIND_RTCP,
    KIND_RTP,
    MediaStats,
    rtcp_summary,
    rtp_header,
)
from truenprobe.rtp.packet import (
    PacketError,
    RtpPacket,
    build_rtp,
    looks_like_rtcp,
    parse_rtcp,
    parse_rtp,
)


def parses_as_rtp(data: bytes) -> bool:
    try:
        parse_rtp(data)
    except PacketError:
        return False
    return True


def parses_as_rtcp(data: bytes) -> bool:
    try:
        parse_rtcp(data)
    except PacketError:
        return False
    return True


rtp_like = st.builds(
    lambda first, rest: bytes([0x80 | first & 0x3F]) + rest,
    st.integers(0, 255),
    st.binary(min_size=0, max_size=80),
)


@given(st.one_of(rtp_like, st.binary(max_size=80)))
def test_rtp_check_agrees_with_the_parser(data: bytes) -> None:
    assert (rtp_header(data, 0, len(data), len(data)) is not None) == parses_as_rtp(data)


@given(st.one_of(rtp_like, st.binary(max_size=80)))
def test_rtcp_check_agrees_with_the_parser(data: bytes) -> None:
    if looks_like_rtcp(data):
        ours = rtcp_summary(data, 0, len(data), len(data)) is not None
        # our check needs the sender SSRC (8 bytes); the parser accepts a bare header
        assert ours == (parses_as_rtcp(data) and len(data) >= 8)


def test_header_fields() -> None:
    data = build_rtp(RtpPacket(97, 65535, 1, 0xCAFE, csrcs=(1, 2), extension=(1, b"abcd")))
    assert rtp_header(data, 0, len(data), len(data)) == (0xCAFE, 97, 65535)
    sr = synth.sender_report() + synth.receiver_report()
    assert rtcp_summary(sr, 0, len(sr), len(sr)) == (synth.SSRC, 1, 1)


def test_snapped_datagram_is_judged_on_what_was_captured() -> None:
    data = synth.rtp(1, size=1000)
    assert rtp_header(data, 0, 40, len(data)) is not None
    report = synth.sender_report() + synth.receiver_report()
    assert rtcp_summary(report, 0, 30, len(report)) is not None


def add_all(stats: MediaStats, datagrams: list[bytes]) -> MediaStats:
    for i, data in enumerate(datagrams):
        stats.add(float(i), data, 0, len(data), len(data), 62)
    return stats


def test_an_rtp_stream_with_losses() -> None:
    seqs = [*range(65530, 65536), *range(10), *range(12, 20)]  # wraps, then loses 10 and 11
    stats = add_all(MediaStats(), [synth.rtp(s) for s in seqs])
    assert stats.kind() == KIND_RTP
    assert stats.gaps == 2
    assert stats.dominant_ssrc() is not None
    assert stats.dominant_ssrc()[0] == synth.SSRC
    assert (stats.packets, stats.bytes, stats.first, stats.last) == (24, 24 * 212, 0.0, 23.0)


def test_reordered_and_duplicate_packets_are_not_losses() -> None:
    stats = add_all(MediaStats(), [synth.rtp(s) for s in [1, 2, 4, 3, 5, 5, 6]])
    assert stats.gaps == 0  # 3 was late, not lost; the second 5 is a duplicate
    assert stats.kind() == KIND_RTP


def test_rtcp_flow() -> None:
    stats = add_all(MediaStats(), [synth.sender_report()] * 5)
    assert stats.kind() == KIND_RTCP
    assert stats.sender_reports == 5


def test_random_bytes_are_other_even_when_they_start_like_rtp() -> None:
    import random

    rng = random.Random(7)
    noise = [bytes([0x80, 96]) + rng.randbytes(60) for _ in range(50)]
    stats = add_all(MediaStats(), noise)
    assert stats.kind() == KIND_OTHER
    assert "different SSRCs, not one stream" in stats.describe_other()


def test_dns_is_other() -> None:
    stats = add_all(MediaStats(), [b"\x12\x34\x01\x00" + bytes(20)] * 3)
    assert stats.kind() == KIND_OTHER
    assert stats.describe_other() == "not RTP or RTCP"


def test_a_stream_whose_sequence_jumps_around_is_other() -> None:
    import random

    rng = random.Random(3)
    stats = add_all(MediaStats(), [synth.rtp(rng.randrange(65536)) for _ in range(40)])
    assert stats.kind() == KIND_OTHER
    assert "sequence numbers do not advance" in stats.describe_other()


@given(st.one_of(rtp_like, st.binary(max_size=80)))
def test_flow_counting_agrees_with_the_parser(data: bytes) -> None:
    """The fast path for plain headers in MediaStats.add counts exactly what parse_rtp takes."""
    stats = MediaStats()
    stats.add(0.0, data, 0, len(data), len(data), 64)
    is_rtcp = looks_like_rtcp(data) and rtcp_summary(data, 0, len(data), len(data)) is not None
    assert (stats.rtp, stats.rtcp, stats.other) == (
        int(parses_as_rtp(data)),
        int(is_rtcp),
        int(not parses_as_rtp(data) and not is_rtcp),
    )
