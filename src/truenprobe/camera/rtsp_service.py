"""What the camera answers to each RTSP request (RFC 2326), given who asked.

``RtspService.handle(request, conn)`` returns the response and performs its side
effects (sessions, senders); the connection adapter (rtsp_conn.py) only moves bytes.
Credentials are checked here and never logged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from truenprobe.camera.catalog import Target, Track, UnknownTarget, parse_target, tracks_of
from truenprobe.camera.config import CameraConfig
from truenprobe.camera.media import Clip, Feed
from truenprobe.camera.ports import connected_sender
from truenprobe.camera.session import Mode, MulticastGroup, Session, SessionTrack, State
from truenprobe.camera.sessions import SessionTable
from truenprobe.camera.sinks import TcpSender, UdpSender
from truenprobe.plan.model import Media, Stream
from truenprobe.rtsp.auth import (
    AuthError,
    DigestChallenge,
    parse_authorization,
    verify_digest,
)
from truenprobe.rtsp.fields import (
    FieldError,
    RtpInfo,
    SessionField,
    format_parameters,
    format_rtp_info,
    parse_parameter_names,
    parse_session,
)
from truenprobe.rtsp.message import Headers, Request, Response, redact_userinfo
from truenprobe.rtsp.sdp import SessionDescription
from truenprobe.rtsp.transport import TransportError, TransportSpec, parse_transports

log = logging.getLogger(__name__)

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
RTCP_RECEIVED = "x-truen-rtcp-received"
NONCE_LIFETIME = 300.0
MAX_NONCES = 4096


@dataclass
class ConnectionInfo:
    """What the service needs to know about the connection a request came on."""

    connection_id: int
    peer_ip: str
    local_ip: str
    transport: asyncio.WriteTransport | None = None  # for interleaved RTP
    channels: set[int] = field(default_factory=set)


@dataclass
class UdpPair:
    rtp: socket.socket
    rtcp: socket.socket
    ports: tuple[int, int]


class Refusal(Exception):
    """Answer the request with this status (and a one-line reason in the body)."""

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class RtspService:
    def __init__(
        self,
        config: CameraConfig,
        clips: dict[str, Clip],
        feeds: dict[str, Feed],
        video_pair: UdpPair,
        audio_pair: UdpPair,
        multicast_socket: socket.socket,
        clock: Callable[[], float],
    ) -> None:
        self.config = config
        self.clips = clips
        self.feeds = feeds
        self.video_pair = video_pair
        self.audio_pair = audio_pair
        self.multicast_socket = multicast_socket
        self.clock = clock
        self.sessions = SessionTable(config.max_sessions)
        self.groups: dict[tuple[Stream, Media], MulticastGroup] = {}
        self._nonces: dict[str, float] = {}
        self.cname = f"truenprobe-{secrets.token_hex(4)}"
        self.auth_failures = 0

    # -- entry point ---------------------------------------------------------------
    def handle(self, request: Request, conn: ConnectionInfo) -> Response:
        cseq = request.headers.get("CSeq")
        try:
            if cseq is None or not cseq.strip().isdigit():
                raise Refusal(400, "CSeq missing or not a number")
            handler = self._handlers().get(request.method)
            if handler is None:
                if request.method in ("ANNOUNCE", "RECORD", "REDIRECT"):
                    raise Refusal(405, f"{request.method} is not allowed on a camera")
                raise Refusal(501, f"{request.method} is not implemented")
            if self.config.user is not None and request.method != "OPTIONS":
                challenge = self._authenticate(request)
                if challenge is not None:
                    response = Response(401, Headers.of(WWW_Authenticate=challenge.to_header()))
                    return self._finish(response, cseq, request, conn)
            response = handler(request, conn)
        except Refusal as refusal:
            headers = Headers.of(Allow=PUBLIC) if refusal.status == 405 else Headers()
            body = (refusal.reason + "\r\n").encode() if refusal.reason else b""
            if body:
                headers = headers.with_("Content-Type", "text/plain")
            response = Response(refusal.status, headers, body)
        return self._finish(response, cseq, request, conn)

    def _finish(
        self, response: Response, cseq: str | None, request: Request, conn: ConnectionInfo
    ) -> Response:
        headers = Headers.of(CSeq=cseq) if cseq is not None else Headers()
        headers = Headers((*headers.items, ("Server", self.config.model), *response.headers.items))
        uri = redact_userinfo(request.uri)  # credentials are never logged
        log.info("%s %s %s -> %d", conn.peer_ip, request.method, uri, response.status)
        return Response(response.status, headers, response.body, response.reason)

    def _handlers(self) -> dict[str, Callable[[Request, ConnectionInfo], Response]]:
        return {
            "OPTIONS": self._options,
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._play,
            "PAUSE": self._pause,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": self._get_parameter,
            "SET_PARAMETER": self._set_parameter,
        }

    # -- authentication ------------------------------------------------------------
    def new_nonce(self) -> str:
        now = self.clock()
        if len(self._nonces) >= MAX_NONCES:
            self._nonces = {n: t for n, t in self._nonces.items() if t > now}
            while len(self._nonces) >= MAX_NONCES:
                self._nonces.pop(next(iter(self._nonces)))
        nonce = secrets.token_hex(16)
        self._nonces[nonce] = now + NONCE_LIFETIME
        return nonce

    def _authenticate(self, request: Request) -> DigestChallenge | None:
        """None when the request carries valid credentials; else the challenge to send."""
        header = request.headers.get("Authorization")
        stale = False
        if header is not None:
            try:
                credentials = parse_authorization(header)
            except AuthError:
                credentials = None
            if credentials is not None and verify_digest(
                credentials,
                username=self.config.user or "",
                password=self.config.password or "",
                realm=self.config.realm,
                method=request.method,
            ):
                if self._nonces.get(credentials.nonce, 0.0) > self.clock():
                    return None
                stale = True  # right password, old nonce: the client may retry silently
            self.auth_failures += 1
        return DigestChallenge(realm=self.config.realm, nonce=self.new_nonce(), stale=stale)

    # -- helpers -------------------------------------------------------------------
    def _target(self, request: Request) -> Target:
        try:
            return parse_target(request.uri)
        except UnknownTarget as exc:
            raise Refusal(404, f"no stream at {exc}") from None

    def tracks(self, stream: Stream) -> tuple[Track, ...]:
        return tracks_of(stream, self.config.multicast_ports)

    def _require_session(self, request: Request, conn: ConnectionInfo) -> Session:
        session = self._session(request, conn)
        if session is None:
            raise Refusal(454, "this request needs a Session header")
        return session

    def _session(self, request: Request, conn: ConnectionInfo) -> Session | None:
        value = request.headers.get("Session")
        if value is None:
            return None
        try:
            session_id = parse_session(value).session_id
        except FieldError:
            raise Refusal(400, "malformed Session header") from None
        session = self.sessions.get(session_id)
        if session is None or session.client_ip != conn.peer_ip:
            raise Refusal(454, f"no session {session_id}")
        session.touch(self.clock())
        return session

    def _session_header(self, session: Session) -> Headers:
        return Headers.of(Session=SessionField(session.session_id, session.timeout).to_header())

    @staticmethod
    def _base_url(request: Request, target: Target) -> str:
        url = request.uri.split("?")[0].rstrip("/")
        if target.track is not None:
            url = url.rsplit("/", 1)[0]
        return url

    # -- methods -------------------------------------------------------------------
    def _options(self, request: Request, conn: ConnectionInfo) -> Response:
        if "Session" in request.headers:
            self._session(request, conn)
        return Response(200, Headers.of(Public=PUBLIC))

    def _describe(self, request: Request, conn: ConnectionInfo) -> Response:
        target = self._target(request)
        if target.track is not None:
            raise Refusal(404, "DESCRIBE the stream, not one of its tracks")
        group = self.config.multicast_group
        ttl = self.config.multicast_ttl
        media = []
        for track in self.tracks(target.stream):
            clip = self.clips[track.feed]
            media.append(
                replace(
                    clip.media,
                    control=track.control,
                    port=track.multicast_port,
                    connection=f"IN IP4 {group}/{ttl}",
                )
            )
        sdp = SessionDescription(
            media=tuple(media),
            origin_address=conn.local_ip,
            session_id=secrets.randbits(31),
            session_name=f"{self.config.model} {target.stream.value}",
            attributes=("range:npt=now-",),
        )
        base = self._base_url(request, target) + "/"
        return Response(
            200,
            Headers.of(Content_Type="application/sdp", Content_Base=base),
            sdp.to_bytes(),
        )

    def _setup(self, request: Request, conn: ConnectionInfo) -> Response:
        target = self._target(request)
        tracks = {t.number: t for t in self.tracks(target.stream)}
        if target.track is None:
            if len(tracks) != 1:
                raise Refusal(459, "SETUP each track (a=control) of this stream")
            target = Target(target.stream, 1)
        track = tracks.get(target.track or 1)
        if track is None:
            raise Refusal(404, f"{target.stream.value} has no track {target.track}")
        header = request.headers.get("Transport")
        if header is None:
            raise Refusal(400, "SETUP needs a Transport header")
        try:
            offers = parse_transports(header)
        except TransportError as exc:
            raise Refusal(461, str(exc)) from None
        session = self._session(request, conn)
        if session is not None:
            if session.stream is not target.stream:
                raise Refusal(459, "a session serves one stream; SETUP it in a new session")
            if session.state is State.PLAYING and track.number not in session.tracks:
                raise Refusal(455, "PAUSE before adding a track to a playing session")
        elif self.sessions.full:
            raise Refusal(503, f"already serving {self.sessions.max_sessions} sessions")
        session_track = self._choose_transport(offers, target.stream, track, conn)
        if session is None:
            session = Session(
                Session.new_id(),
                target.stream,
                conn.peer_ip,
                self.config.session_timeout,
                self.clock(),
                conn.connection_id,
            )
            self.sessions.add(session)
        old = session.tracks.get(track.number)
        if old is not None:
            self._release(old, conn)
        session.tracks[track.number] = session_track
        if session_track.mode is Mode.TCP and session_track.transport.interleaved:
            pair = session_track.transport.interleaved
            session.on_close.append(lambda: conn.channels.difference_update(pair))
        headers = self._session_header(session).with_(
            "Transport", session_track.transport.to_header()
        )
        return Response(200, headers)

    def _release(self, old: SessionTrack, conn: ConnectionInfo) -> None:
        if old.sender is not None:
            old.feed.unsubscribe(old.sender)
            old.sender.close()
        if old.transport.interleaved:
            conn.channels.difference_update(old.transport.interleaved)

    def _choose_transport(
        self,
        offers: tuple[TransportSpec, ...],
        stream: Stream,
        track: Track,
        conn: ConnectionInfo,
    ) -> SessionTrack:
        reasons = []
        feed = self.feeds[track.feed]
        clip = self.clips[track.feed]
        for offer in offers:
            if offer.profile != "RTP/AVP":
                reasons.append(f"profile {offer.profile} is not offered")
            elif offer.mode not in (None, "PLAY"):
                reasons.append(f"mode {offer.mode} is not offered (the camera only plays)")
            elif offer.multicast:
                return self._multicast_track(stream, track, feed, clip)
            elif offer.is_tcp:
                if conn.transport is None:
                    reasons.append("interleaved transport needs the RTSP connection")
                    continue
                channels = self._channels(offer.interleaved, conn)
                sender = TcpSender(clip, self.cname, conn.transport, channels[0])
                reply = TransportSpec(
                    lower="TCP", interleaved=channels, ssrc=sender.ssrc, mode="PLAY"
                )
                return SessionTrack(track, Mode.TCP, reply, feed, sender=sender)
            elif offer.client_port is None:
                reasons.append("UDP unicast needs client_port=")
            elif offer.destination not in (None, conn.peer_ip):
                # Never send media where the requester is not: no traffic reflection.
                reasons.append(
                    f"destination={offer.destination} is not your address {conn.peer_ip}"
                )
            else:
                return self._unicast_track(offer, track, feed, clip, conn)
        raise Refusal(461, "; ".join(reasons) or "no transport offered")

    def _unicast_track(
        self, offer: TransportSpec, track: Track, feed: Feed, clip: Clip, conn: ConnectionInfo
    ) -> SessionTrack:
        pair = self.audio_pair if track.media is Media.AUDIO else self.video_pair
        client = offer.client_port or (0, 0)
        rtp_addr, rtcp_addr = (conn.peer_ip, client[0]), (conn.peer_ip, client[1])
        own = connected_sender(self.config.host, pair.ports[0], rtp_addr)
        sender = UdpSender(clip, self.cname, pair.rtp, pair.rtcp, rtp_addr, rtcp_addr, own)
        reply = TransportSpec(
            client_port=client, server_port=pair.ports, ssrc=sender.ssrc, mode="PLAY"
        )
        return SessionTrack(track, Mode.UDP, reply, feed, sender=sender, client_rtcp=rtcp_addr)

    def _multicast_track(
        self, stream: Stream, track: Track, feed: Feed, clip: Clip
    ) -> SessionTrack:
        # A client-chosen group or port is ignored: the camera answers with its own.
        key = (stream, track.media)
        group = self.groups.get(key)
        if group is None:
            destination = (self.config.multicast_group, track.multicast_port)
            rtcp = (self.config.multicast_group, track.multicast_port + 1)
            sender = UdpSender(
                clip, self.cname, self.multicast_socket, self.multicast_socket, destination, rtcp
            )
            group = MulticastGroup(sender, feed, destination)
            self.groups[key] = group
        reply = TransportSpec(
            multicast=True,
            destination=self.config.multicast_group,
            port=(track.multicast_port, track.multicast_port + 1),
            ttl=self.config.multicast_ttl,
            ssrc=group.sender.ssrc,
            mode="PLAY",
        )
        return SessionTrack(track, Mode.MULTICAST, reply, feed, group=group)

    @staticmethod
    def _channels(asked: tuple[int, int] | None, conn: ConnectionInfo) -> tuple[int, int]:
        if asked is not None and not ({asked[0], asked[1]} & conn.channels):
            chosen = asked
        else:
            first = next(c for c in range(0, 255, 2) if not {c, c + 1} & conn.channels)
            chosen = (first, first + 1)
        conn.channels.update(chosen)
        return chosen

    def _aggregate(self, request: Request, session: Session) -> None:
        target = self._target(request)
        if target.stream is not session.stream:
            raise Refusal(404, f"session {session.session_id} plays {session.stream.value}")
        if target.track is not None and len(session.tracks) > 1:
            raise Refusal(460, "use the stream's URL: only aggregate control is offered")

    def _play(self, request: Request, conn: ConnectionInfo) -> Response:
        session = self._require_session(request, conn)
        self._aggregate(request, session)
        target = self._target(request)
        base = self._base_url(request, target)
        session.play()
        info = [
            RtpInfo(
                f"{base}/{t.track.control}",
                t.active_sender.sequence,
                t.active_sender.rtp_timestamp(t.feed.next_timestamp()),
            )
            for t in session.tracks.values()
        ]
        headers = self._session_header(session).with_("Range", "npt=now-")
        return Response(200, headers.with_("RTP-Info", format_rtp_info(info)))

    def _pause(self, request: Request, conn: ConnectionInfo) -> Response:
        session = self._require_session(request, conn)
        self._aggregate(request, session)
        session.pause()
        return Response(200, self._session_header(session))

    def _teardown(self, request: Request, conn: ConnectionInfo) -> Response:
        session = self._require_session(request, conn)
        self.sessions.close(session.session_id)
        return Response(200)

    def rtcp_count(self, conn: ConnectionInfo, session: Session | None) -> int:
        if session is not None:
            return session.rtcp_received
        return self.sessions.rtcp_by_address[conn.peer_ip]

    def _get_parameter(self, request: Request, conn: ConnectionInfo) -> Response:
        session = self._session(request, conn)
        names = parse_parameter_names(request.body)
        headers = self._session_header(session) if session is not None else Headers()
        if not names:
            return Response(200, headers)  # a keepalive
        unknown = [n for n in names if n.lower() != RTCP_RECEIVED]
        if unknown:
            raise Refusal(451, f"unknown parameter {unknown[0]}")
        body = format_parameters({RTCP_RECEIVED: self.rtcp_count(conn, session)})
        return Response(200, headers.with_("Content-Type", "text/parameters"), body)

    def _set_parameter(self, request: Request, conn: ConnectionInfo) -> Response:
        session = self._session(request, conn)
        if request.body.strip():
            raise Refusal(451, "no parameter of this camera can be set")
        return Response(200, self._session_header(session) if session else Headers())
