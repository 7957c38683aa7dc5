"""Is a datagram RTP, RTCP or neither? Header checks in place, no payload copies.

The rules are those of ``truenprobe.rtp.packet`` (version 2, a CSRC list, extension
and padding that fit, RTCP lengths that add up) applied without building packet
objects, because a capture can hold millions of media datagrams. A single datagram
that passes proves little (a quarter of random bytes start with version 2), so a
flow is judged on all its datagrams by ``MediaStats``: mostly valid, one dominant
SSRC, sequence numbers that advance.
"""

from __future__ import annotations

import struct

from truenprobe.rtp.packet import RTCP_RR, RTCP_SR

_RTP = struct.Struct("!BBHII")
_RTCP_HEAD = struct.Struct("!BBH")
_U16 = struct.Struct("!H")
_U32 = struct.Struct("!I")

KIND_RTP = "rtp"
KIND_RTCP = "rtcp"
KIND_OTHER = "other"

MAX_SSRCS = 16  # per flow; more means noise, not a media session
_REORDER_WINDOW = 3000  # sequence steps treated as loss/reordering, not a restart


def rtcp_summary(buf: bytes, pos: int, end: int, wire_end: int) -> tuple[int, int, int] | None:
    """(sender SSRC, sender reports, receiver reports) of a valid compound RTCP packet."""
    if end - pos < 8:
        return None
    first, ptype, _words = _RTCP_HEAD.unpack_from(buf, pos)
    if first >> 6 != 2 or not 192 <= ptype <= 223:
        return None
    (ssrc,) = _U32.unpack_from(buf, pos + 4)
    srs = rrs = 0
    cursor = pos
    while cursor < end:
        if cursor + 4 > end:
            # snaplen cut the datagram: what was captured agrees so far
            return (ssrc, srs, rrs) if end < wire_end else None
        first, ptype, words = _RTCP_HEAD.unpack_from(buf, cursor)
        if first >> 6 != 2 or not 192 <= ptype <= 223:
            return None
        if ptype == RTCP_SR:
            srs += 1
        elif ptype == RTCP_RR:
            rrs += 1
        cursor += 4 * (words + 1)
    if cursor != wire_end and end == wire_end:
        return None  # lengths must add up to the datagram exactly
    return ssrc, srs, rrs


def rtp_header(buf: bytes, pos: int, end: int, wire_end: int) -> tuple[int, int, int] | None:
    """(SSRC, payload type, sequence) of a valid RTP header; None otherwise."""
    if end - pos < 12:
        return None
    first, second, seq, _ts, ssrc = _RTP.unpack_from(buf, pos)
    if first >> 6 != 2 or 192 <= second <= 223:
        return None
    header = 12 + 4 * (first & 0x0F)
    if pos + header > wire_end:
        return None
    if first & 0x10:
        if pos + header + 4 <= end:
            (words,) = _U16.unpack_from(buf, pos + header + 2)
            header += 4 + 4 * words
            if pos + header > wire_end:
                return None
        elif end == wire_end:
            return None
    if first & 0x20 and end == wire_end:
        padding = buf[end - 1]
        if padding == 0 or pos + header + padding > end:
            return None
    return ssrc, second & 0x7F, seq


