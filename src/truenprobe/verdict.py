"""compare(plan, observations) -> Report: which planned flow passed, failed or went untested.

Pure: no I/O, no clock. The live prober and the capture analyzer both call it, so a
verdict means the same whichever way the evidence came.

The rules, flow by flow:
- pass: the evidence shows the flow working (a TCP handshake and, where the port
  speaks a protocol we asked it, an answer in that protocol; media from the camera's
  session on every port that was asked to receive it; the camera counting the client's
  RTCP).
- fail: the flow was exercised and did not work (refused, dropped, nothing arrived
  although the camera accepted the request), or the camera refuses what the plan needs
  (404 stream, 461 transport, a multicast port other than the plan's). The diagnosis
  names the plan's forward most likely missing, or the local cause.
- skipped: it could not be exercised (credentials missing, a port this host cannot
  bind, a camera that cannot report what it received, a prerequisite that failed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from truenprobe.nat_loopback import NAT_LOOPBACK, explain_nat_loopback
from truenprobe.observations import (
    CameraFeedback,
    InterleavedArrival,
    Limitation,
    ListenAttempt,
    MediaRequest,
    Observations,
    RtspReply,
    TcpAttempt,
    TcpOutcome,
    UdpArrival,
    UdpSent,
)
from truenprobe.plan.model import Flow, Forward, Host, Plan, PortRange, Protocol, Role, Transport
from truenprobe.plan.words import forward_text, host_name, ports_text
from truenprobe.report.model import FlowResult, Report, Status

TCP_ROLES = (Role.HTTP, Role.BASE, Role.RTSP)
TO_CLIENT_ROLES = (Role.RTP, Role.RTCP, Role.VSNM_MEDIA, Role.MULTICAST)

# What a greeting must start with for the port to count as answered by the right server.
GREETING_PREFIX = {Role.HTTP: "HTTP/", Role.RTSP: "RTSP/"}
GREETING_REQUEST = {Role.HTTP: "GET /", Role.RTSP: "OPTIONS"}

# RTSP answers that mean "this camera will not do what the site needs" (fail), as
# opposed to answers that only stop the test (skipped).
SKIP_STATUSES = {401, 453, 503}


@dataclass(frozen=True)
class _Outcome:
    status: Status
    evidence: dict[str, Any]
    diagnosis: str | None = None
    forward: Forward | None = None
    # The failure is the camera's own answer (RTSP 404, 461, another multicast port):
    # where the client stands cannot explain it (see truenprobe.nat_loopback).
    camera_answer: bool = False


def compare(plan: Plan, observations: Observations) -> Report:
    ctx = _Context(plan, observations)
    outcomes = [(flow, _judge(flow, ctx)) for flow in plan.flows]
    report = Report(
        plan=plan,
        camera=observations.camera,
        results=tuple(_result(flow, outcome) for flow, outcome in outcomes),
        duration_s=observations.duration_ms / 1000.0,
        unexpected=tuple(_unexpected(ctx)),
        findings=tuple(_findings(ctx)),
        source=observations.source,
    )
    # A client inside the camera's LAN testing its public address: what failed depends
    # on NAT loopback, not on the forwards (a no-op without that Limitation).
    answered = {flow.name for flow, outcome in outcomes if outcome.camera_answer}
    return explain_nat_loopback(report, observations, keep=answered)


class _Context:
    """The observations indexed the ways the rules ask for them."""

    def __init__(self, plan: Plan, obs: Observations) -> None:
        self.plan = plan
        self.scenario = plan.scenario
        self.obs = obs
        self.tcp = obs.of(TcpAttempt)
        self.replies = obs.of(RtspReply)
        self.requests = obs.of(MediaRequest)
        self.arrivals = obs.of(UdpArrival)
        self.interleaved = obs.of(InterleavedArrival)
        self.sent = obs.of(UdpSent)
        self.listens = obs.of(ListenAttempt)
        self.feedback = obs.of(CameraFeedback)
        self.limitations = obs.of(Limitation)
        # Local port -> when the client first sent from it (a NAT pinhole from then on).
        self.sent_from: dict[int, float] = {}
        for s in self.sent:
            at = s.first_ms if s.first_ms is not None else 0.0
            self.sent_from[s.source_port] = min(at, self.sent_from.get(s.source_port, at))

    def limitation_for(self, flow: Flow) -> Limitation | None:
        for lim in self.limitations:
            if lim.flow == flow.name:
                return lim
        for lim in self.limitations:
            if lim.flow is not None or lim.reason.startswith(NAT_LOOPBACK):
                continue  # NAT loopback concerns the whole report: explain_nat_loopback()
            if lim.protocol not in (None, flow.protocol):
                continue
            if lim.ports is None or lim.ports.overlaps(flow.ports):
                return lim
        return None


def _result(flow: Flow, outcome: _Outcome) -> FlowResult:
    return FlowResult(
        flow=flow.name,
        protocol=flow.protocol,
        ports=flow.ports,
        status=outcome.status,
        required=flow.required,
        evidence=outcome.evidence,
        diagnosis=outcome.diagnosis,
        forward=outcome.forward,
    )


def _judge(flow: Flow, ctx: _Context) -> _Outcome:
    if not flow.supported:
        return _Outcome(
            Status.SKIPPED,
            {},
            "not tested: the document lists this flow as not supported by the camera now",
        )
    if flow.role in TCP_ROLES:
        return _tcp_flow(flow, ctx)
    if flow.role in TO_CLIENT_ROLES:
        return _to_client_flow(flow, ctx)
    if flow.role is Role.RTCP_RETURN:
        return _return_flow(flow, ctx)
    return _Outcome(Status.SKIPPED, {}, f"not tested: no check exists for {flow.role.value}")


# --- TCP, client to camera ---------------------------------------------------------------


def _tcp_flow(flow: Flow, ctx: _Context) -> _Outcome:
    attempts = [a for a in ctx.tcp if a.port in flow.ports]
    if not attempts:
        lim = ctx.limitation_for(flow)
        why = lim.reason if lim else "no connection was attempted"
        return _Outcome(Status.SKIPPED, {}, f"not tested: {why}")
    opened = [a for a in attempts if a.outcome is TcpOutcome.OPEN]
    best = _best_greeting(opened, flow.role) if opened else attempts[0]
    evidence: dict[str, Any] = {"outcome": best.outcome.value, "attempts": len(attempts)}
    if best.connect_ms is not None:
        evidence["connect_ms"] = round(best.connect_ms, 1)
    if best.greeting is not None:
        evidence["greeting"] = best.greeting
    if best.detail:
        evidence["detail"] = best.detail
    if best.unanswered:
        evidence["unanswered"] = best.unanswered
    if best.outcome is not TcpOutcome.OPEN:
        diagnosis, forward = _tcp_failure(flow, best, ctx)
        return _Outcome(Status.FAIL, evidence, diagnosis, forward)

    wrong = _wrong_server(flow, best)
    if wrong is not None:
        forward = _forward_for(flow, ctx.plan)
        fix = f" — check {forward_text(forward, ctx.scenario)}" if forward else ""
        return _Outcome(Status.FAIL, evidence, wrong + fix, forward)
    if flow.role is Role.RTSP and ctx.scenario.transport is Transport.TCP:
        return _interleaved_media(flow, ctx, evidence)
    return _Outcome(Status.PASS, evidence)


def _best_greeting(opened: list[TcpAttempt], role: Role) -> TcpAttempt:
    """Among open connections, prefer one answered in the right protocol."""
    prefix = GREETING_PREFIX.get(role)
    for a in opened:
        if prefix and a.greeting and a.greeting.startswith(prefix):
            return a
    for a in opened:
        if a.greeting:
            return a
    return opened[0]


def _wrong_server(flow: Flow, attempt: TcpAttempt) -> str | None:
    """The port accepted the connection, but is it the camera's server behind it?"""
    prefix = GREETING_PREFIX.get(flow.role)
    if prefix is None:
        return None
    what = GREETING_REQUEST[flow.role]
    if attempt.greeting is not None and not attempt.greeting.startswith(prefix):
        return (
            f"TCP {flow.ports.first} accepted the connection but answered {what} with "
            f"{attempt.greeting!r}, not {prefix.rstrip('/')}: another server is behind this port"
        )
    if attempt.greeting is None and attempt.unanswered:
        return (
            f"TCP {flow.ports.first} accepted the connection but {attempt.unanswered}: the port "
            f"may lead to another host, or the camera's server is stuck"
        )
    return None


