"""TCP checks against small loopback servers; listen-only with `send` tokens on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.probe.probe_helpers import by_flow, check, plan_of
from truenprobe.observations import TcpOutcome
from truenprobe.plan.model import PortRange
from truenprobe.probe.datagrams import ArrivalBook
from truenprobe.probe.listeners import Listeners
from truenprobe.probe.runner import CheckRequest, Progress, probe
from truenprobe.probe.send import send_tokens
from truenprobe.probe.tcp import Greeting, probe_tcp
from truenprobe.probe.waiting import Clock
from truenprobe.report.model import Status, Verdict
from truenprobe.verdict import compare

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def server(host: str, handler: Handler) -> AsyncIterator[int]:
    srv = await asyncio.start_server(handler, host, 0)
    try:
        yield srv.sockets[0].getsockname()[1]
    finally:
        srv.close()


async def http_ok(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    await writer.drain()
    writer.close()


async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        await reader.read()


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


def closed_port(host: str = "127.0.0.3") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


async def test_open_with_greeting() -> None:
    async with server("127.0.0.3", http_ok) as port:
        a = await probe_tcp("127.0.0.3", port, wait_s=2, clock=Clock(), greeting=Greeting.HTTP)
    assert a.outcome is TcpOutcome.OPEN
    assert a.greeting == "HTTP/1.1 200 OK"
    assert a.connect_ms is not None


async def test_refused() -> None:
    a = await probe_tcp("127.0.0.3", closed_port(), wait_s=2, clock=Clock())
    assert a.outcome is TcpOutcome.REFUSED


@pytest.mark.parametrize(
    ("handler", "words"),
    [
        (silent, ("did not answer OPTIONS within 0.3 s",)),
        (hang_up, ("without answering OPTIONS", "dropped the connection when sent OPTIONS")),
    ],
)
async def test_open_but_no_answer(handler: Handler, words: tuple[str, ...]) -> None:
    async with server("127.0.0.3", handler) as port:
        a = await probe_tcp("127.0.0.3", port, wait_s=0.3, clock=Clock(), greeting=Greeting.RTSP)
    assert a.outcome is TcpOutcome.OPEN
    assert a.greeting is None
    assert any(w in (a.unanswered or "") for w in words), a.unanswered


async def test_web_site_check_passes_and_a_closed_base_port_fails() -> None:
    async with server("127.0.0.3", http_ok) as http, server("127.0.0.3", silent) as base:
        good = plan_of(client="web", http_port=http, base_port=base, camera_side="public")
        report, _ = await check(good, camera="127.0.0.3")
        assert report.verdict is Verdict.PASS
        bad = plan_of(client="web", http_port=http, base_port=closed_port())
        report, _ = await check(bad, camera="127.0.0.3")
    flows = by_flow(report)
    assert flows["http"].status is Status.PASS
    assert flows["base-control"].status is Status.FAIL
    assert "camera-side IP sharer: forward TCP" in (flows["base-control"].diagnosis or "")


def free_udp_range(count: int) -> int:
    """A first port with ``count`` free UDP ports after it on 127.0.0.1."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            first = s.getsockname()[1]
        if first % 2 or first + count > 65535:
            continue
        held = []
        try:
            for p in range(first, first + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(sock)
                sock.bind(("127.0.0.1", p))
            return first
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError("no free UDP range")


async def test_listen_only_hears_send_tokens() -> None:
    """`send` at the camera's site, `check --listen-only --token` here."""
    client_port = free_udp_range(2)
    plan = plan_of(client="vlc", transport="udp", client_port=client_port, camera_side="public")
    progress = Progress()
    request = CheckRequest("127.0.0.1", stage_s=1.0, listen_only_s=5.0, token="t-42")
    listening = asyncio.create_task(probe(plan, request, progress))
    await asyncio.wait_for(progress.listening.wait(), 5)
    # A stranger's token is foreign, never a pass (sent first: listening ends once all is heard).
    await send_tokens("127.0.0.1", PortRange(client_port, client_port), "other", rounds=1)
    await send_tokens("127.0.0.1", PortRange(client_port, client_port + 1), "t-42", rounds=2)
    obs = await listening
    report = compare(plan, obs)
    flows = by_flow(report)
    assert flows["rtp-video"].status is Status.PASS, flows["rtp-video"].diagnosis
    assert flows["rtcp-video"].status is Status.PASS
    assert flows["rtp-video"].evidence["kind"] == "token"
    assert obs.source == "listen-only"
    assert any("another token" in (u["note"] or "") for u in report.unexpected)


async def test_a_fresh_port_is_none_the_camera_could_have_sent_to() -> None:
    """The return flow's source: not a listening port, not one to avoid; sends are recorded
    with why they were sent that way, and the port is released on close."""
    book = ArrivalBook()
    listeners = Listeners(book, Clock(), "127.0.0.1", lambda _port, _d: None)
    try:
        planned = await listeners.listen(_free_udp_port())
        assert planned.ok
        receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        receiver.bind(("127.0.0.1", 0))
        try:
            target = receiver.getsockname()[1]
            fresh = await listeners.fresh_port(avoid={target})
            assert fresh is not None
            assert fresh not in (planned.port, target)
            assert await listeners.send(fresh, b"rr", ("127.0.0.1", target), "rtcp", "why")
            data, source = receiver.recvfrom(100)
            assert (data, source[1]) == (b"rr", fresh)
        finally:
            receiver.close()
        (sent,) = listeners.sent()
        assert (sent.port, sent.source_port, sent.purpose) == (target, fresh, "why")
        assert [a.port for a in listeners.listen_attempts()] == [planned.port]  # not planned
    finally:
        await listeners.close()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
