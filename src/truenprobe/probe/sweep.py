"""Many TCP checks in one non-blocking loop: the TCP-only sites of a fleet.

``probe_tcp`` costs a task, futures, a timeout and selector callbacks per connection
through asyncio: nothing for one camera, most of the time for a fleet of TCP-only
sites (SDK over VSNM/TCP, web clients). ``sweep`` opens the connections of many
cameras at once (up to a bound), waits for all of them on one selector, sends each its
greeting where its port gets one, and turns each into the same ``TcpAttempt``
``probe_tcp`` would have made (the texts come from the same functions).

Deadlines need no heap: every connect waits ``wait_s`` from its start, and every
greeting ``wait_s`` from its send, so each kind expires in the order it began.
"""

from __future__ import annotations

import errno
import os
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from truenprobe.observations import Limitation, TcpAttempt, TcpOutcome
from truenprobe.plan.model import PortRange
from truenprobe.probe.tcp import (
    GREETING_BYTES,
    Greeting,
    close_with_reset,
    connect_failed,
    greeting_answer,
    greeting_request,
    syn_unanswered,
)

_IN_PROGRESS = {errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN, errno.EALREADY}
# socket() failed for want of something on this host: the camera was not tried at all.
_OUT_OF = {errno.EMFILE: "open files", errno.ENFILE: "open files", errno.ENOBUFS: "buffers"}
_OUT_OF[errno.ENOMEM] = "memory"
STOP_POLL_S = 0.1  # how soon a sweep in a thread notices it was asked to stop


def socket_failed(port: int, exc: OSError) -> TcpAttempt | Limitation:
    """No socket for this port: a local shortage leaves the flow untested, never failed."""
    what = _OUT_OF.get(exc.errno or 0)
    if what is None:
        return connect_failed(port, exc.errno, exc.strerror or str(exc), 0.0)
    return Limitation(
        PortRange(port, port),
        "tcp",
        f"this host ran out of {what} before it could connect to TCP {port} "
        "(raise the open-files limit, `ulimit -n`, or lower --concurrency)",
    )


@dataclass(frozen=True)
class Port:
    """One TCP port to check, and the greeting it gets once open (if any)."""

    port: int
    greeting: Greeting | None = None


@dataclass
class CameraSweep:
    """The ports of one camera, and what the sweep found on them."""

    address: str  # an IP literal
    ports: Sequence[Port]
    attempts: list[TcpAttempt | Limitation] = field(default_factory=list)
    started: float = 0.0  # time.monotonic() of its first connect
    ended: float = 0.0  # ... and of its last result
    _open: int = 0  # connections still in flight


@dataclass(eq=False)
class _Connection:
    camera: CameraSweep
    check: Port
    sock: socket.socket
    started: float
    deadline: float
    connect_ms: float = 0.0
    data: bytes = b""
    greeting: bool = False  # connected, greeting sent, reading the answer
    registered: bool = False  # with the selector
    done: bool = False


