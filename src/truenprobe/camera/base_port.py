"""The camera's base port: holds TCP connections (a reachability stand-in for VSNM)."""

from __future__ import annotations

import asyncio
from typing import cast

from truenprobe.camera.connections import ConnectionPool


class BaseConnection(asyncio.Protocol):
    """The base port: accepts and holds a TCP connection, discarding what arrives.

    Truen's proprietary protocol is not public, so this is only a reachability
    stand-in: a client can prove it reaches the base port, nothing more.
    """

    def __init__(self, pool: ConnectionPool, idle_timeout: float) -> None:
        self.pool = pool
        self.idle_timeout = idle_timeout
        self.transport: asyncio.Transport | None = None
        self._loop = asyncio.get_running_loop()
        self.last_activity = self._loop.time()
        self._timer: asyncio.TimerHandle | None = None

    busy = False

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self._arm()
        if not self.pool.admit(self):
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.remove(self)
        if self._timer is not None:
            self._timer.cancel()

    def data_received(self, data: bytes) -> None:
        self.last_activity = self._loop.time()
        self._arm()

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(self.idle_timeout, self.close)
