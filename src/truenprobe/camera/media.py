"""The camera's media: clips packetized once at start, and the feeds that pace them.

Each clip is cut into RTP payloads exactly once (``Frame``); a ``Feed`` walks the
frames in real time, looping, and hands each frame to every subscribed sink. Sinks
only write an RTP header per packet (their own SSRC, sequence and timestamp base),
so an added session costs a header and a send per packet, nothing more.
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import importlib.resources
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from truenprobe.camera.catalog import FEED_AUDIO1, FEED_METADATA, FEED_VIDEO1, FEED_VIDEO1S
from truenprobe.errors import InputFileError
from truenprobe.rtp.h264 import (
    CLOCK_RATE,
    DEFAULT_PAYLOAD_SIZE,
    H264Error,
    access_units,
    packetize_access_unit,
    parameter_sets,
    split_annexb,
)
from truenprobe.rtsp.sdp import SdpMedia, h264_fmtp

log = logging.getLogger(__name__)

PCMU_PAYLOAD_TYPE = 0
PCMU_RATE = 8000
PCMU_PACKET_SAMPLES = 160  # 20 ms
H264_PAYLOAD_TYPE = 96
METADATA_PAYLOAD_TYPE = 107
METADATA_CLOCK = 90_000

# A static ONVIF-style metadata document, sent once a second (the same bytes each time,
# so it is packetized once like the rest).
METADATA_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<tt:MetadataStream xmlns:tt="http://www.onvif.org/ver10/schema">'
    b'<tt:VideoAnalytics><tt:Frame UtcTime="1970-01-01T00:00:00Z">'
    b'<tt:Object ObjectId="0"><tt:Appearance><tt:Shape><tt:BoundingBox left="0.0" top="0.0" '
    b'right="0.1" bottom="0.1"/></tt:Shape></tt:Appearance></tt:Object>'
    b"</tt:Frame></tt:VideoAnalytics></tt:MetadataStream>"
)


class MediaError(InputFileError):
    """A clip that cannot be served (the CLI shows it as one line, exit 2)."""


@dataclass(frozen=True, slots=True)
class Frame:
    offset: int  # RTP timestamp within one pass of the clip, in clock ticks
    payloads: tuple[bytes, ...]
    marker: bool  # set the marker bit on the last payload
    keyframe: bool  # a receiver may start decoding here
    octets: int


@dataclass(frozen=True)
class Clip:
    name: str
    media: SdpMedia  # the SDP section (without control)
    clock_rate: int
    frames: tuple[Frame, ...]
    duration: int  # ticks of one pass; the loop restarts here
    starts_on_keyframe: bool  # video: a new receiver waits for the next keyframe

    @property
    def packets_per_second(self) -> float:
        count = sum(len(f.payloads) for f in self.frames)
        return count * self.clock_rate / self.duration


def _frame(offset: int, payloads: list[bytes], marker: bool, keyframe: bool) -> Frame:
    return Frame(offset, tuple(payloads), marker, keyframe, sum(map(len, payloads)))


def h264_clip(name: str, data: bytes, frame_rate: int, max_payload: int) -> Clip:
    try:
        nals = split_annexb(data)
        params = parameter_sets(nals)
    except H264Error as exc:
        raise MediaError(f"{name}: {exc}") from None
    units = access_units(nals)
    if not units or not units[0].is_keyframe:
        raise MediaError(f"{name}: the clip must start with an IDR picture")
    step = CLOCK_RATE // frame_rate
    frames = tuple(
        _frame(i * step, packetize_access_unit(u, max_payload), True, u.is_keyframe)
        for i, u in enumerate(units)
    )
    sdp = SdpMedia(
        "video",
        H264_PAYLOAD_TYPE,
        f"H264/{CLOCK_RATE}",
        fmtp=h264_fmtp(params.sps, params.pps),
        attributes=(f"framerate:{frame_rate}",),
    )
    return Clip(name, sdp, CLOCK_RATE, frames, len(units) * step, True)


def pcmu_clip(name: str, data: bytes) -> Clip:
    usable = len(data) - len(data) % PCMU_PACKET_SAMPLES
    if usable == 0:
        raise MediaError(f"{name}: shorter than one 20 ms packet")
    frames = tuple(
        _frame(offset, [data[offset : offset + PCMU_PACKET_SAMPLES]], False, True)
        for offset in range(0, usable, PCMU_PACKET_SAMPLES)
    )
    sdp = SdpMedia("audio", PCMU_PAYLOAD_TYPE, f"PCMU/{PCMU_RATE}")
    return Clip(name, sdp, PCMU_RATE, frames, usable, False)


def metadata_clip(max_payload: int) -> Clip:
    chunks = [METADATA_XML[i : i + max_payload] for i in range(0, len(METADATA_XML), max_payload)]
    sdp = SdpMedia("application", METADATA_PAYLOAD_TYPE, f"vnd.onvif.metadata/{METADATA_CLOCK}")
    return Clip(
        FEED_METADATA, sdp, METADATA_CLOCK, (_frame(0, chunks, True, True),), METADATA_CLOCK, False
    )


def _read(media_dir: Path | None, filename: str) -> bytes:
    try:
        if media_dir is not None:
            return (media_dir / filename).read_bytes()
        return (importlib.resources.files("truenprobe") / "media" / filename).read_bytes()
    except OSError as exc:
        where = media_dir or "truenprobe's media"
        raise MediaError(f"cannot read clip {filename} from {where}: {exc.strerror}") from None


@functools.lru_cache(maxsize=8)
def load_clips(
    media_dir: Path | None, frame_rate: int, max_payload: int = DEFAULT_PAYLOAD_SIZE
) -> Mapping[str, Clip]:
    """The four feeds' clips: video1.h264, video1s.h264, audio1.ulaw and the metadata.

    Clips are immutable, so cameras in one process (a fleet in a test) share them.
    """
    where = media_dir or Path("truenprobe/media")
    try:
        return MappingProxyType(
            {
                FEED_VIDEO1: h264_clip(
                    FEED_VIDEO1, _read(media_dir, "video1.h264"), frame_rate, max_payload
                ),
                FEED_VIDEO1S: h264_clip(
                    FEED_VIDEO1S, _read(media_dir, "video1s.h264"), frame_rate, max_payload
                ),
                FEED_AUDIO1: pcmu_clip(FEED_AUDIO1, _read(media_dir, "audio1.ulaw")),
                FEED_METADATA: metadata_clip(max_payload),
            }
        )
    except MediaError as exc:
        if str(exc).startswith("cannot read"):
            raise
        raise MediaError(f"clip in {where}: {exc}") from None


class FrameSink(Protocol):
    """Whoever receives a feed's frames: one track of a session, or a multicast group."""

    def send_frame(self, frame: Frame, timestamp: int, now: float) -> None: ...


