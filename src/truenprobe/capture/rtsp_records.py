"""RTSP conversations read from a capture -> RtspReply, MediaRequest and InterleavedArrival.

The same records the live prober writes for its own session: each request with its
answer (paired by CSeq), each SETUP as a media request with what the camera granted,
PLAY times, and the RTP that came back inside the connection in TCP mode.

One difference from a live session: real clients send a request without credentials
first, receive 401 with a Digest challenge, and repeat it with an Authorization
header. That challenge is protocol mechanics, not a refusal, and the prober's own
RTSP client never reports it either; it is left out when the client retried with
credentials, so the retry's answer (accepted, or 401: wrong credentials) speaks.
A 401 with no retry stays: the client had no credentials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from truenprobe.capture.layers import address_text
from truenprobe.capture.media import KIND_RTCP, KIND_RTP, MediaStats
from truenprobe.capture.rtsp_flow import Conversation, SeenRequest, SeenResponse
from truenprobe.observations import (
    CameraFeedback,
    InterleavedArrival,
    MediaRequest,
    Record,
    RtspReply,
)
from truenprobe.plan.model import Media, PortRange
from truenprobe.report.redact import redact_text
from truenprobe.rtsp import (
    FieldError,
    SdpError,
    TransportError,
    TransportSpec,
    parse_parameters,
    parse_sdp,
    parse_session,
    parse_transport,
    resolve_control,
)

Clock = Callable[[float | None], float | None]

_SDP_MEDIA = {"video": Media.VIDEO, "audio": Media.AUDIO, "application": Media.METADATA}
# The emulated camera's answer to GET_PARAMETER: RTCP packets it received on its RTCP port
# for the session (DESIGN.md's camera contract); `check` asks it, and a capture shows it.
RTCP_RECEIVED = "x-truen-rtcp-received"


@dataclass
class RtspFacts:
    records: list[Record] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ssrcs: set[int] = field(default_factory=set)  # SSRCs the camera announced in SETUP answers
    groups: list[tuple[str, PortRange | None]] = field(default_factory=list)  # multicast granted
    server_ports: set[int] = field(default_factory=set)  # the camera's UDP source ports announced


@dataclass
class _Exchange:
    request: SeenRequest
    response: SeenResponse | None
    answer_spec: TransportSpec | None = None
    request_spec: TransportSpec | None = None

    @property
    def status(self) -> int | None:
        return self.response.response.status if self.response else None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def authenticated(self) -> bool:
        return "Authorization" in self.request.request.headers


def _pair(conversation: Conversation) -> list[_Exchange]:
    by_cseq: dict[int, SeenResponse] = {}
    unnumbered: list[SeenResponse] = []
    for seen in conversation.responses:
        cseq = seen.response.cseq
        if cseq is None:
            unnumbered.append(seen)
        else:
            by_cseq.setdefault(cseq, seen)
    exchanges = []
    for asked in conversation.requests:
        cseq = asked.request.cseq
        response = by_cseq.pop(cseq, None) if cseq is not None else None
        if response is None and unnumbered and unnumbered[0].at >= asked.at:
            response = unnumbered.pop(0)
        exchanges.append(_Exchange(asked, response))
    return exchanges


def _spec(value: str | None, notes: list[str], what: str) -> TransportSpec | None:
    if not value:
        return None
    try:
        return parse_transport(value)
    except TransportError as exc:
        notes.append(f"{what} Transport header {value[:80]!r} could not be read: {exc}")
        return None


def _pair_range(pair: tuple[int, int] | None) -> PortRange | None:
    return PortRange(pair[0], pair[1]) if pair else None


def _track_media(exchanges: list[_Exchange], notes: list[str]) -> dict[str, Media]:
    """Track URL -> media, from the SDP of a DESCRIBE answer."""
    out: dict[str, Media] = {}
    for ex in exchanges:
        if ex.request.request.method != "DESCRIBE" or not ex.ok or ex.response is None:
            continue
        response = ex.response.response
        base = (
            response.headers.get("Content-Base")
            or response.headers.get("Content-Location")
            or ex.request.request.uri
        )
        try:
            sdp = parse_sdp(response.body.decode("utf-8", errors="replace"))
        except SdpError as exc:
            notes.append(f"the camera's SDP could not be read: {exc}")
            continue
        for m in sdp.media:
            media = _SDP_MEDIA.get(m.kind)
            if media is not None:
                out[resolve_control(base, m.control).rstrip("/")] = media
    return out


def _challenges_answered(exchanges: list[_Exchange]) -> set[int]:
    """Indexes of 401 challenges the client answered by retrying with credentials."""
    skip = set()
    for i, ex in enumerate(exchanges):
        if ex.status != 401 or ex.authenticated:
            continue
        request = ex.request.request
        for later in exchanges[i + 1 :]:
            again = later.request.request
            if again.method == request.method and again.uri == request.uri:
                if later.authenticated:
                    skip.add(i)  # whatever the retry got, this 401 was only the challenge
                break
    return skip


def _session(response: SeenResponse | None) -> str | None:
    if response is None:
        return None
    value = response.response.headers.get("Session")
    if not value:
        return None
    try:
        return parse_session(value).session_id
    except FieldError:
        return value.split(";", 1)[0].strip() or None


def _no_answer(conversation: Conversation, request: SeenRequest, end: float | None) -> str:
    conn = conversation.connection
    if conn.rst_from_server is not None and conn.rst_from_server >= request.at:
        return "the camera reset the connection instead of answering"
    if conn.rst_from_client is not None and conn.rst_from_client >= request.at:
        return "the client reset the connection before an answer came"
    if conversation.lost_bytes:
        return "no answer in the capture (bytes of the connection are missing from it)"
    if end is not None:
        return f"no answer in the {max(end - request.at, 0.0):.1f} s the capture shows after it"
    return "no answer in the capture"


def rtsp_records(conversations: list[Conversation], clock: Clock, end: float | None) -> RtspFacts:
    """Records of every conversation; ``end`` is the time of the capture's last packet.

    Interleaved media is reported whichever side the capture was taken on: it is TCP
    data, so the client's acknowledgements prove it arrived.
    """
    facts = RtspFacts()
    for conversation in conversations:
        _conversation(conversation, clock, facts, end)
    return facts


def _conversation(
    conversation: Conversation, clock: Clock, facts: RtspFacts, end: float | None
) -> None:
    notes = facts.notes
    port = conversation.connection.server_port
    for problem in conversation.problems:
        notes.append(f"RTSP on TCP {port}: {problem}")
    exchanges = _pair(conversation)
    for ex in exchanges:
        headers = ex.request.request.headers
        ex.request_spec = _spec(headers.get("Transport"), notes, "a request's")
        if ex.response is not None:
            ex.answer_spec = _spec(
                ex.response.response.headers.get("Transport"), notes, "an answer's"
            )
    tracks = _track_media(exchanges, notes)
    skipped = _challenges_answered(exchanges)
    channels: dict[int, Media | None] = {}
    session_media_requests: list[tuple[_Exchange, MediaRequest, str | None]] = []

    for i, ex in enumerate(exchanges):
        if i in skipped:
            continue
        request = ex.request.request
        response = ex.response.response if ex.response else None
        spec = ex.answer_spec
        media = tracks.get(request.uri.rstrip("/")) if request.method == "SETUP" else None
        if request.method == "SETUP" and media is None and len(set(tracks.values())) == 1:
            media = next(iter(tracks.values()))
        if spec is not None and spec.ssrc is not None and ex.ok:
            facts.ssrcs.add(spec.ssrc)
        if spec is not None and spec.server_port is not None and ex.ok:
            facts.server_ports.update(spec.server_port)
        if spec is not None and ex.ok and spec.multicast and spec.destination:
            facts.groups.append((spec.destination, _pair_range(spec.port)))
        if spec is not None and ex.ok and spec.interleaved:
            for channel in spec.interleaved:
                channels[channel] = media
        facts.records.append(
            RtspReply(
                method=request.method,
                # Reports quote it: no secret a URL may carry (found by tests/robustness).
                url=redact_text(request.uri),
                status=response.status if response else None,
                reason=response.reason_phrase if response else None,
                at_ms=clock(ex.response.at) if ex.response else None,
                error=None if response else _no_answer(conversation, ex.request, end),
                transport=response.headers.get("Transport") if response else None,
                client_ports=_pair_range(spec.client_port) if spec else None,
                server_ports=_pair_range(spec.server_port) if spec else None,
                destination=spec.destination if spec else None,
                multicast_ports=_pair_range(spec.port) if spec and spec.multicast else None,
                interleaved=spec.interleaved if spec else None,
                ssrc=spec.ssrc if spec else None,
                session=_session(ex.response),
                media=media,
                authenticated=ex.authenticated,
            )
        )
        if request.method == "SETUP":
            asked = ex.request_spec
            mode = "udp"
            if asked is not None and asked.is_tcp:
                mode = "tcp"
            elif asked is not None and asked.multicast:
                mode = "multicast"
            granted = None
            if spec is not None and ex.ok:
                granted = _pair_range(spec.port if spec.multicast else spec.client_port)
            session_media_requests.append(
                (
                    ex,
                    MediaRequest(
                        mode=mode,
                        media=media,
                        client_ports=_pair_range(asked.client_port) if asked else None,
                        accepted=ex.ok,
                        status=ex.status,
                        granted_ports=granted,
                        group=spec.destination if spec and spec.multicast else None,
                        ssrc=spec.ssrc if spec else None,
                    ),
                    _session(ex.response),
                )
            )

    plays = [
        (ex.request.at, ex.response.at, _session_of_request(ex))
        for i, ex in enumerate(exchanges)
        if i not in skipped and ex.request.request.method == "PLAY" and ex.ok and ex.response
    ]
    for ex, media_request, session in session_media_requests:
        played = next(
            (
                answered
                for asked_at, answered, play_session in plays
                if asked_at >= ex.request.at
                and (session is None or play_session is None or play_session == session)
            ),
            None,
        )
        if played is not None and media_request.accepted:
            media_request = _with_play(media_request, clock(played))
        facts.records.append(media_request)

    for channel, stats in sorted(conversation.from_camera.items()):
        facts.records.append(_interleaved(port, channel, stats, channels, facts.ssrcs, clock))
    facts.records.extend(_camera_counts(conversation, exchanges, skipped))


def _camera_counts(
    conversation: Conversation, exchanges: list[_Exchange], skipped: set[int]
) -> list[CameraFeedback]:
    """What the camera said it received on its RTCP port, by the session's server_port."""
    rtcp_port: dict[str, int] = {}
    for ex in exchanges:
        spec = ex.answer_spec
        if ex.request.request.method == "SETUP" and ex.ok and spec and spec.server_port:
            rtcp_port[ex.request.request.uri] = spec.server_port[1]
    counts: dict[int, int] = {}
    for i, ex in enumerate(exchanges):
        if i in skipped or ex.request.request.method != "GET_PARAMETER" or not ex.ok:
            continue
        port = rtcp_port.get(ex.request.request.uri)
        value = (
            parse_parameters(ex.response.response.body).get(RTCP_RECEIVED) if ex.response else None
        )
        if port is not None and value is not None and value.isdigit():
            counts[port] = max(counts.get(port, 0), int(value))
    client = address_text(conversation.connection.client)
    return [CameraFeedback(port, "rtcp", count, client) for port, count in sorted(counts.items())]


