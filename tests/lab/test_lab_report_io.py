"""The prober's JSON read back into a Report: nothing lost, forwards matched to the plan's."""

from __future__ import annotations

import json

import pytest

from truenprobe.lab.report_io import report_from_dict
from truenprobe.lab.system import LabError
from truenprobe.plan import build_scenario, resolve
from truenprobe.report.model import FlowResult, Report, Status

PLAN = resolve(build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"}))


def _report():
    results = []
    for flow in PLAN.flows:
        fails = flow.name == "rtp-video"
        results.append(
            FlowResult(
                flow=flow.name,
                protocol=flow.protocol,
                ports=flow.ports,
                status=Status.FAIL if fails else Status.PASS,
                required=flow.required,
                evidence={"packets": 3, "ports": [554, 555]},
                diagnosis="nothing arrived" if fails else None,
                forward=PLAN.forwards_for(flow.name)[0] if fails else None,
            )
        )
    return Report(
        plan=PLAN,
        camera="203.0.113.10",
        results=tuple(results),
        duration_s=2.5,
        unexpected=({"port": 9, "packets": 1},),
        findings=("lab: something",),
    )


def test_round_trip_keeps_everything_and_the_plans_forward():
    original = _report()
    data = json.loads(json.dumps(original.to_dict()))
    again = report_from_dict(data, PLAN)
    assert again.to_dict() == original.to_dict()
    failed = next(r for r in again.results if r.status is Status.FAIL)
    assert failed.forward is PLAN.forwards[2]  # the plan's own, with the flows it serves
    assert failed.forward.serves == ("rtp-video", "rtcp-video")


def test_not_a_report_is_a_lab_error():
    with pytest.raises(LabError, match="cannot be read"):
        report_from_dict({"results": [{"flow": "x"}]}, PLAN)
