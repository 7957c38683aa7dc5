"""The CAMERA argument: an address, a name, or an RTSP URL with credentials and a path."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from truenprobe.errors import ScenarioError
from truenprobe.report.redact import redact_text


@dataclass(frozen=True)
class CameraTarget:
    host: str  # as the client addresses it (IP literal or name, no brackets)
    port: int | None = None  # from an RTSP URL
    user: str | None = None
    password: str | None = None
    path: str | None = None  # from an RTSP URL, e.g. /video1


def parse_camera(text: str) -> CameraTarget:
    """``203.0.113.5``, ``cam.example``, ``[2001:db8::5]`` or ``rtsp://u:p@host:554/video1``."""
    text = text.strip()
    if not text:
        raise ScenarioError("CAMERA is empty: give the address the client uses for the camera")
    if "://" in text:
        return _from_url(text)
    host = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    _check_host(host, text)
    return CameraTarget(host)


def _from_url(text: str) -> CameraTarget:
    parts = urlsplit(text)
    if parts.scheme.lower() != "rtsp":
        raise ScenarioError(f"CAMERA {_shown(text)!r}: only rtsp:// URLs are understood")
    try:
        port = parts.port
    except ValueError:
        raise ScenarioError(
            f"CAMERA {_shown(text)!r}: the port is not a number within 1-65535"
        ) from None
    host = parts.hostname
    if not host:
        raise ScenarioError(f"CAMERA {_shown(text)!r}: no host in the URL")
    _check_host(host, text)
    path = parts.path or None
    if path and parts.query:
        path += "?" + parts.query
    return CameraTarget(
        host=host,
        port=port,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        path=path if path and path != "/" else None,
    )


def _check_host(host: str, text: str) -> None:
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    ok = all(label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels)
    if not ok or ":" in host or "/" in host:
        raise ScenarioError(
            f"CAMERA {_shown(text)!r} is not an address, a host name or an rtsp:// URL"
        )


def _shown(text: str) -> str:
    """The CAMERA argument as an error message may show it: without the user info (up to
    the last '@', as urlsplit reads it) and secret query values (found by tests/robustness:
    a mistyped port printed the password)."""
    scheme, sep, rest = text.partition("://")
    if sep:
        authority, slash, path = rest.partition("/")
        if "@" in authority:
            authority = "***@" + authority.rpartition("@")[2]
        text = f"{scheme}{sep}{authority}{slash}{path}"
    return redact_text(text)
