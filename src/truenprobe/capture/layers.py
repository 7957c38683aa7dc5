"""Find the IP packet inside a captured frame, and the transport header inside that.

Only what the analyzer needs is unpacked, in place, with ``struct``: link layers a
support engineer's capture comes in (Ethernet with any number of VLAN tags, Linux
cooked v1 and v2 from ``tcpdump -i any``, raw IP, BSD loopback), IPv4 and IPv6 with
their extension headers. Addresses stay as packed bytes until a report needs text.
"""

from __future__ import annotations

import socket
import struct

# Link types (https://www.tcpdump.org/linktypes.html)
LINK_NULL = 0  # BSD loopback, address family in host byte order
LINK_ETHERNET = 1
LINK_RAW_OLD = (12, 14)  # DLT_RAW on some platforms
LINK_RAW = 101
LINK_LOOP = 108  # OpenBSD loopback, address family in network byte order
LINK_SLL = 113
LINK_IPV4 = 228
LINK_IPV6 = 229
LINK_SLL2 = 276
SUPPORTED_LINKS = {
    LINK_NULL: "BSD loopback",
    LINK_ETHERNET: "Ethernet",
    12: "raw IP",
    14: "raw IP",
    LINK_RAW: "raw IP",
    LINK_LOOP: "loopback",
    LINK_SLL: "Linux cooked",
    LINK_IPV4: "raw IPv4",
    LINK_IPV6: "raw IPv6",
    LINK_SLL2: "Linux cooked v2",
}

ETH_IPV4 = 0x0800
ETH_IPV6 = 0x86DD
VLAN_TAGS = (0x8100, 0x88A8, 0x9100, 0x9200)

# Linux cooked capture packet types
SLL_OUTGOING = 4  # sent by the host the capture ran on
ARPHRD_LOOPBACK = 772

PROTO_ICMP = 1
PROTO_IGMP = 2
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58
_IPV6_EXTENSIONS = (0, 43, 60, 135, 139, 140)  # hop-by-hop, routing, dest options, ...
_IPV6_FRAGMENT = 44

_U16 = struct.Struct("!H")
_IPV4 = struct.Struct("!BxH2xHBB2x4s4s")  # version/IHL, length, fragment, TTL, proto, addresses


# An IP packet found in a frame, as a plain tuple (the hot loop builds one per packet and
# a NamedTuple costs ten times as much):
#   (version, src, dst, proto, ttl, payload, end, fragment, declared_end)
# src/dst: packed addresses (4 or 16 bytes); ttl: TTL or hop limit; payload: offset of the
# transport header; end: end of the IP packet within what was captured; fragment: 0 whole,
# 1 first fragment, 2 a later fragment; declared_end: where the packet ends by its length
# field (beyond ``end`` when the capture's snap length cut it).
IpPacket = tuple[int, bytes, bytes, int, int, int, int, int, int]


TCP_FIN = 0x01
TCP_SYN = 0x02
TCP_RST = 0x04
TCP_PSH = 0x08
TCP_ACK = 0x10


