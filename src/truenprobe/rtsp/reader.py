"""Sans-IO RTSP reader: bytes in, events out (the h11 pattern).

Feed whatever arrived with ``receive_data()`` (``b""`` means the peer closed), then
call ``next_event()`` until it returns ``NEED_DATA``. Messages may be pipelined,
split anywhere (one byte at a time) and followed by data of the next message;
interleaved ``$`` frames may sit between messages. A server reads ``Request``s, a
client reads ``Response``s (``MessageReader.for_server()`` / ``for_client()``).

Limits: the header block (start line and headers) at most ``max_header_bytes``
(8 KiB), a body at most ``max_body_bytes`` (64 KiB). Anything malformed or over a
limit raises ``RtspProtocolError`` carrying the status a server should answer with
(400, 413 or 505); after that the stream cannot be re-synchronised and the reader
keeps raising, so the caller answers once and closes.
"""

from __future__ import annotations

import re
from enum import Enum

from truenprobe.rtsp.message import (
    Headers,
    InterleavedFrame,
    Request,
    Response,
    redact_userinfo,
)

MAX_HEADER_BYTES = 8 * 1024
MAX_BODY_BYTES = 64 * 1024

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_VERSION = re.compile(r"^RTSP/(\d)\.(\d)$")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
# The start of a message, for recover(): a status line, or a request line.
_START_LINE = re.compile(rb"(?:RTSP/\d\.\d \d{3} |[A-Z][A-Z_]* \S+ RTSP/\d\.\d\r?\n)")


class NeedData(Enum):
    """More bytes are needed before the next event."""

    NEED_DATA = "need-data"


class Closed(Enum):
    """The peer closed the stream cleanly, between messages."""

    CLOSED = "closed"


NEED_DATA = NeedData.NEED_DATA
CLOSED = Closed.CLOSED

Event = Request | Response | InterleavedFrame | NeedData | Closed


