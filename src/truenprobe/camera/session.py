"""RTSP sessions: the tracks a client set up, where their RTP goes, and whether it flows.

A session is READY after its first SETUP and PLAYING between PLAY and PAUSE or
TEARDOWN. Playing subscribes its senders to the shared feeds; a multicast track
instead joins a group sender shared by every session playing that stream.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from truenprobe.camera.catalog import Track
from truenprobe.camera.media import Feed
from truenprobe.camera.sinks import RtpSender, UdpSender
from truenprobe.plan.model import Media, Stream
from truenprobe.rtsp.transport import TransportSpec


class State(Enum):
    READY = "ready"
    PLAYING = "playing"


class Mode(Enum):
    UDP = "udp"
    TCP = "tcp"
    MULTICAST = "multicast"


@dataclass
class MulticastGroup:
    """One stream track sent to a multicast group, shared by the sessions playing it."""

    sender: UdpSender
    feed: Feed
    destination: tuple[str, int]
    listeners: int = 0

    def join(self) -> None:
        if self.listeners == 0:
            self.feed.subscribe(self.sender)
        self.listeners += 1

    def leave(self) -> None:
        self.listeners = max(0, self.listeners - 1)
        if self.listeners == 0:
            self.feed.unsubscribe(self.sender)


@dataclass
class SessionTrack:
    track: Track
    mode: Mode
    transport: TransportSpec  # as answered to the client
    feed: Feed
    sender: RtpSender | None = None  # unicast and TCP: this session's own
    group: MulticastGroup | None = None  # multicast: the shared sender
    client_rtcp: tuple[str, int] | None = None  # UDP: where the client takes RTCP

    @property
    def active_sender(self) -> RtpSender:
        if self.group is not None:
            return self.group.sender
        if self.sender is None:  # every SessionTrack is built with one of the two
            raise RuntimeError("session track without a sender")
        return self.sender


@dataclass
class Session:
    session_id: str
    stream: Stream
    client_ip: str
    timeout: int
    last_activity: float
    connection_id: int  # the RTSP connection that created it
    tracks: dict[int, SessionTrack] = field(default_factory=dict)
    state: State = State.READY
    rtcp_received: int = 0  # RTCP packets from the client on the camera's RTCP server ports
    # ... and per server port they arrived on: a track's own count (video and audio RTCP
    # may each need their own forward).
    rtcp_by_port: Counter[int] = field(default_factory=Counter)
    on_close: list[Callable[[], None]] = field(default_factory=list)

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(8).upper()

    @property
    def is_tcp(self) -> bool:
        return any(t.mode is Mode.TCP for t in self.tracks.values())

    def touch(self, now: float) -> None:
        self.last_activity = now

    def expired(self, now: float) -> bool:
        return now - self.last_activity > self.timeout

    def play(self) -> None:
        if self.state is State.PLAYING:
            return
        for track in self.tracks.values():
            if track.group is not None:
                track.group.join()
            elif track.sender is not None:
                track.sender.attach(track.feed)
        self.state = State.PLAYING

    def pause(self) -> None:
        if self.state is not State.PLAYING:
            return
        for track in self.tracks.values():
            if track.group is not None:
                track.group.leave()
            elif track.sender is not None:
                track.sender.detach(track.feed)
        self.state = State.READY

    def close(self) -> None:
        self.pause()
        for track in self.tracks.values():
            if track.sender is not None:
                track.sender.close()
        for callback in self.on_close:
            callback()
        self.on_close.clear()

    def owns_ssrc(self, ssrc: int) -> bool:
        return any(t.active_sender.ssrc == ssrc for t in self.tracks.values())

    def rtcp_count(self, track_number: int | None) -> int:
        """RTCP from the client: on one UDP track's server RTCP port, else on any."""
        track = self.tracks.get(track_number) if track_number is not None else None
        if track is None or track.mode is not Mode.UDP or track.transport.server_port is None:
            return self.rtcp_received
        return self.rtcp_by_port[track.transport.server_port[1]]

    def media(self) -> list[Media]:
        return [t.track.media for t in self.tracks.values()]
