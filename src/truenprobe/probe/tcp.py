"""TCP from the client to the camera: connect, and ask the port to speak when it should.

The HTTP port gets ``GET /`` and the RTSP port ``OPTIONS``: a completed handshake only
proves *something* answers, the first line of the reply shows it is the camera's server
(an IP sharer forwarding 554 to the wrong host answers too).
"""

from __future__ import annotations

import asyncio
import errno
from enum import StrEnum

from truenprobe.observations import TcpAttempt, TcpOutcome
from truenprobe.probe.waiting import Clock
from truenprobe.rtsp import Headers, Request

GREETING_BYTES = 1024  # enough for a status line; a flooding server cannot make us read more
UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN, errno.ENETDOWN}


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
    headers = Headers.of(CSeq=1, User_Agent="truenprobe")
    return Request("OPTIONS", f"rtsp://{shown}:{port}/", headers).to_bytes()


def first_line(data: bytes) -> str:
    """The reply's first line, printable and short (it ends up in reports)."""
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    text = line.decode("utf-8", errors="replace")
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text[:120]


async def probe_tcp(
    address: str,
    port: int,
    *,
    wait_s: float,
    clock: Clock,
    greeting: Greeting | None = None,
    local_address: str | None = None,
) -> TcpAttempt:
    started = clock.ms()
    local = (local_address, 0) if local_address else None
    try:
        async with asyncio.timeout(wait_s):
            reader, writer = await asyncio.open_connection(address, port, local_addr=local)
    except TimeoutError:
        return TcpAttempt(port, TcpOutcome.TIMEOUT, detail=f"no answer to SYN within {wait_s:g} s")
    except ConnectionRefusedError:
        return TcpAttempt(port, TcpOutcome.REFUSED, connect_ms=round(clock.ms() - started, 1))
    except OSError as exc:
        outcome = TcpOutcome.UNREACHABLE if exc.errno in UNREACHABLE else TcpOutcome.ERROR
        detail = f"errno {exc.errno}: {exc.strerror}" if exc.errno else str(exc)
        return TcpAttempt(port, outcome, detail=detail)
    connect_ms = round(clock.ms() - started, 1)
    try:
        if greeting is None:
            return TcpAttempt(port, TcpOutcome.OPEN, connect_ms=connect_ms)
        line, why = await _ask(reader, writer, greeting, address, port, wait_s)
        return TcpAttempt(port, TcpOutcome.OPEN, connect_ms=connect_ms, greeting=line, detail=why)
    finally:
        writer.transport.abort()  # no lingering FIN/RST dance; we have what we came for


async def _ask(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    greeting: Greeting,
    address: str,
    port: int,
    wait_s: float,
) -> tuple[str | None, str | None]:
    data = b""
    try:
        writer.write(greeting_request(greeting, address, port))
        async with asyncio.timeout(wait_s):
            while b"\n" not in data and len(data) < GREETING_BYTES:
                chunk = await reader.read(GREETING_BYTES - len(data))
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        if not data:
            return None, f"did not answer {greeting.value} within {wait_s:g} s"
    except OSError as exc:
        if not data:
            why = exc.strerror or str(exc)
            return None, f"dropped the connection when sent {greeting.value} ({why})"
    if not data:
        return None, f"closed the connection without answering {greeting.value}"
    return first_line(data), None
