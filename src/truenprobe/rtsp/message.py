"""RTSP messages as values: requests, responses and interleaved binary frames (RFC 2326).

Events are frozen dataclasses, the same whichever side builds or parses them: a
server parses ``Request`` and serialises ``Response``; a client does the opposite.
``to_bytes()`` is the one place a message becomes wire bytes.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

RTSP_VERSION = "RTSP/1.0"

# RFC 2326 §7.1.1, plus the HTTP codes RTSP borrows.
REASONS: dict[int, str] = {
    100: "Continue",
    200: "OK",
    201: "Created",
    250: "Low on Storage Space",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Moved Temporarily",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Time-out",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    414: "Request-URI Too Large",
    415: "Unsupported Media Type",
    451: "Parameter Not Understood",
    452: "Conference Not Found",
    453: "Not Enough Bandwidth",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    456: "Header Field Not Valid for Resource",
    457: "Invalid Range",
    458: "Parameter Is Read-Only",
    459: "Aggregate operation not allowed",
    460: "Only aggregate operation allowed",
    461: "Unsupported transport",
    462: "Destination unreachable",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Time-out",
    505: "RTSP Version not supported",
    551: "Option not supported",
}


_USERINFO = re.compile(r"(\w+://)[^/@\s]*@")


def redact_userinfo(text: str) -> str:
    """``rtsp://user:pass@host/x`` -> ``rtsp://***@host/x``: for anything logged or shown."""
    return _USERINFO.sub(r"\1***@", text)


def reason_for(status: int) -> str:
    return REASONS.get(status, "Unknown")


@dataclass(frozen=True, slots=True)
class Headers:
    """Ordered header fields; names compare case-insensitively, values are kept verbatim."""

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]] = (), **named: str | int) -> Headers:
        """``Headers.of([("CSeq", "1")], Session="ab")``; ``_`` in keyword names becomes ``-``."""
        items = [(str(k), str(v)) for k, v in pairs]
        items += [(k.replace("_", "-"), str(v)) for k, v in named.items()]
        return cls(tuple(items))

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name`` (case-insensitive), or ``default``."""
        lowered = name.lower()
        for key, value in self.items:
            if key.lower() == lowered:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.items if key.lower() == lowered]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def with_(self, name: str, value: str | int) -> Headers:
        """A copy with ``name`` set to ``value`` (replacing every earlier value)."""
        lowered = name.lower()
        kept = tuple((k, v) for k, v in self.items if k.lower() != lowered)
        return Headers((*kept, (name, str(value))))

    def without(self, name: str) -> Headers:
        lowered = name.lower()
        return Headers(tuple((k, v) for k, v in self.items if k.lower() != lowered))


def _cseq(headers: Headers) -> int | None:
    value = headers.get("CSeq")
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _head_bytes(start_line: str, headers: Headers, body: bytes) -> bytes:
    lines = [start_line]
    lines += [f"{k}: {v}" for k, v in headers.items if k.lower() != "content-length"]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + body


def _check_header_text(headers: Headers) -> None:
    for name, value in headers.items:
        if not name or any(c in name for c in ":\r\n \t\0") or any(c in value for c in "\r\n\0"):
            raise ValueError(f"header {name!r} cannot be written on one line")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    uri: str
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    version: str = RTSP_VERSION

    @property
    def cseq(self) -> int | None:
        return _cseq(self.headers)

    def to_bytes(self) -> bytes:
        """Wire bytes; ``Content-Length`` is always derived from the body."""
        if not self.method or any(c in self.method + self.uri for c in " \r\n"):
            raise ValueError("request method and URI must be non-empty and contain no spaces")
        _check_header_text(self.headers)
        return _head_bytes(f"{self.method} {self.uri} {self.version}", self.headers, self.body)


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    reason: str = ""  # empty: the standard phrase for ``status``
    version: str = RTSP_VERSION

    @property
    def cseq(self) -> int | None:
        return _cseq(self.headers)

    @property
    def reason_phrase(self) -> str:
        return self.reason or reason_for(self.status)

    def to_bytes(self) -> bytes:
        if not 100 <= self.status <= 999 or "\r" in self.reason or "\n" in self.reason:
            raise ValueError(f"cannot write status {self.status} {self.reason!r}")
        _check_header_text(self.headers)
        line = f"{self.version} {self.status} {self.reason_phrase}"
        return _head_bytes(line, self.headers, self.body)


INTERLEAVED_HEADER = struct.Struct("!cBH")  # '$', channel, length


@dataclass(frozen=True, slots=True)
class InterleavedFrame:
    """RTP or RTCP carried on the RTSP connection (RFC 2326 §10.12)."""

    channel: int
    data: bytes

    def to_bytes(self) -> bytes:
        return interleaved_prefix(self.channel, len(self.data)) + self.data


def interleaved_prefix(channel: int, length: int) -> bytes:
    """The 4-byte '$' header for a frame; senders on a hot path prepend it themselves."""
    if not 0 <= channel <= 255 or not 0 <= length <= 0xFFFF:
        raise ValueError(f"interleaved channel {channel} / length {length} out of range")
    return INTERLEAVED_HEADER.pack(b"$", channel, length)


Message = Request | Response
