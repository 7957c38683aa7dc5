"""Plan <-> JSON-ready dicts, in the key order of DESIGN.md's contract."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from truenprobe.errors import InputFileError
from truenprobe.plan.model import Flow, Forward, Host, Plan, PortRange
from truenprobe.plan.scenario import scenario_to_dict


def ports_to_list(ports: PortRange) -> list[int]:
    return [ports.first, ports.last]


def flow_to_dict(flow: Flow) -> dict[str, Any]:
    return {
        "name": flow.name,
        "protocol": flow.protocol,
        "from": flow.source.value,
        "to": flow.destination.value,
        "ports": ports_to_list(flow.ports),
        "purpose": flow.purpose,
        "required": flow.required,
        "supported": flow.supported,
    }


def forward_to_dict(forward: Forward) -> dict[str, Any]:
    return {
        "router": forward.router.value,
        "protocol": forward.protocol,
        "ports": ports_to_list(forward.ports),
        "to": forward.to.value,
        "to_ports": ports_to_list(forward.to_ports),
        "required": forward.required,
    }


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "scenario": scenario_to_dict(plan.scenario),
        "flows": [flow_to_dict(f) for f in plan.flows],
        "forwards": [forward_to_dict(f) for f in plan.forwards],
        "notes": list(plan.notes),
    }


def _ports_from(value: object, where: str) -> PortRange:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in value)
    ):
        raise InputFileError(f"{where}: ports must be [first, last], got {value!r}")
    try:
        return PortRange(value[0], value[1])
    except ValueError:
        raise InputFileError(f"{where}: {value!r} is not a port range within 1-65535") from None


def _host_from(value: object, where: str) -> Host:
    try:
        return Host(str(value))
    except ValueError:
        raise InputFileError(f"{where}: must be 'camera' or 'client', got {value!r}") from None


def forward_from_dict(data: Mapping[str, Any], where: str = "forward") -> Forward:
    """Parse one forward of the plan's JSON format (e.g. a site's real router configuration)."""
    if not isinstance(data, Mapping):
        raise InputFileError(f"{where}: expected an object, got {type(data).__name__}")
    missing = [k for k in ("router", "protocol", "ports") if k not in data]
    if missing:
        raise InputFileError(f"{where}: missing {', '.join(missing)}")
    protocol = str(data["protocol"]).lower()
    if protocol not in ("tcp", "udp"):
        raise InputFileError(f"{where}: protocol must be tcp or udp, got {data['protocol']!r}")
    router = _host_from(data["router"], f"{where}.router")
    ports = _ports_from(data["ports"], f"{where}.ports")
    to_ports = _ports_from(data.get("to_ports", ports.as_list()), f"{where}.to_ports")
    if len(to_ports) != len(ports):
        raise InputFileError(f"{where}: ports {ports} and to_ports {to_ports} differ in length")
    required = data.get("required", True)
    if not isinstance(required, bool):
        raise InputFileError(f"{where}.required: must be true or false, got {required!r}")
    return Forward(
        router=router,
        protocol=protocol,
        ports=ports,
        to=_host_from(data.get("to", router.value), f"{where}.to"),
        to_ports=to_ports,
        required=required,
    )


def forwards_from_json(data: object) -> tuple[Forward, ...]:
    """A forwards file: a list of forwards, or a whole plan JSON (its "forwards" are taken)."""
    if isinstance(data, Mapping) and "forwards" in data:
        data = data["forwards"]
    if not isinstance(data, list):
        raise InputFileError("forwards file: expected a JSON list of forwards or a plan")
    return tuple(forward_from_dict(item, f"forwards[{i}]") for i, item in enumerate(data))