class Feed:
    """Paces one clip in real time, forever, and fans each frame out to its sinks."""

    def __init__(self, clip: Clip, loop: asyncio.AbstractEventLoop) -> None:
        self.clip = clip
        self.sinks: set[FrameSink] = set()
        self._loop = loop
        self._index = 0  # frames sent since start, across loops
        self._offsets = [f.offset for f in clip.frames]
        self._start = loop.time()
        self._wake = asyncio.Event()
        self.late_frames = 0  # frames sent more than a frame late (the loop was busy)

    def next_timestamp(self) -> int:
        """The clip timestamp (ticks since start, unwrapped) of the next frame to go out."""
        if not self.sinks:  # idle: the next frame is the current one when someone watches
            return self._ticks(max(self._index, self._current(self._loop.time())))
        return self._ticks(self._index)

    def _current(self, now: float) -> int:
        """The frame whose time it is at ``now`` on the feed's schedule (due, not yet past)."""
        clip = self.clip
        elapsed = max(0.0, now - self._start) * clip.clock_rate
        loops, rest = divmod(elapsed, clip.duration)
        return int(loops) * len(clip.frames) + bisect.bisect_right(self._offsets, rest) - 1

    def _ticks(self, index: int) -> int:
        loops, i = divmod(index, len(self.clip.frames))
        return loops * self.clip.duration + self.clip.frames[i].offset

    def subscribe(self, sink: FrameSink) -> None:
        self.sinks.add(sink)
        self._wake.set()

    def unsubscribe(self, sink: FrameSink) -> None:
        self.sinks.discard(sink)

    async def run(self) -> None:
        clip, loop = self.clip, self._loop
        frames = clip.frames
        count = len(frames)
        self._start = loop.time()
        while True:
            if not self.sinks:
                # Nobody watches: sleep until someone does, then carry on with the frame
                # of that moment. A live camera's encoder runs whether or not anyone
                # watches, so a new viewer lands anywhere in the keyframe interval; picking
                # up where the last viewer left would make its wait depend on who watched
                # before.
                self._wake.clear()
                await self._wake.wait()
                self._index = max(self._index, self._current(loop.time()))
            ticks = self._ticks(self._index)
            due = self._start + ticks / clip.clock_rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -1.0:
                # A stall of over a second (machine suspended, debugger): restart the clock
                # rather than bursting a second of frames.
                self._start -= delay
                self.late_frames += 1
            frame = frames[self._index % count]
            now = loop.time()
            for sink in tuple(self.sinks):
                sink.send_frame(frame, ticks, now)
            self._index += 1


def start_feeds(clips: Iterable[Clip], loop: asyncio.AbstractEventLoop) -> dict[str, Feed]:
    return {clip.name: Feed(clip, loop) for clip in clips}
