"""RTP and RTCP headers (RFC 3550): parse and build. Pure: bytes in, records out.

Parsing is strict enough to tell real RTP/RTCP from other datagrams landing on the
same port (version 2, lengths that add up), because evidence only counts when it
is valid media from the camera's session.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

RTP_VERSION = 2
RTP_HEADER = struct.Struct("!BBHII")  # V/P/X/CC, M/PT, sequence, timestamp, SSRC

# RTCP packet types (RFC 3550 §12.1)
RTCP_SR = 200
RTCP_RR = 201
RTCP_SDES = 202
RTCP_BYE = 203
RTCP_APP = 204

# Seconds between the NTP epoch (1900) and the Unix epoch (1970).
NTP_UNIX_OFFSET = 2_208_988_800


class PacketError(ValueError):
    """The bytes are not a valid RTP or RTCP packet."""


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    marker: bool = False
    payload: bytes = b""
    csrcs: tuple[int, ...] = ()
    extension: tuple[int, bytes] | None = None  # (profile-defined id, data)
    padding: int = 0  # padding bytes after the payload (0 = none)


def looks_like_rtcp(data: bytes) -> bool:
    """RTP and RTCP can share a port (RFC 5761): RTCP's second byte is a type 192-223."""
    return len(data) >= 2 and data[0] >> 6 == RTP_VERSION and 192 <= data[1] <= 223


def parse_rtp(data: bytes) -> RtpPacket:
    if len(data) < RTP_HEADER.size:
        raise PacketError(f"RTP needs at least 12 bytes, got {len(data)}")
    first, second, sequence, timestamp, ssrc = RTP_HEADER.unpack_from(data)
    if first >> 6 != RTP_VERSION:
        raise PacketError(f"RTP version {first >> 6}, expected 2")
    if looks_like_rtcp(data):
        raise PacketError("an RTCP packet, not RTP")
    count = first & 0x0F
    offset = RTP_HEADER.size + 4 * count
    if len(data) < offset:
        raise PacketError("RTP header shorter than its CSRC count")
    csrcs = struct.unpack_from(f"!{count}I", data, RTP_HEADER.size) if count else ()
    extension = None
    if first & 0x10:
        if len(data) < offset + 4:
            raise PacketError("RTP header extension truncated")
        profile, words = struct.unpack_from("!HH", data, offset)
        end = offset + 4 + 4 * words
        if len(data) < end:
            raise PacketError("RTP header extension longer than the packet")
        extension = (profile, bytes(data[offset + 4 : end]))
        offset = end
    end = len(data)
    padding = 0
    if first & 0x20:
        padding = data[-1]
        if padding == 0 or offset + padding > end:
            raise PacketError("RTP padding count is invalid")
        end -= padding
    return RtpPacket(
        payload_type=second & 0x7F,
        sequence=sequence,
        timestamp=timestamp,
        ssrc=ssrc,
        marker=bool(second & 0x80),
        payload=bytes(data[offset:end]),
        csrcs=tuple(csrcs),
        extension=extension,
        padding=padding,
    )


