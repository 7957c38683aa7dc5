"""The broken RTSP servers the prober must survive, each with the words its report must use.

Every case is a behaviour for ``HostileServer`` plus the plan it is checked with and the
words that name what went wrong. The in-process tests and the CLI tests share this table.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field

from tests.robustness.hostile_servers import (
    SESSION,
    SSRC,
    Behaviour,
    Conversation,
    HostileServer,
    Peer,
    Request,
    Step,
    Track,
    conversation,
    granted_transport,
    rtp_packets,
    sender_report,
)
from truenprobe.rtp.packet import RtpPacket, build_rtp

TEN_MB = 10 * 1024 * 1024
PASSWORD = "Hostile-Pw-91"  # given to the prober in the 401 cases; must never be echoed


@dataclass(frozen=True)
class Case:
    id: str
    behaviour: Behaviour
    plan: str  # "vlc-udp", "decoder-tcp", "decoder-multicast"
    words: tuple[str, ...]  # each must appear in what the report says (case-insensitive)
    flow: str = "rtp-video"  # this flow must not pass
    credentials: bool = False
    extra: dict[str, object] = field(default_factory=dict)


# --- the control connection --------------------------------------------------------------


async def silent(peer: Peer, _server: HostileServer) -> None:
    await peer.hold()


async def half_response(peer: Peer, _server: HostileServer) -> None:
    """Half a status line and headers, then nothing, for every request."""
    while (request := await peer.request()) is not None:
        cseq = request.headers.get("CSeq") or "0"
        await peer.send(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Ty".encode())


async def half_body(peer: Peer, _server: HostileServer) -> None:
    """A whole header announcing 600 bytes of body, 100 of them, then nothing."""
    while (request := await peer.request()) is not None:
        cseq = request.headers.get("CSeq") or "0"
        head = f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nContent-Type: application/sdp\r\n"
        await peer.send(head.encode() + b"Content-Length: 600\r\n\r\nv=0\r\n" + b"a" * 95)


async def huge_header(peer: Peer, _server: HostileServer) -> None:
    """A status line, then one header line of 10 MB that never ends."""
    while (request := await peer.request()) is not None:
        cseq = request.headers.get("CSeq") or "0"
        await peer.send(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nX-Pad: ".encode())
        chunk = b"A" * 65536
        for _ in range(TEN_MB // len(chunk)):
            await peer.send(chunk)


async def many_header_lines(peer: Peer, _server: HostileServer) -> None:
    """10 MB of short, valid-looking header lines and no blank line."""
    while (request := await peer.request()) is not None:
        cseq = request.headers.get("CSeq") or "0"
        await peer.send(f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\n".encode())
        lines = b"".join(b"X-Line-%06d: v\r\n" % i for i in range(3000))
        for _ in range(TEN_MB // len(lines)):
            await peer.send(lines)


async def http_banner(peer: Peer, _server: HostileServer) -> None:
    """A web server on the RTSP port (an IP sharer forwarding 554 to the wrong host)."""
    await peer.request()
    await peer.send(
        b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n"
        b"Content-Length: 11\r\nConnection: close\r\n\r\n<h1>400</h1>"
    )


async def ssh_banner(peer: Peer, _server: HostileServer) -> None:
    """An SSH server: banner first, then a complaint about the client's first line."""
    await peer.send(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
    await peer.reader.readline()
    await peer.send(b"Invalid SSH identification string.\r\n")


def wrong_cseq() -> Behaviour:
    """Every answer carries another CSeq than its request."""

    async def behave(peer: Peer, server: HostileServer) -> None:
        original = peer.reply

        async def reply(request: Request, status: int = 200, headers=None, body=b"", *, cseq=None):  # type: ignore[no-untyped-def]
            shifted = str(int(request.headers.get("CSeq") or "0") + 100)
            await original(request, status, headers, body, cseq=shifted)

        peer.reply = reply  # type: ignore[method-assign]
        await Conversation(server).run(peer)

    return behave


async def duplicate_cseq(peer: Peer, _server: HostileServer) -> None:
    """Two CSeq headers and two Content-Length headers in one answer."""
    while (request := await peer.request()) is not None:
        cseq = request.headers.get("CSeq") or "0"
        await peer.send(
            f"RTSP/1.0 200 OK\r\nCSeq: {cseq}\r\nCSeq: {cseq}\r\nContent-Length: 0\r\n"
            "Content-Length: 0\r\n\r\n".encode()
        )


async def reset_on_accept(peer: Peer, _server: HostileServer) -> None:
    """Accepts, then resets the connection (RST) without a word."""
    sock = peer.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    peer.writer.transport.abort()


# --- SETUP answers ---------------------------------------------------------------------


async def setup_without_transport(conv: Conversation, peer: Peer, request: Request) -> None:
    await peer.reply(request, 200, {"Session": f"{SESSION};timeout=60"})


async def setup_server_port_0_1(conv: Conversation, peer: Peer, request: Request) -> None:
    track, answer = granted_transport(conv, request)
    conv.tracks.append(track)
    broken = answer.split(";server_port=")[0] + f";server_port=0-1;ssrc={SSRC:08X}"
    await peer.reply(request, 200, {"Transport": broken, "Session": SESSION})


async def multicast_to_unicast(conv: Conversation, peer: Peer, request: Request) -> None:
    conv.tracks.append(Track("multicast"))
    answer = f"RTP/AVP;multicast;destination=127.0.0.9;port=64704-64705;ttl=1;ssrc={SSRC:08X}"
    await peer.reply(request, 200, {"Transport": answer, "Session": SESSION})


# --- redirects and authentication --------------------------------------------------------


def redirect(status: int, loop_to: tuple[str, ...]) -> Step:
    """Answer DESCRIBE with a redirect, round the paths in ``loop_to``."""
    turns = {"n": 0}

    async def step(conv: Conversation, peer: Peer, request: Request) -> None:
        path = loop_to[turns["n"] % len(loop_to)]
        turns["n"] += 1
        location = f"rtsp://{conv.server.host}:{conv.server.port}{path}"
        await peer.reply(request, status, {"Location": location})

    return step


def challenge(*headers: str, then: tuple[str, ...] | None = None) -> Step:
    """Answer 401 with these WWW-Authenticate values (``then``: on the retry)."""
    turns = {"n": 0}

    async def step(conv: Conversation, peer: Peer, request: Request) -> None:
        values = headers if turns["n"] == 0 or then is None else then
        turns["n"] += 1
        items = [("CSeq", request.headers.get("CSeq") or "0")]
        items += [("WWW-Authenticate", v) for v in values]
        from truenprobe.rtsp import Headers, Response

        await peer.send(Response(401, Headers(tuple(items))).to_bytes())

    return step


# --- media -----------------------------------------------------------------------------


async def interleaved_garbage(conv: Conversation, peer: Peer, track: Track) -> None:
    """After PLAY: a frame of junk, then bytes that are neither '$' frames nor RTSP."""
    from truenprobe.rtsp import InterleavedFrame

    channel = track.channels[0] if track.channels else 0
    await peer.send(InterleavedFrame(channel, b"\xff" * 40).to_bytes())
    await peer.send(b"\x17\x03\x03\x00\x30" + bytes(range(48)))


async def interleaved_truncated(conv: Conversation, peer: Peer, track: Track) -> None:
    """After PLAY: a '$' frame announcing 65535 bytes that never come."""
    await peer.send(b"$\x00\xff\xff" + b"\x80" * 100)


async def unparsable_rtp(conv: Conversation, peer: Peer, track: Track) -> None:
    junk = [b"\x01\x02\x03", b"\x00" * 40, b"\x80\x60", b"\xbf" * 11] * 40
    await conv.stream(peer, track, junk)


async def other_ssrc(conv: Conversation, peer: Peer, track: Track) -> None:
    await conv.stream(peer, track, rtp_packets(150, ssrc=0xD15EA5E0), sender_report(0xD15EA5E0))


FLOODER = "127.0.8.250"  # the foreign source: not the camera's address


async def foreign_flood(conv: Conversation, peer: Peer, track: Track) -> None:
    """The camera sends nothing; another host floods the planned port with valid RTP."""
    if track.client_ports is None:
        return
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.bind((FLOODER, 0))
        for i in range(3000):
            packet = build_rtp(RtpPacket(96, i & 0xFFFF, 90 * i, 0xF10D, payload=b"\0" * 160))
            with contextlib.suppress(OSError):  # the prober closed the port: it is over
                await loop.sock_sendto(sock, packet, (peer.address, track.client_ports[0]))
            if i % 200 == 0:
                await asyncio.sleep(0)


async def nothing(conv: Conversation, peer: Peer, track: Track) -> None:
    return


CASES: tuple[Case, ...] = (
    Case(
        "accepts-never-answers",
        silent,
        "vlc-udp",
        ("did not answer OPTIONS", "timed out"),
        flow="rtsp-control",
    ),
    Case("half-a-response-then-stalls", half_response, "vlc-udp", ("incomplete message",)),
    Case("half-a-body-then-stalls", half_body, "vlc-udp", ("incomplete message",)),
    Case("10-MB-header-line", huge_header, "vlc-udp", ("MiB",)),
    Case("10-MB-of-header-lines", many_header_lines, "vlc-udp", ("MiB",)),
    Case(
        "http-banner",
        http_banner,
        "vlc-udp",
        ("HTTP/1.1 400 Bad Request", "another server", "not RTSP"),
        flow="rtsp-control",
    ),
    Case(
        "ssh-banner",
        ssh_banner,
        "vlc-udp",
        ("SSH-2.0-OpenSSH", "another server"),
        flow="rtsp-control",
    ),
    Case("wrong-cseq", wrong_cseq(), "vlc-udp", ("answer carried CSeq 101, which no request had",)),
    Case("duplicate-cseq-and-length", duplicate_cseq, "vlc-udp", ("not RTSP", "CSeq")),
    Case("reset-on-accept", reset_on_accept, "vlc-udp", ("reset",), flow="rtsp-control"),
    Case(
        "setup-without-transport",
        conversation({"SETUP": setup_without_transport}),
        "vlc-udp",
        ("no Transport header",),
    ),
    Case(
        "setup-server-port-0-1",
        conversation({"SETUP": setup_server_port_0_1}, media=nothing),
        "vlc-udp",
        ("server_port=0-1",),
    ),
    Case(
        "multicast-answer-with-unicast-address",
        conversation({"SETUP": multicast_to_unicast}),
        "decoder-multicast",
        ("destination=127.0.0.9, which is not a multicast address",),
        flow="multicast-video",
    ),
    Case(
        "redirect-loop-301",
        conversation({"DESCRIBE": redirect(301, ("/video1",))}),
        "vlc-udp",
        ("301",),
    ),
    Case(
        "redirect-loop-302",
        conversation({"DESCRIBE": redirect(302, ("/video2", "/video1"))}),
        "vlc-udp",
        ("302",),
    ),
    Case(
        "401-challenge-without-equals",
        conversation({"DESCRIBE": challenge("Digest realm")}),
        "vlc-udp",
        ("cannot be answered", "'Digest realm' cannot be understood"),
        credentials=True,
    ),
    Case(
        "401-unknown-digest-algorithm",
        conversation({"DESCRIBE": challenge('Digest realm="c", nonce="n", algorithm=ROT13')}),
        "vlc-udp",
        ("algorithm=ROT13", "cannot be understood"),
        credentials=True,
    ),
    Case(
        "401-challenge-of-commas",
        conversation({"DESCRIBE": challenge("Digest ,,,=,")}),
        "vlc-udp",
        ("cannot be understood",),
        credentials=True,
    ),
    Case(
        "401-retry-answered-without-challenge",
        conversation({"DESCRIBE": challenge('Digest realm="c", nonce="n"', then=())}),
        "vlc-udp",
        ("401 answer carries no WWW-Authenticate challenge",),
        credentials=True,
    ),
    Case(
        "401-unknown-scheme",
        conversation({"DESCRIBE": challenge("Newauth realm=apps, type=1")}),
        "vlc-udp",
        ("offers neither Basic nor Digest",),
        credentials=True,
    ),
    Case(
        "interleaved-garbage-framing",
        conversation(media=interleaved_garbage),
        "decoder-tcp",
        ("connection (rtsp) broke: not RTSP", "no RTP"),
        flow="rtsp-control",
    ),
    Case(
        "interleaved-frame-never-completes",
        conversation(media=interleaved_truncated),
        "decoder-tcp",
        ("no RTP",),
        flow="rtsp-control",
    ),
    Case(
        "rtp-that-does-not-parse",
        conversation(media=unparsable_rtp),
        "vlc-udp",
        ("not RTP", "nothing from the camera arrived"),
    ),
    Case(
        "rtp-with-another-ssrc",
        conversation(media=other_ssrc),
        "vlc-udp",
        ("SSRC 0xd15ea5e0 not announced", "nothing from the camera arrived"),
    ),
    Case(
        "foreign-flood-while-the-stream-is-absent",
        conversation(media=foreign_flood),
        "vlc-udp",
        ("nothing from the camera arrived", "not announced"),
    ),
)
