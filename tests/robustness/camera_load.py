"""Hostile load on an RTSP server over real sockets: idle connections, sessions opened and
closed, requests written one byte at a time. Shared by the memory tests and
benchmarks/robustness_camera_memory.py (which runs it against gst-rtsp-server too, so
nothing here assumes our camera's track names: the track URL comes from DESCRIBE).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tests.camera.rtsp_client import RawClient
from truenprobe.rtsp import Headers, Request, Response, parse_session

TCP = "RTP/AVP/TCP;unicast;interleaved=0-1"


@dataclass
class Target:
    host: str
    rtsp_port: int
    http_port: int | None = None  # None: an RTSP server alone (the peer)
    base_port: int | None = None
    transports: tuple[str, ...] = ("tcp", "udp")  # what its sessions may use
    track: str = field(default="", init=False)  # the video track's URL, from DESCRIBE

    def url(self, stream: str = "video1") -> str:
        return f"rtsp://{self.host}:{self.rtsp_port}/{stream}"

    async def discover(self) -> None:
        """The first track's control URL (trackID=1 for ours, stream=0 for gst)."""
        client = await RawClient.connect(self.host, self.rtsp_port)
        try:
            answer = await ask(client, "DESCRIBE", self.url(), {"Accept": "application/sdp"})
        finally:
            await client.close()
        base = answer.headers.get("Content-Base") or self.url() + "/"
        control = re.search(r"a=control:(\S+)", answer.body.decode().split("m=", 1)[1])
        name = control.group(1) if control else ""
        self.track = name if "://" in name else base.rstrip("/") + "/" + name


