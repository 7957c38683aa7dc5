"""Reports built by hand for the renderers' tests: every scenario kind, every status.

The evidence mimics what the prober and the analyzer record (observations.py); the
renderers must show whatever keys arrive, so the exact keys matter less than their
variety: numbers, strings, lists, nested objects, None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from truenprobe.plan import build_scenario, resolve
from truenprobe.plan.model import Flow, Forward, Plan, Role
from truenprobe.report.model import FlowResult, Report, Status

CAMERA = "203.0.113.5"

# (id, scenario options): every section of the document, both sides public and private.
SCENARIOS: list[tuple[str, dict[str, Any]]] = [
    ("web", {"client": "web"}),
    ("web-camera-public", {"client": "web", "camera_side": "public"}),
    ("decoder-vsnm-tcp", {"client": "decoder", "protocol": "vsnm", "transport": "tcp"}),
    ("decoder-vsnm-udp", {"client": "decoder", "protocol": "vsnm", "transport": "udp"}),
    (
        "decoder-vsnm-multicast",
        {"client": "decoder", "protocol": "vsnm", "transport": "multicast"},
    ),
    ("decoder-rtsp-tcp", {"client": "decoder", "protocol": "rtsp", "transport": "tcp"}),
    ("decoder-rtsp-udp", {"client": "decoder", "protocol": "rtsp", "transport": "udp"}),
    (
        "decoder-rtsp-udp-client-public",
        {"client": "decoder", "protocol": "rtsp", "transport": "udp", "client_side": "public"},
    ),
    (
        "decoder-rtsp-multicast",
        {"client": "decoder", "protocol": "rtsp", "transport": "multicast", "stream": "video1s"},
    ),
    ("sdk-tcp", {"client": "sdk", "transport": "tcp"}),
    ("sdk-udp-4-cameras", {"client": "sdk", "transport": "udp", "sdk_cameras": 4}),
    ("sdk-multicast", {"client": "sdk", "transport": "multicast"}),
    (
        "vlc-tcp-both-public",
        {"client": "vlc", "transport": "tcp", "camera_side": "public", "client_side": "public"},
    ),
    (
        "vlc-udp-audio",
        {
            "client": "vlc",
            "transport": "udp",
            "stream": "video1+audio1",
            "client_port": 5000,
            "client_audio_port": 5002,
        },
    ),
    (
        "vlc-udp-client-public",
        {"client": "vlc", "transport": "udp", "client_side": "public", "client_port": 6000},
    ),
    (
        "vlc-multicast-audio",
        {"client": "vlc", "transport": "multicast", "stream": "video1s+audio1"},
    ),
]


def plan_of(options: Mapping[str, Any]) -> Plan:
    return resolve(build_scenario(options))


def _blamed_forward(plan: Plan, flow: Flow) -> Forward | None:
    """The forward on the receiving side's IP sharer that carries the flow, if any."""
    for forward in plan.forwards_for(flow.name):
        if forward.router is flow.destination:
            return forward
    return None


def _evidence(flow: Flow, status: Status) -> tuple[dict[str, Any], str | None]:
    tcp = flow.protocol == "tcp"
    port = flow.ports.first
    if status is Status.PASS and tcp:
        greeting = {Role.HTTP: "HTTP/1.1 200 OK", Role.RTSP: "RTSP/1.0 200 OK"}.get(flow.role)
        return {"outcome": "open", "connect_ms": 1.84, "greeting": greeting}, None
    if status is Status.PASS:
        return {
            "packets": 412,
            "bytes": 498_201,
            "source": f"{CAMERA}:{port}",
            "ssrc": "0x5eed1234",
            "first_ms": 38.5,
            "sequence_gaps": 0,
            "arrived_on": [port],
        }, None
    if status is Status.FAIL and tcp:
        return (
            {"outcome": "refused", "attempts": 3, "detail": "answered with RST"},
            f"TCP {port} was refused: the camera-side IP sharer answers for itself, so it "
            "does not forward this port to the camera",
        )
    if status is Status.FAIL:
        return (
            {
                "setup": {"status": 200, "server_port": [port, port + 1]},
                "packets": 0,
                "waited_s": 5.0,
                "listening_on": f"0.0.0.0:{port}",
            },
            f"the camera accepted SETUP but nothing arrived on UDP {port} within 5 s: "
            "the client-side IP sharer does not forward it",
        )
    return {"reason": "not observable from the client", "camera_feedback": None}, (
        "could not be tested from here: a real camera does not report the RTCP it receives"
    )