class MediaStats:
    """What the datagrams of one flow (one source to one destination port) looked like."""

    __slots__ = (
        "bytes",
        "first",
        "last",
        "max_ttl",
        "other",
        "packets",
        "receiver_reports",
        "rtcp",
        "rtcp_ssrcs",
        "rtp",
        "sender_reports",
        "ssrcs",
    )

    def __init__(self) -> None:
        self.packets = 0
        self.bytes = 0
        self.first = 0.0
        self.last = 0.0
        self.rtp = 0
        self.rtcp = 0
        self.other = 0
        self.sender_reports = 0
        self.receiver_reports = 0
        self.max_ttl = 0
        # SSRC -> [packets, payload type, highest sequence (extended past wraps), first
        # sequence, packets that advanced the sequence by a plausible step]
        self.ssrcs: dict[int, list[int]] = {}
        self.rtcp_ssrcs: dict[int, int] = {}

    def add(self, ts: float, buf: bytes, pos: int, end: int, length: int, ttl: int) -> None:
        """One datagram; ``length`` is its payload length on the wire (UDP length - 8)."""
        if self.packets == 0:
            self.first = ts
        self.packets += 1
        self.bytes += length
        self.last = ts
        if ttl > self.max_ttl:
            self.max_ttl = ttl
        wire_end = pos + length
        if end > wire_end:
            end = wire_end
        if end - pos >= 2 and 192 <= buf[pos + 1] <= 223:
            summary = rtcp_summary(buf, pos, end, wire_end)
            if summary is None:
                self.other += 1
                return
            ssrc, srs, rrs = summary
            self.rtcp += 1
            self.sender_reports += srs
            self.receiver_reports += rrs
            if ssrc in self.rtcp_ssrcs or len(self.rtcp_ssrcs) < MAX_SSRCS:
                self.rtcp_ssrcs[ssrc] = self.rtcp_ssrcs.get(ssrc, 0) + 1
            return
        if end - pos >= 12 and buf[pos] == 0x80:
            # the usual header (version 2; no padding, extension or CSRCs) is valid as is
            _first, second, seq, _ts, ssrc = _RTP.unpack_from(buf, pos)
            payload_type = second & 0x7F
        else:
            header = rtp_header(buf, pos, end, wire_end)
            if header is None:
                self.other += 1
                return
            ssrc, payload_type, seq = header
        self.rtp += 1
        state = self.ssrcs.get(ssrc)
        if state is None:
            if len(self.ssrcs) < MAX_SSRCS:
                self.ssrcs[ssrc] = [1, payload_type, seq, seq, 0]
            return
        state[0] += 1
        state[1] = payload_type
        step = (seq - state[2]) & 0xFFFF
        if 0 < step < 0x8000:  # ahead of the highest so far (late and duplicate ones are not)
            state[2] += step
            if step < _REORDER_WINDOW:
                state[4] += 1

    # --- the verdict on the whole flow ------------------------------------------------

    @property
    def gaps(self) -> int:
        """Packets missing from the sequences (RFC 3550: expected minus received)."""
        lost = 0
        for count, _pt, highest, first, _advanced in self.ssrcs.values():
            lost += max(highest - first + 1 - count, 0)
        return lost

    def dominant_ssrc(self) -> tuple[int, list[int]] | None:
        if not self.ssrcs:
            return None
        ssrc = max(self.ssrcs, key=lambda s: self.ssrcs[s][0])
        return ssrc, self.ssrcs[ssrc]

    def kind(self) -> str:
        """rtp, rtcp or other, for the flow as a whole."""
        if self.packets == 0:
            return KIND_OTHER
        if self.rtcp and self.rtcp >= 0.9 * self.packets:
            return KIND_RTCP
        if self.rtp + self.rtcp >= 0.9 * self.packets and self.rtp:
            dominant = self.dominant_ssrc()
            if dominant is None:
                return KIND_OTHER
            count, _pt, _highest, _first, advanced = dominant[1]
            if count < 0.5 * self.rtp:
                return KIND_OTHER  # a new SSRC every few packets is not a stream
            # With a handful of packets there is no sequence to judge; random bytes advance
            # by a plausible step one time in twenty, a stream nearly every time.
            if count < 4 or advanced >= 0.5 * (count - 1):
                return KIND_RTP
        return KIND_OTHER

    def describe_other(self) -> str:
        """Why a flow is not media, for a note."""
        parts = []
        if self.rtp:
            parts.append(f"{self.rtp} of {self.packets} datagrams look like RTP")
        if self.rtcp:
            parts.append(f"{self.rtcp} like RTCP")
        if self.rtp and self.rtp + self.rtcp >= 0.9 * self.packets:
            dominant = self.dominant_ssrc()
            if dominant is not None and dominant[1][0] < 0.5 * self.rtp:
                parts.append(f"but with {len(self.ssrcs)}+ different SSRCs, not one stream")
            else:
                parts.append("but their sequence numbers do not advance as a stream's do")
        return ", ".join(parts) if parts else "not RTP or RTCP"
