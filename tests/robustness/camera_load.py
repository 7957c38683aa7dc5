"""Hostile load on a camera over real sockets: idle connections, sessions opened and closed,
requests written one byte at a time. Shared by the memory test and the benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.camera.rtsp_client import RawClient
from truenprobe.rtsp import Headers, Request, parse_session


@dataclass(frozen=True)
class Target:
    host: str
    rtsp_port: int
    http_port: int
    base_port: int

    def url(self, stream: str = "video1") -> str:
        return f"rtsp://{self.host}:{self.rtsp_port}/{stream}"


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
    ports = [target.rtsp_port] * 8 + [target.http_port, target.base_port]
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


async def plays(target: Target, frames: int = 10) -> int:
    """A new client: SETUP over TCP, PLAY, read ``frames`` interleaved RTP frames."""
    client = await RawClient.connect(target.host, target.rtsp_port)
    try:
        answer = await client.request(
            "SETUP", target.url() + "/trackID=1", {"Transport": "RTP/AVP/TCP;interleaved=0-1"}
        )
        if answer.status != 200:
            raise AssertionError(f"SETUP answered {answer.status}: {answer.body!r}")
        session = parse_session(answer.headers.get("Session") or "").session_id
        played = await client.request("PLAY", target.url(), {"Session": session})
        if played.status != 200:
            raise AssertionError(f"PLAY answered {played.status}")
        got = len(await client.read_frames(frames))
        await client.request("TEARDOWN", target.url(), {"Session": session})
        return got
    finally:
        await client.close()


@contextmanager
def udp_pairs(count: int, host: str = "127.0.0.1") -> Iterator[list[int]]:
    """``count`` even ports P with P+1 bound here (the sessions' media lands in them)."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
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
            ports.append(port)
        yield ports
    finally:
        for sock in held:
            sock.close()


async def session_round(target: Target, udp_ports: list[int], frames: int = 3) -> None:
    """One client per port: SETUP (UDP to that port, or TCP for every other one), PLAY,
    TEARDOWN, all at once."""

    async def one(i: int, port: int) -> None:
        client = await RawClient.connect(target.host, target.rtsp_port)
        try:
            tcp = i % 2 == 0
            transport = (
                "RTP/AVP/TCP;interleaved=0-1"
                if tcp
                else f"RTP/AVP;unicast;client_port={port}-{port + 1}"
            )
            answer = await client.request(
                "SETUP", target.url() + "/trackID=1", {"Transport": transport}
            )
            if answer.status != 200:
                raise AssertionError(f"SETUP {transport} answered {answer.status}: {answer.body!r}")
            session = parse_session(answer.headers.get("Session") or "").session_id
            await client.request("PLAY", target.url(), {"Session": session})
            if tcp:
                await client.read_frames(frames)
            torn = await client.request("TEARDOWN", target.url(), {"Session": session})
            if torn.status != 200:
                raise AssertionError(f"TEARDOWN answered {torn.status}")
        finally:
            await client.close()

    await asyncio.gather(*(one(i, port) for i, port in enumerate(udp_ports)))


def conversation(target: Target) -> list[bytes]:
    url = target.url()
    steps = [
        ("OPTIONS", "*", {}),
        ("DESCRIBE", url, {"Accept": "application/sdp"}),
        ("SETUP", url + "/trackID=1", {"Transport": "RTP/AVP/TCP;interleaved=0-1"}),
    ]
    return [
        Request(method, uri, Headers.of(CSeq=i + 1, **headers)).to_bytes()
        for i, (method, uri, headers) in enumerate(steps)
    ]


async def bytewise_client(target: Target) -> None:
    """OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN, each written one byte per segment."""
    client = await RawClient.connect(target.host, target.rtsp_port)
    sock = client.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        answers = []
        for request in conversation(target):
            for i in range(len(request)):
                client.writer.write(request[i : i + 1])
                await client.writer.drain()
            answers.append(await client.response())
        if [a.status for a in answers] != [200, 200, 200]:
            raise AssertionError([a.status for a in answers])
        session = parse_session(answers[-1].headers.get("Session") or "").session_id
        for method, cseq in (("PLAY", 4), ("TEARDOWN", 5)):
            request = Request(method, target.url(), Headers.of(CSeq=cseq, Session=session))
            data = request.to_bytes()
            for i in range(len(data)):
                client.writer.write(data[i : i + 1])
                await client.writer.drain()
            answer = await client.response()
            if answer.status != 200:
                raise AssertionError(f"{method} answered {answer.status}")
    finally:
        await client.close()


async def status_page(target: Target) -> str:
    reader, writer = await connect(target.host, target.http_port)
    try:
        writer.write(b"GET / HTTP/1.0\r\n\r\n")
        async with asyncio.timeout(10):
            return (await reader.read()).decode(errors="replace")
    finally:
        writer.close()
