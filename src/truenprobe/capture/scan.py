"""One pass over a capture, collecting facts: TCP connections, UDP flows, joins, ICMP errors.

The pass knows the plan only as sets of ports and the camera's addresses, so it can
decide cheaply which packets to keep facts about; turning facts into Observations
(who is the camera, which side the capture was taken on) happens afterwards, in
``observe``. Memory is bounded: flows are aggregated, and beyond ``MAX_FLOWS``
only flows touching the camera, a planned port or a multicast group are tracked.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from truenprobe.capture.layers import (
    PROTO_ICMP,
    PROTO_ICMPV6,
    PROTO_IGMP,
    PROTO_TCP,
    PROTO_UDP,
    SUPPORTED_LINKS,
    IpPacket,
    ip_of_frame,
    is_multicast,
)
from truenprobe.capture.media import MediaStats
from truenprobe.capture.pcapfile import CaptureReader, ReadStats
from truenprobe.capture.tcp import GREETING_BYTES, Connection, Reassembler, StreamSink

MAX_FLOWS = 20_000  # per kind (TCP connections, UDP flows) before only relevant ones are kept

_TCP = struct.Struct("!HHIIBB")
_UDP = struct.Struct("!HHH")

UdpKey = tuple[bytes, int, bytes, int]  # source, source port, destination, destination port
TcpKey = tuple[bytes, int, bytes, int]  # client, client port, server, server port
StreamFactory = Callable[[Connection], tuple[StreamSink, StreamSink] | None]


@dataclass(frozen=True)
class Membership:
    """An IGMP or MLD report (or leave) seen in the capture."""

    at: float
    group: bytes
    source: bytes
    join: bool  # False: a leave / done / change to include nothing
    protocol: str  # "IGMPv2", "IGMPv3", "MLDv1", ...


@dataclass
class IcmpError:
    """ICMP errors about one packet flow (by the quoted header), aggregated."""

    first: float
    text: str  # "port unreachable", "host unreachable", ...
    reporter: bytes  # who sent the ICMP error
    count: int = 1


IcmpKey = tuple[int, bytes, int, bytes, int]  # proto, src, sport, dst, dport of the quoted packet


@dataclass
class Facts:
    read: ReadStats
    first: float | None = None  # timestamp of the first packet
    last: float | None = None
    ip_packets: int = 0
    other_packets: int = 0  # not IP (ARP, LLDP, ...), or an unsupported link type
    fragments: int = 0  # later IP fragments, which carry no transport header
    connections: dict[TcpKey, Connection] = field(default_factory=dict)
    udp: dict[UdpKey, MediaStats] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    icmp: dict[IcmpKey, IcmpError] = field(default_factory=dict)
    dropped_flows: int = 0  # flows not tracked because of MAX_FLOWS
    ipv6: bool = False

    @property
    def duration(self) -> float:
        if self.first is None or self.last is None:
            return 0.0
        return self.last - self.first

    def unsupported_links(self) -> list[int]:
        return sorted(link for link in self.read.link_types if link not in SUPPORTED_LINKS)


class Scanner:
    """Feeds every packet of a reader into the fact tables."""

    def __init__(
        self,
        *,
        camera: Iterable[bytes],
        tcp_ports: Iterable[int],
        udp_ports: Iterable[int],
        stream_factory: StreamFactory | None = None,
        text_ports: Iterable[int] = (),
    ) -> None:
        self.camera = frozenset(camera)
        self.tcp_ports = frozenset(tcp_ports)
        self.udp_ports = frozenset(udp_ports)
        self.text_ports = frozenset(text_ports)  # keep the server's first line (HTTP, ...)
        self.stream_factory = stream_factory

    def scan(self, reader: CaptureReader) -> Facts:
        facts = Facts(reader.stats)
        udp = facts.udp
        camera = self.camera
        udp_ports = self.udp_ports
        last_ts = 0.0
        for ts, link, buf, start, end, _wire in reader.packets():
            if ts != ts:  # a pcapng simple packet block has no time: keep the previous one
                ts = last_ts
            last_ts = ts
            if facts.first is None:
                facts.first = ts
            ip = ip_of_frame(link, buf, start, end)
            if ip is None:
                facts.other_packets += 1
                continue
            facts.ip_packets += 1
            version, src, dst, proto, ttl, pos, ip_end, fragment, _declared = ip
            if fragment == 2:
                facts.fragments += 1
                continue
            if proto == PROTO_UDP:
                if pos + 8 > ip_end:
                    continue
                sport, dport, length = _UDP.unpack_from(buf, pos)
                key = (src, sport, dst, dport)
                stats = udp.get(key)
                if stats is None:
                    if len(udp) >= MAX_FLOWS and not (
                        src in camera or dst in camera or dport in udp_ports or is_multicast(dst)
                    ):
                        facts.dropped_flows += 1
                        continue
                    stats = udp[key] = MediaStats()
                stats.add(ts, buf, pos + 8, ip_end, length - 8, ttl)
            elif proto == PROTO_TCP:
                self._tcp(facts, ts, buf, ip)
            elif proto == PROTO_IGMP:
                _igmp(facts, ts, buf, src, pos, ip_end)
            elif proto in (PROTO_ICMP, PROTO_ICMPV6):
                _icmp(facts, ts, buf, version, src, pos, ip_end)
            if version == 6:
                facts.ipv6 = True
        facts.last = last_ts if facts.first is not None else None
        for conn in facts.connections.values():
            for stream in (conn.client_stream, conn.server_stream):
                if stream is not None:
                    stream.finish(conn.last)
        return facts

    def _tcp(self, facts: Facts, ts: float, buf: bytes, ip: IpPacket) -> None:
        _v, src, dst, _p, ttl, pos, ip_end, _f, declared = ip
        if pos + 20 > ip_end:
            return
        sport, dport, seq, _ack, offset, flags = _TCP.unpack_from(buf, pos)
        connections = facts.connections
        conn = connections.get((src, sport, dst, dport))
        from_client = True
        if conn is None:
            conn = connections.get((dst, dport, src, sport))
            from_client = False
        if conn is None:
            conn = self._new_connection(facts, ts, src, sport, dst, dport, flags)
            if conn is None:
                return
            from_client = conn.client == src and conn.client_port == sport
        data_start = min(pos + (offset >> 4) * 4, ip_end)
        wire_length = max(declared - data_start, 0)
        if from_client:
            if not conn.from_client(ts, flags, seq, ttl):
                return  # a second copy of a SYN
            if wire_length:
                conn.client_bytes += wire_length
                if conn.synack_time is not None or conn.midstream:
                    conn.established = True
                if conn.client_stream is not None:
                    conn.client_stream.segment(seq, buf[data_start:ip_end], wire_length, ts)
        else:
            conn.from_server(ts, flags, seq, ttl)
            if wire_length:
                if not conn.server_bytes and conn.server_port in self.text_ports:
                    conn.greeting = buf[data_start : min(ip_end, data_start + GREETING_BYTES)]
                conn.server_bytes += wire_length
                conn.established = True
                if conn.server_stream is not None:
                    conn.server_stream.segment(seq, buf[data_start:ip_end], wire_length, ts)

    def _new_connection(
        self,
        facts: Facts,
        ts: float,
        src: bytes,
        sport: int,
        dst: bytes,
        dport: int,
        flags: int,
    ) -> Connection | None:
        syn = flags & 0x12 == 0x02
        synack = flags & 0x12 == 0x12
        camera, ports = self.camera, self.tcp_ports
        if syn:
            client, cport, server, sport_ = src, sport, dst, dport
        elif synack:
            client, cport, server, sport_ = dst, dport, src, sport
        elif dport in ports or (dst in camera and src not in camera):
            client, cport, server, sport_ = src, sport, dst, dport
        elif sport in ports or src in camera:
            client, cport, server, sport_ = dst, dport, src, sport
        elif dport < sport:
            client, cport, server, sport_ = src, sport, dst, dport
        else:
            client, cport, server, sport_ = dst, dport, src, sport
        relevant = sport_ in ports or server in camera or client in camera
        if not relevant and len(facts.connections) >= MAX_FLOWS:
            facts.dropped_flows += 1
            return None
        conn = Connection(client, cport, server, sport_, ts)
        conn.midstream = not syn
        if relevant and self.stream_factory is not None:
            sinks = self.stream_factory(conn)
            if sinks is not None:
                conn.client_stream = Reassembler(sinks[0])
                conn.server_stream = Reassembler(sinks[1])
        facts.connections[(client, cport, server, sport_)] = conn
        return conn


# --- IGMP / MLD ------------------------------------------------------------------------

_IGMP_JOIN_V3 = (2, 4)  # MODE_IS_EXCLUDE, CHANGE_TO_EXCLUDE: any-source membership
_IGMP_SOURCES_V3 = (1, 5)  # MODE_IS_INCLUDE, ALLOW_NEW_SOURCES: joins if sources are listed


def _igmp(facts: Facts, ts: float, buf: bytes, source: bytes, pos: int, end: int) -> None:
    if pos + 8 > end:
        return
    kind = buf[pos]
    if kind in (0x12, 0x16):
        facts.memberships.append(
            Membership(
                ts, buf[pos + 4 : pos + 8], source, True, "IGMPv1" if kind == 0x12 else "IGMPv2"
            )
        )
    elif kind == 0x17:
        facts.memberships.append(Membership(ts, buf[pos + 4 : pos + 8], source, False, "IGMPv2"))
    elif kind == 0x22:
        _group_records(
            facts,
            ts,
            buf,
            pos + 8,
            end,
            struct.unpack_from("!H", buf, pos + 6)[0],
            4,
            source,
            "IGMPv3",
        )


def _group_records(
    facts: Facts,
    ts: float,
    buf: bytes,
    pos: int,
    end: int,
    count: int,
    size: int,
    source: bytes,
    protocol: str,
) -> None:
    """IGMPv3 / MLDv2 group records: type, aux words, source count, group, sources."""
    for _ in range(count):
        if pos + 4 + size > end:
            return
        rtype, aux, nsrc = struct.unpack_from("!BBH", buf, pos)
        group = buf[pos + 4 : pos + 4 + size]
        join = rtype in _IGMP_JOIN_V3 or (rtype in _IGMP_SOURCES_V3 and nsrc > 0)
        leave = rtype == 3 and nsrc == 0  # CHANGE_TO_INCLUDE with no sources
        if join or leave:
            facts.memberships.append(Membership(ts, group, source, join, protocol))
        pos += 4 + size + nsrc * size + aux * 4


# --- ICMP errors -----------------------------------------------------------------------

_ICMP4_UNREACHABLE = {
    0: "network unreachable",
    1: "host unreachable",
    2: "protocol unreachable",
    3: "port unreachable",
    9: "network administratively prohibited",
    10: "host administratively prohibited",
    13: "communication administratively prohibited",
}
_ICMP6_UNREACHABLE = {
    0: "no route to destination",
    1: "communication administratively prohibited",
    3: "address unreachable",
    4: "port unreachable",
    5: "source address failed policy",
    6: "reject route to destination",
}


def _icmp(
    facts: Facts, ts: float, buf: bytes, version: int, source: bytes, pos: int, end: int
) -> None:
    if pos + 8 > end:
        return
    kind, code = buf[pos], buf[pos + 1]
    if version == 4:
        if kind == 3:
            text = _ICMP4_UNREACHABLE.get(code, f"destination unreachable (code {code})")
        elif kind == 11:
            text = "time exceeded (TTL ran out: a routing loop?)"
        else:
            return
        inner = pos + 8
        if inner + 20 > end or buf[inner] >> 4 != 4:
            return
        header = (buf[inner] & 0x0F) * 4
        proto = buf[inner + 9]
        src, dst = buf[inner + 12 : inner + 16], buf[inner + 16 : inner + 20]
        l4 = inner + header
    else:
        if kind == 1:
            text = _ICMP6_UNREACHABLE.get(code, f"destination unreachable (code {code})")
        elif kind == 3:
            text = "time exceeded (hop limit ran out: a routing loop?)"
        elif kind in (131, 143, 132):
            _mld(facts, ts, buf, source, pos, end, kind)
            return
        else:
            return
        inner = pos + 8
        if inner + 40 > end:
            return
        proto = buf[inner + 6]
        src, dst = buf[inner + 8 : inner + 24], buf[inner + 24 : inner + 40]
        l4 = inner + 40
    if proto not in (PROTO_TCP, PROTO_UDP) or l4 + 4 > end:
        return
    sport, dport = struct.unpack_from("!HH", buf, l4)
    key = (proto, src, sport, dst, dport)
    known = facts.icmp.get(key)
    if known is None:
        facts.icmp[key] = IcmpError(ts, text, source)
    else:
        known.count += 1


def _mld(facts: Facts, ts: float, buf: bytes, source: bytes, pos: int, end: int, kind: int) -> None:
    if kind in (131, 132):
        if pos + 24 > end:
            return
        facts.memberships.append(
            Membership(ts, buf[pos + 8 : pos + 24], source, kind == 131, "MLDv1")
        )
    else:
        (count,) = struct.unpack_from("!H", buf, pos + 6)
        _group_records(facts, ts, buf, pos + 8, end, count, 16, source, "MLDv2")


def relative_ms(facts: Facts, ts: float | None) -> float | None:
    if ts is None or facts.first is None or math.isnan(ts):
        return None
    return round((ts - facts.first) * 1000.0, 3)
