"""Captures written by scapy for the analyzer's tests: every layer as a real tool writes it.

``Site`` holds the addresses of a small scene (a camera behind an IP sharer, a client
behind another) and builds the frames of its conversations; ``write`` stores them as
pcap or pcapng with any link type the analyzer reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truenprobe.rtp.packet import (
    ReceiverReport,
    RtpPacket,
    SenderReport,
    build_receiver_report,
    build_rtp,
    build_sender_report,
)

CAMERA_PUBLIC = "203.0.113.10"
CAMERA_LAN = "192.168.1.20"
CLIENT_LAN = "192.168.0.30"
CLIENT_PUBLIC = "198.51.100.7"
SSRC = 0x1234ABCD

Frame = tuple[float, Any]  # (time, scapy packet at the IP layer)


def scapy() -> Any:
    """scapy.all, imported on first use (1-2 s) and only by capture tests."""
    import scapy.all as sc

    return sc


def ip(src: str, dst: str, ttl: int = 64) -> Any:
    sc = scapy()
    if ":" in src:
        return sc.IPv6(src=src, dst=dst, hlim=ttl)
    return sc.IP(src=src, dst=dst, ttl=ttl)


def udp(src: str, sport: int, dst: str, dport: int, payload: bytes, ttl: int = 64) -> Any:
    sc = scapy()
    return ip(src, dst, ttl) / sc.UDP(sport=sport, dport=dport) / sc.Raw(payload)


def tcp(
    src: str,
    sport: int,
    dst: str,
    dport: int,
    flags: str,
    seq: int,
    ack: int = 0,
    payload: bytes = b"",
    ttl: int = 64,
) -> Any:
    sc = scapy()
    packet = ip(src, dst, ttl) / sc.TCP(sport=sport, dport=dport, flags=flags, seq=seq, ack=ack)
    return packet / sc.Raw(payload) if payload else packet


def rtp(seq: int, *, ssrc: int = SSRC, pt: int = 96, size: int = 200) -> bytes:
    return build_rtp(RtpPacket(pt, seq & 0xFFFF, seq * 3000, ssrc, payload=bytes(size)))


def sender_report(ssrc: int = SSRC) -> bytes:
    return build_sender_report(SenderReport(ssrc, 0, 0, 10, 1000))


def receiver_report(ssrc: int = 0x55667788) -> bytes:
    return build_receiver_report(ReceiverReport(ssrc))


@dataclass
class Conversation:
    """A TCP connection whose sequence numbers the builder keeps track of."""

    client: str
    cport: int
    server: str
    sport: int
    client_ttl: int = 64
    server_ttl: int = 62
    cseq: int = 1000
    sseq: int = 90000

    def syn(self) -> Any:
        return tcp(
            self.client, self.cport, self.server, self.sport, "S", self.cseq, ttl=self.client_ttl
        )

    def synack(self) -> Any:
        return tcp(
            self.server,
            self.sport,
            self.client,
            self.cport,
            "SA",
            self.sseq,
            self.cseq + 1,
            ttl=self.server_ttl,
        )

    def rst(self) -> Any:
        return tcp(
            self.server,
            self.sport,
            self.client,
            self.cport,
            "RA",
            0,
            self.cseq + 1,
            ttl=self.server_ttl,
        )

    def ack(self) -> Any:
        self.cseq += 1
        self.sseq += 1
        return tcp(
            self.client,
            self.cport,
            self.server,
            self.sport,
            "A",
            self.cseq,
            self.sseq,
            ttl=self.client_ttl,
        )

    def handshake(self) -> list[Any]:
        return [self.syn(), self.synack(), self.ack()]

    def client_sends(self, data: bytes) -> Any:
        packet = tcp(
            self.client,
            self.cport,
            self.server,
            self.sport,
            "PA",
            self.cseq,
            self.sseq,
            data,
            ttl=self.client_ttl,
        )
        self.cseq += len(data)
        return packet

    def server_sends(self, data: bytes) -> Any:
        packet = tcp(
            self.server,
            self.sport,
            self.client,
            self.cport,
            "PA",
            self.sseq,
            self.cseq,
            data,
            ttl=self.server_ttl,
        )
        self.sseq += len(data)
        return packet


def timed(
    packets: Iterable[Any], start: float = 1_700_000_000.0, step: float = 0.01
) -> list[Frame]:
    return [(start + i * step, p) for i, p in enumerate(packets)]


def _frame(packet: Any, link: str, vlans: Sequence[int], outgoing: bool) -> Any:
    sc = scapy()
    from scapy.layers.l2 import CookedLinux, CookedLinuxV2

    ethertype = 0x86DD if packet.haslayer(sc.IPv6) else 0x0800
    if link == "ethernet":
        frame = sc.Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        for vlan in vlans:
            frame = frame / sc.Dot1Q(vlan=vlan)
        return frame / packet
    if link == "sll":
        return (
            CookedLinux(
                pkttype=4 if outgoing else 0,
                lladdrtype=1,
                lladdrlen=6,
                src=b"\x02" * 6 + b"\0\0",
                proto=ethertype,
            )
            / packet
        )
    if link == "sll2":
        return (
            CookedLinuxV2(
                proto=ethertype,
                ifindex=2,
                lladdrtype=1,
                pkttype=4 if outgoing else 0,
                lladdrlen=6,
                src=b"\x02" * 6 + b"\0\0",
            )
            / packet
        )
    if link == "raw":
        return packet
    raise ValueError(link)


LINKTYPES = {"ethernet": 1, "sll": 113, "sll2": 276, "raw": 101}


def write(
    path: Path,
    frames: Sequence[Frame],
    *,
    link: str = "ethernet",
    pcapng: bool = False,
    vlans: Sequence[int] = (),
    nano: bool = False,
    endianness: str = "",
    outgoing_from: str | None = None,
    snaplen: int = 65535,
) -> Path:
    """Store frames; ``outgoing_from`` marks that host's packets as sent by the capturing host."""
    sc = scapy()
    packets = []
    for ts, packet in frames:
        src = packet[sc.IPv6].src if packet.haslayer(sc.IPv6) else packet[sc.IP].src
        frame = _frame(packet, link, vlans, outgoing_from is not None and src == outgoing_from)
        frame.time = ts
        packets.append(frame)
    if pcapng:
        writer = sc.PcapNgWriter(str(path))
    else:
        writer = sc.PcapWriter(
            str(path), linktype=LINKTYPES[link], nano=nano, endianness=endianness, snaplen=snaplen
        )
    if pcapng or link != "raw":
        pass
    with writer:
        for packet in packets:
            writer.write(packet)
    return path


