"""The plan's vocabulary: a site's scenario, the flows it needs and the forwards that carry them.

Everything here is a frozen dataclass with no I/O, so plans can be built, compared
and hashed freely by the prober, the analyzer and the lab.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Client(StrEnum):
    WEB = "web"
    DECODER = "decoder"
    SDK = "sdk"
    VLC = "vlc"


class Protocol(StrEnum):
    VSNM = "vsnm"  # Truen's proprietary protocol on the base port
    RTSP = "rtsp"


class Transport(StrEnum):
    TCP = "tcp"
    UDP = "udp"
    MULTICAST = "multicast"


class Side(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"  # behind an IP sharer


class Stream(StrEnum):
    VIDEO1 = "video1"
    VIDEO1S = "video1s"
    VIDEO1_AUDIO1 = "video1+audio1"
    AUDIO1 = "audio1"
    VIDEO1S_AUDIO1 = "video1s+audio1"

    @property
    def has_video(self) -> bool:
        return self.value.startswith("video")

    @property
    def has_audio(self) -> bool:
        return "audio1" in self.value

    @property
    def path(self) -> str:
        """The RTSP path a Truen camera serves this stream on."""
        return "/" + self.value


class Host(StrEnum):
    """The two ends of every flow; also names the IP sharer in front of each."""

    CAMERA = "camera"
    CLIENT = "client"

    @property
    def other(self) -> Host:
        return Host.CLIENT if self is Host.CAMERA else Host.CAMERA


class Media(StrEnum):
    VIDEO = "video"
    AUDIO = "audio"
    METADATA = "metadata"


class Role(StrEnum):
    """What a flow carries; the prober and the analyzer pick their method by it."""

    HTTP = "http"  # TCP to the camera's HTTP port
    BASE = "base"  # TCP to the base port (proprietary control and, in TCP mode, media)
    RTSP = "rtsp"  # TCP to the RTSP port (control and, in TCP mode, interleaved media)
    RTP = "rtp"  # UDP media from the camera
    RTCP = "rtcp"  # UDP RTCP sender reports from the camera
    RTCP_RETURN = "rtcp-return"  # UDP from the client back to the camera
    VSNM_MEDIA = "vsnm-media"  # UDP media of the proprietary protocol (a range of pairs)
    MULTICAST = "multicast"  # UDP multicast media from the camera


@dataclass(frozen=True, order=True)
class PortRange:
    """An inclusive range of ports, ``[first, last]`` in JSON."""

    first: int
    last: int

    def __post_init__(self) -> None:
        if not (1 <= self.first <= self.last <= 65535):
            raise ValueError(f"bad port range {self.first}-{self.last}")

    @classmethod
    def single(cls, port: int) -> PortRange:
        return cls(port, port)

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.first <= port <= self.last

    def __len__(self) -> int:
        return self.last - self.first + 1

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(range(self.first, self.last + 1))

    def overlaps(self, other: PortRange) -> bool:
        return self.first <= other.last and other.first <= self.last

    def as_list(self) -> list[int]:
        return [self.first, self.last]

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True)
class Scenario:
    """A site: which client, how it talks to the camera, and who sits behind an IP sharer.

    Build one with ``truenprobe.plan.scenario.build_scenario`` (which applies the
    document's defaults and refuses what it does not allow); the constructor trusts
    its arguments.
    """

    client: Client
    protocol: Protocol | None  # None for the web client: it has no choice of protocol
    transport: Transport
    camera_side: Side = Side.PRIVATE
    client_side: Side = Side.PRIVATE
    http_port: int = 80
    base_port: int = 2222
    rtsp_port: int = 554
    stream: Stream = Stream.VIDEO1
    sdk_cameras: int = 1
    client_port: int | None = None
    client_audio_port: int | None = None

    def side(self, host: Host) -> Side:
        return self.camera_side if host is Host.CAMERA else self.client_side

    def is_private(self, host: Host) -> bool:
        return self.side(host) is Side.PRIVATE


@dataclass(frozen=True)
class Flow:
    """One stream of packets the site needs, named uniquely within its plan."""

    name: str
    protocol: str  # "tcp" or "udp"
    source: Host  # who sends the first packet (opens the connection for TCP)
    destination: Host
    ports: PortRange  # destination ports
    purpose: str
    required: bool = True
    supported: bool = True
    role: Role = Role.BASE
    media: Media | None = None
    multicast: bool = False


@dataclass(frozen=True)
class Forward:
    """A port-forwarding rule on the IP sharer in front of ``router``.

    ``serves`` names the flows the rule carries; it is how a failed flow is traced
    back to the rule most likely missing. It is not part of the JSON contract.
    """

    router: Host
    protocol: str
    ports: PortRange
    to: Host
    to_ports: PortRange
    required: bool = True
    serves: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Plan:
    scenario: Scenario
    flows: tuple[Flow, ...]
    forwards: tuple[Forward, ...]
    notes: tuple[str, ...] = ()

    def flow(self, name: str) -> Flow:
        for flow in self.flows:
            if flow.name == name:
                return flow
        raise KeyError(name)

    def forwards_for(self, flow_name: str) -> tuple[Forward, ...]:
        """The forwards that carry this flow, in plan order."""
        return tuple(fw for fw in self.forwards if flow_name in fw.serves)

    def routers(self) -> tuple[Host, ...]:
        """The IP sharers of this site, camera side first."""
        return tuple(h for h in (Host.CAMERA, Host.CLIENT) if self.scenario.is_private(h))
