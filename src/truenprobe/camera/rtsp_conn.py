"""One RTSP connection: the thin asyncio adapter between a socket and the sans-IO parts.

Bytes go into a ``MessageReader``; each request goes to ``RtspService.handle`` and
its response straight back. A malformed request gets one 400/413/505 and the
connection closes. A connection with no session closes after ``idle_timeout``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from typing import cast

from truenprobe.camera.connections import ConnectionPool
from truenprobe.camera.rtsp_service import RtspService
from truenprobe.camera.transports import ConnectionInfo
from truenprobe.report.redact import redact_text
from truenprobe.rtsp.message import Headers, InterleavedFrame, Request, Response
from truenprobe.rtsp.reader import MessageReader, RtspProtocolError

log = logging.getLogger(__name__)

_ids = itertools.count(1)


class RtspConnection(asyncio.Protocol):
    def __init__(self, service: RtspService, pool: ConnectionPool, idle_timeout: float) -> None:
        self.service = service
        self.pool = pool
        self.idle_timeout = idle_timeout
        self.reader = MessageReader.for_server()
        self.transport: asyncio.Transport | None = None
        self.info: ConnectionInfo | None = None
        self.last_activity = 0.0
        self._loop = asyncio.get_running_loop()
        self._idle: asyncio.TimerHandle | None = None

    @classmethod
    def factory(
        cls, service: RtspService, pool: ConnectionPool, idle_timeout: float
    ) -> Callable[[], RtspConnection]:
        return lambda: cls(service, pool, idle_timeout)

    # -- pool membership -------------------------------------------------------------
    @property
    def busy(self) -> bool:
        if self.info is None:
            return False
        return any(s.connection_id == self.info.connection_id for s in self.service.sessions)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    # -- asyncio callbacks ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = self.transport.get_extra_info("peername") or ("?", 0)
        local = self.transport.get_extra_info("sockname") or ("0.0.0.0", 0)
        self.info = ConnectionInfo(
            next(_ids), peer[0], local[0], self.transport, local_port=local[1]
        )
        self._activity()
        if not self.pool.admit(self):
            log.warning("refusing RTSP connection from %s: every slot carries a session", peer[0])
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.remove(self)
        if self._idle is not None:
            self._idle.cancel()
        if self.info is not None:
            self.service.sessions.close_connection(self.info.connection_id)

    def pause_writing(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()  # a client that does not read gets no more answers

    def resume_writing(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def data_received(self, data: bytes) -> None:
        self._activity()
        self.reader.receive_data(data)
        self._drain()

    def eof_received(self) -> bool | None:
        return None  # close our side too

    # -- the work --------------------------------------------------------------------
    def _drain(self) -> None:
        transport, info = self.transport, self.info
        if transport is None or info is None:
            return
        while not transport.is_closing():
            try:
                event = self.reader.next_event()
            except RtspProtocolError as exc:
                # The reader hides user info; a secret in a query may be there too.
                log.info("%s sent a bad request: %s", info.peer_ip, redact_text(str(exc)))
                body = (str(exc) + "\r\n").encode()
                response = Response(
                    exc.status, Headers.of(Content_Type="text/plain", Connection="close"), body
                )
                transport.write(response.to_bytes())
                transport.close()
                return
            if isinstance(event, Request):
                transport.write(self.service.handle(event, info).to_bytes())
            elif isinstance(event, InterleavedFrame):
                self._touch_sessions()  # RTCP from a TCP client keeps its session alive
            else:
                return

    def _touch_sessions(self) -> None:
        if self.info is None:
            return
        now = self._loop.time()
        for session in self.service.sessions:
            if session.connection_id == self.info.connection_id:
                session.touch(now)

    def _activity(self) -> None:
        self.last_activity = self._loop.time()
        if self._idle is not None:
            self._idle.cancel()
        self._idle = self._loop.call_later(self.idle_timeout, self._idle_check)

    def _idle_check(self) -> None:
        if self.busy:  # a playing client may stay silent on its RTSP connection
            self._idle = self._loop.call_later(self.idle_timeout, self._idle_check)
            return
        self.close()