def _tcp_failure(flow: Flow, attempt: TcpAttempt, ctx: _Context) -> tuple[str, Forward | None]:
    s = ctx.scenario
    port = flow.ports.first
    camera = ctx.obs.camera
    forward = _forward_for(flow, ctx.plan)
    private = s.is_private(Host.CAMERA)
    setting = {Role.HTTP: "HTTP", Role.BASE: "base", Role.RTSP: "RTSP"}.get(flow.role, "")
    detail = f" ({attempt.detail})" if attempt.detail else ""
    if attempt.outcome is TcpOutcome.REFUSED:
        what = f"{camera} refused TCP {port} (RST){detail}"
        if private and forward is not None:
            return (
                f"{what}: an IP sharer answers a port it does not forward this way — "
                f"{forward_text(forward, s)}; or the camera's {setting} port is not {port}",
                forward,
            )
        return (
            f"{what}: nothing listens there — is the camera's {setting} port {port}? "
            f"(or a firewall rejects it)",
            None,
        )
    if attempt.outcome is TcpOutcome.TIMEOUT:
        what = f"no answer from {camera} on TCP {port}{detail}: the SYN is dropped on the way"
        if private and forward is not None:
            return f"{what} — {forward_text(forward, s)} (or a firewall drops it)", forward
        return f"{what} — a firewall between this host and the camera drops it", None
    if attempt.outcome is TcpOutcome.UNREACHABLE:
        return (
            f"{camera} is unreachable from here{detail}: check the camera's address and this "
            f"host's route to it",
            None,
        )
    return f"TCP {port} to {camera} failed{detail}", None


