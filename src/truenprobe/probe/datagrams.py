"""What arrived: classify each datagram and tally them into Observations records.

Pure: the listeners feed ``add()`` with bytes and times; ``udp_arrivals()`` turns the
tallies into ``UdpArrival`` records once the session knows which SSRCs it was promised.
Deciding whether a packet *belongs* happens at that moment, not on arrival, because
the first RTP can beat the SETUP answer that announces its SSRC.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from truenprobe.observations import InterleavedArrival, UdpArrival
from truenprobe.plan.model import Media, PortRange
from truenprobe.probe.token import parse_token
from truenprobe.rtp.packet import PacketError, SenderReport, looks_like_rtcp, parse_rtcp, parse_rtp


@dataclass(frozen=True)
class Datagram:
    """One datagram (or interleaved frame), classified."""

    kind: str  # "rtp", "rtcp", "token" or "other"
    ssrc: int | None = None
    payload_type: int | None = None
    sequence: int | None = None
    sender_reports: int = 0
    token: str | None = None
    token_ports: PortRange | None = None  # the range a `send` announced
    note: str | None = None


def classify(data: bytes) -> Datagram:
    token = parse_token(data)
    if token is not None:
        return Datagram("token", token=token.token, token_ports=token.ports)
    if looks_like_rtcp(data):
        try:
            parts = parse_rtcp(data)
        except PacketError as exc:
            return Datagram("other", note=f"malformed RTCP: {exc}")
        srs = [p for p in parts if isinstance(p, SenderReport)]
        return Datagram("rtcp", ssrc=parts[0].ssrc, sender_reports=len(srs))
    try:
        rtp = parse_rtp(data)
    except PacketError as exc:
        return Datagram("other", note=f"not RTP/RTCP ({len(data)} bytes): {exc}")
    return Datagram("rtp", ssrc=rtp.ssrc, payload_type=rtp.payload_type, sequence=rtp.sequence)


@dataclass
class _SequenceGaps:
    """Counts missing RTP sequence numbers, across the 16-bit wrap."""

    first: int | None = None
    highest: int = 0  # extended (wrap-counted) highest sequence seen
    seen: set[int] = field(default_factory=set)

    def add(self, sequence: int) -> None:
        if self.first is None:
            self.first = self.highest = sequence
            self.seen.add(sequence)
            return
        # Pick the extended value nearest to the highest so far.
        base = self.highest - (self.highest & 0xFFFF)
        candidates = (base - 0x10000 + sequence, base + sequence, base + 0x10000 + sequence)
        extended = min(candidates, key=lambda c: abs(c - self.highest))
        self.highest = max(self.highest, extended)
        self.first = min(self.first, extended)
        if len(self.seen) < 100_000:  # bound memory under a flood
            self.seen.add(extended)

    @property
    def gaps(self) -> int:
        if self.first is None:
            return 0
        return max(0, self.highest - self.first + 1 - len(self.seen))


@dataclass
class _Tally:
    packets: int = 0
    bytes: int = 0
    first_ms: float | None = None
    last_ms: float | None = None
    payload_type: int | None = None
    sender_reports: int = 0
    token: str | None = None
    note: str | None = None
    sequence: _SequenceGaps = field(default_factory=_SequenceGaps)

    def add(self, at_ms: float, size: int, d: Datagram) -> None:
        self.packets += 1
        self.bytes += size
        if self.first_ms is None:
            self.first_ms = at_ms
        self.last_ms = at_ms
        if self.payload_type is None:
            self.payload_type = d.payload_type
        self.sender_reports += d.sender_reports
        self.token = self.token or d.token
        self.note = self.note or d.note
        if d.sequence is not None:
            self.sequence.add(d.sequence)

    def counts(self) -> dict[str, Any]:
        """The fields UdpArrival and InterleavedArrival share."""
        return {
            "packets": self.packets,
            "bytes": self.bytes,
            "first_ms": _round(self.first_ms),
            "last_ms": _round(self.last_ms),
            "payload_type": self.payload_type,
            "sequence_gaps": self.sequence.gaps,
            "sender_reports": self.sender_reports,
        }


MAX_TALLIES = 4096

# (local port, source address, source port, kind, ssrc, multicast group)
UdpKey = tuple[int, str, int, str, int | None, str | None]


@dataclass
class Judgement:
    belongs: bool
    note: str | None = None


@dataclass
class Expectations:
    """What the session was promised, to judge which arrivals belong to it.

    ``camera`` is the camera's address as the client reaches it. ``ssrcs`` maps a local
    port to the SSRCs announced for it (SETUP's ssrc=); a port in ``learn_ssrc`` had no
    announcement, so the SSRC of the RTP the camera sent there is taken as the session's
    (and accepted on ``rtcp_of[port]`` too). ``multicast_ports`` accept any source: a
    routed multicast packet keeps the camera's own (private) address.
    """

    camera: str
    ssrcs: dict[int, set[int]] = field(default_factory=dict)
    learn_ssrc: set[int] = field(default_factory=set)
    rtcp_of: dict[int, int] = field(default_factory=dict)  # RTP port -> its RTCP port
    multicast_ports: set[int] = field(default_factory=set)
    token: str | None = None
    session_less: bool = False  # listen-only: no session, so no SSRC to check

    def from_camera(self, source: str) -> bool:
        """A camera on this host's loopback may send from any loopback address (a server
        bound to 0.0.0.0 sends from 127.0.0.1 whatever address it listens on)."""
        return source == self.camera or (_loopback(source) and _loopback(self.camera))

    def announce(self, port: int, ssrc: int | None, rtcp_port: int | None = None) -> None:
        if ssrc is None:
            self.learn_ssrc.add(port)
        else:
            self.ssrcs.setdefault(port, set()).add(ssrc)
        if rtcp_port is not None:
            self.rtcp_of[port] = rtcp_port
            if ssrc is not None:
                self.ssrcs.setdefault(rtcp_port, set()).add(ssrc)


class ArrivalBook:
    """Tallies of everything that arrived on the listeners, by port, source and SSRC."""

    def __init__(self) -> None:
        self._udp: dict[UdpKey, _Tally] = {}
        # token -> the port ranges its sender announced, and when the first one came
        self.announced: dict[str, dict[PortRange, float]] = {}

    def add(
        self,
        at_ms: float,
        port: int,
        source: str,
        source_port: int,
        data: bytes,
        group: str | None = None,
    ) -> Datagram:
        d = classify(data)
        key = (port, source, source_port, d.kind, d.ssrc, group)
        tally = self._udp.get(key)
        if tally is None:
            if len(self._udp) >= MAX_TALLIES:
                # A flood from ever-new sources: one bucket per port, not one per source.
                key = (port, "*", 0, "other", None, group)
                tally = self._udp.get(key)
                d = Datagram("other", note="one of many sources (tallies capped)")
            if tally is None:
                tally = self._udp[key] = _Tally()
        tally.add(at_ms, len(data), d)
        if d.token is not None and d.token_ports is not None:
            self.announced.setdefault(d.token, {}).setdefault(d.token_ports, at_ms)
        return d

    def keys(self) -> Iterable[UdpKey]:
        return self._udp.keys()

    def udp_arrivals(
        self, expect: Expectations, ports: tuple[int, ...] | None = None
    ) -> list[UdpArrival]:
        """The tallies as records, judged now; ``ports`` limits them to some local ports."""
        learned = self._learned_ssrcs(expect)
        items = [kv for kv in self._udp.items() if ports is None or kv[0][0] in ports]
        out = []
        for key, tally in sorted(items, key=lambda kv: kv[1].first_ms or 0.0):
            port, source, source_port, kind, ssrc, group = key
            verdict = _judge(key, tally, expect, learned)
            out.append(
                UdpArrival(
                    port=port,
                    source=source,
                    source_port=source_port,
                    kind=kind,
                    group=group,
                    ssrc=ssrc,
                    belongs=verdict.belongs,
                    **tally.counts(),
                    note=verdict.note,
                )
            )
        return out

    def _learned_ssrcs(self, expect: Expectations) -> dict[int, int]:
        """For ports without an announced SSRC: the SSRC of most RTP from the camera."""
        best: dict[int, tuple[int, int]] = {}
        for (port, source, _sport, kind, ssrc, group), tally in self._udp.items():
            if port not in expect.learn_ssrc or kind != "rtp" or ssrc is None:
                continue
            if group is None and not expect.from_camera(source):
                continue
            if tally.packets > best.get(port, (-1, 0))[0]:
                best[port] = (tally.packets, ssrc)
        learned = {port: ssrc for port, (_n, ssrc) in best.items()}
        for port, ssrc in list(learned.items()):
            rtcp = expect.rtcp_of.get(port)
            if rtcp is not None:
                learned.setdefault(rtcp, ssrc)
        return learned


def _judge(key: UdpKey, tally: _Tally, expect: Expectations, learned: dict[int, int]) -> Judgement:
    port, source, _source_port, kind, ssrc, group = key
    if kind == "token":
        if expect.token is not None and tally.token == expect.token:
            return Judgement(True)
        return Judgement(False, f"test datagram with another token ({tally.token})")
    if kind == "other":
        return Judgement(False, tally.note or "not RTP or RTCP")
    multicast = group is not None or port in expect.multicast_ports
    if not multicast and not expect.from_camera(source):
        return Judgement(False, f"from {source}, not from the camera ({expect.camera})")
    if expect.session_less:
        return Judgement(True, "no RTSP session: valid RTP/RTCP from the camera, SSRC not checked")
    announced = expect.ssrcs.get(port, set())
    if ssrc in announced:
        return Judgement(True, _source_note(source, expect, multicast))
    if learned.get(port) is not None and ssrc == learned[port]:
        return Judgement(True, "SSRC not announced in SETUP; taken from the camera's RTP")
    if not announced and port not in learned:
        return Judgement(False, "no session expected media on this port")
    shown = f"0x{ssrc:08x}" if ssrc is not None else "none"
    return Judgement(False, f"SSRC {shown} not announced by the session")


def _source_note(source: str, expect: Expectations, multicast: bool) -> str | None:
    if multicast and source != expect.camera:
        return f"multicast from {source} (the camera's own address, not {expect.camera})"
    return None


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class InterleavedBook:
    """The same tallies for RTP/RTCP inside the RTSP connection (TCP mode), by channel."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._tallies: dict[tuple[int, str, int | None], _Tally] = {}
        self._tracks: dict[int, tuple[Media | None, int]] = {}  # channel -> (media, RTP channel)
        self._ssrcs: dict[int, int] = {}  # RTP channel -> announced SSRC

    def set_up(self, media: Media | None, rtp: int, rtcp: int, ssrc: int | None) -> None:
        """A SETUP answer granted these channels for this track."""
        self._tracks[rtp] = (media, rtp)
        self._tracks[rtcp] = (media, rtp)
        if ssrc is not None:
            self._ssrcs[rtp] = ssrc

    def add(self, at_ms: float, channel: int, data: bytes) -> Datagram:
        d = classify(data)
        key = (channel, d.kind, d.ssrc)
        tally = self._tallies.get(key)
        if tally is None and len(self._tallies) >= MAX_TALLIES:
            key, d = (channel, "other", None), Datagram("other", note="tallies capped")
            tally = self._tallies.get(key)
        if tally is None:
            tally = self._tallies[key] = _Tally()
        tally.add(at_ms, len(data), d)
        return d

    def _expected_ssrc(self, rtp_channel: int) -> tuple[int | None, bool]:
        """The track's SSRC and whether it was announced (else: the most frequent RTP's)."""
        if rtp_channel in self._ssrcs:
            return self._ssrcs[rtp_channel], True
        counts = {
            ssrc: t.packets
            for (channel, kind, ssrc), t in self._tallies.items()
            if channel == rtp_channel and kind == "rtp" and ssrc is not None
        }
        return (max(counts, key=counts.__getitem__) if counts else None), False

    def arrivals(self) -> list[InterleavedArrival]:
        out = []
        for (channel, kind, ssrc), tally in sorted(
            self._tallies.items(), key=lambda kv: kv[1].first_ms or 0.0
        ):
            media, rtp_channel = self._tracks.get(channel, (None, -1))
            note: str | None
            if kind == "other":
                belongs, note = False, tally.note or "not RTP or RTCP"
            elif rtp_channel < 0:
                belongs, note = False, "channel not set up by the session"
            else:
                expected, announced = self._expected_ssrc(rtp_channel)
                belongs = ssrc is not None and ssrc == expected
                if not belongs:
                    note = "SSRC not announced by the session"
                elif not announced:
                    note = "SSRC not announced in SETUP; taken from the camera's RTP"
                else:
                    note = None
            out.append(
                InterleavedArrival(
                    port=self.port,
                    channel=channel,
                    kind=kind,
                    ssrc=ssrc,
                    belongs=belongs,
                    **tally.counts(),
                    media=media,
                    note=note,
                )
            )
        return out
