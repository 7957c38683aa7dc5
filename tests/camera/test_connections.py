"""Idle connections, the HTTP page and the base port."""

from __future__ import annotations

import asyncio
import resource

import pytest

from tests.camera.rtsp_client import RawClient, eventually
from tests.support.tools import unavailable
from truenprobe.camera import EmulatedCamera
from truenprobe.camera.connections import ConnectionPool
from truenprobe.camera.run import raise_open_file_limit
from truenprobe.rtp.packet import parse_rtp
from truenprobe.rtsp import parse_session

IDLE = 1000


async def _open_idle(port: int, count: int) -> list[asyncio.StreamWriter]:
    writers = []
    for i in range(count):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        if i % 3 == 0:  # some never finish their request (slowloris)
            writer.write(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n")
        writers.append(writer)
    return writers


async def test_a_thousand_idle_connections_do_not_stop_a_new_client() -> None:
    raise_open_file_limit()
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 2 * IDLE + 200:
        unavailable("the open-file limit is too low for 1,000 connections in one process")
    async with EmulatedCamera() as cam:  # the defaults (512 connections per port)
        idle = await _open_idle(cam.rtsp_port, IDLE)
        try:
            client = await RawClient.connect("127.0.0.1", cam.rtsp_port)
            url = cam.url("video1")
            setup = await client.request(
                "SETUP", url + "/trackID=1", {"Transport": "RTP/AVP/TCP;interleaved=0-1"}
            )
            assert setup.status == 200
            session = parse_session(setup.headers.get("Session") or "").session_id
            assert (await client.request("PLAY", url, {"Session": session})).status == 200
            frames = await client.read_frames(20)
            assert parse_rtp(frames[-1].data).payload_type == 96
            # The playing client is never the one evicted, however many arrive.
            more = await _open_idle(cam.rtsp_port, 300)
            client.frames.clear()
            assert len(await client.read_frames(5)) >= 5
            await client.close()
            idle += more
        finally:
            for writer in idle:
                writer.close()


async def test_idle_connections_are_closed_after_the_bound() -> None:
    async with EmulatedCamera(idle_timeout=0.3) as cam:
        client = await RawClient.connect("127.0.0.1", cam.rtsp_port)
        assert await client.closed(within=5)
        reader, writer = await asyncio.open_connection("127.0.0.1", cam.base_port)
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # the base port lets go of silent clients too
        writer.close()


class _Fake:
    def __init__(self, last: float, busy: bool = False) -> None:
        self.last_activity = last
        self.busy = busy
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_pool_evicts_the_longest_idle_connection_without_a_session() -> None:
    pool = ConnectionPool(limit=3)
    playing, old, newer = _Fake(0.0, busy=True), _Fake(1.0), _Fake(2.0)
    for member in (playing, old, newer):
        assert pool.admit(member)
    newest = _Fake(3.0)
    assert pool.admit(newest)
    assert old.closed
    assert not playing.closed
    assert pool.evicted == 1
    full = ConnectionPool(limit=1)
    assert full.admit(_Fake(0.0, busy=True))
    assert not full.admit(_Fake(1.0))
    assert full.refused == 1


async def _http(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    async with asyncio.timeout(5):
        data = await reader.read()
    writer.close()
    return data


async def test_http_status_page(cam: EmulatedCamera) -> None:
    page = await _http(cam.http_port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert page.startswith(b"HTTP/1.1 200 OK\r\n")
    assert cam.url("video1+audio1").encode() in page
    assert b"Active sessions (0)" in page
    assert b"<th>multicast /video1</th><td>video 64704, metadata 64904</td>" in page
    assert f"TCP {cam.rtsp_port}".encode() in page
    post = await _http(cam.http_port, b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    assert post.startswith(b"HTTP/1.1 405")
    assert b"Allow: GET, HEAD" in post
    assert (await _http(cam.http_port, b"GET /x HTTP/1.1\r\n\r\n")).startswith(b"HTTP/1.1 404")
    assert (await _http(cam.http_port, b"nonsense\r\n\r\n")).startswith(b"HTTP/1.1 400")
    head = await _http(cam.http_port, b"HEAD / HTTP/1.0\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert head.endswith(b"\r\n\r\n")


async def test_status_page_lists_active_sessions(cam: EmulatedCamera) -> None:
    client = await RawClient.connect("127.0.0.1", cam.rtsp_port)
    await client.request(
        "SETUP", cam.url("video1s") + "/trackID=1", {"Transport": "RTP/AVP/TCP;interleaved=0-1"}
    )
    page = await _http(cam.http_port, b"GET / HTTP/1.1\r\n\r\n")
    assert b"Active sessions (1)" in page
    assert b"<td>video1s</td>" in page
    await client.close()
    await eventually(lambda: not cam.sessions)


async def test_base_port_holds_the_connection(cam: EmulatedCamera) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", cam.base_port)
    writer.write(b"\x00\x01 proprietary hello")
    await writer.drain()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await reader.read(1)  # held open, nothing answered
    writer.close()