def _interleaved_media(flow: Flow, ctx: _Context, evidence: dict[str, Any]) -> _Outcome:
    """TCP mode: RTP must come back inside the RTSP connection."""
    mine = [a for a in ctx.interleaved if a.port in flow.ports and a.belongs]
    rtp = [a for a in mine if a.kind == "rtp"]
    if rtp:
        by_media: dict[str, dict[str, Any]] = {}
        for a in mine:
            key = a.media.value if a.media else f"channel {a.channel}"
            entry = by_media.setdefault(key, {"rtp_packets": 0, "bytes": 0, "sender_reports": 0})
            entry["bytes"] += a.bytes
            if a.kind == "rtp":
                entry["rtp_packets"] += a.packets
                entry["ssrc"] = _hex(a.ssrc)
                entry["payload_type"] = a.payload_type
                entry["sequence_gaps"] = a.sequence_gaps
                played = _played_at(ctx, "tcp")
                if a.first_ms is not None and played is not None:
                    entry["first_after_play_ms"] = _after(a.first_ms, played)
            else:
                entry["sender_reports"] += a.sender_reports
        evidence["interleaved"] = by_media
        return _Outcome(Status.PASS, evidence)
    stop = _rtsp_stop(ctx)
    if stop is not None:
        status, why = stop
        return _Outcome(
            status,
            evidence,
            f"{_verb(status)}interleaved media: {why}",
            camera_answer=status is Status.FAIL,
        )
    tcp_played = [r for r in ctx.requests if r.mode == "tcp" and r.played_at_ms is not None]
    if tcp_played:
        waited = _waited(ctx, tcp_played[0])
        return _Outcome(
            Status.FAIL,
            evidence,
            f"the camera accepted PLAY but sent no RTP inside the RTSP connection{waited}",
        )
    return _Outcome(Status.SKIPPED, evidence, "not tested: no interleaved session was set up")


# --- UDP, camera to client ---------------------------------------------------------------


def _counted(ctx: _Context, flow: Flow, arrival: UdpArrival) -> bool:
    """Belongs to the session, came the way the flow says, and before any pinhole opened."""
    if not arrival.belongs or arrival.port not in flow.ports:
        return False
    # A `send` token reaches the client's address directly, multicast flow or not.
    if arrival.kind != "token" and flow.multicast != (arrival.group is not None):
        return False
    opened = ctx.sent_from.get(arrival.port)
    return opened is None or (arrival.first_ms is not None and arrival.first_ms < opened)


