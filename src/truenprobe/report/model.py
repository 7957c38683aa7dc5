"""The Report: one verdict per planned flow, as DESIGN.md's check/analyze/lab JSON.

compare() builds it; renderers only read it. ``forward`` is the plan's Forward that a
failure points at, rendered verbatim as in the plan's JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from truenprobe.errors import EXIT_FAIL, EXIT_INCOMPLETE, EXIT_PASS
from truenprobe.plan.model import Forward, Plan, PortRange
from truenprobe.plan.scenario import scenario_to_dict
from truenprobe.plan.serialize import forward_to_dict, ports_to_list


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"

    @property
    def exit_code(self) -> int:
        return {Verdict.PASS: EXIT_PASS, Verdict.FAIL: EXIT_FAIL}.get(self, EXIT_INCOMPLETE)


@dataclass(frozen=True)
class FlowResult:
    flow: str
    protocol: str
    ports: PortRange
    status: Status
    required: bool
    evidence: dict[str, Any] = field(default_factory=dict)
    diagnosis: str | None = None
    forward: Forward | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "flow": self.flow,
            "protocol": self.protocol,
            "ports": ports_to_list(self.ports),
            "status": self.status.value,
            "required": self.required,
            "evidence": self.evidence,
            "diagnosis": self.diagnosis,
            "forward": forward_to_dict(self.forward) if self.forward else None,
        }


@dataclass(frozen=True)
class Report:
    plan: Plan
    camera: str
    results: tuple[FlowResult, ...]
    duration_s: float = 0.0
    unexpected: tuple[dict[str, Any], ...] = ()  # traffic no planned flow explains
    findings: tuple[str, ...] = ()  # things worth saying that belong to no single flow
    source: str = "probe"

    @property
    def verdict(self) -> Verdict:
        """fail if a required flow failed; incomplete if a required one was skipped."""
        required = [r for r in self.results if r.required]
        if any(r.status is Status.FAIL for r in required):
            return Verdict.FAIL
        if any(r.status is Status.SKIPPED for r in required):
            return Verdict.INCOMPLETE
        return Verdict.PASS

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": scenario_to_dict(self.plan.scenario),
            "camera": self.camera,
            "verdict": self.verdict.value,
            "duration_s": round(self.duration_s, 3),
            "results": [r.to_dict() for r in self.results],
            "unexpected": list(self.unexpected),
            "findings": list(self.findings),
            "source": self.source,
        }
