"""What the camera answers to each RTSP request (RFC 2326), given who asked.

``RtspService.handle(request, conn)`` returns the response and performs its side
effects (sessions, senders); the connection adapter (rtsp_conn.py) only moves bytes.
Credentials are checked here and never logged.
"""

from __future__ import annotations

import logging
import secrets
import socket
from collections.abc import Callable, Mapping
from dataclasses import replace

from truenprobe.camera.catalog import Target, Track, UnknownTarget, parse_target, tracks_of
from truenprobe.camera.config import CameraConfig
from truenprobe.camera.digest_gate import DigestGate
from truenprobe.camera.media import Clip, Feed
from truenprobe.camera.session import Mode, Session, SessionTrack, State
from truenprobe.camera.sessions import SessionTable
from truenprobe.camera.transports import ConnectionInfo, Refusal, TransportChooser, UdpPair
from truenprobe.plan.model import Stream
from truenprobe.report.redact import redact_text
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
from truenprobe.rtsp.transport import TransportError, parse_transports

log = logging.getLogger(__name__)

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
_UNWRITABLE = str.maketrans("", "", "\r\n\0")  # would break a header line
RTCP_RECEIVED = "x-truen-rtcp-received"


class RtspService:
    def __init__(
        self,
        config: CameraConfig,
        clips: Mapping[str, Clip],
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
        self.transports = TransportChooser(
            config,
            clips,
            feeds,
            video_pair,
            audio_pair,
            multicast_socket,
            f"truenprobe-{secrets.token_hex(4)}",
        )
        self.gate = (
            DigestGate(config.user, config.password, config.realm, clock)
            if config.user is not None and config.password is not None
            else None
        )

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
            required = request.headers.get("Require")
            if required is not None:  # RFC 2326 §12.32: no feature extensions are offered
                response = Response(551, Headers.of(Unsupported=required))
                return self._finish(response, cseq, request, conn)
            if self.gate is not None and request.method != "OPTIONS":
                challenge = self.gate.challenge_for(request)
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
        # Found by fuzzing (scripts/fuzz_camera_atheris.py): a bare CR survives the reader
        # inside a value ("CSeq: 1\r5", a host "h\r" in the URL that Content-Base echoes),
        # and Response.to_bytes() then raised out of data_received. Echo only what is sane.
        cseq = cseq.strip() if cseq is not None else None
        echoed = cseq is not None and cseq.isascii() and cseq.isdigit()
        headers = Headers.of(CSeq=cseq) if echoed and cseq is not None else Headers()
        items = [*headers.items, ("Server", self.config.model), *response.headers.items]
        headers = Headers(tuple((name, value.translate(_UNWRITABLE)) for name, value in items))
        uri = redact_text(redact_userinfo(request.uri))  # credentials are never logged
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
        elif self.sessions.count_from(conn.peer_ip) >= self.sessions.per_client:
            raise Refusal(
                503,
                f"{conn.peer_ip} already holds {self.sessions.per_client} sessions, the most "
                "one address may have (half the camera's)",
            )
        session_track = self.transports.choose(offers, target.stream, track, conn)
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
            old.sender.detach(old.feed)
            old.sender.close()
        if old.transport.interleaved:
            conn.channels.difference_update(old.transport.interleaved)

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
                t.active_sender.next_sequence(),
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

    def rtcp_count(
        self, conn: ConnectionInfo, session: Session | None, track: int | None = None
    ) -> int:
        """A session's RTCP (asked on a UDP track's URL: that track's RTCP port only), else
        what came from the asker's address."""
        if session is not None:
            return session.rtcp_count(track)
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
        try:
            track = parse_target(request.uri).track
        except UnknownTarget:
            track = None  # e.g. "*": the whole session's count
        body = format_parameters({RTCP_RECEIVED: self.rtcp_count(conn, session, track)})
        return Response(200, headers.with_("Content-Type", "text/parameters"), body)

    def _set_parameter(self, request: Request, conn: ConnectionInfo) -> Response:
        session = self._session(request, conn)
        if request.body.strip():
            raise Refusal(451, "no parameter of this camera can be set")
        return Response(200, self._session_header(session) if session else Headers())
