"""One RTSP session, driven with aiortsp: DESCRIBE, SETUP every track, PLAY, wait for the
first RTP and RTCP sender report of each, prove the RTCP return flow when asked, and
TEARDOWN whatever happened (failure, timeout, Ctrl-C).

It records facts only (RtspReply, MediaRequest, Limitation, CameraFeedback); the
listeners and books record the media. Several tracks share one RTSP session, each
with its own aiortsp transport subclass (unicast on planned ports, multicast, TCP).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from aiortsp.rtsp.errors import RTSPConnectionError
from aiortsp.rtsp.parser import RTSPResponse
from aiortsp.rtsp.sdp import SDP

from truenprobe.observations import CameraFeedback, Limitation, MediaRequest, RtspReply
from truenprobe.plan.model import Media, PortRange
from truenprobe.probe.datagrams import InterleavedBook
from truenprobe.probe.env import ProbeEnv, SessionOutcome, TrackRequest
from truenprobe.probe.local import is_multicast
from truenprobe.probe.rtsp_client import (
    InterleavedTransport,
    MulticastTransport,
    PlannedPortsTransport,
    ProbeConnection,
    TransportAnswer,
)
from truenprobe.probe.waiting import deadline_in
from truenprobe.report.redact import redact_text
from truenprobe.rtp.packet import (
    ReceiverReport,
    ReportBlock,
    build_receiver_report,
    build_sdes_cname,
)
from truenprobe.rtsp import is_multicast_address, parse_parameters

FEEDBACK_PARAMETER = "x-truen-rtcp-received"
SDP_MEDIA = {Media.VIDEO: "video", Media.AUDIO: "audio", Media.METADATA: "application"}
TEARDOWN_BOUND_S = 2.0


@dataclass
class _Track:
    request: TrackRequest
    transport: PlannedPortsTransport | InterleavedTransport
    setup_url: str = ""
    status: int | None = None
    answer: TransportAnswer | None = None
    played_at_ms: float | None = None
    rtp_port: int | None = None  # where its media arrives (unicast or multicast port)
    rtcp_port: int | None = None
    group: str | None = None
    channel: int | None = None  # interleaved RTP channel


class StreamSession:
    def __init__(
        self, env: ProbeEnv, url: str, tracks: tuple[TrackRequest, ...], name: str
    ) -> None:
        self.env = env
        self.url = url
        self.shown_url = redact_text(url)  # for records: the URL may carry ?password=...
        self.requests = tracks
        self.name = name
        parts = urlsplit(url)
        self.host = parts.hostname or env.camera
        self.port = parts.port or 554
        self.interleaved = InterleavedBook(self.port)
        self.tracks: list[_Track] = []
        self.session_id: str | None = None
        self.conn: ProbeConnection | None = None

    # --- the whole run ---------------------------------------------------------------

    async def run(self) -> SessionOutcome:
        outcome = SessionOutcome()
        try:
            outcome = await self._run()
        finally:
            await self._teardown()
            self._record()
            self.env.progress.pop(self.name, None)
        return outcome

    async def _run(self) -> SessionOutcome:
        env = self.env
        self._say("connecting")
        conn = self.conn = ProbeConnection(
            env.camera,
            self.port,
            clock=env.clock,
            timeout=env.stage_s,
            local_address=env.local_address,
            username=env.username,
            password=env.password,
        )
        try:
            await conn.prepare()
        except RTSPConnectionError as exc:
            why = str(exc.args[0]) if exc.args else "cannot connect"
            conn.replies.append(
                RtspReply(
                    "DESCRIBE",
                    self.shown_url,
                    None,
                    at_ms=env.clock.ms(),
                    error=f"cannot connect: {why}",
                )
            )
            return SessionOutcome(stop=f"cannot connect to RTSP port {self.port}: {why}")

        self._say("DESCRIBE")
        describe = await conn.request("DESCRIBE", self.url, {"Accept": "application/sdp"})
        if describe is None or not _ok(describe):
            return SessionOutcome(stop=_stop_text("DESCRIBE", conn))
        base = _header(describe, "content-base") or _header(describe, "content-location")
        base = base or self.url
        try:
            sdp = SDP(describe.content)
        except (ValueError, AssertionError, UnicodeDecodeError):
            return SessionOutcome(stop="the camera's DESCRIBE answer is not a valid SDP")

        for request in self.requests:
            await self._setup(conn, sdp, base, request)
        ready = [t for t in self.tracks if t.answer is not None]
        if not ready:
            return SessionOutcome(stop=_stop_text("SETUP", conn) or "no track could be set up")

        self._say("PLAY")
        play_url = sdp.mix_url_control(base, sdp.get("attributes", {}).get("control"))
        play = await conn.request("PLAY", play_url, self._session({"Range": "npt=0.000-"}))
        if play is None or not _ok(play):
            return SessionOutcome(stop=_stop_text("PLAY", conn))
        played = round(env.clock.ms(), 1)
        for track in ready:
            track.played_at_ms = played

        await self._wait_for_media(ready)
        await self._prove_return_flows(conn, ready)
        return SessionOutcome(played=True)

    # --- SETUP -----------------------------------------------------------------------

    async def _setup(
        self, conn: ProbeConnection, sdp: SDP, base: str, request: TrackRequest
    ) -> None:
        env = self.env
        described = sdp.get_media(SDP_MEDIA[request.media])
        if described is None:
            for flow in request.flows:
                env.records.append(
                    Limitation(
                        request.client_ports,
                        "udp",
                        f"the camera's SDP for {self.shown_url} has no {request.media.value} track",
                        flow=flow,
                    )
                )
            return
        transport: PlannedPortsTransport | InterleavedTransport
        if request.mode == "tcp":
            transport = InterleavedTransport(conn, self.interleaved, env.clock, env.pulse)
            await transport.prepare()
        elif request.mode == "multicast":
            transport = MulticastTransport(conn, request.client_ports)
        else:
            ports = request.client_ports
            if ports is None or not all(env.listeners.ready(p) for p in (ports.first, ports.last)):
                return  # a port could not be bound: its ListenAttempt says why
            transport = PlannedPortsTransport(conn, ports.first, ports.last)
        track = _Track(request, transport)
        self.tracks.append(track)
        track.setup_url = sdp.mix_url_control(base, described.get("attributes", {}).get("control"))
        headers: dict[str, object] = {}
        transport.on_transport_request(headers)
        self._say(f"SETUP {request.media.value}")
        reply = await conn.request(
            "SETUP", track.setup_url, self._session(headers), None, request.media
        )
        track.status = reply.status if reply is not None else None
        if reply is None or not _ok(reply):
            return
        try:
            transport.on_transport_response(reply.headers)
        except Exception as exc:  # aiortsp raises its own and plain errors here
            env.records.append(Limitation(request.client_ports, "udp", f"SETUP answer: {exc}"))
            return
        track.answer = transport.answer
        if request.mode == "multicast" and track.answer is not None:
            media = {"connection": sdp.get("connection"), **described}  # c= may be session-wide
            track.answer = _multicast_from_sdp(track.answer, media)
        if self.session_id is None:
            session = _header(reply, "session")
            self.session_id = session.split(";")[0].strip() if session else None
        await self._expect(track)

    async def _expect(self, track: _Track) -> None:
        """Tell the listeners and the judge what this track was promised."""
        env = self.env
        answer = track.answer
        if answer is None:
            return
        request = track.request
        if request.mode == "tcp":
            channels = answer.interleaved
            if channels is not None:
                self.interleaved.set_up(request.media, channels[0], channels[1], answer.ssrc)
                track.channel = channels[0]
            return
        if request.mode == "multicast":
            if answer.destination is None or answer.ports is None:
                for flow in request.flows:
                    env.records.append(
                        Limitation(
                            request.client_ports,
                            "udp",
                            "the camera names no multicast group or port, neither in its SETUP "
                            "answer nor in its SDP",
                            flow=flow,
                        )
                    )
                return
            if not is_multicast_address(answer.destination):
                # Found by tests/robustness: joining a unicast "group" failed with EINVAL,
                # which read as a local problem of this host. Nothing can be expected.
                track.answer = None
                for flow in request.flows:
                    env.records.append(
                        Limitation(
                            request.client_ports,
                            "udp",
                            f"the camera answered a multicast SETUP with destination="
                            f"{answer.destination}, which is not a multicast address",
                            flow=flow,
                        )
                    )
                return
            track.group = answer.destination
            track.rtp_port = answer.ports.first
            track.rtcp_port = answer.ports.first + 1
            for port in (track.rtp_port, track.rtcp_port):
                if port <= 65535:
                    await env.listeners.listen_multicast(answer.destination, port)
                    env.expect.multicast_ports.add(port)
            env.expect.announce(track.rtp_port, answer.ssrc, track.rtcp_port)
            return
        pair = request.client_ports
        if pair is None:
            return
        track.rtp_port, track.rtcp_port = pair.first, pair.last
        env.expect.announce(track.rtp_port, answer.ssrc, track.rtcp_port)

    # --- media ------------------------------------------------------------------------

    def _has_media(self, track: _Track) -> bool:
        env = self.env
        if track.request.mode == "tcp":
            return any(
                a.kind == "rtp" and a.belongs and a.channel == track.channel
                for a in self.interleaved.arrivals()
            )
        if track.rtp_port is None:
            return True  # nothing to wait for
        wanted = (track.rtp_port,) if track.rtcp_port is None else (track.rtp_port, track.rtcp_port)
        arrivals = env.book.udp_arrivals(env.expect, wanted)
        rtp = any(a.port == track.rtp_port and a.belongs and a.kind == "rtp" for a in arrivals)
        if not track.request.wait_sender_report or track.request.mode == "multicast":
            return rtp
        sr = any(a.port == track.rtcp_port and a.belongs and a.sender_reports > 0 for a in arrivals)
        return rtp and sr

    async def _wait_for_media(self, tracks: list[_Track]) -> None:
        waiting = ", ".join(
            f"{t.request.media.value} on {t.rtp_port or f'channel {t.channel}'}" for t in tracks
        )
        self._say(f"waiting for {waiting}")
        await self.env.pulse.wait_for(
            lambda: all(self._has_media(t) for t in tracks), deadline_in(self.env.stage_s)
        )

    # --- the client's RTCP toward the camera ----------------------------------------

    async def _prove_return_flows(self, conn: ProbeConnection, tracks: list[_Track]) -> None:
        checks = [t for t in tracks if t.request.return_flow is not None and t.answer is not None]
        for track in checks:
            await self._prove_return_flow(conn, track)

    async def _prove_return_flow(self, conn: ProbeConnection, track: _Track) -> None:
        env = self.env
        flow = track.request.return_flow
        answer = track.answer
        if flow is None or answer is None or track.rtcp_port is None:
            return
        if answer.server_ports is None:
            env.records.append(
                Limitation(
                    flow.ports,
                    "udp",
                    "the camera's SETUP answer names no server_port, so there is no port to send "
                    "RTCP to",
                    flow=flow.name,
                )
            )
            return
        target = answer.server_ports.last
        if target not in flow.ports:
            env.records.append(
                Limitation(
                    flow.ports,
                    "udp",
                    f"the camera takes RTCP on port {target}, not on the planned "
                    f"{flow.ports}: the planned flow cannot be exercised",
                    flow=flow.name,
                )
            )
            return
        avoid = {*flow.ports, *(track.request.client_ports or ())}
        source = await env.listeners.fresh_port(avoid)
        if source is None:
            env.records.append(
                Limitation(
                    flow.ports,
                    "udp",
                    "this host could not bind a UDP port to send RTCP from",
                    flow=flow.name,
                )
            )
            return
        report = _receiver_report(answer.ssrc)
        deadline = deadline_in(env.stage_s)
        loop = asyncio.get_running_loop()
        pause = 0.05
        count: int | None = None
        self._say(f"asking the camera whether RTCP reached its port {target}")
        why = fresh_port_purpose(source, track.rtcp_port)
        while True:
            await env.listeners.send(source, report, (env.camera, target), "rtcp", why)
            count, refusal = await self._camera_count(conn, track)
            if refusal is not None:
                env.records.append(Limitation(flow.ports, "udp", refusal, flow=flow.name))
                return
            if count or loop.time() + pause >= deadline:
                break
            # Waiting for the camera to count what is in flight: bounded, growing steps.
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.5)
        env.records.append(CameraFeedback(target, "rtcp", count or 0, env.local_address))

    async def _camera_count(
        self, conn: ProbeConnection, track: _Track
    ) -> tuple[int | None, str | None]:
        """(count, None), or (None, why the camera cannot tell)."""
        reply = await conn.request(
            "GET_PARAMETER",
            track.setup_url or self.url,
            self._session({"Content-Type": "text/parameters"}),
            f"{FEEDBACK_PARAMETER}\r\n".encode(),
        )
        if reply is None:
            return None, "the camera did not answer GET_PARAMETER"
        if not _ok(reply):
            return None, (
                f"the camera answered {reply.status} {reply.status_msg} to GET_PARAMETER "
                f"{FEEDBACK_PARAMETER}: it cannot report the RTCP it receives"
            )
        count = _parameter(reply, FEEDBACK_PARAMETER)
        if count is None:
            return None, (
                f"the camera does not report {FEEDBACK_PARAMETER} (only truenprobe's emulated "
                "camera does), so RTCP toward it is not observable from the client"
            )
        return count, None

    # --- the end -------------------------------------------------------------------

    async def _teardown(self) -> None:
        conn = self.conn
        if conn is None:
            return
        try:
            if self.session_id is not None and conn.running:
                self._say("TEARDOWN")
                # Bounded and shielded: Ctrl-C or the overall bound must not leave the
                # camera streaming at this host.
                teardown = asyncio.ensure_future(
                    conn.request("TEARDOWN", self.url, self._session({}))
                )
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(teardown), TEARDOWN_BOUND_S)
        finally:
            for track in self.tracks:
                track.transport.close()
            conn.close()

    def _record(self) -> None:
        env = self.env
        if self.conn is not None:
            env.records.extend(self.conn.replies)
            broken = self.conn.protocol_error
            if broken and not any(broken in (r.error or "") for r in self.conn.replies):
                # Garbage between answers (e.g. after PLAY): no request carries the reason.
                env.notes.append(f"the RTSP connection ({self.name}) broke: {broken}")
        env.records.extend(self.interleaved.arrivals())
        for track in self.tracks:
            request = track.request
            answer = track.answer
            granted = None
            if answer is not None:
                granted = answer.ports if request.mode == "multicast" else answer.client_ports
            env.records.append(
                MediaRequest(
                    mode=request.mode,
                    media=request.media,
                    client_ports=request.client_ports,
                    purpose=request.purpose,
                    accepted=answer is not None,
                    status=track.status,
                    played_at_ms=track.played_at_ms,
                    granted_ports=granted,
                    group=answer.destination if answer is not None else None,
                    ssrc=answer.ssrc if answer is not None else None,
                )
            )

    # --- helpers -------------------------------------------------------------------

    def _session(self, headers: dict[str, object]) -> dict[str, object]:
        if self.session_id is not None:
            headers["Session"] = self.session_id
        return headers

    def _say(self, what: str) -> None:
        self.env.progress[self.name] = f"{self.name}: {what}"


def _multicast_from_sdp(answer: TransportAnswer, described: dict[str, Any]) -> TransportAnswer:
    """A camera may name the group and port only in its SDP (c= and m= lines)."""
    group, ports = answer.destination, answer.ports
    if group is None:
        connection = str(described.get("connection") or "").split()
        if len(connection) == 3 and is_multicast(connection[2].split("/")[0]):
            group = connection[2].split("/")[0]
    if ports is None:
        port = described.get("port")
        if isinstance(port, int) and 0 < port < 65535:
            ports = PortRange(port, port + 1)
    return replace(answer, destination=group, ports=ports)


def _ok(reply: RTSPResponse) -> bool:
    return reply.status is not None and 200 <= reply.status < 300


def _header(reply: RTSPResponse, name: str) -> str | None:
    value = (reply.headers or {}).get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def _stop_text(method: str, conn: ProbeConnection) -> str | None:
    for reply in reversed(conn.replies):
        if reply.method != method:
            continue
        if reply.status is None:
            return f"{method} failed: {reply.error}"
        if not 200 <= reply.status < 300:
            return f"the camera answered {reply.status} {reply.reason or ''} to {method}".strip()
    return None


def _parameter(reply: RTSPResponse, name: str) -> int | None:
    values = {k.lower(): v for k, v in parse_parameters(reply.data).items()}
    try:
        return int(values[name])
    except (KeyError, ValueError):
        return None


def fresh_port_purpose(source: int, planned: int) -> str:
    """Why the return flow is sent from a port of its own, for the evidence."""
    return (
        f"RTCP receiver reports sent from UDP {source}, a port the camera never sent to, so "
        f"no IP sharer on the way holds a connection they could pass as replies to: only a "
        f"forward (or a public camera) lets them in. From the planned port {planned} they "
        f"would pass as replies to the camera's own RTCP, forward or not; that port is left "
        f"to the camera's media"
    )


def _receiver_report(camera_ssrc: int | None) -> bytes:
    """A compound RTCP packet as a receiver sends it: RR (+ a block for the camera) and SDES."""
    ours = random.getrandbits(32)
    blocks: tuple[ReportBlock, ...] = ()
    if camera_ssrc is not None:
        blocks = (ReportBlock(camera_ssrc, 0, 0, 0, 0, 0, 0),)
    rr = build_receiver_report(ReceiverReport(ours, blocks))
    return rr + build_sdes_cname(ours, "truenprobe")
