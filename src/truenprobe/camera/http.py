"""The camera's HTTP port: a small status page on ``GET /``; other methods 405.

Enough HTTP/1.x for a browser, curl and the prober's greeting check; one request per
connection. The request head is limited to 8 KiB and must arrive within ``timeout``.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Sequence
from typing import cast

from truenprobe.camera.connections import ConnectionPool

MAX_HEAD = 8 * 1024

PageSource = Callable[[str], str]  # the page for the address the client reached


def _response(status: str, body: bytes, content_type: str, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n"
    )
    return head.encode() + body


def status_page(
    model: str,
    urls: list[str],
    sessions: list[tuple[str, str, str, str]],
    ports: Sequence[tuple[str, str]] = (),
) -> str:
    """HTML listing what is served, on which ports, and who is playing
    (session, stream, client, state)."""
    port_rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in ports
    )
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in sessions
    )
    links = "".join(f"<li><code>{html.escape(u)}</code></li>" for u in urls)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(model)}</title>"
        f"</head><body><h1>{html.escape(model)}</h1>"
        "<p>An emulated Truen camera for reachability tests (truenprobe).</p>"
        f"<h2>Served URLs</h2><ul>{links}</ul>"
        f"<h2>Ports</h2><table>{port_rows}</table>"
        f"<h2>Active sessions ({len(sessions)})</h2>"
        "<table border='1' cellpadding='4'>"
        "<tr><th>session</th><th>stream</th><th>client</th><th>state</th></tr>"
        f"{rows}</table></body></html>"
    )


class HttpConnection(asyncio.Protocol):
    def __init__(self, page: PageSource, pool: ConnectionPool, timeout: float) -> None:
        self.page = page
        self.pool = pool
        self.timeout = timeout
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.last_activity = asyncio.get_running_loop().time()
        self._timer: asyncio.TimerHandle | None = None

    busy = False

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._timer = asyncio.get_running_loop().call_later(self.timeout, self.close)
        if not self.pool.admit(self):
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.remove(self)
        if self._timer is not None:
            self._timer.cancel()

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            end = self.buffer.find(b"\n\n")
        if end < 0:
            if len(self.buffer) > MAX_HEAD:
                self._send(_response("431 Request Header Fields Too Large", b"", "text/plain"))
            return
        line = bytes(self.buffer[: self.buffer.find(b"\n")]).decode("latin-1").strip()
        parts = line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            self._send(_response("400 Bad Request", b"bad request\n", "text/plain"))
        elif parts[0] not in ("GET", "HEAD"):
            self._send(
                _response(
                    "405 Method Not Allowed", b"GET only\n", "text/plain", "Allow: GET, HEAD\r\n"
                )
            )
        elif parts[1].split("?")[0] != "/":
            self._send(_response("404 Not Found", b"not found\n", "text/plain"))
        else:
            local = self.transport.get_extra_info("sockname") if self.transport else None
            body = self.page(local[0] if local else "127.0.0.1").encode()
            reply = _response("200 OK", body, "text/html; charset=utf-8")
            if parts[0] == "HEAD":
                reply = reply[: len(reply) - len(body)]
            self._send(reply)

    def _send(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)
            self.transport.close()
