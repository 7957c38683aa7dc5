"""Small RTSP header values: Session, RTP-Info, Public, and text/parameters bodies."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_SESSION_ID = re.compile(r"^[0-9A-Za-z$\-_.+]+$")  # RFC 2326 §3.4 safe characters


class FieldError(ValueError):
    """A header value that cannot be parsed."""


@dataclass(frozen=True, slots=True)
class SessionField:
    session_id: str
    timeout: int | None = None  # seconds; None: the default of 60

    def to_header(self) -> str:
        if self.timeout is None:
            return self.session_id
        return f"{self.session_id};timeout={self.timeout}"


def parse_session(value: str) -> SessionField:
    session_id, _, params = value.strip().partition(";")
    session_id = session_id.strip()
    if not session_id or not _SESSION_ID.match(session_id):
        raise FieldError(f"malformed Session {value[:40]!r}")
    timeout = None
    for param in params.split(";"):
        key, _, number = param.strip().partition("=")
        if key.lower() == "timeout":
            if not number.strip().isdigit():
                raise FieldError(f"malformed Session timeout {number!r}")
            timeout = int(number)
    return SessionField(session_id, timeout)


@dataclass(frozen=True, slots=True)
class RtpInfo:
    url: str
    seq: int | None = None
    rtptime: int | None = None


def format_rtp_info(entries: Iterable[RtpInfo]) -> str:
    parts = []
    for entry in entries:
        text = f"url={entry.url}"
        if entry.seq is not None:
            text += f";seq={entry.seq}"
        if entry.rtptime is not None:
            text += f";rtptime={entry.rtptime}"
        parts.append(text)
    return ",".join(parts)


def parse_rtp_info(value: str) -> tuple[RtpInfo, ...]:
    out = []
    # URLs may contain commas in theory; in practice every entry starts with "url=".
    for chunk in re.split(r",\s*(?=url=)", value.strip()):
        url = None
        seq = rtptime = None
        for param in chunk.split(";"):
            key, _, val = param.strip().partition("=")
            try:
                if key == "url":
                    url = val
                elif key == "seq":
                    seq = int(val)
                elif key == "rtptime":
                    rtptime = int(val)
            except ValueError:
                raise FieldError(f"malformed RTP-Info {chunk[:60]!r}") from None
        if url is None:
            raise FieldError(f"RTP-Info entry without url: {chunk[:60]!r}")
        out.append(RtpInfo(url, seq, rtptime))
    return tuple(out)


def parse_public(value: str) -> tuple[str, ...]:
    """The methods in a ``Public`` header."""
    return tuple(m.strip() for m in value.split(",") if m.strip())


def parse_parameter_names(body: bytes) -> tuple[str, ...]:
    """The names a GET_PARAMETER ``text/parameters`` body asks for, one per line."""
    text = body.decode("utf-8", errors="replace")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def parse_parameters(body: bytes) -> dict[str, str]:
    """``name: value`` lines of a ``text/parameters`` answer."""
    out: dict[str, str] = {}
    for line in body.decode("utf-8", errors="replace").splitlines():
        name, colon, value = line.partition(":")
        if colon and name.strip():
            out[name.strip()] = value.strip()
    return out


def format_parameters(values: dict[str, str | int]) -> bytes:
    return "".join(f"{name}: {value}\r\n" for name, value in values.items()).encode("utf-8")