def report_for(
    options: Mapping[str, Any],
    statuses: Mapping[str, Status] | None = None,
    *,
    camera: str = CAMERA,
    **extra: Any,
) -> Report:
    """A report for this scenario: flows pass unless ``statuses`` says otherwise.

    A flow the camera does not support is skipped, as compare() reports it.
    """
    plan = plan_of(options)
    statuses = statuses or {}
    results = []
    for flow in plan.flows:
        status = statuses.get(flow.name, Status.PASS if flow.supported else Status.SKIPPED)
        evidence, diagnosis = _evidence(flow, status)
        if not flow.supported:
            evidence, diagnosis = {}, "the camera does not support this flow; nothing to test"
        forward = _blamed_forward(plan, flow) if status is Status.FAIL else None
        results.append(
            FlowResult(
                flow=flow.name,
                protocol=flow.protocol,
                ports=flow.ports,
                status=status,
                required=flow.required,
                evidence=evidence,
                diagnosis=diagnosis,
                forward=forward,
            )
        )
    return Report(plan=plan, camera=camera, results=tuple(results), duration_s=6.42, **extra)


def mixed_statuses(plan: Plan) -> dict[str, Status]:
    """The last required flow fails, the one before is skipped (when there are several)."""
    required = [f.name for f in plan.flows if f.required]
    out = {required[-1]: Status.FAIL}
    if len(required) > 2:
        out[required[-2]] = Status.SKIPPED
    return out


def readme_example() -> Report:
    """The README's picture: a decoder over RTSP/UDP whose client-side forward is missing."""
    options = {"client": "decoder", "protocol": "rtsp", "transport": "udp"}
    report = report_for(
        options,
        {"rtp-video": Status.FAIL, "rtcp-video": Status.FAIL, "rtcp-return": Status.SKIPPED},
    )
    plan = report.plan
    client_forward = _blamed_forward(plan, plan.flow("rtp-video"))
    silent = {
        "setup": "200 OK, client_port=554-555, server_port=554-555, ssrc=5EED1234",
        "play": "200 OK after 41 ms",
        "packets": 0,
        "waited_s": 5.0,
        "listening_on": "0.0.0.0:554-555",
    }
    edits = {
        "rtp-video": (
            silent,
            "the camera accepted SETUP and PLAY but no RTP arrived on UDP 554 within 5 s: "
            "the client-side IP sharer does not forward UDP 554–555 to the decoder",
        ),
        "rtcp-video": (
            {**silent, "sender_reports": 0},
            "no RTCP sender report arrived on UDP 555 within 5 s (same forward as RTP)",
        ),
        "rtcp-return": (
            {"get_parameter": "451 Parameter Not Understood", "sent_receiver_reports": 5},
            "not observable: this camera does not report the RTCP it receives",
        ),
    }
    results = []
    for result in report.results:
        if result.flow in edits:
            evidence, diagnosis = edits[result.flow]
            forward = client_forward if result.status is Status.FAIL else None
            result = replace(result, evidence=evidence, diagnosis=diagnosis, forward=forward)
        results.append(result)
    return replace(report, results=tuple(results), duration_s=5.38)


def fleet() -> tuple[list[Report], list[str]]:
    """Three cameras: one passes, one fails (a client-side forward), one is incomplete."""
    web = {"client": "web"}
    decoder = {"client": "decoder", "protocol": "rtsp", "transport": "udp"}
    reports = [
        report_for(web),
        report_for(decoder, {"rtp-video": Status.FAIL}, camera="198.51.100.7"),
        report_for(web, {"base-control": Status.SKIPPED}, camera="198.51.100.8"),
    ]
    return reports, ["lobby", "gate <east>", "yard"]
