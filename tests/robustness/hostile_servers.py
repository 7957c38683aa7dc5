"""Misbehaving RTSP servers on loopback, one behaviour each, for the prober's robustness tests.

A ``HostileServer`` accepts TCP connections on a loopback address and hands each to a
behaviour: a coroutine that reads requests (with the shared sans-IO codec) and answers
however badly the case wants. ``Conversation`` is a minimal well-behaved camera (DESCRIBE,
SETUP, PLAY, TEARDOWN) whose steps a case replaces one at a time, so each case states only
what is broken about it.

Everything a server opens (connections, UDP sockets, tasks) is closed by ``stop()``, so a
test can count the process's file descriptors around a whole check.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from truenprobe.rtp.packet import (
    RtpPacket,
    SenderReport,
    build_rtp,
    build_sender_report,
    ntp_timestamp,
)
from truenprobe.rtsp import (
    NEED_DATA,
    Headers,
    InterleavedFrame,
    MessageReader,
    Request,
    Response,
    RtspProtocolError,
    parse_transport,
)

SSRC = 0x5EED5EED
SESSION = "B0GU5"


class Peer:
    """One accepted connection: read requests, write answers (or anything else)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.parser = MessageReader.for_server()
        self.address: str = writer.get_extra_info("peername")[0]

    async def request(self) -> Request | None:
        """The next request (interleaved frames from the client are skipped); None at EOF."""
        while True:
            try:
                event = self.parser.next_event()
            except RtspProtocolError:
                return None
            if isinstance(event, Request):
                return event
            if isinstance(event, InterleavedFrame):
                continue
            if event is not NEED_DATA:
                return None
            data = await self.reader.read(65536)
            self.parser.receive_data(data)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def reply(
        self,
        request: Request,
        status: int = 200,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        cseq: str | None = None,
    ) -> None:
        items = [("CSeq", cseq if cseq is not None else request.headers.get("CSeq") or "0")]
        items += list((headers or {}).items())
        await self.send(Response(status, Headers(tuple(items)), body).to_bytes())

    async def hold(self) -> None:
        """Keep the connection open, reading and ignoring whatever comes, until EOF."""
        while await self.reader.read(65536):
            pass


Behaviour = Callable[[Peer, "HostileServer"], Awaitable[None]]


