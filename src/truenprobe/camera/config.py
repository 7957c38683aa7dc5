"""What the emulated camera is told: addresses, ports, credentials, limits.

Every port may be 0 ("pick a free one"); ``EmulatedCamera`` reports the ports it got.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from truenprobe.errors import TruenprobeError
from truenprobe.plan.model import Media, Stream

DEFAULT_MULTICAST_GROUP = "239.192.0.10"  # organisation-local scope (RFC 2365)
AUDIO_PORT_OFFSET = 20  # the document: audio RTP on R+20 (574 = 554 + 20)


class CameraConfigError(TruenprobeError):
    """An emulated-camera option that cannot work."""


@dataclass(frozen=True)
class CameraConfig:
    host: str = "0.0.0.0"
    http_port: int = 80
    base_port: int = 2222
    rtsp_port: int = 554
    # UDP unicast source ports: RTP on the first, RTCP on the second. None: R..R+1 like a
    # Truen camera (the document's RTCP forward to camera:R+1 relies on it). Audio is
    # sent from first+20..first+21, the document's audio ports.
    server_ports: tuple[int, int] | None = None
    # Audio's own pair instead of the video pair + 20: a VLC-type player's camera-side
    # forwards ("yyyy~yyyy+1 -> camera IP/yyyy~yyyy+1") have the camera use the player's
    # audio port numbers, which need not be the video ones + 20.
    server_audio_ports: tuple[int, int] | None = None
    multicast_group: str = DEFAULT_MULTICAST_GROUP
    multicast_ttl: int = 16
    # Override the document's multicast port of a stream's track, e.g. to rehearse
    # "the camera streams to the wrong multicast port": {Stream.VIDEO1: {Media.VIDEO: 64710}}.
    multicast_ports: Mapping[Stream, Mapping[Media, int]] = field(default_factory=dict)
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    realm: str = "Truen emulated camera"
    session_timeout: int = 60  # seconds, announced in the Session header
    idle_timeout: float = 60.0  # seconds a connection without a session may stay silent
    max_connections: int = 512  # per listener; the longest-idle one is closed to admit more
    max_sessions: int = 256
    media_dir: Path | None = None  # None: the clips shipped with truenprobe
    frame_rate: int = 15  # of the video clips (scripts/make_media.sh)
    model: str = "Truen emulated camera (truenprobe)"

    def __post_init__(self) -> None:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            raise CameraConfigError(f"--host {self.host!r} is not an IP address") from None
        for name in ("http_port", "base_port", "rtsp_port"):
            port = getattr(self, name)
            if not 0 <= port <= 65535:
                option = "--" + name.replace("_", "-")
                raise CameraConfigError(f"{option} {port} is not a port (0-65535, 0 = any free)")
        if self.server_ports is not None:
            first, second = self.server_ports
            if not (1 <= first <= 65535 - AUDIO_PORT_OFFSET - 1 and second == first + 1):
                raise CameraConfigError(
                    f"--server-port {first} must leave room for RTCP and audio "
                    f"(1-{65535 - AUDIO_PORT_OFFSET - 1})"
                )
        if self.server_audio_ports is not None:
            first, second = self.server_audio_ports
            if not (1 <= first <= 65534 and second == first + 1):
                raise CameraConfigError(f"--server-audio-port {first} must be 1-65534")
            video = self.server_ports[0] if self.server_ports else None
            if video is not None and abs(first - video) < 2:
                raise CameraConfigError(
                    f"--server-audio-port {first} overlaps --server-port {video}: each uses two"
                )
        try:
            group = ipaddress.ip_address(self.multicast_group)
        except ValueError:
            group = None
        if group is None or not group.is_multicast or group.version != 4:
            raise CameraConfigError(
                f"--multicast-group {self.multicast_group!r} is not an IPv4 multicast address"
            )
        if not 1 <= self.multicast_ttl <= 255:
            raise CameraConfigError(f"--multicast-ttl {self.multicast_ttl} is not 1-255")
        for stream, ports in self.multicast_ports.items():
            for media, port in ports.items():
                if not 1 <= port <= 65534:
                    raise CameraConfigError(
                        f"--multicast-port {stream.value}/{media.value}={port} is not 1-65534"
                    )
        if (self.user is None) != (self.password is None):
            raise CameraConfigError("--user and --password go together")
        if self.session_timeout < 1 or self.idle_timeout <= 0:
            raise CameraConfigError("timeouts must be positive (the session timeout at least 1 s)")
        if self.max_connections < 1 or self.max_sessions < 1:
            raise CameraConfigError("connection and session limits must be at least 1")