class RtspProtocolError(ValueError):
    """The peer sent something that is not valid RTSP; ``status`` is the answer to give."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class MessageReader:
    """Turns a byte stream into RTSP events. No I/O, no clock."""

    def __init__(
        self,
        *,
        expect: type[Request] | type[Response] = Request,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.expect = expect
        self.max_header_bytes = max_header_bytes
        self.max_body_bytes = max_body_bytes
        self._buffer = bytearray()
        self._scanned = 0  # bytes of the current header block already searched for its end
        self._eof = False
        self._error: RtspProtocolError | None = None

    @classmethod
    def for_server(cls) -> MessageReader:
        return cls(expect=Request)

    @classmethod
    def for_client(cls) -> MessageReader:
        return cls(expect=Response)

    @property
    def buffered(self) -> int:
        """Bytes received but not yet turned into events."""
        return len(self._buffer)

    def receive_data(self, data: bytes) -> None:
        """Add bytes from the peer; ``b""`` marks the end of the stream."""
        if not data:
            self._eof = True
            return
        if self._eof:
            raise RuntimeError("receive_data() after the end of the stream")
        self._buffer += data

    def next_event(self) -> Event:
        if self._error is not None:
            raise self._error
        try:
            return self._next()
        except RtspProtocolError as exc:
            self._error = exc
            raise

    def recover(self) -> int:
        """After an error, skip to the next line that starts a message; bytes dropped.

        For readers that join a stream in the middle (a capture that began during a
        session) or want to go on after garbage. A server should answer and close instead.
        """
        match = _START_LINE.search(self._buffer, 1)
        # Without a match, keep a tail that may hold the beginning of a start line.
        dropped = match.start() if match is not None else max(0, len(self._buffer) - 64)
        del self._buffer[:dropped]
        self._scanned = 0
        self._error = None
        return dropped

    def _next(self) -> Event:
        buf = self._buffer
        # Stray line breaks between messages are allowed (RFC 2326 §4, like HTTP's robustness).
        skip = 0
        while skip < len(buf) and buf[skip] in b"\r\n":
            skip += 1
        if skip:
            del buf[:skip]
            self._scanned = 0
        if not buf:
            return CLOSED if self._eof else NEED_DATA
        if buf[0] == 0x24:  # '$'
            return self._interleaved()
        return self._message()

    def _truncated(self, what: str) -> NeedData:
        if self._eof:
            raise RtspProtocolError(f"connection closed in the middle of {what}")
        return NEED_DATA

    def _interleaved(self) -> InterleavedFrame | NeedData:
        buf = self._buffer
        if len(buf) < 4:
            return self._truncated("an interleaved frame")
        length = buf[2] << 8 | buf[3]
        if len(buf) < 4 + length:
            return self._truncated("an interleaved frame")
        frame = InterleavedFrame(buf[1], bytes(buf[4 : 4 + length]))
        del buf[: 4 + length]
        return frame

    def _message(self) -> Request | Response | NeedData:
        buf = self._buffer
        start = max(0, self._scanned - 3)
        match = _BLANK_LINE.search(buf, start)
        if match is None:
            if len(buf) > self.max_header_bytes:
                raise RtspProtocolError(
                    f"header block longer than {self.max_header_bytes} bytes", 400
                )
            self._scanned = len(buf)
            return self._truncated("a message header")
        if match.end() > self.max_header_bytes:
            raise RtspProtocolError(f"header block longer than {self.max_header_bytes} bytes", 400)
        head = bytes(buf[: match.start()])
        start_line, headers = _parse_head(head)
        length = _content_length(headers, self.max_body_bytes)
        end = match.end() + length
        if len(buf) < end:
            return self._truncated("a message body")
        body = bytes(buf[match.end() : end])
        del buf[:end]
        self._scanned = 0
        if self.expect is Request:
            return _request(start_line, headers, body)
        return _response(start_line, headers, body)


def _decode(head: bytes) -> str:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise RtspProtocolError("header block is not UTF-8 text") from None
    if "\0" in text:
        raise RtspProtocolError("NUL byte in the header block")
    return text


def _parse_head(head: bytes) -> tuple[str, Headers]:
    lines = _decode(head).replace("\r\n", "\n").split("\n")
    start_line = lines[0]
    fields: list[list[str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t"):  # obsolete line folding continues the previous field
            if not fields:
                raise RtspProtocolError("header block starts with a continuation line")
            fields[-1][1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not _TOKEN.match(name):
            # Only the field's name: the rest of a broken line may hold credentials.
            shown = name[:40] if colon else "(no colon)"
            raise RtspProtocolError(f"malformed header line {shown!r}")
        fields.append([name, value.strip()])
    return start_line, Headers(tuple((n, v) for n, v in fields))


def _content_length(headers: Headers, limit: int) -> int:
    values = {v.strip() for v in headers.get_all("Content-Length")}
    if not values:
        return 0
    if len(values) > 1:
        raise RtspProtocolError("conflicting Content-Length headers")
    (value,) = values
    if not value.isdigit():
        raise RtspProtocolError(f"Content-Length {value[:20]!r} is not a number")
    length = int(value)
    if length > limit:
        raise RtspProtocolError(f"body of {length} bytes is over the {limit}-byte limit", 413)
    return length


def _check_version(version: str) -> None:
    match = _VERSION.match(version)
    if match is None:
        raise RtspProtocolError(f"not an RTSP version: {redact_userinfo(version[:20])!r}")
    if match.group(1) != "1":
        raise RtspProtocolError(f"{version} is not supported", 505)


def _request(start_line: str, headers: Headers, body: bytes) -> Request:
    parts = start_line.split(" ")
    if len(parts) != 3 or not _TOKEN.match(parts[0]) or not parts[1]:
        raise RtspProtocolError(f"malformed request line {redact_userinfo(start_line[:80])!r}")
    method, uri, version = parts
    _check_version(version)
    return Request(method, uri, headers, body, version)


def _response(start_line: str, headers: Headers, body: bytes) -> Response:
    version, _, rest = start_line.partition(" ")
    status_text, _, reason = rest.partition(" ")
    _check_version(version)
    if len(status_text) != 3 or not status_text.isdigit():
        raise RtspProtocolError(f"malformed status line {start_line[:80]!r}")
    return Response(int(status_text), headers, body, reason, version)
