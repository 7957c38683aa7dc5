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


async def probe_tcp(
    address: str,
    port: int,
    *,
    wait_s: float,
    clock: Clock,
    greeting: Greeting | None = None,
    local_address: str | None = None,
) -> TcpAttempt:
    """One connection attempt on a bare non-blocking socket (a fleet makes thousands)."""
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
            detail = f"no answer to SYN within {wait_s:g} s"
            return TcpAttempt(port, TcpOutcome.TIMEOUT, detail=detail)
        except ConnectionRefusedError:
            return TcpAttempt(port, TcpOutcome.REFUSED, connect_ms=round(clock.ms() - started, 1))
        except OSError as exc:
            outcome = TcpOutcome.UNREACHABLE if exc.errno in UNREACHABLE else TcpOutcome.ERROR
            detail = f"errno {exc.errno}: {exc.strerror}" if exc.errno else str(exc)
            return TcpAttempt(port, outcome, detail=detail)
        connect_ms = round(clock.ms() - started, 1)
        if greeting is None:
            return TcpAttempt(port, TcpOutcome.OPEN, connect_ms=connect_ms)
        line, why = await _ask(loop, sock, greeting, address, port, wait_s)
        return TcpAttempt(
            port, TcpOutcome.OPEN, connect_ms=connect_ms, greeting=line, unanswered=why
        )
    finally:
        # Close with RST: nothing lingers in TIME_WAIT on this side, which a fleet would fill.
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


async def _ask(
    loop: asyncio.AbstractEventLoop,
    sock: socket.socket,
    greeting: Greeting,
    address: str,
    port: int,
    wait_s: float,
) -> tuple[str | None, str | None]:
    data = b""
    try:
        async with asyncio.timeout(wait_s):
            await loop.sock_sendall(sock, greeting_request(greeting, address, port))
            while b"\n" not in data and len(data) < GREETING_BYTES:
                chunk = await loop.sock_recv(sock, GREETING_BYTES - len(data))
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
