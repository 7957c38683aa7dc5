"""resolve(scenario) -> Plan: evaluate the document's tables for one site. Pure: no I/O."""

from __future__ import annotations

from truenprobe.plan.model import Flow, Forward, Host, Plan, PortRange, Scenario, Side
from truenprobe.plan.rules import (
    SDK_FIRST_PORT,
    SECTIONS,
    STREAM_MULTICAST_PORTS,
    Anchor,
    FlowRule,
    PortSpec,
    Span,
    When,
    media_of,
)


def resolve(scenario: Scenario) -> Plan:
    section = SECTIONS[(scenario.client, scenario.protocol, scenario.transport)]
    media = media_of(scenario.stream)
    rules = [r for r in section.flows if r.media is None or r.media in media]

    flows = tuple(_flow(rule, scenario) for rule in rules)
    forwards = _forwards(rules, flows, scenario)
    fields = _port_fields(scenario)
    notes = [n.text.format(**fields) for n in section.notes if _holds(n.when, scenario, None)]
    if scenario.camera_side is Side.PUBLIC and scenario.client_side is Side.PUBLIC:
        notes.append(
            "Camera and client both have public addresses: no port forwarding is needed, but "
            "any firewall between them must pass the flows below."
        )
    return Plan(scenario=scenario, flows=flows, forwards=forwards, notes=tuple(notes))


def _holds(when: When, scenario: Scenario, destination: Host | None) -> bool:
    camera_private = scenario.camera_side is Side.PRIVATE
    client_private = scenario.client_side is Side.PRIVATE
    match when:
        case When.ALWAYS:
            return True
        case When.NEVER:
            return False
        case When.DESTINATION_PRIVATE:
            # Notes have no destination: for them this means "the client is private".
            return scenario.is_private(destination or Host.CLIENT)
        case When.BOTH_PRIVATE:
            return camera_private and client_private
        case When.CAMERA_PRIVATE_CLIENT_PUBLIC:
            return camera_private and not client_private


def _ports(spec: PortSpec, rule: FlowRule, scenario: Scenario) -> PortRange:
    anchors: dict[Anchor, int | None] = {
        Anchor.HTTP: scenario.http_port,
        Anchor.BASE: scenario.base_port,
        Anchor.RTSP: scenario.rtsp_port,
        Anchor.FIXED: 0,
        Anchor.CLIENT_PORT: scenario.client_port,
        Anchor.CLIENT_AUDIO_PORT: scenario.client_audio_port,
        Anchor.STREAM_MULTICAST: (
            STREAM_MULTICAST_PORTS[scenario.stream].get(rule.media) if rule.media else None
        ),
    }
    anchor = anchors[spec.anchor]
    if anchor is None:  # build_scenario guarantees the ports a section needs
        raise ValueError(f"{rule.name}: scenario has no {spec.anchor.value} port")
    span = 2 * scenario.sdk_cameras if spec.span is Span.SDK_PAIRS else int(spec.span)
    first = anchor + spec.offset
    return PortRange(first, first + span - 1)


def _flow(rule: FlowRule, scenario: Scenario) -> Flow:
    return Flow(
        name=rule.name,
        protocol=rule.protocol,
        source=rule.source,
        destination=rule.destination,
        ports=_ports(rule.ports, rule, scenario),
        purpose=rule.purpose,
        required=rule.supported and _holds(rule.required, scenario, rule.destination),
        supported=rule.supported,
        role=rule.role,
        media=rule.media,
        multicast=rule.multicast,
    )


def _forwards(
    rules: list[FlowRule], flows: tuple[Flow, ...], scenario: Scenario
) -> tuple[Forward, ...]:
    """One forward per flow (or per forward group) on the IP sharer the document names.

    Camera-side forwards come first, then client-side ones, each in flow order: this
    order is the contract behind ``lab run --omit-forward N``.
    """
    merged: dict[tuple[Host, str], Forward] = {}
    order: list[tuple[Host, str]] = []
    for rule, flow in zip(rules, flows, strict=True):
        if not rule.supported or not _holds(rule.forward, scenario, rule.destination):
            continue
        router = rule.destination
        key = (router, rule.forward_group or flow.name)
        previous = merged.get(key)
        if previous is None:
            order.append(key)
            ports = flow.ports
            serves: tuple[str, ...] = (flow.name,)
        else:
            ports = PortRange(
                min(previous.ports.first, flow.ports.first),
                max(previous.ports.last, flow.ports.last),
            )
            serves = (*previous.serves, flow.name)
        merged[key] = Forward(
            router=router,
            protocol=flow.protocol,
            ports=ports,
            to=router,
            to_ports=ports,
            required=rule.forward_required,
            serves=serves,
        )
    ordered = sorted(order, key=lambda k: (k[0] is not Host.CAMERA, order.index(k)))
    return tuple(merged[k] for k in ordered)


def _port_fields(scenario: Scenario) -> dict[str, int | str]:
    """Values a note's text may name."""
    r = scenario.rtsp_port
    return {
        "http": scenario.http_port,
        "base": scenario.base_port,
        "base16": scenario.base_port + 16,
        "rtsp": r,
        "rtsp1": r + 1,
        "rtsp20": r + 20,
        "rtsp21": r + 21,
        "sdk_cameras": scenario.sdk_cameras,
        "sdk_last": SDK_FIRST_PORT + 2 * scenario.sdk_cameras - 1,
        "stream": scenario.stream.value,
    }
