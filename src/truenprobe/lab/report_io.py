"""The prober's JSON report read back into a Report, so the lab can render every format.

The lab runs the prober as a program (in the client's namespace) and reads its JSON; the
plan it checked is the lab's own, so each forward a result names is matched back to the
plan's Forward (which keeps the flows it serves).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from truenprobe.lab.system import LabError
from truenprobe.plan.model import Forward, Plan, PortRange
from truenprobe.plan.serialize import forward_from_dict, forward_to_dict
from truenprobe.report.model import FlowResult, Report, Status


def _forward(data: Mapping[str, Any] | None, plan: Plan) -> Forward | None:
    if data is None:
        return None
    for forward in plan.forwards:
        if forward_to_dict(forward) == dict(data):
            return forward
    return forward_from_dict(data, "report forward")


def _result(data: Mapping[str, Any], plan: Plan) -> FlowResult:
    first, last = data["ports"]
    return FlowResult(
        flow=str(data["flow"]),
        protocol=str(data["protocol"]),
        ports=PortRange(int(first), int(last)),
        status=Status(data["status"]),
        required=bool(data["required"]),
        evidence=dict(data.get("evidence") or {}),
        diagnosis=data.get("diagnosis"),
        forward=_forward(data.get("forward"), plan),
    )


def report_from_dict(data: Mapping[str, Any], plan: Plan) -> Report:
    """A Report from check's JSON; LabError when it is not one."""
    try:
        return Report(
            plan=plan,
            camera=str(data["camera"]),
            results=tuple(_result(r, plan) for r in data["results"]),
            duration_s=float(data.get("duration_s", 0.0)),
            unexpected=tuple(data.get("unexpected", ())),
            findings=tuple(str(f) for f in data.get("findings", ())),
            source=str(data.get("source", "probe")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LabError(f"the prober's report cannot be read: {exc}") from None
