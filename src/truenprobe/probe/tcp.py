"""TCP from the client to the camera: connect, and ask the port to speak when it should.

The HTTP port gets ``GET /`` and the RTSP port ``OPTIONS``: a completed handshake only
proves *something* answers, the first line of the reply shows it is the camera's server
(an IP sharer forwarding 554 to the wrong host answers too).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import struct
from enum import StrEnum

from truenprobe.observations import TcpAttempt, TcpOutcome
from truenprobe.probe.waiting import Clock

GREETING_BYTES = 1024  # enough for a status line; a flooding server cannot make us read more
UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}
_LINGER_NOW = struct.pack("ii", 1, 0)


class Greeting(StrEnum):
    HTTP = "GET /"
    RTSP = "OPTIONS"


def greeting_request(greeting: Greeting, host: str, port: int) -> bytes:
    shown = f"[{host}]" if ":" in host else host
    if greeting is Greeting.HTTP:
        text = (
            f"GET / HTTP/1.0\r\nHost: {shown}:{port}\r\nUser-Agent: truenprobe\r\n"
            "Connection: close\r\n\r\n"
        )
        return text.encode()
    from truenprobe.rtsp import Headers, Request  # the codec loads only for an RTSP port

    headers = Headers.of(CSeq=1, User_Agent="truenprobe")
    return Request("OPTIONS", f"rtsp://{shown}:{port}/", headers).to_bytes()


def first_line(data: bytes) -> str:
    """The reply's first line, printable and short (it ends up in reports)."""
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    text = line.decode("utf-8", errors="replace")
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text[:120]


def syn_unanswered(port: int, wait_s: float) -> TcpAttempt:
    return TcpAttempt(port, TcpOutcome.TIMEOUT, detail=f"no answer to SYN within {wait_s:g} s")


def connect_failed(port: int, code: int | None, text: str, connect_ms: float) -> TcpAttempt:
    """A connect that ended with an error: refused (RST), unreachable (ICMP) or other."""
    if code == errno.ECONNREFUSED:
        return TcpAttempt(port, TcpOutcome.REFUSED, connect_ms=connect_ms)
    outcome = TcpOutcome.UNREACHABLE if code in UNREACHABLE else TcpOutcome.ERROR
    detail = f"errno {code}: {text}" if code else text
    return TcpAttempt(port, outcome, detail=detail)


def greeting_answer(
    greeting: Greeting, data: bytes, wait_s: float, failure: OSError | None, timed_out: bool
) -> tuple[str | None, str | None]:
    """(first line of the answer, why there is none) after asking the port to speak."""
    if data:
        return first_line(data), None
    if timed_out:
        return None, f"did not answer {greeting.value} within {wait_s:g} s"
    if failure is not None:
        why = failure.strerror or str(failure)
        return None, f"dropped the connection when sent {greeting.value} ({why})"
    return None, f"closed the connection without answering {greeting.value}"


def close_with_reset(sock: socket.socket) -> None:
    """Close with RST: nothing lingers in TIME_WAIT on this side, which a fleet would fill."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_NOW)
    sock.close()


async def probe_tcp(
    address: str,
    port: int,
    *,
    wait_s: float,
    clock: Clock,
    greeting: Greeting | None = None,
    local_address: str | None = None,
) -> TcpAttempt:
    """One connection attempt on a bare non-blocking socket."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        started = clock.ms()
        try:
            if local_address:
                sock.bind((local_address, 0))
            async with asyncio.timeout(wait_s):
                await loop.sock_connect(sock, (address, port))
        except TimeoutError:
            return syn_unanswered(port, wait_s)
        except OSError as exc:
            return connect_failed(
                port, exc.errno, exc.strerror or str(exc), round(clock.ms() - started, 1)
            )
        connect_ms = round(clock.ms() - started, 1)
        if greeting is None:
            return TcpAttempt(port, TcpOutcome.OPEN, connect_ms=connect_ms)
        line, why = await _ask(loop, sock, greeting, address, port, wait_s)
        return TcpAttempt(
            port, TcpOutcome.OPEN, connect_ms=connect_ms, greeting=line, unanswered=why
        )
    finally:
        close_with_reset(sock)


async def _ask(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    greeting: Greeting,
    address: str,
    port: int,
    wait_s: float,
) -> tuple[str | None, str | None]:
    data = b""
    failure: OSError | None = None
    timed_out = False
    try:
        async with asyncio.timeout(wait_s):
            await loop.sock_sendall(sock, greeting_request(greeting, address, port))
            while b"\n" not in data and len(data) < GREETING_BYTES:
                chunk = await loop.sock_recv(sock, GREETING_BYTES - len(data))
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        timed_out = True
    except OSError as exc:
        failure = exc
    return greeting_answer(greeting, data, wait_s, failure, timed_out)