def _requested_ports(ctx: _Context, flow: Flow) -> dict[int, MediaRequest]:
    """Flow ports the camera (or a `send`) was asked to deliver to, and by which request."""
    out: dict[int, MediaRequest] = {}
    for r in ctx.requests:
        if r.played_at_ms is None:
            continue
        if r.mode == "multicast" and flow.multicast:
            ports = r.granted_ports
        elif r.mode in ("udp", "token") and (not flow.multicast or r.mode == "token"):
            ports = r.granted_ports or r.client_ports
        else:
            continue
        if ports is None:
            continue
        for p in ports:
            if p in flow.ports:
                out.setdefault(p, r)
    return out


def _to_client_flow(flow: Flow, ctx: _Context) -> _Outcome:
    counted = [a for a in ctx.arrivals if _counted(ctx, flow, a)]
    arrived = {a.port for a in counted}
    requested = _requested_ports(ctx, flow)
    missing = sorted(set(requested) - arrived)
    evidence = _udp_evidence(flow, counted, requested, ctx)

    local = _local_failures(flow, ctx)
    if local and not arrived:
        evidence["listen_errors"] = {str(a.port): a.error for a in local}
        first = local[0]
        return _Outcome(
            Status.SKIPPED,
            evidence,
            f"not tested: this host cannot listen on UDP {first.port}: {first.error}",
        )
    named = ctx.limitation_for(flow)
    if missing and not arrived and named is not None and named.flow == flow.name:
        # The evidence says it cannot decide this flow (a capture taken on the camera's side
        # cannot see what reached the client): untested, not failed.
        return _Outcome(Status.SKIPPED, evidence, f"not tested: {named.reason}")
    if missing:
        diagnosis, forward = _udp_missing(flow, missing, requested, ctx)
        return _Outcome(Status.FAIL, evidence, diagnosis, forward)

    elsewhere = _granted_elsewhere(flow, ctx)
    if elsewhere is not None and not arrived:
        return _Outcome(Status.FAIL, evidence, elsewhere, camera_answer=True)
    if arrived:
        untested = len(flow.ports) - len(arrived)
        if untested and flow.role is Role.VSNM_MEDIA:
            evidence["untested_ports"] = untested
        return _Outcome(Status.PASS, evidence)
    return _untested(flow, ctx, evidence)


def _udp_evidence(
    flow: Flow, counted: list[UdpArrival], requested: dict[int, MediaRequest], ctx: _Context
) -> dict[str, Any]:
    per_port: dict[str, dict[str, Any]] = {}
    for a in counted:
        entry = per_port.get(str(a.port))
        if entry is None or a.packets > entry["packets"]:
            entry = {
                "packets": a.packets,
                "bytes": a.bytes,
                "source": f"{a.source}:{a.source_port}",
                "kind": a.kind,
            }
            if a.group:
                entry["group"] = a.group
            if a.ssrc is not None:
                entry["ssrc"] = _hex(a.ssrc)
            if a.payload_type is not None:
                entry["payload_type"] = a.payload_type
            if a.kind == "rtp":
                entry["sequence_gaps"] = a.sequence_gaps
            if a.kind == "rtcp":
                entry["sender_reports"] = a.sender_reports
            request = requested.get(a.port)
            if request is not None and request.played_at_ms is not None and a.first_ms is not None:
                entry["first_after_play_ms"] = _after(a.first_ms, request.played_at_ms)
            if a.note:
                entry["note"] = a.note
            per_port[str(a.port)] = entry
    evidence: dict[str, Any] = {}
    if len(flow.ports) == 1:
        if per_port:
            evidence.update(next(iter(per_port.values())))
        evidence["port"] = flow.ports.first
    else:
        evidence["arrived"] = per_port
    tested = sorted(requested)
    if tested and len(flow.ports) > 1:
        evidence["tested_ports"] = _ranges(tested)
    purposes = sorted({r.purpose for r in requested.values() if r.purpose})
    if purposes:
        evidence["method"] = "; ".join(purposes)
    foreign = [
        a for a in ctx.arrivals if a.port in flow.ports and (not a.belongs or _late(ctx, flow, a))
    ]
    if foreign:
        evidence["foreign_packets"] = sum(a.packets for a in foreign)
    return evidence


def _late(ctx: _Context, flow: Flow, a: UdpArrival) -> bool:
    """Session media that only arrived after the client had sent from that port."""
    if not a.belongs or a.port not in flow.ports:
        return False
    opened = ctx.sent_from.get(a.port)
    return opened is not None and (a.first_ms is None or a.first_ms >= opened)


