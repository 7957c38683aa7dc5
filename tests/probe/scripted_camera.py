"""A small scripted RTSP camera for the prober's tests: each test says how it misbehaves.

It is not the emulated camera (that one is a product); it exists to produce exact
cases: a 401, a 404, a 461, garbage, silence, a flood, an SSRC it did not announce,
other client ports than asked, a GET_PARAMETER feedback count. Media is RTP plus one
RTCP sender report per track, sent from UDP sockets on the camera's address.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from truenprobe.rtp.packet import (
    RtpPacket,
    SenderReport,
    build_rtp,
    build_sender_report,
    looks_like_rtcp,
    ntp_timestamp,
)

SSRCS = {"video": 0x0BADCAFE, "audio": 0x0A0D10AA}


@dataclass
class Script:
    tracks: tuple[str, ...] = ("video",)
    user: str | None = None  # Digest credentials the camera requires, if any
    password: str | None = None
    describe_status: int = 200
    setup_status: int = 200
    play_status: int = 200
    announce_ssrc: bool = True
    send_ssrc: int | None = None  # send with this SSRC instead of the announced one
    grant_client_port: str | None = None  # answer another client_port than asked
    send_media: bool = True
    send_sender_report: bool = True
    feedback: str = "count"  # "count", "451" or "none" (200 without the parameter)
    garbage: bytes | None = None  # answer every request with these bytes
    silent: bool = False  # accept the connection, never answer
    flood: bool = False  # answer with an endless stream of bytes
    interleaved: bool = True  # accept RTP/AVP/TCP
    truen_ports: bool = False  # send from R..R+1 (the RTSP port), as a Truen camera does


@dataclass
class ScriptedCamera:
    host: str
    script: Script
    port: int = 0
    requests: list[str] = field(default_factory=list)
    teardowns: int = 0
    rtcp_received: int = 0
    played: asyncio.Event = field(default_factory=asyncio.Event)
    torn_down: asyncio.Event = field(default_factory=asyncio.Event)
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _sockets: list[socket.socket] = field(default_factory=list)

    def url(self, path: str = "/video1") -> str:
        return f"rtsp://{self.host}:{self.port}{path}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for sock in self._sockets:
            sock.close()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def _spawn(self, coro: object) -> None:
        task = asyncio.ensure_future(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- RTSP ------------------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        peer = writer.get_extra_info("peername")[0]
        session = _Session(self, peer, writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = b""
                if int(headers.get("content-length", "0")):
                    body = await reader.readexactly(int(headers["content-length"]))
                method, url, _ = lines[0].split(" ", 2)
                self.requests.append(method)
                if self.script.silent:
                    continue
                if self.script.garbage is not None:
                    writer.write(self.script.garbage)
                    await writer.drain()
                    continue
                if self.script.flood:
                    while True:
                        writer.write(b"x" * 65536)
                        await writer.drain()
                await session.handle(method, url, headers, body)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            session.stop()
            writer.close()
            if task is not None:
                self._tasks.discard(task)


class _Session:
    def __init__(self, camera: ScriptedCamera, peer: str, writer: asyncio.StreamWriter) -> None:
        self.camera = camera
        self.script = camera.script
        self.peer = peer
        self.writer = writer
        self.nonce = "c0ffee"
        self.tracks: dict[str, dict[str, object]] = {}
        self.senders: list[asyncio.Task[None]] = []

    def reply(
        self, cseq: str, status: int, reason: str, headers: dict[str, str], body: bytes = b""
    ) -> None:
        lines = [f"RTSP/1.0 {status} {reason}", f"CSeq: {cseq}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def authorized(self, method: str, headers: dict[str, str]) -> bool:
        s = self.script
        if s.user is None:
            return True
        auth = headers.get("authorization", "")
        if not auth.startswith("Digest "):
            return False
        fields = {}
        for part in auth[7:].split(","):
            k, _, v = part.strip().partition("=")
            fields[k] = v.strip('"')
        ha1 = hashlib.md5(f"{s.user}:cam:{s.password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"{method}:{fields.get('uri')}".encode()).hexdigest()
        expected = hashlib.md5(f"{ha1}:{self.nonce}:{ha2}".encode()).hexdigest()
        return fields.get("response") == expected and fields.get("username") == s.user

    async def handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        s = self.script
        cseq = headers.get("cseq", "0")
        session = {"Session": "5150;timeout=60"}
        if not self.authorized(method, headers):
            challenge = f'Digest realm="cam", nonce="{self.nonce}"'
            self.reply(cseq, 401, "Unauthorized", {"WWW-Authenticate": challenge})
        elif method == "OPTIONS":
            public = "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, GET_PARAMETER"
            self.reply(cseq, 200, "OK", {"Public": public})
        elif method == "DESCRIBE":
            if s.describe_status != 200:
                self.reply(cseq, s.describe_status, "Not Found", {})
            else:
                self.reply(
                    cseq,
                    200,
                    "OK",
                    {"Content-Type": "application/sdp", "Content-Base": url + "/"},
                    _sdp(s.tracks),
                )
        elif method == "SETUP":
            await self.setup(cseq, url, headers)
        elif method == "PLAY":
            if s.play_status != 200:
                self.reply(cseq, s.play_status, "Error", session)
            else:
                self.reply(cseq, 200, "OK", session)
                self.camera.played.set()
                if s.send_media:
                    for name, track in self.tracks.items():
                        self.senders.append(asyncio.ensure_future(self.stream(name, track)))
        elif method == "GET_PARAMETER":
            if s.feedback == "451":
                self.reply(cseq, 451, "Parameter Not Understood", session)
            elif s.feedback == "none":
                self.reply(cseq, 200, "OK", session)
            else:
                text = f"x-truen-rtcp-received: {self.camera.rtcp_received}\r\n".encode()
                self.reply(cseq, 200, "OK", {**session, "Content-Type": "text/parameters"}, text)
        elif method == "TEARDOWN":
            self.camera.teardowns += 1
            self.camera.torn_down.set()
            self.stop()
            self.reply(cseq, 200, "OK", session)
        else:
            self.reply(cseq, 501, "Not Implemented", session)
        await self.writer.drain()

    async def setup(self, cseq: str, url: str, headers: dict[str, str]) -> None:
        s = self.script
        name = "audio" if url.rstrip("/").endswith("track2") else "video"
        transport = headers.get("transport", "")
        if s.setup_status != 200:
            self.reply(cseq, s.setup_status, "Unsupported Transport", {})
            return
        ssrc = f";ssrc={SSRCS[name]:08X}" if s.announce_ssrc else ""
        if "TCP" in transport:
            if not s.interleaved:
                self.reply(cseq, 461, "Unsupported Transport", {})
                return
            channels = transport.split("interleaved=")[1].split(";")[0]
            first = int(channels.split("-")[0])
            self.tracks[name] = {"channel": first}
            answer = f"RTP/AVP/TCP;unicast;interleaved={channels}{ssrc}"
        else:
            ports = transport.split("client_port=")[1].split(";")[0]
            granted = s.grant_client_port or ports
            rtp, rtcp = (int(p) for p in granted.split("-"))
            base = self.camera.port if s.truen_ports else 0
            rtp_sock, rtcp_sock = self.udp_pair(base)
            server = f"{rtp_sock.getsockname()[1]}-{rtcp_sock.getsockname()[1]}"
            self.tracks[name] = {"rtp": rtp, "rtcp": rtcp, "socks": (rtp_sock, rtcp_sock)}
            self.camera._spawn(self.count_rtcp(rtcp_sock))
            answer = f"RTP/AVP;unicast;client_port={granted};server_port={server}{ssrc}"
        self.reply(cseq, 200, "OK", {"Transport": answer, "Session": "5150;timeout=60"})

    def udp_pair(self, base: int) -> tuple[socket.socket, socket.socket]:
        """Two consecutive ports (R, R+1), at ``base`` or wherever the system has them free."""
        for _ in range(100):
            first = base
            if not first:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                    probe.bind((self.camera.host, 0))
                    first = probe.getsockname()[1] & ~1
            socks: list[socket.socket] = []
            try:
                for offset in range(2):
                    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    socks.append(sock)
                    sock.bind((self.camera.host, first + offset))
            except OSError:
                for sock in socks:
                    sock.close()
                if base:
                    raise
                continue
            for sock in socks:
                sock.setblocking(False)
                self.camera._sockets.append(sock)
            return socks[0], socks[1]
        raise OSError("no two consecutive free UDP ports")

    async def count_rtcp(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data = await loop.sock_recv(sock, 2048)
            if looks_like_rtcp(data):
                self.camera.rtcp_received += 1

    async def stream(self, name: str, track: dict[str, object]) -> None:
        s = self.script
        loop = asyncio.get_running_loop()
        ssrc = s.send_ssrc if s.send_ssrc is not None else SSRCS[name]
        sequence = 1000
        for i in range(500):
            packet = build_rtp(RtpPacket(96, sequence + i, 3000 * i, ssrc, payload=b"\0" * 200))
            await self.send(loop, track, packet, rtcp=False)
            if i == 2 and s.send_sender_report:
                sr = SenderReport(ssrc, ntp_timestamp(0.0), 3000 * i, i + 1, 600)
                await self.send(loop, track, build_sender_report(sr), rtcp=True)
            await asyncio.sleep(0.02)  # the stream's own pace: 50 packets a second

    async def send(
        self, loop: asyncio.AbstractEventLoop, track: dict[str, object], data: bytes, rtcp: bool
    ) -> None:
        if "channel" in track:
            channel = int(track["channel"]) + (1 if rtcp else 0)  # type: ignore[call-overload]
            self.writer.write(struct.pack("!cBH", b"$", channel, len(data)) + data)
            return
        socks = track["socks"]
        sock = socks[1] if rtcp else socks[0]  # type: ignore[index]
        port = track["rtcp"] if rtcp else track["rtp"]
        with contextlib.suppress(OSError):
            await loop.sock_sendto(sock, data, (self.peer, port))

    def stop(self) -> None:
        for task in self.senders:
            task.cancel()
        self.senders.clear()


def _sdp(tracks: tuple[str, ...]) -> bytes:
    lines = ["v=0", "o=- 1 1 IN IP4 0.0.0.0", "s=scripted", "t=0 0", "a=control:*"]
    for i, name in enumerate(tracks, start=1):
        pt = 96 if name == "video" else 0
        lines += [f"m={name} 0 RTP/AVP {pt}", f"a=control:track{i}"]
        if name == "video":
            lines.append("a=rtpmap:96 H264/90000")
    return ("\r\n".join(lines) + "\r\n").encode()


@contextlib.asynccontextmanager
async def scripted_camera(
    host: str, script: Script, port: int = 0
) -> AsyncIterator[ScriptedCamera]:
    camera = ScriptedCamera(host, script, port)
    await camera.start()
    try:
        yield camera
    finally:
        await camera.stop()
