"""SDP (RFC 4566) for RTSP DESCRIBE: build what a camera announces, read what a client needs.

Only the lines an RTSP session uses: origin, connection, media with their rtpmap,
fmtp and control attributes. ``h264_fmtp`` turns an SPS and PPS into the
``sprop-parameter-sets`` and ``profile-level-id`` of RFC 6184 §8.1.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field


class SdpError(ValueError):
    """A session description that cannot be read."""


@dataclass(frozen=True, slots=True)
class SdpMedia:
    kind: str  # video, audio, application
    payload_type: int
    encoding: str  # rtpmap's "name/clock[/channels]", e.g. "H264/90000"
    control: str | None = None  # a=control (relative or absolute URL)
    port: int = 0  # 0 for RTSP unicast; the multicast port otherwise
    connection: str | None = None  # c= of this media, e.g. "IN IP4 239.1.2.3/16"
    fmtp: str | None = None
    attributes: tuple[str, ...] = ()  # further a= lines, without "a="
    protocol: str = "RTP/AVP"

    @property
    def clock_rate(self) -> int | None:
        parts = self.encoding.split("/")
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@dataclass(frozen=True, slots=True)
class SessionDescription:
    media: tuple[SdpMedia, ...]
    origin_address: str = "0.0.0.0"
    session_id: int = 0
    session_version: int = 0
    session_name: str = "-"
    connection: str | None = "IN IP4 0.0.0.0"
    control: str | None = "*"
    attributes: tuple[str, ...] = field(default=())

    def to_text(self) -> str:
        family = "IP6" if ":" in self.origin_address else "IP4"
        lines = [
            "v=0",
            f"o=- {self.session_id} {self.session_version} IN {family} {self.origin_address}",
            f"s={self.session_name}",
        ]
        if self.connection:
            lines.append(f"c={self.connection}")
        lines.append("t=0 0")
        if self.control:
            lines.append(f"a=control:{self.control}")
        lines += [f"a={a}" for a in self.attributes]
        for m in self.media:
            lines.append(f"m={m.kind} {m.port} {m.protocol} {m.payload_type}")
            if m.connection:
                lines.append(f"c={m.connection}")
            lines.append(f"a=rtpmap:{m.payload_type} {m.encoding}")
            if m.fmtp:
                lines.append(f"a=fmtp:{m.payload_type} {m.fmtp}")
            lines += [f"a={a}" for a in m.attributes]
            if m.control:
                lines.append(f"a=control:{m.control}")
        return "\r\n".join(lines) + "\r\n"

    def to_bytes(self) -> bytes:
        return self.to_text().encode("utf-8")


def h264_fmtp(sps: bytes, pps: bytes, packetization_mode: int = 1) -> str:
    """``a=fmtp`` parameters for H.264 from its SPS and PPS NAL units (with their NAL header)."""
    if len(sps) < 4:
        raise SdpError("an SPS needs at least 4 bytes")
    profile_level_id = sps[1:4].hex().upper()
    sprop = ",".join(base64.b64encode(n).decode("ascii") for n in (sps, pps))
    return (
        f"packetization-mode={packetization_mode};profile-level-id={profile_level_id};"
        f"sprop-parameter-sets={sprop}"
    )


@dataclass
class _MediaDraft:
    kind: str
    port: int
    protocol: str
    payload_type: int
    encoding: str = ""
    control: str | None = None
    connection: str | None = None
    fmtp: str | None = None
    attributes: list[str] = field(default_factory=list)

    def freeze(self) -> SdpMedia:
        return SdpMedia(
            kind=self.kind,
            payload_type=self.payload_type,
            encoding=self.encoding,
            control=self.control,
            port=self.port,
            connection=self.connection,
            fmtp=self.fmtp,
            attributes=tuple(self.attributes),
            protocol=self.protocol,
        )


def parse_sdp(text: str) -> SessionDescription:
    """The media sections of an SDP, with their control, rtpmap, fmtp and connection."""
    connection: str | None = None
    control: str | None = None
    origin = ("0.0.0.0", 0, 0)
    name = "-"
    media: list[_MediaDraft] = []
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "o":
            parts = value.split()
            if len(parts) >= 6:
                try:
                    origin = (parts[5], int(parts[1]), int(parts[2]))
                except ValueError:
                    raise SdpError(f"malformed origin {value!r}") from None
        elif kind == "s":
            name = value
        elif kind == "c":
            if media:
                media[-1].connection = value
            else:
                connection = value
        elif kind == "m":
            parts = value.split()
            port = parts[1].split("/")[0] if len(parts) >= 4 else ""
            if not port.isdigit():
                raise SdpError(f"malformed media line {value!r}")
            pt = int(parts[3]) if parts[3].isdigit() else -1
            media.append(_MediaDraft(parts[0], int(port), parts[2], pt))
        elif kind == "a":
            key, _, val = value.partition(":")
            if not media:
                if key == "control":
                    control = val
            elif key == "rtpmap":
                media[-1].encoding = val.partition(" ")[2].strip()
            elif key == "fmtp":
                media[-1].fmtp = val.partition(" ")[2].strip()
            elif key == "control":
                media[-1].control = val
            else:
                media[-1].attributes.append(value)
    return SessionDescription(
        media=tuple(m.freeze() for m in media),
        origin_address=origin[0],
        session_id=origin[1],
        session_version=origin[2],
        session_name=name,
        connection=connection,
        control=control,
    )


def resolve_control(base: str, control: str | None) -> str:
    """The absolute URL of a track: RFC 2326 §C.1.1 relative to the Content-Base."""
    if control is None or control == "*":
        return base
    if "://" in control:
        return control
    return base.rstrip("/") + "/" + control.lstrip("/")
