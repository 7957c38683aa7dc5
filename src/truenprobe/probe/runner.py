"""Run every check of a plan concurrently, within bounds, and return the Observations.

- TCP: a connect to every TCP flow's port (``GET /`` on HTTP, ``OPTIONS`` on RTSP).
- RTSP plans: one session with every track of the stream, on the plan's client ports
  (UDP), multicast, or interleaved (TCP).
- VSNM plans: Truen's protocol cannot be triggered, so the camera's RTSP server is the
  traffic generator: SETUP with client_port inside the range under test.
- ``--listen-only``: no session; listen on the planned ports and report what arrives.

Each stage waits at most ``stage_s``; the whole run is bounded by ``overall_bound()``.
Cancellation (the overall bound, Ctrl-C) still runs every TEARDOWN.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from truenprobe.observations import (
    Limitation,
    MediaRequest,
    Observations,
    Record,
    Vantage,
)
from truenprobe.plan.model import Flow, Host, Media, Plan, PortRange, Protocol, Role, Transport
from truenprobe.plan.words import ROUTER_NAME, host_name, ports_text
from truenprobe.probe.datagrams import ArrivalBook, Expectations
from truenprobe.probe.env import ProbeEnv, SessionOutcome, TrackRequest
from truenprobe.probe.hairpin import detect_nat_loopback, is_public, worth_probing
from truenprobe.probe.listeners import Listeners
from truenprobe.probe.local import local_address_toward, resolve_camera
from truenprobe.probe.tcp import Greeting, probe_tcp
from truenprobe.probe.waiting import Clock, Pulse, deadline_in

NAT_LOOPBACK_WAIT_S = 1.0  # the TTL-1 SYN's bound; a gateway answers in milliseconds
GENERATOR_SESSIONS = 8  # concurrent RTSP sessions of a --sweep (cameras limit their clients)
TEARDOWN_GRACE_S = 2.5
GREETINGS = {Role.HTTP: Greeting.HTTP, Role.RTSP: Greeting.RTSP}
OWN_PORT = "own port: "  # marks a generator stop that is the camera's port choice


@dataclass(frozen=True)
class CheckRequest:
    camera: str  # the address (or name) the client uses for the camera
    stage_s: float = 5.0
    username: str | None = None
    password: str | None = None
    path: str | None = None  # RTSP path (default: the stream's, e.g. /video1)
    sweep: bool = False
    listen_only_s: float | None = None
    token: str | None = None
    multicast_group: str | None = None  # for --listen-only on multicast flows


@dataclass
class Progress:
    """What the run is waiting for right now, for a live progress line."""

    waiting: dict[str, str] = field(default_factory=dict)
    clock: Clock = field(default_factory=Clock)
    # Set once --listen-only listens: a sender started after it loses nothing.
    listening: asyncio.Event = field(default_factory=asyncio.Event)

    def line(self) -> str:
        parts = list(self.waiting.values())
        return " · ".join(parts) if parts else "finishing"


def pairs_to_test(ports: PortRange, sweep: bool) -> list[PortRange]:
    """Port pairs of a VSNM range: every pair with ``sweep``, else the first and the last."""
    pairs = [PortRange(p, min(p + 1, ports.last)) for p in range(ports.first, ports.last + 1, 2)]
    if len(pairs) > 1 and pairs[-1].first == pairs[-1].last:
        pairs[-1] = PortRange(ports.last - 1, ports.last)
    if sweep or len(pairs) <= 2:
        return pairs
    return [pairs[0], pairs[-1]]


def overall_bound(plan: Plan, request: CheckRequest) -> float:
    """The whole run's bound: a few stages, more for a sweep, the listening time if any."""
    if request.listen_only_s is not None:
        return request.listen_only_s + request.stage_s
    rounds = 1
    if request.sweep:
        for flow in plan.flows:
            if flow.role is Role.VSNM_MEDIA:
                pairs = len(pairs_to_test(flow.ports, True))
                rounds = max(rounds, -(-pairs // GENERATOR_SESSIONS))
    return (3 + rounds) * request.stage_s


async def probe(
    plan: Plan, request: CheckRequest, progress: Progress | None = None
) -> Observations:
    progress = progress or Progress()
    clock = progress.clock
    address = await resolve_camera(request.camera, request.stage_s)
    # Listeners and RTSP sessions need the address facing the camera; bare TCP checks let
    # the kernel pick it (a fleet of TCP-only sites saves a socket per camera).
    needs_local = plan.scenario.protocol is Protocol.RTSP or any(
        f.protocol == "udp" for f in plan.flows
    )
    # The NAT-loopback check needs our address too, but only toward a public camera.
    local = local_address_toward(address) if needs_local or is_public(address) else None
    book = ArrivalBook()
    pulse = Pulse()
    expect = Expectations(camera=address, token=request.token)
    listeners = Listeners(book, clock, local or "0.0.0.0", lambda _port, _d: pulse.fire())
    env = ProbeEnv(
        camera=address,
        clock=clock,
        stage_s=request.stage_s,
        listeners=listeners,
        book=book,
        expect=expect,
        pulse=pulse,
        local_address=local,
        username=request.username,
        password=request.password,
        progress=progress.waiting,
    )
    notes: list[str] = []
    if local is None and needs_local:
        notes.append(f"this host has no route to {address}")
    bound = overall_bound(plan, request)
    try:
        async with asyncio.timeout(bound + TEARDOWN_GRACE_S):
            await _run_all(plan, request, env, bound, progress.listening)
    except TimeoutError:
        notes.append(f"the check hit its overall bound of {bound:g} s; later stages did not run")
    finally:
        await listeners.close()
    notes += env.notes
    records: list[Record] = list(env.records)
    records += listeners.listen_attempts()
    records += listeners.joins()
    records += book.udp_arrivals(expect)
    records += listeners.sent()
    records += _token_requests(book, request.token)
    return Observations(
        camera=request.camera,
        vantage=Vantage.CLIENT,
        client=local,
        records=tuple(records),
        duration_ms=round(clock.ms(), 1),
        source="listen-only" if request.listen_only_s is not None else "probe",
        notes=tuple(notes),
    )


async def _run_all(
    plan: Plan, request: CheckRequest, env: ProbeEnv, bound: float, listening: asyncio.Event
) -> None:
    async with asyncio.TaskGroup() as group:
        if request.listen_only_s is None and worth_probing(env.local_address, env.camera):
            group.create_task(_nat_loopback_check(plan, env))
        for flow in plan.flows:
            if flow.protocol == "tcp" and flow.role in (Role.HTTP, Role.BASE, Role.RTSP):
                group.create_task(_tcp_check(env, flow))
        if request.listen_only_s is not None:
            group.create_task(_listen_only(plan, request, env, listening))
        elif plan.scenario.protocol is Protocol.RTSP:
            group.create_task(_stream_session(plan, request, env))
        else:
            group.create_task(_traffic_generator(plan, request, env, bound))


# --- where the client stands -----------------------------------------------------------


async def _nat_loopback_check(plan: Plan, env: ProbeEnv) -> None:
    """One TTL-1 SYN, beside the other checks: is the camera's address our own gateway's?"""
    env.progress["nat loopback"] = "NAT loopback"
    try:
        found = await detect_nat_loopback(
            plan, env.camera, env.local_address, within_s=min(NAT_LOOPBACK_WAIT_S, env.stage_s)
        )
    finally:
        env.progress.pop("nat loopback", None)
    if found is not None:
        env.records.append(found)


# --- TCP ----------------------------------------------------------------------------------


async def _tcp_check(env: ProbeEnv, flow: Flow) -> None:
    port = flow.ports.first
    name = f"tcp {port}"
    env.progress[name] = f"TCP {port}"
    try:
        attempt = await probe_tcp(
            env.camera,
            port,
            wait_s=env.stage_s,
            clock=env.clock,
            greeting=GREETINGS.get(flow.role),
        )
        env.records.append(attempt)
    finally:
        env.progress.pop(name, None)


# --- RTSP plans ---------------------------------------------------------------------------


def _rtsp_url(plan: Plan, request: CheckRequest, path: str | None = None) -> str:
    host = f"[{request.camera}]" if ":" in request.camera else request.camera
    path = path or request.path or plan.scenario.stream.path
    return f"rtsp://{host}:{plan.scenario.rtsp_port}{path}"


def _media(flow: Flow) -> Media:
    return flow.media or Media.VIDEO  # the decoder's RTSP flows carry video only


def stream_tracks(plan: Plan) -> tuple[TrackRequest, ...]:
    """The tracks one RTSP session of this plan sets up, and how."""
    s = plan.scenario
    if s.transport is Transport.TCP:
        wanted = [Media.VIDEO] if s.stream.has_video else []
        wanted += [Media.AUDIO] if s.stream.has_audio else []
        control = tuple(f.name for f in plan.flows if f.role is Role.RTSP)
        return tuple(TrackRequest(m, "tcp", flows=control) for m in wanted)
    if s.transport is Transport.MULTICAST:
        return tuple(
            TrackRequest(_media(f), "multicast", flows=(f.name,), wait_sender_report=False)
            for f in plan.flows
            if f.role is Role.MULTICAST and f.supported
        )
    tracks = []
    for rtp in (f for f in plan.flows if f.role is Role.RTP and f.supported):
        media = _media(rtp)
        rtcp = next((f for f in plan.flows if f.role is Role.RTCP and _media(f) is media), None)
        back = next(
            (f for f in plan.flows if f.role is Role.RTCP_RETURN and _media(f) is media), None
        )
        rtcp_port = rtcp.ports.first if rtcp else rtp.ports.first + 1
        flows = (rtp.name, rtcp.name) if rtcp else (rtp.name,)
        tracks.append(
            TrackRequest(
                media,
                "udp",
                PortRange(rtp.ports.first, rtcp_port),
                flows=flows,
                return_flow=back,
            )
        )
    return tuple(tracks)


async def _stream_session(plan: Plan, request: CheckRequest, env: ProbeEnv) -> None:
    tracks = stream_tracks(plan)
    for track in tracks:
        if track.mode == "udp" and track.client_ports is not None:
            for port in track.client_ports:
                await env.listeners.listen(port)
    from truenprobe.probe.session import StreamSession  # aiortsp: only for RTSP sessions

    await StreamSession(env, _rtsp_url(plan, request), tracks, "rtsp").run()


# --- VSNM plans: the camera's RTSP as a traffic generator ----------------------------------


async def _traffic_generator(
    plan: Plan, request: CheckRequest, env: ProbeEnv, bound: float
) -> None:
    sessions = asyncio.Semaphore(GENERATOR_SESSIONS)
    stops: dict[str, str] = {}
    async with asyncio.TaskGroup() as group:
        for flow in plan.flows:
            if flow.role is Role.VSNM_MEDIA:
                for pair in pairs_to_test(flow.ports, request.sweep):
                    group.create_task(
                        _generate_pair(plan, request, env, flow, pair, sessions, stops)
                    )
            elif flow.role is Role.MULTICAST:
                group.create_task(_generate_multicast(plan, request, env, flow, sessions, stops))
    for flow_name, stop in stops.items():
        flow = plan.flow(flow_name)
        env.records.append(
            Limitation(flow.ports, "udp", _generator_limitation(plan, stop), flow=flow_name)
        )


async def _generate_pair(
    plan: Plan,
    request: CheckRequest,
    env: ProbeEnv,
    flow: Flow,
    pair: PortRange,
    sessions: asyncio.Semaphore,
    stops: dict[str, str],
) -> None:
    for port in pair:
        attempt = await env.listeners.listen(port)
        if not attempt.ok:
            return  # the ListenAttempt tells compare() why
    track = TrackRequest(
        Media.VIDEO,
        "udp",
        pair,
        purpose=f"the camera's RTSP as traffic generator to UDP {ports_text(pair)}",
        flows=(flow.name,),
    )
    from truenprobe.probe.session import StreamSession

    async with sessions:
        outcome = await StreamSession(
            env, _rtsp_url(plan, request), (track,), f"generator {ports_text(pair)}"
        ).run()
    _note_stop(outcome, flow, stops)


async def _generate_multicast(
    plan: Plan,
    request: CheckRequest,
    env: ProbeEnv,
    flow: Flow,
    sessions: asyncio.Semaphore,
    stops: dict[str, str],
) -> None:
    wanted = PortRange(flow.ports.first, min(flow.ports.first + 1, 65535))
    track = TrackRequest(
        Media.VIDEO,
        "multicast",
        wanted,
        purpose=f"the camera's RTSP multicast as traffic generator to UDP {flow.ports}",
        flows=(flow.name,),
        wait_sender_report=False,
    )
    from truenprobe.probe.session import StreamSession

    session = StreamSession(env, _rtsp_url(plan, request), (track,), "generator multicast")
    async with sessions:
        outcome = await session.run()
    _note_stop(outcome, flow, stops)
    granted = [t.answer.ports for t in session.tracks if t.answer and t.answer.ports]
    if granted and granted[0].first != flow.ports.first:
        stops.setdefault(
            flow.name,
            f"{OWN_PORT}the camera's RTSP multicast goes to port {granted[0].first} whatever "
            f"port is asked for, so it cannot stand in for Truen's protocol on base port + 16 "
            f"({flow.ports.first})",
        )


def _note_stop(outcome: SessionOutcome, flow: Flow, stops: dict[str, str]) -> None:
    if not outcome.played and outcome.stop:
        stops.setdefault(flow.name, outcome.stop)


def _generator_limitation(plan: Plan, stop: str) -> str:
    s = plan.scenario
    client = host_name(Host.CLIENT, s)
    other_ways = (
        f"or run `truenprobe check --listen-only SECONDS` here while the {client} streams, "
        "or `truenprobe send` at the camera's site"
    )
    if stop.startswith("cannot connect"):
        if s.is_private(Host.CAMERA):
            opening = (
                f"for the test only, add a temporary forward on the {ROUTER_NAME[Host.CAMERA]} "
                f"(TCP {s.rtsp_port} to the camera) and remove it afterwards"
            )
        else:
            opening = f"for the test only, let TCP {s.rtsp_port} through to the camera"
        return (
            f"Truen's protocol cannot be triggered, so the prober makes the camera send over "
            f"RTSP, but {stop}: {opening}, {other_ways}"
        )
    if stop.startswith(OWN_PORT):
        return f"{stop.removeprefix(OWN_PORT)}; {other_ways}"
    hint = ": give --user and --password" if "401" in stop else ""
    return (
        f"the camera's RTSP server, used as a traffic generator, stopped: {stop}{hint}; "
        f"{other_ways}"
    )


# --- --listen-only ------------------------------------------------------------------------


async def _listen_only(
    plan: Plan, request: CheckRequest, env: ProbeEnv, listening: asyncio.Event
) -> None:
    seconds = request.listen_only_s or 0.0
    env.expect.session_less = True
    watched: list[int] = []
    for flow in plan.flows:
        if flow.destination is not Host.CLIENT or flow.protocol != "udp" or not flow.supported:
            continue
        if flow.multicast:
            if request.multicast_group is None:
                env.records.append(
                    Limitation(
                        flow.ports,
                        "udp",
                        "give --multicast-group to listen for multicast with --listen-only",
                        flow=flow.name,
                    )
                )
                continue
            for port in flow.ports:
                if (await env.listeners.listen_multicast(request.multicast_group, port)).ok:
                    env.expect.multicast_ports.add(port)
                    watched.append(port)
            continue
        for port in flow.ports:
            if (await env.listeners.listen(port)).ok:
                watched.append(port)
    env.progress["listen"] = f"listening on {len(watched)} UDP port(s) for {seconds:g} s"
    listening.set()

    def everything_heard() -> bool:
        heard = {a.port for a in env.book.udp_arrivals(env.expect) if a.belongs}
        return bool(watched) and heard.issuperset(watched)

    try:
        await env.pulse.wait_for(everything_heard, deadline_in(seconds))
    finally:
        env.progress.pop("listen", None)


def _token_requests(book: ArrivalBook, token: str | None) -> list[MediaRequest]:
    """Each range a `send` with our token announced counts as media asked for."""
    if token is None:
        return []
    out = []
    for ports, first_ms in book.announced.get(token, {}).items():
        out.append(
            MediaRequest(
                mode="token",
                media=None,
                client_ports=ports,
                purpose=f"test datagrams from `truenprobe send` (token {token})",
                accepted=True,
                played_at_ms=round(first_ms, 1),
                granted_ports=ports,
            )
        )
    return out
