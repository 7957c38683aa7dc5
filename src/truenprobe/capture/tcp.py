"""TCP in a capture: who connected to which port, how the handshake went, and the bytes.

``Connection`` keeps the facts of one connection (SYNs and their retransmissions, the
answer: SYN-ACK, RST, ICMP or nothing, the TTLs each way) and, when asked, puts each
direction's bytes back in order with a ``Reassembler`` for a consumer such as the
RTSP reader. Retransmitted, overlapping and reordered segments are handled; bytes the
capture does not hold (lost by the capture, cut by its snap length) become a ``gap``
the consumer is told about, so it can resynchronise instead of misreading the stream.
"""

from __future__ import annotations

from typing import Protocol

from truenprobe.capture.layers import TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN

_SEQ_MOD = 1 << 32
_HALF = 1 << 31
MAX_PENDING = 4 << 20  # out-of-order bytes held per direction before giving up on a hole
GREETING_BYTES = 256  # how much of the server's first data is kept for its first line
# Two copies of one segment (the capture saw it on two interfaces) arrive microseconds
# apart; a retransmitted SYN comes a retransmission timeout (about a second) later.
COPY_WINDOW = 0.005


class StreamSink(Protocol):
    def data(self, data: bytes, ts: float) -> None: ...

    def gap(self, missing: int, ts: float) -> None: ...

    def end(self, ts: float) -> None: ...


class Reassembler:
    """One direction of a connection, delivered in sequence order to a sink."""

    __slots__ = ("_next", "_pending", "_pending_bytes", "_started", "gaps", "sink")

    def __init__(self, sink: StreamSink) -> None:
        self.sink = sink
        self._next = 0
        self._started = False
        self._pending: dict[int, tuple[bytes, int]] = {}  # seq -> (captured bytes, length sent)
        self._pending_bytes = 0
        self.gaps = 0

    def syn(self, isn: int) -> None:
        if not self._started:
            self._next = (isn + 1) % _SEQ_MOD
            self._started = True

    def segment(self, seq: int, data: bytes, wire_length: int, ts: float) -> None:
        """``data`` is what the capture holds of a segment of ``wire_length`` bytes."""
        if wire_length <= 0:
            return
        if not self._started:  # the capture began in the middle of the connection
            self._next = seq
            self._started = True
        ahead = (seq - self._next) % _SEQ_MOD
        if ahead >= _HALF:  # starts before what was delivered: a retransmission
            overlap = _SEQ_MOD - ahead
            if overlap >= wire_length:
                return
            data, wire_length, ahead = data[overlap:], wire_length - overlap, 0
        if ahead:
            old = self._pending.get(seq)
            if old is None or old[1] < wire_length:
                if old is not None:
                    self._pending_bytes -= len(old[0])
                self._pending[seq] = (data, wire_length)
                self._pending_bytes += len(data)
                if self._pending_bytes > MAX_PENDING:
                    self._skip_hole(ts)
            return
        self._deliver(data, wire_length, ts)
        self._drain(ts)

    def _deliver(self, data: bytes, wire_length: int, ts: float) -> None:
        if data:
            self.sink.data(data, ts)
        if len(data) < wire_length:
            self.gaps += 1
            self.sink.gap(wire_length - len(data), ts)
        self._next = (self._next + wire_length) % _SEQ_MOD

    def _drain(self, ts: float) -> None:
        while self._pending:
            ready = None
            for seq in self._pending:
                ahead = (seq - self._next) % _SEQ_MOD
                if ahead == 0 or ahead >= _HALF:
                    ready = seq
                    break
            if ready is None:
                return
            data, wire_length = self._pending.pop(ready)
            self._pending_bytes -= len(data)
            ahead = (ready - self._next) % _SEQ_MOD
            if ahead:  # it overlaps what has been delivered since it was stored
                overlap = _SEQ_MOD - ahead
                if overlap >= wire_length:
                    continue
                data, wire_length = data[overlap:], wire_length - overlap
            self._deliver(data, wire_length, ts)

    def _skip_hole(self, ts: float) -> None:
        """Declare the bytes before the nearest stored segment lost, and go on from it."""
        nearest = min(self._pending, key=lambda s: (s - self._next) % _SEQ_MOD)
        self.gaps += 1
        self.sink.gap((nearest - self._next) % _SEQ_MOD, ts)
        self._next = nearest
        self._drain(ts)

    def finish(self, ts: float) -> None:
        while self._pending:
            self._skip_hole(ts)
        self.sink.end(ts)


class Connection:
    """The facts of one TCP connection, oriented: the client is who sent (or would send) SYN."""

    __slots__ = (
        "client",
        "client_bytes",
        "client_port",
        "client_stream",
        "client_ttl",
        "established",
        "fin",
        "first",
        "greeting",
        "last",
        "midstream",
        "rst_from_client",
        "rst_from_server",
        "server",
        "server_bytes",
        "server_port",
        "server_stream",
        "server_ttl",
        "syn_seq",
        "syn_times",
        "synack_count",
        "synack_time",
    )

    def __init__(
        self, client: bytes, client_port: int, server: bytes, server_port: int, ts: float
    ) -> None:
        self.client = client
        self.client_port = client_port
        self.server = server
        self.server_port = server_port
        self.first = ts
        self.last = ts
        self.syn_times: list[float] = []  # distinct SYNs: the first and its retransmissions
        self.syn_seq: int | None = None
        self.synack_time: float | None = None
        self.synack_count = 0
        self.established = False  # the client acknowledged the SYN-ACK, or data flowed
        self.rst_from_server: float | None = None
        self.rst_from_client: float | None = None
        self.fin = False
        self.midstream = False  # no SYN in the capture
        self.client_ttl = 0
        self.server_ttl = 0
        self.client_bytes = 0
        self.server_bytes = 0
        self.greeting = b""
        self.client_stream: Reassembler | None = None  # client -> server bytes, when wanted
        self.server_stream: Reassembler | None = None

    def from_client(self, ts: float, flags: int, seq: int, ttl: int) -> bool:
        """Account a client segment; False when it is a second copy of the previous SYN."""
        self.last = ts
        if ttl > self.client_ttl:
            self.client_ttl = ttl
        if flags & TCP_SYN and not flags & TCP_ACK:
            if self.syn_times and seq == self.syn_seq and ts - self.syn_times[-1] < COPY_WINDOW:
                return False
            self.syn_times.append(ts)
            self.syn_seq = seq
            if self.client_stream is not None:
                self.client_stream.syn(seq)
            return True
        if flags & TCP_RST:
            if self.rst_from_client is None:
                self.rst_from_client = ts
            return True
        if flags & TCP_ACK and self.synack_time is not None:
            self.established = True
        if flags & TCP_FIN:
            self.fin = True
        return True

    def from_server(self, ts: float, flags: int, seq: int, ttl: int) -> None:
        self.last = ts
        if ttl > self.server_ttl:
            self.server_ttl = ttl
        if flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK:
            self.synack_count += 1
            if self.synack_time is None:
                self.synack_time = ts
                if self.server_stream is not None:
                    self.server_stream.syn(seq)
            return
        if flags & TCP_RST:
            if self.rst_from_server is None:
                self.rst_from_server = ts
            return
        if flags & TCP_FIN:
            self.fin = True
