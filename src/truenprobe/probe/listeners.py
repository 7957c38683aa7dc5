"""UDP listeners on the plan's ports, with asyncio-dgram, feeding the ArrivalBook.

Unicast listeners bind the local address that faces the camera, not 0.0.0.0, so a
camera on 127.0.0.2 and the prober on 127.0.0.1 can both hold R..R+1 on one host.
Multicast listeners bind the group's port and join the group on that same interface.

The listeners are bound before SETUP (the camera may start sending the moment PLAY
is answered) and sending from them is recorded: a datagram sent from a port can open
a NAT pinhole, after which arrivals there no longer prove a forward. That is why the
client-to-camera flows are sent from a ``fresh_port`` instead, one the camera never
sent to: no conntrack entry on either IP sharer can pass them as replies.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from truenprobe.observations import ListenAttempt, MulticastJoin, UdpSent
from truenprobe.probe.datagrams import ArrivalBook, Datagram
from truenprobe.probe.local import bind_error_text
from truenprobe.probe.waiting import Clock

if TYPE_CHECKING:  # loaded when a port is first bound: a TCP-only check never needs it
    import asyncio_dgram.aio

ArrivalHook = Callable[[int, Datagram], None]
FRESH_PORT_ATTEMPTS = 16


@dataclass
class _Sent:
    port: int
    source_port: int
    kind: str
    destination: str
    packets: int = 0
    first_ms: float | None = None
    error: str | None = None
    purpose: str | None = None


@dataclass
class _Socket:
    stream: asyncio_dgram.aio.DatagramServer
    port: int
    group: str | None
    pump: asyncio.Task[None] | None = None


class Listeners:
    def __init__(
        self, book: ArrivalBook, clock: Clock, local_address: str, on_arrival: ArrivalHook
    ) -> None:
        self.book = book
        self.clock = clock
        self.local_address = local_address
        self.on_arrival = on_arrival
        self._sockets: dict[tuple[int, str | None], _Socket] = {}
        self._attempts: dict[tuple[int, str | None], ListenAttempt] = {}
        self._joins: list[MulticastJoin] = []
        self._sent: dict[tuple[int, int, str], _Sent] = {}

    # --- binding -------------------------------------------------------------------

    async def listen(self, port: int) -> ListenAttempt:
        """Bind ``port`` on the address facing the camera (once; later calls reuse it)."""
        key = (port, None)
        if key in self._attempts:
            return self._attempts[key]
        sock = socket.socket(_family(self.local_address), socket.SOCK_DGRAM)
        try:
            sock.bind((self.local_address, port))
        except OSError as exc:
            sock.close()
            return self._record(key, ListenAttempt(port, False, bind_error_text(exc, port)))
        await self._start(sock, port, None)
        return self._record(key, ListenAttempt(port, True, address=self.local_address))

    async def listen_multicast(self, group: str, port: int) -> ListenAttempt:
        """Bind the group's port and join it on the interface facing the camera."""
        key = (port, group)
        if key in self._attempts:
            return self._attempts[key]
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # Other receivers of the group on this host (a player) may hold the port too.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((group, port))
            membership = socket.inet_aton(group) + socket.inet_aton(self.local_address)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        except OSError as exc:
            sock.close()
            error = bind_error_text(exc, port)
            return self._record(key, ListenAttempt(port, False, error, group=group))
        await self._start(sock, port, group)
        self._joins.append(MulticastJoin(group, round(self.clock.ms(), 1), self.local_address))
        return self._record(key, ListenAttempt(port, True, address=self.local_address, group=group))

    def _record(self, key: tuple[int, str | None], attempt: ListenAttempt) -> ListenAttempt:
        self._attempts[key] = attempt
        return attempt

    async def _start(self, sock: socket.socket, port: int, group: str | None) -> None:
        import asyncio_dgram
        import asyncio_dgram.aio

        sock.setblocking(False)
        stream = await asyncio_dgram.from_socket(sock)
        if not isinstance(stream, asyncio_dgram.aio.DatagramServer):  # pragma: no cover - unbound
            raise TypeError("expected an unconnected datagram socket")
        entry = _Socket(stream, port, group)
        entry.pump = asyncio.create_task(self._pump(entry), name=f"udp-{port}")
        self._sockets[(port, group)] = entry

    def ready(self, port: int) -> bool:
        return (port, None) in self._sockets

    async def fresh_port(self, avoid: Collection[int] = ()) -> int | None:
        """Bind a port the kernel picks, none of ``avoid`` nor of ours: a source the camera
        never sent to, so no NAT on the way holds a connection its datagrams could pass as
        replies to. No ListenAttempt: it is no planned port. None if none could be bound."""
        held = {port for port, _group in self._sockets} | set(avoid)
        rejected: list[socket.socket] = []
        try:
            for _ in range(FRESH_PORT_ATTEMPTS):
                sock = socket.socket(_family(self.local_address), socket.SOCK_DGRAM)
                try:
                    sock.bind((self.local_address, 0))
                except OSError:
                    sock.close()
                    return None
                port = int(sock.getsockname()[1])
                if port in held:
                    rejected.append(sock)  # held until we are done, so it is not offered again
                    continue
                await self._start(sock, port, None)
                return port
            return None
        finally:
            for sock in rejected:
                sock.close()

    # --- receiving -----------------------------------------------------------------

    async def _pump(self, entry: _Socket) -> None:
        import asyncio_dgram

        while True:
            try:
                data, addr = await entry.stream.recv()
            except asyncio_dgram.TransportClosed:
                return
            except OSError as exc:
                # An ICMP error for something we sent from this port (e.g. port unreachable).
                self._note_send_error(entry.port, exc)
                continue
            source, source_port = str(addr[0]), int(addr[1])  # type: ignore[index]
            d = self.book.add(self.clock.ms(), entry.port, source, source_port, data, entry.group)
            self.on_arrival(entry.port, d)

    # --- sending -------------------------------------------------------------------

    async def send(
        self,
        source_port: int,
        data: bytes,
        destination: tuple[str, int],
        kind: str,
        purpose: str | None = None,
    ) -> bool:
        """Send from one of our ports (a listening one, or a ``fresh_port``); record it."""
        import asyncio_dgram

        entry = self._sockets.get((source_port, None))
        if entry is None:
            return False
        key = (destination[1], source_port, kind)
        sent = self._sent.get(key)
        if sent is None:
            sent = self._sent[key] = _Sent(
                destination[1], source_port, kind, destination[0], purpose=purpose
            )
        if sent.first_ms is None:
            sent.first_ms = round(self.clock.ms(), 1)
        try:
            await entry.stream.send(data, destination)
        except (OSError, asyncio_dgram.TransportClosed) as exc:
            sent.error = sent.error or str(exc)
            return False
        sent.packets += 1
        return True

    def _note_send_error(self, source_port: int, exc: OSError) -> None:
        text = (
            "ICMP port unreachable came back"
            if isinstance(exc, ConnectionRefusedError)
            else (exc.strerror or str(exc))
        )
        for sent in self._sent.values():
            if sent.source_port == source_port and sent.error is None:
                sent.error = text

    # --- results -------------------------------------------------------------------

    def listen_attempts(self) -> list[ListenAttempt]:
        return list(self._attempts.values())

    def joins(self) -> list[MulticastJoin]:
        return list(self._joins)

    def sent(self) -> list[UdpSent]:
        return [
            UdpSent(
                port=s.port,
                source_port=s.source_port,
                kind=s.kind,
                packets=s.packets,
                first_ms=s.first_ms,
                destination=s.destination,
                error=s.error,
                purpose=s.purpose,
            )
            for s in self._sent.values()
        ]

    async def close(self) -> None:
        entries = list(self._sockets.values())
        self._sockets.clear()
        for entry in entries:
            entry.stream.close()
        for entry in entries:
            if entry.pump is not None:
                entry.pump.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await entry.pump


def _family(address: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in address else socket.AF_INET