def rss_kib(pid: int) -> int:
    """Resident memory of a process, from /proc (kB as the kernel counts them)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def connect(host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(host, port), 10)


@contextlib.asynccontextmanager
async def idle_connections(target: Target, count: int) -> AsyncIterator[int]:
    """``count`` connections spread over RTSP (most), HTTP and the base port, held open; a
    third of the RTSP ones stop in the middle of a request (slowloris). Yields how many
    were accepted (the camera may close the longest idle ones to make room)."""
    writers: list[asyncio.StreamWriter] = []
    others = [p for p in (target.http_port, target.base_port) if p is not None]
    ports = [target.rtsp_port] * 8 + others
    try:
        for i in range(count):
            port = ports[i % len(ports)]
            try:
                _reader, writer = await connect(target.host, port)
            except (ConnectionError, TimeoutError):
                continue  # refused at the cap: also a way to survive
            if port == target.rtsp_port and i % 3 == 0:
                writer.write(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n")
            writers.append(writer)
        yield len(writers)
    finally:
        for writer in writers:
            writer.close()
        for writer in writers:
            with contextlib.suppress(ConnectionError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 5)


@contextmanager
def udp_pairs(count: int, host: str = "127.0.0.1") -> Iterator[list[socket.socket]]:
    """``count`` RTP sockets on even ports P, each with P+1 bound too (RTCP)."""
    held: list[socket.socket] = []
    rtp_sockets: list[socket.socket] = []
    try:
        while len(rtp_sockets) < count:
            rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(rtp)
            rtp.bind((host, 0))
            port = rtp.getsockname()[1]
            if port % 2 or port >= 65535:
                continue
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind((host, port + 1))
            except OSError:
                rtcp.close()
                continue
            held.append(rtcp)
            rtp.setblocking(False)
            rtp_sockets.append(rtp)
        yield rtp_sockets
    finally:
        for sock in held:
            sock.close()


def udp_transport(rtp: socket.socket) -> str:
    port = rtp.getsockname()[1]
    return f"RTP/AVP;unicast;client_port={port}-{port + 1}"


REPLY_WAIT_S = 20.0  # a loaded server answering 100 SETUPs at once is slow, not broken


async def ask(
    client: RawClient, method: str, url: str, headers: dict[str, str] | None = None
) -> Response:
    """RawClient.request with a longer bound on the answer."""
    client.cseq += 1
    items = (("CSeq", str(client.cseq)), *(headers or {}).items())
    await client.send_raw(Request(method, url, Headers(items)).to_bytes())
    return await client.response(REPLY_WAIT_S)


async def _session(target: Target, transport: str, rtp: socket.socket | None, packets: int) -> int:
    """SETUP, PLAY, receive ``packets`` RTP packets (interleaved or on ``rtp``), TEARDOWN."""
    if not target.track:
        await target.discover()
    client = await RawClient.connect(target.host, target.rtsp_port)
    try:
        answer = await ask(client, "SETUP", target.track, {"Transport": transport})
        if answer.status != 200:
            raise AssertionError(f"SETUP {transport}: {answer.status} {answer.body!r}")
        session = parse_session(answer.headers.get("Session") or "").session_id
        played = await ask(client, "PLAY", target.url(), {"Session": session})
        if played.status != 200:
            raise AssertionError(f"PLAY answered {played.status}")
        got = 0
        if rtp is None:
            got = len(await client.read_frames(packets, REPLY_WAIT_S))
        else:
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(REPLY_WAIT_S):
                while got < packets:
                    await loop.sock_recv(rtp, 65536)
                    got += 1
        torn = await ask(client, "TEARDOWN", target.url(), {"Session": session})
        if torn.status != 200:
            raise AssertionError(f"TEARDOWN answered {torn.status}")
        return got
    finally:
        await client.close()


async def plays(target: Target, packets: int = 10) -> int:
    """A new client plays: RTP packets it received (over the first transport allowed)."""
    if target.transports[0] == "tcp":
        return await _session(target, TCP, None, packets)
    with udp_pairs(1) as (rtp,):
        return await _session(target, udp_transport(rtp), rtp, packets)


Failures = list[BaseException]


async def session_round(target: Target, rtp_sockets: list[socket.socket]) -> Failures:
    """One client per socket, all at once: SETUP (TCP for every other one if allowed, else
    UDP to that socket), PLAY, a few packets, TEARDOWN. Returns what went wrong."""

    async def one(i: int, rtp: socket.socket) -> None:
        tcp = "tcp" in target.transports and (i % 2 == 0 or "udp" not in target.transports)
        if tcp:
            await _session(target, TCP, None, 3)
        else:
            await _session(target, udp_transport(rtp), rtp, 3)

    done = await asyncio.gather(
        *(one(i, rtp) for i, rtp in enumerate(rtp_sockets)), return_exceptions=True
    )
    return [e for e in done if isinstance(e, BaseException)]


async def bytewise_round(target: Target, count: int) -> Failures:
    """``count`` byte-by-byte conversations at once; what went wrong."""
    with udp_pairs(count) as rtp_sockets:
        done = await asyncio.gather(
            *(bytewise_client(target, rtp) for rtp in rtp_sockets), return_exceptions=True
        )
    return [e for e in done if isinstance(e, BaseException)]


async def bytewise_client(target: Target, rtp: socket.socket) -> None:
    """DESCRIBE, SETUP, PLAY, TEARDOWN, each written one byte per TCP segment."""
    if not target.track:
        await target.discover()
    transport = TCP if target.transports[0] == "tcp" else udp_transport(rtp)
    client = await RawClient.connect(target.host, target.rtsp_port)
    sock = client.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    session = ""
    steps = [
        ("OPTIONS", "*", {}),
        ("DESCRIBE", target.url(), {"Accept": "application/sdp"}),
        ("SETUP", target.track, {"Transport": transport}),
        ("PLAY", target.url(), {}),
        ("TEARDOWN", target.url(), {}),
    ]
    try:
        for cseq, (method, uri, headers) in enumerate(steps, start=1):
            if session:
                headers = {**headers, "Session": session}
            data = Request(method, uri, Headers.of(CSeq=cseq, **headers)).to_bytes()
            for i in range(len(data)):
                client.writer.write(data[i : i + 1])
                await client.writer.drain()
            answer = await client.response(REPLY_WAIT_S)
            if answer.status != 200:
                raise AssertionError(f"byte-by-byte {method}: {answer.status}")
            if method == "SETUP":
                session = parse_session(answer.headers.get("Session") or "").session_id
    finally:
        await client.close()


async def load_round(target: Target, idle: int, sessions: int, repeats: int, bytewise: int) -> None:
    """Everything once: idle connections held while a new client plays, sessions opened
    and closed ``repeats`` times, byte-by-byte conversations."""
    async with idle_connections(target, idle) as accepted:
        if accepted < idle // 2:
            raise AssertionError(f"only {accepted} of {idle} connections were accepted")
        if await plays(target) < 10:
            raise AssertionError("a new client did not play beside the idle connections")
    with udp_pairs(sessions) as rtp_sockets:
        for _ in range(repeats):
            failures = await session_round(target, rtp_sockets)
            if failures:
                raise AssertionError(f"{len(failures)} of {sessions} sessions: {failures[:3]}")
    failures = await bytewise_round(target, bytewise)
    if failures:
        raise AssertionError(f"{len(failures)} of {bytewise} byte-by-byte: {failures[:3]}")


async def status_page(target: Target) -> str:
    if target.http_port is None:
        raise ValueError("this server has no HTTP port")
    reader, writer = await connect(target.host, target.http_port)
    try:
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        async with asyncio.timeout(10):
            return (await reader.read()).decode(errors="replace")
    finally:
        writer.close()
