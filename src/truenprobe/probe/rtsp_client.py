"""aiortsp, extended by subclassing for what a reachability probe needs.

- ``ProbeConnection``: aiortsp's RTSP connection, bound to the address facing the
  camera, recording every request as an ``RtspReply``, and turning garbage or a flood
  from the server into one clear error instead of a traceback.
- ``PlannedPortsTransport``: aiortsp's UDP transport on ports the plan fixes
  (R..R+1, the VLC client port, a VSNM pair) that the prober bound before SETUP. It
  never sends NAT warm-up packets: they would open the very pinhole whose forward we test.
- ``MulticastTransport``: asks for multicast and reads the group and port granted.
- ``InterleavedTransport``: aiortsp's TCP transport that tallies the interleaved RTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from aiortsp.rtsp.connection import RTSPConnection
from aiortsp.rtsp.errors import RTSPConnectionError, RTSPError, RTSPResponseError
from aiortsp.rtsp.parser import RTSPBinary, RTSPResponse
from aiortsp.transport.base import RTPTransport
from aiortsp.transport.tcp import TCPTransport
from aiortsp.transport.udp import UDPTransport

from truenprobe.observations import RtspReply
from truenprobe.plan.model import Media, PortRange
from truenprobe.probe.datagrams import InterleavedBook
from truenprobe.probe.waiting import Clock, Pulse, raise_if_cancelling
from truenprobe.report.redact import redact_text
from truenprobe.rtsp import TransportError
from truenprobe.rtsp import parse_transport as codec_parse_transport

# aiortsp logs every request at INFO/DEBUG and errors at ERROR; the report says it better.
_quiet = logging.getLogger("truenprobe.aiortsp")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False

FLOOD_BYTES = 1 << 20  # this much without one complete RTSP message is not an RTSP server


@dataclass(frozen=True)
class TransportAnswer:
    """The fields of a SETUP answer's Transport header that the probe uses."""

    raw: str
    multicast: bool = False
    client_ports: PortRange | None = None
    server_ports: PortRange | None = None
    destination: str | None = None
    ports: PortRange | None = None  # port= (multicast)
    interleaved: tuple[int, int] | None = None
    ssrc: int | None = None
    source: str | None = None


def _range(pair: tuple[int, int] | None) -> PortRange | None:
    if pair is None:
        return None
    try:
        return PortRange(pair[0], pair[1])
    except ValueError:
        return None


def parse_transport(header: str) -> TransportAnswer:
    """The camera's answer (the first transport, if it lists several), via the RTSP codec.

    Raises ``TransportError`` (a ValueError) when the header cannot be understood.
    """
    spec = codec_parse_transport(header)
    return TransportAnswer(
        raw=header,
        multicast=spec.multicast,
        client_ports=_range(spec.client_port),
        server_ports=_range(spec.server_port),
        destination=spec.destination,
        ports=_range(spec.port),
        interleaved=spec.interleaved,
        ssrc=spec.ssrc,
        source=spec.source,
    )


def _answer(headers: dict[str, Any]) -> TransportAnswer:
    transport = headers.get("transport")
    if not isinstance(transport, str):
        raise RTSPError("the SETUP answer has no Transport header")
    try:
        return parse_transport(transport)
    except TransportError as exc:
        raise RTSPError(f"the SETUP answer's Transport header is not understood: {exc}") from None