def _session_of_request(ex: _Exchange) -> str | None:
    value = ex.request.request.headers.get("Session")
    return value.split(";", 1)[0].strip() if value else None


def _with_play(request: MediaRequest, played_ms: float | None) -> MediaRequest:
    return replace(request, played_at_ms=played_ms)


def _interleaved(
    port: int,
    channel: int,
    stats: MediaStats,
    channels: dict[int, Media | None],
    ssrcs: set[int],
    clock: Clock,
) -> InterleavedArrival:
    kind = stats.kind()
    ssrc = None
    payload_type = None
    if kind == KIND_RTP and (dominant := stats.dominant_ssrc()):
        ssrc, payload_type = dominant[0], dominant[1][1]
    elif kind == KIND_RTCP and stats.rtcp_ssrcs:
        ssrc = max(stats.rtcp_ssrcs, key=lambda s: stats.rtcp_ssrcs[s])
    belongs = kind in (KIND_RTP, KIND_RTCP)
    note = None
    if channels and channel not in channels:
        belongs = False
        note = f"channel {channel} was not granted by any SETUP"
    elif not channels:
        note = "no SETUP for it in the capture (it may have started before the capture)"
    if belongs and ssrcs and ssrc is not None and ssrc not in ssrcs:
        belongs = False
        note = f"SSRC 0x{ssrc:08x} was not announced by the session"
    if kind not in (KIND_RTP, KIND_RTCP):
        note = stats.describe_other()
    return InterleavedArrival(
        port=port,
        channel=channel,
        kind=kind,
        packets=stats.packets,
        bytes=stats.bytes,
        first_ms=clock(stats.first),
        last_ms=clock(stats.last),
        ssrc=ssrc,
        payload_type=payload_type,
        sequence_gaps=stats.gaps if kind == KIND_RTP else 0,
        sender_reports=stats.sender_reports,
        belongs=belongs,
        media=channels.get(channel),
        note=note,
    )