def _local_failures(flow: Flow, ctx: _Context) -> list[ListenAttempt]:
    return [a for a in ctx.listens if not a.ok and a.port in flow.ports]


def _udp_missing(
    flow: Flow,
    missing: list[int],
    requested: dict[int, MediaRequest],
    ctx: _Context,
) -> tuple[str, Forward | None]:
    s = ctx.scenario
    request = requested[missing[0]]
    forward = _forward_for(flow, ctx.plan)
    where = "multicast " if flow.multicast else ""
    sender = "the `truenprobe send` at the camera's site" if request.mode == "token" else "camera"
    what = f"nothing from the {sender} arrived on {where}UDP {_ranges_text(missing)}"
    if request.mode == "token":
        what += " although it sent there"
    else:
        what += f"{_waited(ctx, request)} although the camera accepted SETUP and PLAY"
    # Only ports where session media did arrive, but too late to prove a forward.
    late = [p for p in missing if any(a.port == p and _late(ctx, flow, a) for a in ctx.arrivals)]
    if late:
        what += (
            f" (media reached {_ranges_text(late)} only after this host had sent from it, "
            f"through a NAT pinhole, not a forward)"
        )
    # The other ports of the same forward did receive: the forward is too narrow.
    if forward is not None:
        received = {a.port for a in ctx.arrivals if a.belongs and a.port in forward.ports}
        siblings = sorted(p for p in received - set(ctx.sent_from) if p not in missing)
        if siblings:
            what += (
                f"; {_ranges_text(siblings)} did receive, so the forward covers only part of "
                f"{ports_text(forward.ports)}"
            )
    if flow.multicast:
        tail = " Every router between must also route multicast (IGMP proxy or multicast routing)."
    else:
        tail = ""
    if forward is not None and s.is_private(forward.router):
        return f"{what}: {forward_text(forward, s)}, or a firewall on this host drops it.{tail}", (
            forward
        )
    return (
        f"{what}: no forward is needed on the {host_name(Host.CLIENT, s)}'s side (it is public), "
        f"so a firewall between the camera and this host, or on this host, drops it.{tail}",
        None,
    )


def _granted_elsewhere(flow: Flow, ctx: _Context) -> str | None:
    """The camera accepted, but named other ports than the plan's: a finding of its own."""
    stream = ctx.scenario.stream.value
    for r in ctx.requests:
        if not r.accepted or r.granted_ports is None:
            continue
        same_media = flow.media is None or r.media == flow.media
        camera_chose = flow.multicast and r.mode == "multicast" and r.client_ports is None
        if camera_chose and same_media and r.granted_ports.first not in flow.ports:
            return (
                f"the camera streams {stream} to multicast port {r.granted_ports.first}"
                f"{f' (group {r.group})' if r.group else ''}, the plan expects "
                f"{ports_text(flow.ports)}: set the camera's multicast port, or forward "
                f"{r.granted_ports.first} instead"
            )
        if not flow.multicast and r.mode == "udp" and r.client_ports is not None:
            asked = set(r.client_ports) & set(flow.ports)
            if asked and not set(r.granted_ports) & asked:
                return (
                    f"the camera answered SETUP with client_port={r.granted_ports} instead of "
                    f"{r.client_ports}: it will not send to {_ranges_text(sorted(asked))}"
                )
    return None


def _untested(flow: Flow, ctx: _Context, evidence: dict[str, Any]) -> _Outcome:
    lim = ctx.limitation_for(flow)
    if lim is not None:
        return _Outcome(Status.SKIPPED, evidence, f"not tested: {lim.reason}")
    stop = _rtsp_stop(ctx)
    if stop is not None:
        status, why = stop
        return _Outcome(
            status, evidence, f"{_verb(status)}{why}", camera_answer=status is Status.FAIL
        )
    if ctx.obs.source == "listen-only":
        return _Outcome(
            Status.SKIPPED,
            evidence,
            "not tested: nothing from the camera arrived while listening (was it streaming "
            "to this host, or `truenprobe send` running at the camera's site?)",
        )
    return _Outcome(Status.SKIPPED, evidence, "not tested: no media was requested to these ports")


