"""The RTSP ``Transport`` header (RFC 2326 §12.39): parse and format.

A request may offer several transports separated by commas; ``parse_transports``
returns them in the client's order of preference. Unknown parameters are kept in
``extra`` so a proxy or analyzer loses nothing. Values out of range (a port of 0 or
above 65535, an interleaved channel above 255) raise ``TransportError``, which a
server answers with 461.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

PortPair = tuple[int, int]


class TransportError(ValueError):
    """A Transport header that cannot be understood."""


@dataclass(frozen=True, slots=True)
class TransportSpec:
    profile: str = "RTP/AVP"  # transport/profile, e.g. RTP/AVP or RTP/SAVP
    lower: str = "UDP"  # UDP or TCP
    multicast: bool = False  # False: unicast (RFC 2326's default)
    destination: str | None = None
    source: str | None = None
    client_port: PortPair | None = None
    server_port: PortPair | None = None
    interleaved: PortPair | None = None
    port: PortPair | None = None  # multicast RTP/RTCP ports
    ttl: int | None = None
    ssrc: int | None = None
    mode: str | None = None
    append: bool = False
    extra: tuple[tuple[str, str | None], ...] = ()  # parameters not listed above

    @property
    def is_tcp(self) -> bool:
        return self.lower == "TCP"

    def with_(self, **changes: object) -> TransportSpec:
        return replace(self, **changes)  # type: ignore[arg-type]

    def to_header(self) -> str:
        return format_transport(self)


def _pair(value: str, lo: int, hi: int, what: str) -> PortPair:
    first_text, dash, last_text = value.partition("-")
    try:
        first = int(first_text)
        last = int(last_text) if dash else first + 1
    except ValueError:
        raise TransportError(f"{what}={value!r} is not a number or range") from None
    if not (lo <= first <= hi and lo <= last <= hi):
        raise TransportError(f"{what}={value} out of range {lo}-{hi}")
    if last < first:
        raise TransportError(f"{what}={value} is a reversed range")
    return first, last


def _spec(text: str) -> TransportSpec:
    parts = [p.strip() for p in text.split(";") if p.strip()]
    if not parts:
        raise TransportError("empty transport specification")
    proto = parts[0].upper().split("/")
    if len(proto) not in (2, 3) or proto[0] != "RTP":
        raise TransportError(f"unsupported transport protocol {parts[0]!r}")
    lower = proto[2] if len(proto) == 3 else "UDP"
    if lower not in ("UDP", "TCP"):
        raise TransportError(f"unsupported lower transport {lower!r}")
    fields: dict[str, object] = {"profile": "/".join(proto[:2]), "lower": lower}
    extra: list[tuple[str, str | None]] = []
    for param in parts[1:]:
        name, eq, value = param.partition("=")
        key = name.strip().lower()
        value = value.strip().strip('"') if eq else ""
        if key in ("unicast", "multicast"):
            fields["multicast"] = key == "multicast"
        elif key == "client_port":
            fields["client_port"] = _pair(value, 1, 65535, key)
        elif key == "server_port":
            fields["server_port"] = _pair(value, 1, 65535, key)
        elif key == "port":
            fields["port"] = _pair(value, 1, 65535, key)
        elif key == "interleaved":
            fields["interleaved"] = _pair(value, 0, 255, key)
        elif key in ("destination", "source"):
            fields[key] = value or None
        elif key == "ttl":
            if not value.isdigit() or int(value) > 255:
                raise TransportError(f"ttl={value!r} is not 0-255")
            fields["ttl"] = int(value)
        elif key == "ssrc":
            if not 1 <= len(value) <= 8 or any(c not in "0123456789abcdefABCDEF" for c in value):
                raise TransportError(f"ssrc={value!r} is not a 32-bit hexadecimal number")
            fields["ssrc"] = int(value, 16)
        elif key == "mode":
            fields["mode"] = value.upper()
        elif key == "append":
            fields["append"] = True
        else:
            extra.append((name.strip(), value if eq else None))
    fields["extra"] = tuple(extra)
    return TransportSpec(**fields)  # type: ignore[arg-type]


def parse_transports(header: str) -> tuple[TransportSpec, ...]:
    """All the transports a ``Transport`` header offers, in order."""
    specs = tuple(_spec(part) for part in header.split(",") if part.strip())
    if not specs:
        raise TransportError("empty Transport header")
    return specs


def parse_transport(header: str) -> TransportSpec:
    """The first (preferred) transport of a header, e.g. a server's single answer."""
    return parse_transports(header)[0]


def _pair_text(pair: PortPair) -> str:
    return f"{pair[0]}-{pair[1]}"


def format_transport(spec: TransportSpec) -> str:
    proto = f"{spec.profile}/TCP" if spec.is_tcp else spec.profile
    parts = [proto, "multicast" if spec.multicast else "unicast"]
    if spec.destination:
        parts.append(f"destination={spec.destination}")
    if spec.source:
        parts.append(f"source={spec.source}")
    for key in ("interleaved", "client_port", "server_port", "port"):
        pair = getattr(spec, key)
        if pair is not None:
            parts.append(f"{key}={_pair_text(pair)}")
    if spec.ttl is not None:
        parts.append(f"ttl={spec.ttl}")
    if spec.ssrc is not None:
        parts.append(f"ssrc={spec.ssrc:08X}")
    if spec.mode:
        parts.append(f'mode="{spec.mode}"')
    if spec.append:
        parts.append("append")
    parts += [k if v is None else f"{k}={v}" for k, v in spec.extra]
    return ";".join(parts)


def is_multicast_address(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_multicast
    except ValueError:
        return False
