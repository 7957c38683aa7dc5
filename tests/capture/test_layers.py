"""Finding the IP packet in every link type, and the transport header behind IPv6 extensions."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tests.capture import synth
from truenprobe.capture.layers import (
    address_text,
    ip_of_frame,
    is_multicast,
    pack_address,
)
from truenprobe.capture.pcapfile import CaptureReader, open_stream


def first_ip(path: Path) -> tuple:  # type: ignore[type-arg]
    stream, name = open_stream(str(path))
    with stream:
        for _ts, link, buf, start, end, _wire in CaptureReader(stream, name).packets():
            return ip_of_frame(link, buf, start, end)  # type: ignore[return-value]
    raise AssertionError("no packet")


def rtp_to_client() -> list[synth.Frame]:
    return synth.timed(
        [synth.udp(synth.CAMERA_PUBLIC, 554, synth.CLIENT_LAN, 5000, synth.rtp(1), ttl=61)]
    )


@pytest.mark.parametrize(
    "options",
    [
        {"link": "ethernet"},
        {"link": "ethernet", "vlans": [10]},
        {"link": "ethernet", "vlans": [100, 20]},  # QinQ
        {"link": "sll"},
        {"link": "sll2"},
        {"link": "raw"},
        {"link": "ethernet", "pcapng": True},
    ],
)
def test_ipv4_udp_in_every_link_type(tmp_path: Path, options: dict[str, object]) -> None:
    path = synth.write(tmp_path / "c.cap", rtp_to_client(), **options)  # type: ignore[arg-type]
    version, src, dst, proto, ttl, payload, end, fragment, declared = first_ip(path)
    assert (version, address_text(src), address_text(dst), proto, ttl) == (
        4,
        synth.CAMERA_PUBLIC,
        synth.CLIENT_LAN,
        17,
        61,
    )
    assert fragment == 0
    assert end == declared
    assert end - payload == 8 + 12 + 200


@pytest.mark.parametrize("link", ["sll", "sll2"])
def test_cooked_capture_keeps_what_the_host_sent(tmp_path: Path, link: str) -> None:
    frames = synth.timed([synth.udp(synth.CLIENT_LAN, 555, synth.CAMERA_PUBLIC, 555, b"x" * 8)])
    path = synth.write(tmp_path / "c.cap", frames, link=link, outgoing_from=synth.CLIENT_LAN)
    assert address_text(first_ip(path)[1]) == synth.CLIENT_LAN


def test_loopback_outgoing_copy_is_skipped() -> None:
    """tcpdump -i any sees a loopback packet leave and arrive: only one copy counts."""
    body = bytes(synth.udp("127.0.0.1", 1, "127.0.0.1", 2, b"x"))
    frame = struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 4, 0, bytes(8)) + body
    assert ip_of_frame(276, frame, 0, len(frame)) is None
    incoming = struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 0, 0, bytes(8)) + body
    assert ip_of_frame(276, incoming, 0, len(incoming)) is not None


def test_ipv6_with_extension_headers(tmp_path: Path) -> None:
    sc = synth.scapy()
    packet = (
        sc.IPv6(src="2001:db8::10", dst="2001:db8:1::30", hlim=60)
        / sc.IPv6ExtHdrHopByHop()
        / sc.IPv6ExtHdrDestOpt()
        / sc.UDP(sport=554, dport=5000)
        / sc.Raw(synth.rtp(1))
    )
    path = synth.write(tmp_path / "v6.pcap", [(1.0, packet)])
    version, src, dst, proto, ttl, payload, end, *_ = first_ip(path)
    assert (version, address_text(src), address_text(dst), proto, ttl) == (
        6,
        "2001:db8::10",
        "2001:db8:1::30",
        17,
        60,
    )
    assert end - payload == 8 + 12 + 200


def test_fragments(tmp_path: Path) -> None:
    sc = synth.scapy()
    big = (
        sc.IP(src=synth.CAMERA_PUBLIC, dst=synth.CLIENT_LAN)
        / sc.UDP(sport=554, dport=5000)
        / sc.Raw(synth.rtp(1, size=3000))
    )
    parts = sc.fragment(big, fragsize=1400)
    path = synth.write(tmp_path / "f.pcap", synth.timed(parts))
    stream, name = open_stream(str(path))
    with stream:
        kinds = [
            ip[7]
            for _t, link, buf, start, end, _w in CaptureReader(stream, name).packets()
            if (ip := ip_of_frame(link, buf, start, end)) is not None
        ]
    assert kinds == [1, 2, 2]


@pytest.mark.parametrize(
    ("link", "prefix"),
    [(0, struct.pack("<I", 2)), (0, struct.pack(">I", 2)), (108, struct.pack(">I", 2))],
)
def test_bsd_loopback(link: int, prefix: bytes) -> None:
    frame = prefix + bytes(synth.udp("127.0.0.1", 1, "127.0.0.2", 2, b"x"))
    ip = ip_of_frame(link, frame, 0, len(frame))
    assert ip is not None
    assert address_text(ip[2]) == "127.0.0.2"


def test_not_ip_and_short_frames() -> None:
    arp = bytes(12) + b"\x08\x06" + bytes(28)
    assert ip_of_frame(1, arp, 0, len(arp)) is None
    assert ip_of_frame(1, bytes(10), 0, 10) is None
    assert ip_of_frame(276, bytes(10), 0, 10) is None
    assert ip_of_frame(999, bytes(60), 0, 60) is None
    broken = bytes(12) + b"\x08\x00" + b"\x45" + bytes(5)
    assert ip_of_frame(1, broken, 0, len(broken)) is None


def test_tso_packet_with_zero_length_uses_what_was_captured() -> None:
    packet = bytearray(bytes(synth.tcp("192.0.2.1", 1, "192.0.2.2", 2, "PA", 1, 1, b"y" * 100)))
    packet[2:4] = b"\0\0"
    ip = ip_of_frame(101, bytes(packet), 0, len(packet))
    assert ip is not None
    assert ip[6] == len(packet)
    assert ip[8] == len(packet)


def test_addresses() -> None:
    assert pack_address("203.0.113.10") == bytes([203, 0, 113, 10])
    assert address_text(pack_address("[2001:db8::1]")) == "2001:db8::1"
    assert is_multicast(pack_address("239.1.1.1"))
    assert not is_multicast(pack_address("10.0.0.1"))
    assert is_multicast(pack_address("ff02::16"))
    with pytest.raises(ValueError, match="not an IP address"):
        pack_address("camera.example")
