"""Write a large realistic capture quickly (struct, not scapy) for the analyze benchmarks.

A decoder's RTSP/UDP session as ``tcpdump -i any`` on the client records it (link type
LINUX_SLL2): the RTSP handshake and exchange on TCP 554, H.264-sized RTP on UDP 554 from
the camera, RTCP sender reports on 555, the client's receiver reports back, and some
unrelated traffic (DNS, an HTTPS download) the analyzer must skip.
"""

from __future__ import annotations

import argparse
import socket
import struct
from pathlib import Path

CAMERA = "203.0.113.10"
CLIENT = "192.168.0.30"
RTSP_PORT = 554
SSRC = 0x1234ABCD

_PCAP_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 276)


def _sll2(ethertype: int, outgoing: bool) -> bytes:
    # protocol, reserved, ifindex, hatype (Ethernet), packet type, address length, address
    return struct.pack("!HHIHBB8s", ethertype, 0, 2, 1, 4 if outgoing else 0, 6, b"\x02" * 6)


def _ipv4(src: str, dst: str, proto: int, payload: bytes, ttl: int, ident: int) -> bytes:
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        20 + len(payload),
        ident & 0xFFFF,
        0x4000,
        ttl,
        proto,
        0,
        socket.inet_aton(src),
        socket.inet_aton(dst),
    )
    return header + payload


def udp(src: str, sport: int, dst: str, dport: int, payload: bytes, *, ttl: int = 62) -> bytes:
    datagram = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return _sll2(0x0800, ttl == 64) + _ipv4(src, dst, 17, datagram, ttl, sport ^ dport)


def tcp(
    src: str,
    sport: int,
    dst: str,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    payload: bytes = b"",
    *,
    ttl: int = 62,
) -> bytes:
    segment = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    return _sll2(0x0800, ttl == 64) + _ipv4(src, dst, 6, segment + payload, ttl, seq)


def rtp(seq: int, ts: int, size: int) -> bytes:
    return struct.pack("!BBHII", 0x80, 96, seq & 0xFFFF, ts & 0xFFFFFFFF, SSRC) + bytes(size - 12)


def sender_report(packets: int) -> bytes:
    return struct.pack("!BBHIIIIII", 0x80, 200, 6, SSRC, 0, 0, 0, packets, packets * 1400)


def receiver_report() -> bytes:
    return struct.pack("!BBHI", 0x80, 201, 1, 0x55667788)


def rtsp_session() -> list[tuple[bool, bytes]]:
    """(from the client?, payload) of a minimal DESCRIBE/SETUP/PLAY exchange."""
    url = f"rtsp://{CAMERA}/video1"
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 203.0.113.10\r\ns=video1\r\nt=0 0\r\n"
        "m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=1\r\n"
    )
    return [
        (True, f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n".encode()),
        (
            False,
            (
                f"RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Base: {url}/\r\n"
                f"Content-Type: application/sdp\r\nContent-Length: {len(sdp)}\r\n\r\n{sdp}"
            ).encode(),
        ),
        (
            True,
            f"SETUP {url}/trackID=1 RTSP/1.0\r\nCSeq: 2\r\n"
            f"Transport: RTP/AVP;unicast;client_port=554-555\r\n\r\n".encode(),
        ),
        (
            False,
            (
                "RTSP/1.0 200 OK\r\nCSeq: 2\r\nSession: 12345678;timeout=60\r\n"
                "Transport: RTP/AVP;unicast;client_port=554-555;server_port=554-555;"
                f"ssrc={SSRC:08X}\r\n\r\n"
            ).encode(),
        ),
        (True, f"PLAY {url}/ RTSP/1.0\r\nCSeq: 3\r\nSession: 12345678\r\n\r\n".encode()),
        (False, b"RTSP/1.0 200 OK\r\nCSeq: 3\r\nSession: 12345678\r\n\r\n"),
    ]


def generate(path: Path, target_bytes: int, *, media_size: int = 1400) -> int:
    """Write about ``target_bytes`` of capture; returns the number of packets."""
    count = 0
    clock = 1_700_000_000.0
    with path.open("wb") as out:
        out.write(_PCAP_HEADER)

        def put(frame: bytes, step: float = 0.0005) -> None:
            nonlocal count, clock
            clock += step
            sec = int(clock)
            usec = int((clock - sec) * 1e6)
            out.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
            count += 1

        cport, cseq, sseq = 40000, 1000, 5000
        put(tcp(CLIENT, cport, CAMERA, RTSP_PORT, cseq, 0, 0x02, ttl=64))
        put(tcp(CAMERA, RTSP_PORT, CLIENT, cport, sseq, cseq + 1, 0x12))
        cseq += 1
        sseq += 1
        put(tcp(CLIENT, cport, CAMERA, RTSP_PORT, cseq, sseq, 0x10, ttl=64))
        for from_client, payload in rtsp_session():
            if from_client:
                put(tcp(CLIENT, cport, CAMERA, RTSP_PORT, cseq, sseq, 0x18, payload, ttl=64))
                cseq += len(payload)
            else:
                put(tcp(CAMERA, RTSP_PORT, CLIENT, cport, sseq, cseq, 0x18, payload))
                sseq += len(payload)
        seq = 0
        written = len(_PCAP_HEADER)
        frame_size = len(udp(CAMERA, RTSP_PORT, CLIENT, RTSP_PORT, rtp(0, 0, media_size))) + 16
        while written < target_bytes:
            put(udp(CAMERA, RTSP_PORT, CLIENT, RTSP_PORT, rtp(seq, seq * 3000, media_size)))
            written += frame_size
            seq += 1
            if seq % 100 == 0:
                put(udp(CAMERA, RTSP_PORT + 1, CLIENT, RTSP_PORT + 1, sender_report(seq)))
                put(udp(CLIENT, RTSP_PORT + 1, CAMERA, RTSP_PORT + 1, receiver_report(), ttl=64))
                written += 2 * 80
            if seq % 50 == 0:  # unrelated traffic: DNS and a download
                put(
                    udp(
                        CLIENT,
                        53000 + seq % 1000,
                        "192.168.0.1",
                        53,
                        b"\x12\x34" + bytes(30),
                        ttl=64,
                    )
                )
                put(tcp("198.51.100.80", 443, CLIENT, 50000, seq * 1400, 1, 0x10, bytes(1200)))
                written += 2 * 1000
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--size-mb", type=float, default=222)
    args = parser.parse_args()
    packets = generate(args.path, int(args.size_mb * 1e6))
    print(f"{args.path}: {packets} packets, {args.path.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