# --- UDP, client to camera ---------------------------------------------------------------


def _return_flow(flow: Flow, ctx: _Context) -> _Outcome:
    sent = [s for s in ctx.sent if s.port in flow.ports]
    feedback = [f for f in ctx.feedback if f.port in flow.ports]
    evidence: dict[str, Any] = {}
    if sent:
        evidence["sent_packets"] = sum(s.packets for s in sent)
        evidence["sent_from"] = sorted({s.source_port for s in sent})
        errors = sorted({s.error for s in sent if s.error})
        if errors:
            evidence["send_errors"] = errors
        purposes = sorted({s.purpose for s in sent if s.purpose})
        if purposes:
            evidence["method"] = "; ".join(purposes)
    if feedback:
        evidence["camera_received"] = max(f.packets for f in feedback)
    if any(f.packets > 0 for f in feedback):
        return _Outcome(Status.PASS, evidence)
    if feedback and sent:
        return _return_missing(flow, ctx, evidence)
    lim = ctx.limitation_for(flow)
    if lim is not None:
        return _Outcome(Status.SKIPPED, evidence, f"not observable from the client: {lim.reason}")
    if sent:
        return _Outcome(
            Status.SKIPPED,
            evidence,
            "not observable from the client: the camera did not report what it received",
        )
    stop = _rtsp_stop(ctx)
    if stop is not None:
        _status, why = stop
        return _Outcome(Status.SKIPPED, evidence, f"not tested: {why}")
    return _Outcome(Status.SKIPPED, evidence, "not tested: nothing was sent toward the camera")


def _return_missing(flow: Flow, ctx: _Context, evidence: dict[str, Any]) -> _Outcome:
    s = ctx.scenario
    count = evidence.get("sent_packets", 0)
    targets = _ranges_text(s_.port for s_ in ctx.sent if s_.port in flow.ports)
    what = f"the camera received none of the {count} RTCP packet(s) this host sent to UDP {targets}"
    forward = _forward_for(flow, ctx.plan)
    if forward is not None:
        return _Outcome(Status.FAIL, evidence, f"{what}: {forward_text(forward, s)}", forward)
    if s.is_private(Host.CAMERA):
        return _Outcome(
            Status.FAIL,
            evidence,
            f"{what}: the camera-side IP sharer does not pass it; the document asks for no "
            f"forward here. The {host_name(Host.CLIENT, s)}'s own reports may still get in as "
            "replies to the camera's RTCP while the IP sharer remembers it, but only a forward "
            f"makes sure: UDP {targets} to the camera",
        )
    return _Outcome(
        Status.FAIL,
        evidence,
        f"{what}: the camera is public, so a firewall between drops it",
    )


# --- shared helpers ----------------------------------------------------------------------


def _rtsp_stop(ctx: _Context) -> tuple[Status, str] | None:
    """Why the RTSP session stopped before media, as (fail or skipped, reason)."""
    if ctx.scenario.protocol is not Protocol.RTSP:
        return None
    for reply in sorted(ctx.replies, key=lambda r: r.at_ms if r.at_ms is not None else 0.0):
        if reply.status is not None and 200 <= reply.status < 300:
            continue
        if reply.method == "TEARDOWN" or reply.method == "GET_PARAMETER":
            continue
        return _rtsp_refusal(reply, live=not ctx.obs.source.startswith("capture"))
    return None


def _rtsp_refusal(reply: RtspReply, *, live: bool = True) -> tuple[Status, str]:
    said = f"{reply.status} {reply.reason or ''}".strip()
    if reply.status is None:
        error = reply.error or "no answer"
        if error.startswith("cannot connect"):
            return Status.SKIPPED, f"the RTSP connection failed ({error}; see rtsp-control)"
        return Status.SKIPPED, f"the RTSP session stopped at {reply.method} ({error})"
    if reply.status == 401:
        if reply.error:  # credentials were given, but the challenge could not be answered
            return (
                Status.SKIPPED,
                f"the camera asks for credentials in a way that cannot be answered "
                f"({said} to {reply.method}: {reply.error})",
            )
        if reply.authenticated:
            return Status.SKIPPED, f"the camera rejected the credentials ({said} to {reply.method})"
        # A live check can be repeated with credentials; a capture only shows what the
        # client did, so the advice is for the client that was captured.
        advice = (
            "give --user and --password"
            if live
            else "the captured client sent none: set the camera's user and password in it"
        )
        return (
            Status.SKIPPED,
            f"the camera requires credentials ({said} to {reply.method}): {advice}",
        )
    if reply.status == 404:
        return (
            Status.FAIL,
            f"the camera has no stream at {reply.url} ({said}): check the stream name",
        )
    if reply.status == 461:
        return (
            Status.FAIL,
            f"the camera refused the transport ({said} to {reply.method}"
            f"{f' {reply.transport}' if reply.transport else ''}): enable this transport on "
            "the camera or pick the transport it offers",
        )
    if reply.status in SKIP_STATUSES:
        return Status.SKIPPED, f"the camera refused another session ({said} to {reply.method})"
    return Status.FAIL, f"the camera answered {said} to {reply.method} {reply.url}"