class ProbeConnection(RTSPConnection):  # type: ignore[misc]
    def __init__(
        self,
        host: str,
        port: int,
        *,
        clock: Clock,
        timeout: float,
        local_address: str | None = None,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        super().__init__(
            host, port, username=username, password=password, logger=_quiet, timeout=timeout
        )
        self.clock = clock
        self.local_address = local_address
        self.replies: list[RtspReply] = []
        self._unparsed = 0
        self._stray_cseq: int | None = None  # an answer's CSeq that no request of ours had
        self.protocol_error: str | None = None
        self.auth_problem: str | None = None  # why a 401 challenge could not be answered

    async def prepare(self) -> None:
        loop = asyncio.get_running_loop()
        local = (self.local_address, 0) if self.local_address else None
        try:
            async with asyncio.timeout(self.default_timeout):
                await loop.create_connection(lambda: self, self.host, self.port, local_addr=local)
        except TimeoutError:
            raise RTSPConnectionError(
                f"no answer to SYN within {self.default_timeout:g} s"
            ) from None
        except ConnectionRefusedError:
            raise RTSPConnectionError("connection refused") from None
        except OSError as exc:
            raise RTSPConnectionError(exc.strerror or str(exc)) from None

    def data_received(self, data: bytes) -> None:
        self._unparsed += len(data)
        parsed = 0
        try:
            for msg in self.parser.parse(data):
                parsed += 1
                self._unparsed = 0
                if msg.type == "response":
                    pending = self.active_requests.get(msg.cseq)
                    if pending is not None and not pending.done():
                        pending.set_result(msg)
                    elif not 1 <= msg.cseq < self._cseq:  # not even a late answer of ours
                        self._stray_cseq = msg.cseq
                elif msg.type == "binary":
                    self.on_binary(msg)
                elif msg.type == "request":
                    self.on_request(msg)
        except (ValueError, AssertionError, RTSPError, IndexError, KeyError, TypeError) as exc:
            # aiortsp's parser raises all of these on malformed input (TypeError: a header
            # given twice, e.g. two CSeq or Content-Length).
            # Show the garbage: after valid messages in the same read, it is at the end.
            sample = f"…{_sample(data[-40:])}" if parsed else _sample(data)
            self._fail(f"not RTSP: {sample}", exc)
            return
        if self._unparsed > FLOOD_BYTES:
            self._fail(f"flood: over {FLOOD_BYTES >> 20} MiB without a complete RTSP message")

    def _fail(self, why: str, cause: BaseException | None = None) -> None:
        self.protocol_error = self.protocol_error or why
        error = RTSPConnectionError(why)
        error.__cause__ = cause
        for pending in self.active_requests.values():
            if not pending.done():
                pending.set_exception(error)
        if self._transport is not None:
            self._transport.abort()

    def trouble(self) -> str | None:
        """What was wrong with the camera's side of the connection, if anything."""
        if self.protocol_error:
            return self.protocol_error
        if self._stray_cseq is not None:
            return f"its answer carried CSeq {self._stray_cseq}, which no request had"
        if self._unparsed:
            return f"an incomplete message ({self._unparsed} bytes) was never completed"
        return None

    def handle_401(self, resp: RTSPResponse) -> bool:
        """aiortsp's, but a challenge it cannot parse or answer ends the retries instead
        of raising out of the request (found by tests/robustness: 401 with a malformed
        challenge)."""
        challenge = _header_text(resp, "www-authenticate")
        unreadable = (
            f"its challenge {challenge} cannot be understood"
            if challenge
            else "its 401 answer carries no WWW-Authenticate challenge"
        )
        try:
            retry = bool(super().handle_401(resp))
            auth: Any = getattr(self, "_auth", None)  # aiortsp sets it in handle_401
            if retry and auth is not None:
                auth.make_auth("OPTIONS", "*", {})  # e.g. an unknown Digest algorithm
        except RTSPResponseError:
            self.auth_problem = unreadable
            raise
        except (ValueError, AssertionError, KeyError, TypeError, StopIteration):
            self._auth = None
            self.auth_problem = unreadable
            return False
        if not retry and auth is None and self.username and self.password:
            self.auth_problem = f"its challenge {challenge} offers neither Basic nor Digest"
        return retry

    def handle_ok(self, resp: RTSPResponse) -> None:
        with contextlib.suppress(ValueError, AssertionError, KeyError, TypeError):
            super().handle_ok(resp)  # a malformed Authentication-Info changes nothing

    def on_request(self, request: Any) -> None:
        """A server-to-client request (e.g. a keep-alive); answer it politely."""
        self.send_response(request, 551, "Option not supported")

    async def request(
        self,
        method: str,
        url: str,
        headers: dict[str, Any] | None = None,
        body: bytes | None = None,
        media: Media | None = None,
    ) -> RTSPResponse | None:
        """Send one request; record it; return the answer (also a non-2xx one) or None."""
        sent = dict(headers or {})
        reply: RTSPResponse | None = None
        error: str | None = None
        try:
            if not self.running:
                raise RTSPConnectionError(self.protocol_error or "connection closed")
            reply = await self.send_request(method, url, headers=sent, body=body)
        except RTSPResponseError as exc:
            reply = exc.response
        except RTSPError as exc:
            error = self.protocol_error or _error_text(exc, self.default_timeout, self.trouble())
        raise_if_cancelling()
        if reply is not None and reply.status == 401 and self.auth_problem:
            error = self.auth_problem
        at_ms = round(self.clock.ms(), 1)
        authenticated = "Authorization" in sent
        # The record keeps no secret a URL may carry (?password=...); the request did.
        shown = redact_text(url)
        self.replies.append(_record(method, shown, reply, error, authenticated, media, at_ms))
        return reply


def _error_text(exc: RTSPError, timeout: float, trouble: str | None) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    if "failed to answer in time" in text:
        if trouble:
            return f"timed out: no complete answer within {timeout:g} s; {trouble}"
        return f"timed out: no answer within {timeout:g} s"
    if text == "connection closed" or "connection lost" in text.lower():
        return "the camera closed the connection"
    return text


def _header_text(reply: RTSPResponse, name: str) -> str | None:
    """A header's value(s), quoted and shortened for a report; None when absent."""
    value = (reply.headers or {}).get(name)
    values = value if isinstance(value, list) else [value] if value else []
    return _sample(", ".join(str(v) for v in values).encode(), 80) if values else None


def _sample(data: bytes, size: int = 40) -> str:
    text = data[:size].decode("utf-8", errors="replace")
    return repr("".join(c if c.isprintable() else "?" for c in text))


def _record(
    method: str,
    url: str,
    reply: RTSPResponse | None,
    error: str | None,
    authenticated: bool,
    media: Media | None,
    at_ms: float,
) -> RtspReply:
    if reply is None:
        return RtspReply(
            method, url, None, at_ms=at_ms, error=error, authenticated=authenticated, media=media
        )
    headers = reply.headers or {}
    transport = headers.get("transport")
    answer = None
    if isinstance(transport, str):
        with contextlib.suppress(TransportError):
            answer = parse_transport(transport)
    session = headers.get("session")
    return RtspReply(
        method,
        url,
        reply.status,
        reason=reply.status_msg,
        at_ms=at_ms,
        error=error,
        transport=transport if isinstance(transport, str) else None,
        client_ports=answer.client_ports if answer else None,
        server_ports=answer.server_ports if answer else None,
        destination=answer.destination if answer else None,
        multicast_ports=answer.ports if answer and answer.multicast else None,
        interleaved=answer.interleaved if answer else None,
        ssrc=answer.ssrc if answer else None,
        session=session.split(";")[0].strip() if isinstance(session, str) else None,
        media=media,
        authenticated=authenticated,
    )


class PlannedPortsTransport(UDPTransport):  # type: ignore[misc]
    """aiortsp's UDP transport on client ports the prober bound before SETUP."""

    def __init__(self, connection: ProbeConnection, rtp_port: int, rtcp_port: int) -> None:
        super().__init__(connection, timeout=0)
        self.rtp_port = rtp_port
        self.rtcp_port = rtcp_port
        self.answer: TransportAnswer | None = None

    async def prepare(self) -> None:
        """The listeners already hold the ports (bound before SETUP, by the probe)."""

    async def cleanup(self) -> None:
        """The listeners outlive the session; the probe closes them."""

    @property
    def running(self) -> bool:
        return self.answer is not None

    def on_transport_request(self, headers: dict[str, Any]) -> None:
        headers["Transport"] = f"RTP/AVP;unicast;client_port={self.rtp_port}-{self.rtcp_port}"

    def on_transport_response(self, headers: dict[str, Any]) -> None:
        self.answer = _answer(headers)

    async def warmup(self) -> None:
        """No NAT warm-up packets and no aiortsp timeout loop (see the module docstring)."""

    def close(self, error: BaseException | None = None) -> None:
        RTPTransport.close(self, error)


class MulticastTransport(PlannedPortsTransport):
    """Ask for multicast; ``requested`` asks for a port (the VSNM base + 16 generator)."""

    def __init__(self, connection: ProbeConnection, requested: PortRange | None = None) -> None:
        ports = requested or PortRange(1, 2)
        super().__init__(connection, ports.first, ports.last)
        self.requested = requested

    def on_transport_request(self, headers: dict[str, Any]) -> None:
        port = f";port={self.requested.first}-{self.requested.last}" if self.requested else ""
        headers["Transport"] = f"RTP/AVP;multicast{port}"


class InterleavedTransport(TCPTransport):  # type: ignore[misc]
    """aiortsp's TCP transport: the interleaved RTP/RTCP go to the InterleavedBook."""

    def __init__(
        self, connection: ProbeConnection, book: InterleavedBook, clock: Clock, pulse: Pulse
    ) -> None:
        super().__init__(connection, timeout=0)
        self.book = book
        self.clock = clock
        self.pulse = pulse
        self.answer: TransportAnswer | None = None

    def handle_rtp_bin(self, binary: RTSPBinary) -> None:
        self._take(binary)

    def handle_rtcp_bin(self, binary: RTSPBinary) -> None:
        self._take(binary)

    def _take(self, binary: RTSPBinary) -> None:
        self.book.add(self.clock.ms(), binary.id, binary.data)
        self.pulse.fire()

    def on_transport_response(self, headers: dict[str, Any]) -> None:
        self.answer = _answer(headers)
        granted = self.answer.interleaved
        if granted is not None and granted != (self.rtp_idx, self.rtcp_idx):
            # The camera picked other channels: listen where it will actually send.
            self.connection.binary_handlers[granted[0]] = self.handle_rtp_bin
            self.connection.binary_handlers[granted[1]] = self.handle_rtcp_bin

    async def warmup(self) -> None:
        """No aiortsp timeout loop: the probe bounds its own waits."""

    def close(self, error: BaseException | None = None) -> None:
        """Leave the RTSP connection to the session (TEARDOWN goes over it)."""
        RTPTransport.close(self, error)
