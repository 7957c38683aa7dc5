"""The phrases every renderer uses for scenarios, routers and forwards, so they all agree."""

from __future__ import annotations

from truenprobe.plan.model import Client, Flow, Forward, Host, Plan, PortRange, Scenario

ROUTER_NAME = {Host.CAMERA: "camera-side IP sharer", Host.CLIENT: "client-side IP sharer"}


CLIENT_NAME = {
    Client.WEB: "web client",
    Client.DECODER: "decoder",
    Client.SDK: "SDK client",
    Client.VLC: "VLC player",
}


def host_name(host: Host, scenario: Scenario) -> str:
    return "camera" if host is Host.CAMERA else CLIENT_NAME[scenario.client]


def sentence_case(text: str) -> str:
    """Capitalise the first letter only (``str.capitalize`` would lower "IP" and "HTTP")."""
    return text[:1].upper() + text[1:]


def ports_text(ports: PortRange) -> str:
    """``554`` or ``554–555`` (en dash, as people write ranges)."""
    return str(ports.first) if ports.first == ports.last else f"{ports.first}–{ports.last}"


def forward_rule(forward: Forward, scenario: Scenario) -> str:
    """E.g. ``forward UDP 554–555 to the decoder`` (the rule, without its IP sharer)."""
    target = host_name(forward.to, scenario)
    same = forward.ports == forward.to_ports
    dest = f"the {target}" if same else f"the {target}, port {ports_text(forward.to_ports)}"
    optional = "" if forward.required else " (not mandatory)"
    return f"forward {forward.protocol.upper()} {ports_text(forward.ports)} to {dest}{optional}"


def forward_text(forward: Forward, scenario: Scenario) -> str:
    """E.g. ``client-side IP sharer: forward UDP 554–555 to the decoder``."""
    return f"{ROUTER_NAME[forward.router]}: {forward_rule(forward, scenario)}"


def flow_path(flow: Flow, scenario: Scenario) -> str:
    return f"{host_name(flow.source, scenario)} → {host_name(flow.destination, scenario)}"


def scenario_title(scenario: Scenario) -> str:
    how = scenario.transport.value.upper()
    proto = f"{scenario.protocol.value.upper()} over {how}" if scenario.protocol else how
    stream = f", stream {scenario.stream.value}" if scenario.protocol else ""
    return (
        f"{scenario.client.value} client, {proto}{stream}; camera {scenario.camera_side.value}, "
        f"client {scenario.client_side.value}"
    )


def camera_ports_line(scenario: Scenario) -> str:
    return (
        f"camera ports: HTTP {scenario.http_port}, base {scenario.base_port}, "
        f"RTSP {scenario.rtsp_port}"
    )


def forward_index(plan: Plan, forward: Forward) -> int:
    """1-based position in the plan's forwards (the number ``--omit-forward`` takes)."""
    return plan.forwards.index(forward) + 1