@dataclass
class HostileServer:
    host: str
    behaviour: Behaviour
    port: int = 0
    connections: int = 0
    requests: list[str] = field(default_factory=list)  # methods seen by Conversation
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)  # spawned work (media)
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)  # one per connection
    _peers: set[Peer] = field(default_factory=set)
    _sockets: list[socket.socket] = field(default_factory=list)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, path: str = "/video1") -> str:
        return f"rtsp://{self.host}:{self.port}{path}"

    def udp_socket(self) -> socket.socket:
        """A UDP socket on the server's address (closed by ``stop()``)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        self._sockets.append(sock)
        sock.bind((self.host, 0))
        return sock

    def spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        peer = Peer(reader, writer)
        self._peers.add(peer)
        try:
            await self.behaviour(peer, self)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the prober hung up on us: that is its right
        finally:
            self._peers.discard(peer)
            writer.close()
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1)
            if task is not None:
                self._handlers.discard(task)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        # Connection handlers end by themselves once their connection is gone: cancelling
        # them trips Python 3.11's streams callback ("Exception in callback ...").
        for peer in list(self._peers):
            peer.writer.transport.abort()
        if self._handlers:
            _done, stuck = await asyncio.wait(list(self._handlers), timeout=2)
            for task in stuck:
                task.cancel()
        for sock in self._sockets:
            sock.close()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)


@contextlib.asynccontextmanager
async def hostile_server(
    host: str, behaviour: Behaviour, port: int = 0
) -> AsyncIterator[HostileServer]:
    server = HostileServer(host, behaviour, port)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# --- a camera that works, step by step, so a case can break one step -----------------------

Step = Callable[["Conversation", Peer, Request], Awaitable[None]]
MediaStep = Callable[["Conversation", Peer, "Track"], Awaitable[None]]


@dataclass
class Track:
    """What one SETUP agreed on."""

    mode: str  # "udp", "tcp" or "multicast"
    client_ports: tuple[int, int] | None = None
    channels: tuple[int, int] | None = None
    udp: socket.socket | None = None  # the server's RTP source socket (udp)


def sdp(host: str) -> bytes:
    lines = [
        "v=0",
        f"o=- 1 1 IN IP4 {host}",
        "s=hostile",
        "t=0 0",
        "a=control:*",
        "m=video 0 RTP/AVP 96",
        "a=rtpmap:96 H264/90000",
        "a=control:trackID=1",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()


def rtp_packets(count: int, ssrc: int = SSRC, start: int = 1000) -> list[bytes]:
    return [
        build_rtp(RtpPacket(96, start + i, 3000 * i, ssrc, payload=b"\x65" + b"\0" * 199))
        for i in range(count)
    ]


def sender_report(ssrc: int = SSRC) -> bytes:
    return build_sender_report(SenderReport(ssrc, ntp_timestamp(0.0), 0, 10, 2000))


async def send_media(conv: Conversation, peer: Peer, track: Track) -> None:
    """The well-behaved default after PLAY: RTP and one sender report, paced."""
    await conv.stream(peer, track, rtp_packets(150), sender_report())


@dataclass
class Conversation:
    """A minimal camera. Replace entries of ``steps`` (by method) or ``media`` to break it."""

    server: HostileServer
    steps: dict[str, Step] = field(default_factory=dict)
    media: MediaStep = send_media
    tracks: list[Track] = field(default_factory=list)

    async def run(self, peer: Peer) -> None:
        while (request := await peer.request()) is not None:
            self.server.requests.append(request.method)
            step = self.steps.get(request.method) or DEFAULT_STEPS.get(request.method)
            if step is None:
                await peer.reply(request, 501)
            else:
                await step(self, peer, request)

    async def stream(
        self, peer: Peer, track: Track, packets: list[bytes], rtcp: bytes | None = None
    ) -> None:
        """Send ``packets`` the way the track was set up (UDP to the client, or interleaved)."""
        loop = asyncio.get_running_loop()
        for i, packet in enumerate(packets):
            await self.deliver(loop, peer, track, packet, rtcp=False)
            if rtcp is not None and i == 2:
                await self.deliver(loop, peer, track, rtcp, rtcp=True)
            await asyncio.sleep(0.01)

    async def deliver(
        self,
        loop: asyncio.AbstractEventLoop,
        peer: Peer,
        track: Track,
        data: bytes,
        *,
        rtcp: bool,
    ) -> None:
        if track.mode == "tcp" and track.channels is not None:
            channel = track.channels[1] if rtcp else track.channels[0]
            await peer.send(InterleavedFrame(channel, data).to_bytes())
        elif track.udp is not None and track.client_ports is not None:
            port = track.client_ports[1] if rtcp else track.client_ports[0]
            with contextlib.suppress(OSError):
                await loop.sock_sendto(track.udp, data, (peer.address, port))


async def _options(conv: Conversation, peer: Peer, request: Request) -> None:
    await peer.reply(request, 200, {"Public": "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"})


async def _describe(conv: Conversation, peer: Peer, request: Request) -> None:
    headers = {"Content-Type": "application/sdp", "Content-Base": request.uri.rstrip("/") + "/"}
    await peer.reply(request, 200, headers, sdp(conv.server.host))


def granted_transport(conv: Conversation, request: Request) -> tuple[Track, str]:
    """The track and the Transport answer a working camera would give."""
    offer = parse_transport(request.headers.get("Transport") or "")
    ssrc = f";ssrc={SSRC:08X}"
    if offer.is_tcp:
        channels = offer.interleaved or (0, 1)
        track = Track("tcp", channels=channels)
        return track, f"RTP/AVP/TCP;unicast;interleaved={channels[0]}-{channels[1]}{ssrc}"
    if offer.multicast:
        track = Track("multicast")
        return track, f"RTP/AVP;multicast;destination=239.255.0.9;port=64704-64705;ttl=1{ssrc}"
    ports = offer.client_port or (0, 0)
    udp = conv.server.udp_socket()
    source = udp.getsockname()[1]
    track = Track("udp", client_ports=ports, udp=udp)
    answer = (
        f"RTP/AVP;unicast;client_port={ports[0]}-{ports[1]};server_port={source}-{source + 1}{ssrc}"
    )
    return track, answer


async def _setup(conv: Conversation, peer: Peer, request: Request) -> None:
    track, answer = granted_transport(conv, request)
    conv.tracks.append(track)
    await peer.reply(request, 200, {"Transport": answer, "Session": f"{SESSION};timeout=60"})


async def _play(conv: Conversation, peer: Peer, request: Request) -> None:
    await peer.reply(request, 200, {"Session": SESSION, "Range": "npt=0.000-"})
    for track in conv.tracks:
        conv.server.spawn(conv.media(conv, peer, track))


async def _teardown(conv: Conversation, peer: Peer, request: Request) -> None:
    await peer.reply(request, 200, {"Session": SESSION})


async def _get_parameter(conv: Conversation, peer: Peer, request: Request) -> None:
    await peer.reply(request, 451, {"Session": SESSION})


DEFAULT_STEPS: dict[str, Step] = {
    "OPTIONS": _options,
    "DESCRIBE": _describe,
    "SETUP": _setup,
    "PLAY": _play,
    "TEARDOWN": _teardown,
    "GET_PARAMETER": _get_parameter,
}


def conversation(steps: dict[str, Step] | None = None, media: MediaStep = send_media) -> Behaviour:
    """A behaviour: a working camera except for the steps given."""

    async def behave(peer: Peer, server: HostileServer) -> None:
        await Conversation(server, dict(steps or {}), media).run(peer)

    return behave
