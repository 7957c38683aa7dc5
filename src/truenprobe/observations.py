"""Observations: what was seen on the wire, whoever saw it.

The live prober and the capture analyzer both produce these records and nothing
else; ``verdict.compare(plan, observations)`` judges them. A record states a fact
("a SYN to 554 was answered with RST", "RTP from 203.0.113.5:554 SSRC 0x1234 arrived
on 554") and never a verdict: deciding which planned flow passed, failed or could
not be tested is compare()'s job alone.

Times are milliseconds relative to ``Observations.started`` (the start of the probe,
or the first packet of a capture), so records from either source compare alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeVar

from truenprobe.plan.model import Media, PortRange


class Vantage(StrEnum):
    """Where the evidence was gathered."""

    CLIENT = "client"  # the live prober, or a capture taken on the client's side
    CAMERA = "camera"  # a capture taken on the camera's side
    UNKNOWN = "unknown"


class TcpOutcome(StrEnum):
    OPEN = "open"  # handshake completed
    REFUSED = "refused"  # answered with RST
    TIMEOUT = "timeout"  # no answer within the bound (SYN dropped somewhere)
    UNREACHABLE = "unreachable"  # ICMP unreachable / no route
    ERROR = "error"  # anything else, see detail


@dataclass(frozen=True)
class TcpAttempt:
    """One TCP connection attempt from the client to the camera."""

    port: int  # destination port, as the client addressed it
    outcome: TcpOutcome
    connect_ms: float | None = None  # SYN to SYN-ACK
    greeting: str | None = None  # first line of the answer to GET / or OPTIONS, when sent
    detail: str | None = None  # e.g. "SYN sent 4 times", "errno 113: no route to host"
    # GET / or OPTIONS was sent on the open connection and got no answer: why (e.g. "did
    # not answer OPTIONS within 5 s"). None when nothing was asked or it was answered.
    unanswered: str | None = None


@dataclass(frozen=True)
class RtspReply:
    """One RTSP request and its answer (or why there was none)."""

    method: str
    url: str
    status: int | None  # None: no valid answer
    reason: str | None = None
    at_ms: float | None = None  # when the answer arrived
    error: str | None = None  # "timed out", "not RTSP: SSH banner", "connection reset", ...
    # Parsed from a SETUP answer: what the camera agreed to send, and from where.
    transport: str | None = None
    client_ports: PortRange | None = None
    server_ports: PortRange | None = None
    destination: str | None = None  # multicast group (or unicast destination) granted
    multicast_ports: PortRange | None = None  # port= of a multicast SETUP answer
    interleaved: tuple[int, int] | None = None
    ssrc: int | None = None
    session: str | None = None
    media: Media | None = None  # which track this SETUP was for
    # The request carried credentials (an Authorization header): tells "401, none given"
    # from "401, the credentials were rejected".
    authenticated: bool = False


@dataclass(frozen=True)
class MediaRequest:
    """The client asked the camera to send media somewhere (a SETUP it sent).

    Recorded whatever the answer, so compare() can tell "never asked" (skipped) from
    "asked, accepted, nothing arrived" (failed).
    """

    mode: str  # "udp", "multicast", "tcp", or "token" (ports a `truenprobe send` announced)
    media: Media | None
    client_ports: PortRange | None = None  # what the client asked for (client_port=)
    purpose: str | None = None  # e.g. "traffic generator for vsnm-media 4333-4334"
    accepted: bool = False  # a 2xx answer came back
    status: int | None = None
    played_at_ms: float | None = None  # when PLAY was answered 2xx
    # What the camera granted in its SETUP answer, so the request stands on its own:
    # unicast, the client_port it echoed; multicast, its group and port=.
    granted_ports: PortRange | None = None
    group: str | None = None
    ssrc: int | None = None  # the SSRC the camera announced for this track, if any


@dataclass(frozen=True)
class UdpArrival:
    """Datagrams that arrived on one local port from one source, aggregated.

    ``belongs`` is True only for valid RTP/RTCP from the camera's address with an SSRC
    the session announced (or, for ``kind="token"``, a test datagram with our token).
    Anything else is foreign and never counts as a pass.
    """

    port: int  # where it arrived (destination port)
    source: str  # source address
    source_port: int
    kind: str  # "rtp", "rtcp", "token" or "other"
    packets: int
    bytes: int
    first_ms: float | None = None
    last_ms: float | None = None
    group: str | None = None  # multicast group it was sent to
    ssrc: int | None = None
    payload_type: int | None = None
    sequence_gaps: int = 0  # missing sequence numbers (RTP)
    sender_reports: int = 0  # RTCP SR count (RTCP)
    belongs: bool = False
    note: str | None = None  # e.g. "SSRC 0x12 not announced by the session"


@dataclass(frozen=True)
class InterleavedArrival:
    """RTP/RTCP that arrived inside the RTSP TCP connection (TCP mode), per channel.

    The same facts as ``UdpArrival``; ``port`` is the camera's RTSP port the connection
    went to, ``channel`` the interleaved channel number.
    """

    port: int
    channel: int
    kind: str  # "rtp", "rtcp" or "other"
    packets: int
    bytes: int
    first_ms: float | None = None
    last_ms: float | None = None
    ssrc: int | None = None
    payload_type: int | None = None
    sequence_gaps: int = 0
    sender_reports: int = 0
    belongs: bool = False
    media: Media | None = None
    note: str | None = None


@dataclass(frozen=True)
class UdpSent:
    """Datagrams the client sent toward the camera (e.g. RTCP receiver reports to R+1).

    Besides proving a client-to-camera flow was exercised, it matters for the flows the
    other way: a datagram sent from a local port can open a NAT pinhole for the answer,
    so traffic arriving on that port afterwards no longer proves a forward.
    """

    port: int  # destination port on the camera
    source_port: int  # local port it was sent from
    kind: str  # "rtcp" (receiver reports), "token" or "other"
    packets: int
    first_ms: float | None = None
    destination: str | None = None  # the camera's address as addressed
    error: str | None = None  # e.g. "ICMP port unreachable" reported for it
    # How and why it was sent this way, in words (e.g. "from a fresh port the camera never
    # sent to, so only a forward lets it in"); None for plain traffic.
    purpose: str | None = None


@dataclass(frozen=True)
class ListenAttempt:
    """Whether the client could listen on a UDP port at all."""

    port: int
    ok: bool
    error: str | None = None  # "in use", "needs root or CAP_NET_BIND_SERVICE", ...
    address: str | None = None  # local address bound
    group: str | None = None  # multicast group joined


@dataclass(frozen=True)
class MulticastJoin:
    """An IGMP/MLD membership report (captures) or a join by the prober."""

    group: str
    at_ms: float | None = None
    source: str | None = None


@dataclass(frozen=True)
class CameraFeedback:
    """Something the camera itself reported about traffic it received.

    Flows toward the camera (e.g. the decoder's RTCP receiver reports to R+1) cannot
    be seen from the client; the emulated camera answers a GET_PARAMETER about them,
    and a camera-side capture sees them directly.
    """

    port: int
    kind: str  # "rtcp-rr" (receiver reports) or "udp"
    packets: int
    source: str | None = None


@dataclass(frozen=True)
class Limitation:
    """Evidence could not be gathered for a reason outside the site's routers.

    E.g. "the camera's RTSP port is not reachable, so the camera cannot be used as a
    traffic generator for the VSNM range", or "capture taken behind the camera's IP
    sharer cannot show the client-side forward".
    """

    ports: PortRange | None
    protocol: str | None  # "tcp" / "udp" / None for all
    reason: str
    # The planned flow it concerns, when exactly one: ports alone cannot tell the
    # camera's RTCP to R+1 from the client's RTCP to R+1.
    flow: str | None = None


Record = (
    TcpAttempt
    | RtspReply
    | MediaRequest
    | UdpArrival
    | InterleavedArrival
    | UdpSent
    | ListenAttempt
    | MulticastJoin
    | CameraFeedback
    | Limitation
)


R = TypeVar("R")


@dataclass(frozen=True)
class Observations:
    camera: str  # the address the client used for the camera
    vantage: Vantage = Vantage.CLIENT
    client: str | None = None  # the client's own address, when known
    records: tuple[Record, ...] = ()
    duration_ms: float = 0.0
    source: str = "probe"  # "probe", "capture:<file>", "listen-only"
    notes: tuple[str, ...] = field(default=())

    def of(self, kind: type[R]) -> list[R]:
        """The records of one kind, in the order they were observed."""
        return [r for r in self.records if isinstance(r, kind)]