@dataclass
class Scene:
    """Frames accumulated in time order."""

    frames: list[Frame] = field(default_factory=list)
    clock: float = 1_700_000_000.0

    def add(self, *packets: Any, step: float = 0.01) -> None:
        for packet in packets:
            self.clock += step
            self.frames.append((self.clock, packet))

    def wait(self, seconds: float) -> None:
        self.clock += seconds


# --- RTSP sessions -------------------------------------------------------------------


def sdp(tracks: Sequence[tuple[str, str]] = (("video", "trackID=1"),)) -> str:
    lines = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=camera", "t=0 0", "a=control:*"]
    for i, (kind, control) in enumerate(tracks):
        lines += [
            f"m={kind} 0 RTP/AVP {96 + i}",
            f"a=rtpmap:{96 + i} H264/90000",
            f"a=control:{control}",
        ]
    return "\r\n".join(lines) + "\r\n"


def request(method: str, url: str, cseq: int, *headers: str) -> bytes:
    head = [f"{method} {url} RTSP/1.0", f"CSeq: {cseq}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode()


def response(status: int, reason: str, cseq: int, *headers: str, body: str = "") -> bytes:
    head = [f"RTSP/1.0 {status} {reason}", f"CSeq: {cseq}", *headers]
    if body:
        head.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(head) + "\r\n\r\n" + body).encode()


def interleaved(channel: int, payload: bytes) -> bytes:
    return bytes([0x24, channel]) + len(payload).to_bytes(2, "big") + payload


@dataclass
class RtspPlayer:
    """Plays a client's RTSP session with the camera into a Scene, packet by packet."""

    scene: Scene
    conv: Conversation
    base: str
    cseq: int = 0

    def exchange(
        self,
        method: str,
        url: str,
        answer: tuple[int, str],
        *headers: str,
        answer_headers: Sequence[str] = (),
        body: str = "",
    ) -> None:
        self.cseq += 1
        self.scene.add(self.conv.client_sends(request(method, url, self.cseq, *headers)))
        status, reason = answer
        self.scene.add(
            self.conv.server_sends(response(status, reason, self.cseq, *answer_headers, body=body))
        )

    def describe(self, tracks: Sequence[tuple[str, str]] = (("video", "trackID=1"),)) -> None:
        self.exchange(
            "DESCRIBE",
            self.base,
            (200, "OK"),
            "Accept: application/sdp",
            answer_headers=[f"Content-Base: {self.base}/", "Content-Type: application/sdp"],
            body=sdp(tracks),
        )

    def setup(self, track: str, asked: str, granted: str, session: str = "4242") -> None:
        self.exchange(
            "SETUP",
            f"{self.base}/{track}",
            (200, "OK"),
            f"Transport: {asked}",
            answer_headers=[f"Transport: {granted}", f"Session: {session};timeout=60"],
        )

    def play(self, session: str = "4242") -> None:
        self.exchange(
            "PLAY",
            f"{self.base}/",
            (200, "OK"),
            f"Session: {session}",
            answer_headers=[f"Session: {session}"],
        )

    def session(self, asked: str, granted: str, track: str = "trackID=1") -> None:
        """DESCRIBE, SETUP of one track with these Transport headers, PLAY."""
        self.describe()
        self.setup(track, asked, granted)
        self.play()