def _verb(status: Status) -> str:
    return "not tested: " if status is Status.SKIPPED else ""


def _forward_for(flow: Flow, plan: Plan) -> Forward | None:
    """The plan's forward for this flow on the receiving side's IP sharer (else any)."""
    forwards = plan.forwards_for(flow.name)
    for fw in forwards:
        if fw.router is flow.destination:
            return fw
    return forwards[0] if forwards else None


def _played_at(ctx: _Context, mode: str) -> float | None:
    times = [r.played_at_ms for r in ctx.requests if r.mode == mode and r.played_at_ms is not None]
    return min(times) if times else None


def _waited(ctx: _Context, request: MediaRequest) -> str:
    if request.played_at_ms is None or ctx.obs.duration_ms <= request.played_at_ms:
        return ""
    return f" in the {(ctx.obs.duration_ms - request.played_at_ms) / 1000:.1f} s after PLAY"


def _after(first_ms: float, played_ms: float) -> float:
    """Media can land a hair before the PLAY answer is read (the camera sends right after
    answering): that is 0 ms after PLAY, not a negative time."""
    return max(0.0, round(first_ms - played_ms, 1))


def _hex(ssrc: int | None) -> str | None:
    return None if ssrc is None else f"0x{ssrc:08x}"


def _ranges(ports: Iterable[int]) -> list[list[int]]:
    """[4333, 4334, 4431, 4432] -> [[4333, 4334], [4431, 4432]]."""
    out: list[list[int]] = []
    for p in sorted(set(ports)):
        if out and out[-1][1] == p - 1:
            out[-1][1] = p
        else:
            out.append([p, p])
    return out


def _ranges_text(ports: Iterable[int]) -> str:
    return ", ".join(ports_text(PortRange(a, b)) for a, b in _ranges(ports))


def _planned_ports(plan: Plan) -> set[tuple[str, int]]:
    return {(f.protocol, p) for f in plan.flows for p in f.ports}


def _unexpected(ctx: _Context) -> Iterable[dict[str, Any]]:
    planned = _planned_ports(ctx.plan)
    for a in ctx.arrivals:
        if a.belongs and ("udp", a.port) in planned:
            continue
        note = a.note
        if a.belongs:
            note = "the session's media, on a port the plan does not list"
        entry: dict[str, Any] = {
            "protocol": "udp",
            "port": a.port,
            "source": f"{a.source}:{a.source_port}",
            "kind": a.kind,
            "packets": a.packets,
            "bytes": a.bytes,
        }
        if a.group:
            entry["group"] = a.group
        if a.ssrc is not None:
            entry["ssrc"] = _hex(a.ssrc)
        entry["note"] = note
        yield entry
    for i in ctx.interleaved:
        if i.belongs:
            continue
        yield {
            "protocol": "tcp",
            "port": i.port,
            "channel": i.channel,
            "kind": i.kind,
            "packets": i.packets,
            "bytes": i.bytes,
            "ssrc": _hex(i.ssrc),
            "note": i.note,
        }


def _findings(ctx: _Context) -> Iterable[str]:
    yield from ctx.obs.notes
    flows = ctx.plan.flows
    for lim in ctx.limitations:
        if lim.flow is not None and any(f.name == lim.flow for f in flows):
            continue
        if lim.ports is not None and any(
            lim.protocol in (None, f.protocol) and lim.ports.overlaps(f.ports) for f in flows
        ):
            continue
        yield lim.reason