def ip_of_frame(link: int, buf: bytes, start: int, end: int) -> IpPacket | None:
    """The IP packet in a frame of this link type; None for anything else (ARP, LLC, ...)."""
    if link == LINK_ETHERNET:
        pos = start + 12
        if pos + 2 > end:
            return None
        (ethertype,) = _U16.unpack_from(buf, pos)
        pos += 2
        while ethertype in VLAN_TAGS:
            if pos + 4 > end:
                return None
            (ethertype,) = _U16.unpack_from(buf, pos + 2)
            pos += 4
    elif link == LINK_SLL2:
        if start + 20 > end:
            return None
        (ethertype,) = _U16.unpack_from(buf, start)
        packet_type = buf[start + 10]
        if packet_type == SLL_OUTGOING:
            (hatype,) = _U16.unpack_from(buf, start + 8)
            if hatype == ARPHRD_LOOPBACK:
                return None  # "any" sees loopback twice: keep the incoming copy
        pos = start + 20
        while ethertype in VLAN_TAGS and pos + 4 <= end:
            (ethertype,) = _U16.unpack_from(buf, pos + 2)
            pos += 4
    elif link == LINK_SLL:
        if start + 16 > end:
            return None
        packet_type, hatype = struct.unpack_from("!HH", buf, start)
        if packet_type == SLL_OUTGOING and hatype == ARPHRD_LOOPBACK:
            return None
        (ethertype,) = _U16.unpack_from(buf, start + 14)
        pos = start + 16
        while ethertype in VLAN_TAGS and pos + 4 <= end:
            (ethertype,) = _U16.unpack_from(buf, pos + 2)
            pos += 4
    elif link in (LINK_RAW, LINK_IPV4, LINK_IPV6) or link in LINK_RAW_OLD:
        pos = start
        ethertype = ETH_IPV6 if start < end and buf[start] >> 4 == 6 else ETH_IPV4
    elif link in (LINK_NULL, LINK_LOOP):
        if start + 4 > end:
            return None
        family = buf[start : start + 4]
        pos = start + 4
        if family in (b"\x02\x00\x00\x00", b"\x00\x00\x00\x02"):
            ethertype = ETH_IPV4
        elif family[0] in (24, 28, 30) or family[3] in (24, 28, 30):
            ethertype = ETH_IPV6
        else:
            return None
    else:
        return None

    if ethertype == ETH_IPV4:
        return _ipv4(buf, pos, end)
    if ethertype == ETH_IPV6:
        return _ipv6(buf, pos, end)
    return None


def _ipv4(buf: bytes, pos: int, end: int) -> IpPacket | None:
    if pos + 20 > end:
        return None
    first, total, frag, ttl, proto, src, dst = _IPV4.unpack_from(buf, pos)
    if first >> 4 != 4 or first & 0x0F < 5:
        return None
    header = (first & 0x0F) * 4
    # A host's own outgoing packets may show length 0 when the NIC segments them (TSO).
    declared = pos + total if total >= header else end
    offset = frag & 0x1FFF
    fragment = 2 if offset else (1 if frag & 0x2000 else 0)
    return (
        4,
        src,
        dst,
        proto,
        ttl,
        pos + header,
        end if end < declared else declared,
        fragment,
        declared,
    )


def _ipv6(buf: bytes, pos: int, end: int) -> IpPacket | None:
    if pos + 40 > end or buf[pos] >> 4 != 6:
        return None
    (length,) = _U16.unpack_from(buf, pos + 4)
    declared = pos + 40 + length if length else end
    ip_end = min(end, declared)
    proto = buf[pos + 6]
    hop_limit = buf[pos + 7]
    src = buf[pos + 8 : pos + 24]
    dst = buf[pos + 24 : pos + 40]
    cursor = pos + 40
    fragment = 0
    while True:
        if proto in _IPV6_EXTENSIONS:
            if cursor + 2 > ip_end:
                return None
            proto, words = buf[cursor], buf[cursor + 1]
            cursor += 8 + 8 * words
        elif proto == _IPV6_FRAGMENT:
            if cursor + 8 > ip_end:
                return None
            (offset_flags,) = _U16.unpack_from(buf, cursor + 2)
            fragment = 2 if offset_flags & 0xFFF8 else (1 if offset_flags & 1 else 0)
            proto = buf[cursor]
            cursor += 8
        elif proto == 51:  # authentication header: length in 4-byte words
            if cursor + 2 > ip_end:
                return None
            proto, words = buf[cursor], buf[cursor + 1]
            cursor += 4 * (words + 2)
        else:
            break
    if cursor > ip_end:
        return None
    return (6, src, dst, proto, hop_limit, cursor, ip_end, fragment, declared)


def address_text(packed: bytes) -> str:
    if len(packed) == 4:
        return socket.inet_ntop(socket.AF_INET, packed)
    return socket.inet_ntop(socket.AF_INET6, packed)


def pack_address(text: str) -> bytes:
    """Packed form of an IPv4 or IPv6 address; ValueError if it is neither."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            return socket.inet_pton(family, text.strip().strip("[]"))
        except OSError:
            continue
    raise ValueError(f"{text!r} is not an IP address")


def is_multicast(packed: bytes) -> bool:
    if len(packed) == 4:
        return 224 <= packed[0] <= 239
    return packed[0] == 0xFF
