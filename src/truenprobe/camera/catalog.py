"""What the camera serves: each RTSP path, its tracks, and their multicast ports.

The multicast ports are the document's (plan.rules.STREAM_MULTICAST_PORTS, the one
copy of that table) unless the configuration overrides one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from truenprobe.plan.model import Media, Stream
from truenprobe.plan.rules import STREAM_MULTICAST_PORTS

# Which clip feeds a track: the primary or secondary video, the audio, the metadata.
FEED_VIDEO1 = "video1"
FEED_VIDEO1S = "video1s"
FEED_AUDIO1 = "audio1"
FEED_METADATA = "metadata"


@dataclass(frozen=True)
class Track:
    number: int  # trackID=N in the SDP's a=control
    media: Media
    feed: str
    multicast_port: int

    @property
    def control(self) -> str:
        return f"trackID={self.number}"


def _feed_for(stream: Stream, media: Media) -> str:
    if media is Media.AUDIO:
        return FEED_AUDIO1
    if media is Media.METADATA:
        return FEED_METADATA
    return FEED_VIDEO1S if stream.value.startswith("video1s") else FEED_VIDEO1


_ORDER = (Media.VIDEO, Media.AUDIO, Media.METADATA)


def tracks_of(
    stream: Stream, overrides: Mapping[Stream, Mapping[Media, int]] | None = None
) -> tuple[Track, ...]:
    ports = dict(STREAM_MULTICAST_PORTS[stream])
    ports.update((overrides or {}).get(stream, {}))
    media = [m for m in _ORDER if m in ports]
    return tuple(Track(n, m, _feed_for(stream, m), ports[m]) for n, m in enumerate(media, start=1))


@dataclass(frozen=True)
class Target:
    """What a request URL names: a stream, and maybe one of its tracks."""

    stream: Stream
    track: int | None  # None: the whole stream (aggregate control)


class UnknownTarget(LookupError):
    """The URL names no stream or track this camera serves."""


def parse_target(url: str) -> Target:
    """``rtsp://h:554/video1+audio1/trackID=2`` -> (video1+audio1, 2)."""
    try:
        path = unquote(urlsplit(url).path if "://" in url else url.split("?")[0])
    except ValueError:  # "rtsp://[::1": urlsplit raised out of the request (tests/robustness)
        raise UnknownTarget("(a URL that cannot be parsed)") from None
    parts = [p for p in path.split("/") if p]
    if not parts:
        raise UnknownTarget(path or "/")
    try:
        stream = Stream(parts[0])
    except ValueError:
        raise UnknownTarget(path) from None
    if len(parts) == 1:
        return Target(stream, None)
    if len(parts) == 2 and parts[1].startswith("trackID="):
        number = parts[1][len("trackID=") :]
        if number.isdigit():
            return Target(stream, int(number))
    raise UnknownTarget(path)