class _Sweep:
    def __init__(self, wait_s: float, on_done: Callable[[CameraSweep], None]) -> None:
        self.wait_s = wait_s
        self.on_done = on_done
        self.selector = selectors.DefaultSelector()
        self.connecting: deque[_Connection] = deque()  # in deadline order
        self.greeting: deque[_Connection] = deque()  # in deadline order
        self.open = 0
        self.live: set[_Connection] = set()  # every socket not closed yet (closed on the way out)

    def start(self, camera: CameraSweep) -> None:
        now = time.monotonic()
        camera.started = now
        camera._open = len(camera.ports)
        family = socket.AF_INET6 if ":" in camera.address else socket.AF_INET
        for check in camera.ports:
            try:
                sock = socket.socket(family, socket.SOCK_STREAM)
            except OSError as exc:  # out of descriptors or buffers: this port cannot be tried
                camera._open -= 1
                camera.attempts.append(socket_failed(check.port, exc))
                continue
            conn = _Connection(camera, check, sock, now, now + self.wait_s)
            self.live.add(conn)
            sock.setblocking(False)
            self.open += 1
            code = sock.connect_ex((camera.address, check.port))
            if code == 0:
                self._connected(conn, time.monotonic())
            elif code in _IN_PROGRESS:
                self._register(conn, selectors.EVENT_WRITE)
                self.connecting.append(conn)
            else:
                self._finish(conn, connect_failed(check.port, code, os.strerror(code), 0.0))
        if camera._open == 0:  # nothing could even be tried
            camera.ended = time.monotonic()
            self.on_done(camera)

    def _register(self, conn: _Connection, events: int) -> None:
        self.selector.register(conn.sock, events, conn)
        conn.registered = True

    def _unregister(self, conn: _Connection) -> None:
        if conn.registered:
            self.selector.unregister(conn.sock)
            conn.registered = False

    def _connected(self, conn: _Connection, now: float) -> None:
        conn.connect_ms = round((now - conn.started) * 1000.0, 1)
        greeting = conn.check.greeting
        if greeting is None:
            self._finish(conn, TcpAttempt(conn.check.port, TcpOutcome.OPEN, conn.connect_ms))
            return
        request = greeting_request(greeting, conn.camera.address, conn.check.port)
        try:
            sent = conn.sock.send(request)
        except OSError as exc:
            self._answered(conn, exc, timed_out=False)
            return
        if sent < len(request):  # a request of a few dozen bytes into an empty buffer
            self._answered(conn, OSError(errno.EMSGSIZE, "the request did not fit"), False)
            return
        conn.greeting = True
        conn.deadline = now + self.wait_s
        self.greeting.append(conn)
        self._register(conn, selectors.EVENT_READ)

    def _answered(self, conn: _Connection, failure: OSError | None, timed_out: bool) -> None:
        greeting = conn.check.greeting
        if greeting is None:  # only connections that asked get here
            raise RuntimeError("answer without a greeting")
        line, why = greeting_answer(greeting, conn.data, self.wait_s, failure, timed_out)
        attempt = TcpAttempt(
            conn.check.port, TcpOutcome.OPEN, conn.connect_ms, greeting=line, unanswered=why
        )
        self._finish(conn, attempt)

    def _finish(self, conn: _Connection, attempt: TcpAttempt) -> None:
        if conn.done:
            return
        conn.done = True
        self.open -= 1
        self._unregister(conn)
        close_with_reset(conn.sock)
        self.live.discard(conn)
        camera = conn.camera
        camera.attempts.append(attempt)
        camera._open -= 1
        if camera._open == 0:
            camera.ended = time.monotonic()
            self.on_done(camera)

    def ready(self, conn: _Connection, now: float) -> None:
        if conn.done:
            return
        if not conn.greeting:
            self._unregister(conn)
            code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                ms = round((now - conn.started) * 1000.0, 1)
                self._finish(conn, connect_failed(conn.check.port, code, os.strerror(code), ms))
            else:
                self._connected(conn, now)
            return
        try:
            chunk = conn.sock.recv(GREETING_BYTES - len(conn.data))
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._answered(conn, exc, timed_out=False)
            return
        conn.data += chunk
        if not chunk or b"\n" in conn.data or len(conn.data) >= GREETING_BYTES:
            self._answered(conn, None, timed_out=False)

    def expire(self, now: float) -> None:
        # A connection that got through waits in ``greeting`` now, with a later deadline:
        # skip it wherever it stands in ``connecting``, never expire it as a dropped SYN.
        while self.connecting:
            head = self.connecting[0]
            if head.done or head.greeting:
                self.connecting.popleft()
            elif head.deadline <= now:
                self.connecting.popleft()
                self._finish(head, syn_unanswered(head.check.port, self.wait_s))
            else:
                break
        while self.greeting and self.greeting[0].done:
            self.greeting.popleft()
        while self.greeting and self.greeting[0].deadline <= now:
            conn = self.greeting.popleft()
            self._answered(conn, None, timed_out=True)

    def next_deadline(self) -> float | None:
        heads = [q[0].deadline for q in (self.connecting, self.greeting) if q]
        return min(heads) if heads else None


def sweep(
    cameras: Sequence[CameraSweep],
    *,
    wait_s: float,
    max_open: int,
    on_done: Callable[[CameraSweep], None],
    stop: threading.Event | None = None,
) -> None:
    """Check every camera's ports; ``on_done`` gets each camera once all its ports are done.

    ``stop`` (set from another thread: Ctrl-C, cancellation) ends the sweep within
    ``STOP_POLL_S``, leaving the cameras not done yet without a call to ``on_done``.

    At most ``max_open`` connections are in flight (a camera's ports start together).
    Returns when every camera is done; each connection waits at most ``wait_s`` for its
    handshake and ``wait_s`` more for the answer to its greeting.
    """
    state = _Sweep(wait_s, on_done)
    waiting = deque(cameras)
    try:
        while waiting or state.open:
            if stop is not None and stop.is_set():
                return
            while waiting and (state.open == 0 or state.open + len(waiting[0].ports) <= max_open):
                state.start(waiting.popleft())
            deadline = state.next_deadline()
            if deadline is None:
                continue  # everything started so far finished at once
            timeout = max(0.0, deadline - time.monotonic())
            if stop is not None:
                timeout = min(timeout, STOP_POLL_S)
            events = state.selector.select(timeout)
            now = time.monotonic()
            for key, _mask in events:
                state.ready(key.data, now)
            state.expire(now)
    finally:
        state.selector.close()
        for conn in state.live:
            close_with_reset(conn.sock)