def build_rtp(packet: RtpPacket) -> bytes:
    first = RTP_VERSION << 6 | len(packet.csrcs)
    if packet.extension is not None:
        first |= 0x10
    if packet.padding:
        first |= 0x20
    out = bytearray(
        RTP_HEADER.pack(
            first,
            (0x80 if packet.marker else 0) | (packet.payload_type & 0x7F),
            packet.sequence & 0xFFFF,
            packet.timestamp & 0xFFFFFFFF,
            packet.ssrc,
        )
    )
    for csrc in packet.csrcs:
        out += struct.pack("!I", csrc)
    if packet.extension is not None:
        profile, data = packet.extension
        if len(data) % 4:
            raise PacketError("RTP header extension data must be a multiple of 4 bytes")
        out += struct.pack("!HH", profile, len(data) // 4) + data
    out += packet.payload
    if packet.padding:
        out += bytes(packet.padding - 1) + bytes([packet.padding])
    return bytes(out)


@dataclass(frozen=True, slots=True)
class ReportBlock:
    ssrc: int
    fraction_lost: int
    cumulative_lost: int
    highest_sequence: int
    jitter: int
    last_sr: int
    delay_since_last_sr: int


@dataclass(frozen=True, slots=True)
class SenderReport:
    ssrc: int
    ntp_timestamp: int  # 64-bit NTP time
    rtp_timestamp: int
    packet_count: int
    octet_count: int
    reports: tuple[ReportBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class ReceiverReport:
    ssrc: int
    reports: tuple[ReportBlock, ...] = ()


@dataclass(frozen=True, slots=True)
class OtherRtcp:
    """SDES, BYE, APP and anything else: kept as type and sender SSRC (if any)."""

    packet_type: int
    ssrc: int | None
    body: bytes


RtcpPacket = SenderReport | ReceiverReport | OtherRtcp

_REPORT_BLOCK = struct.Struct("!IIIIII")


def _report_blocks(data: bytes, offset: int, count: int) -> tuple[ReportBlock, ...]:
    blocks = []
    for i in range(count):
        ssrc, lost, highest, jitter, lsr, dlsr = _REPORT_BLOCK.unpack_from(data, offset + 24 * i)
        cumulative = lost & 0xFFFFFF
        if cumulative & 0x800000:  # 24-bit signed
            cumulative -= 1 << 24
        blocks.append(ReportBlock(ssrc, lost >> 24, cumulative, highest, jitter, lsr, dlsr))
    return tuple(blocks)


def parse_rtcp(data: bytes) -> tuple[RtcpPacket, ...]:
    """Split a compound RTCP packet; every part must be well formed."""
    if not looks_like_rtcp(data):
        raise PacketError("not RTCP (version 2 and packet type 192-223 expected)")
    packets: list[RtcpPacket] = []
    offset = 0
    while offset < len(data):
        if len(data) - offset < 4:
            raise PacketError("RTCP packet truncated in its header")
        first, ptype, words = struct.unpack_from("!BBH", data, offset)
        if first >> 6 != RTP_VERSION:
            raise PacketError(f"RTCP version {first >> 6}, expected 2")
        end = offset + 4 * (words + 1)
        if end > len(data):
            raise PacketError("RTCP length field runs past the datagram")
        count = first & 0x1F
        body = data[offset + 4 : end]
        if ptype == RTCP_SR:
            if len(body) < 24 + 24 * count:
                raise PacketError("RTCP sender report shorter than its report count")
            ssrc, ntp_hi, ntp_lo, rtp_ts, pkts, octets = struct.unpack_from("!IIIIII", body)
            packets.append(
                SenderReport(
                    ssrc,
                    ntp_hi << 32 | ntp_lo,
                    rtp_ts,
                    pkts,
                    octets,
                    _report_blocks(body, 24, count),
                )
            )
        elif ptype == RTCP_RR:
            if len(body) < 4 + 24 * count:
                raise PacketError("RTCP receiver report shorter than its report count")
            (ssrc,) = struct.unpack_from("!I", body)
            packets.append(ReceiverReport(ssrc, _report_blocks(body, 4, count)))
        else:
            ssrc_field = struct.unpack_from("!I", body)[0] if len(body) >= 4 else None
            packets.append(OtherRtcp(ptype, ssrc_field, bytes(body)))
        offset = end
    return tuple(packets)


def _rtcp_header(ptype: int, count: int, body_len: int) -> bytes:
    if body_len % 4:
        raise PacketError("RTCP body must be a multiple of 4 bytes")
    return struct.pack("!BBH", RTP_VERSION << 6 | count, ptype, body_len // 4)


def _blocks_bytes(blocks: tuple[ReportBlock, ...]) -> bytes:
    return b"".join(
        _REPORT_BLOCK.pack(
            b.ssrc,
            (b.fraction_lost & 0xFF) << 24 | (b.cumulative_lost & 0xFFFFFF),
            b.highest_sequence,
            b.jitter,
            b.last_sr,
            b.delay_since_last_sr,
        )
        for b in blocks
    )


def build_sender_report(sr: SenderReport) -> bytes:
    body = struct.pack(
        "!IIIIII",
        sr.ssrc,
        sr.ntp_timestamp >> 32,
        sr.ntp_timestamp & 0xFFFFFFFF,
        sr.rtp_timestamp & 0xFFFFFFFF,
        sr.packet_count & 0xFFFFFFFF,
        sr.octet_count & 0xFFFFFFFF,
    ) + _blocks_bytes(sr.reports)
    return _rtcp_header(RTCP_SR, len(sr.reports), len(body)) + body


def build_receiver_report(rr: ReceiverReport) -> bytes:
    body = struct.pack("!I", rr.ssrc) + _blocks_bytes(rr.reports)
    return _rtcp_header(RTCP_RR, len(rr.reports), len(body)) + body


def build_sdes_cname(ssrc: int, cname: str) -> bytes:
    """An SDES packet with one CNAME item; RFC 3550 wants one in every compound packet."""
    text = cname.encode()[:255]
    chunk = struct.pack("!IBB", ssrc, 1, len(text)) + text + b"\x00"
    chunk += bytes(-len(chunk) % 4)
    return _rtcp_header(RTCP_SDES, 1, len(chunk)) + chunk


def ntp_timestamp(unix_seconds: float) -> int:
    """A 64-bit NTP timestamp for a Unix time."""
    whole = int(unix_seconds)
    fraction = int((unix_seconds - whole) * (1 << 32)) & 0xFFFFFFFF
    return (whole + NTP_UNIX_OFFSET) << 32 | fraction
