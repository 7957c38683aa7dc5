"""What one probe run shares, and what a session is asked and answers (no aiortsp here,
so a TCP-only check never loads it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from truenprobe.observations import Record
from truenprobe.plan.model import Flow, Media, PortRange
from truenprobe.probe.datagrams import ArrivalBook, Expectations
from truenprobe.probe.listeners import Listeners
from truenprobe.probe.waiting import Clock, Pulse


@dataclass(frozen=True)
class TrackRequest:
    """One track to SETUP, and how."""

    media: Media
    mode: str  # "udp", "multicast" or "tcp"
    client_ports: PortRange | None = None  # udp: the plan's pair; multicast: a port to ask for
    purpose: str | None = None
    flows: tuple[str, ...] = ()  # planned flows this track exercises (names Limitations)
    return_flow: Flow | None = None  # client -> camera RTCP flow to prove, if any
    wait_sender_report: bool = True


@dataclass
class ProbeEnv:
    """What every check of one probe run shares."""

    camera: str  # the camera's address (IP) as the client reaches it
    clock: Clock
    stage_s: float  # bound of each stage (connect, each request, the media wait)
    listeners: Listeners
    book: ArrivalBook
    expect: Expectations
    pulse: Pulse
    records: list[Record] = field(default_factory=list)
    local_address: str | None = None
    username: str | None = None
    password: str | None = None
    progress: dict[str, str] = field(default_factory=dict)  # task -> what it waits for
    notes: list[str] = field(default_factory=list)  # for Observations.notes (findings)


@dataclass
class SessionOutcome:
    """How far the session got, for callers that turn a stop into a Limitation."""

    played: bool = False
    stop: str | None = None  # why it stopped before PLAY, in words
