"""The report renderers (table, json, junit, markdown) read one Report the same way."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from truenprobe.cli.output import render_plain
from truenprobe.observations import (
    MediaRequest,
    Observations,
    RtspReply,
    TcpAttempt,
    TcpOutcome,
    UdpArrival,
)
from truenprobe.plan.model import Media, PortRange
from truenprobe.plan.resolve import resolve
from truenprobe.plan.scenario import build_scenario
from truenprobe.report.json import report_json
from truenprobe.report.junit import report_junit, reports_junit
from truenprobe.report.markdown import report_markdown
from truenprobe.report.model import Report
from truenprobe.report.table import report_table
from truenprobe.verdict import compare


def failing_report() -> Report:
    plan = resolve(build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"}))
    records = (
        TcpAttempt(554, TcpOutcome.OPEN, connect_ms=2.5, greeting="RTSP/1.0 200 OK"),
        RtspReply("DESCRIBE", "rtsp://203.0.113.5:554/video1", 200, "OK", at_ms=5),
        MediaRequest(
            "udp",
            Media.VIDEO,
            PortRange(554, 555),
            accepted=True,
            status=200,
            played_at_ms=10,
            granted_ports=PortRange(554, 555),
            ssrc=7,
        ),
        UdpArrival(554, "203.0.113.5", 554, "rtp", 40, 8000, 12.0, 900.0, ssrc=7, belongs=True),
        UdpArrival(555, "198.51.100.4", 9, "other", 3, 30, 50.0, 60.0, note="not RTP or RTCP"),
    )
    return compare(plan, Observations("203.0.113.5", records=records, duration_ms=5000))


def test_table_shows_every_flow_the_diagnosis_and_the_verdict() -> None:
    text = render_plain(report_table(failing_report()), width=160)
    for flow in ("rtsp-control", "rtp-video", "rtcp-video", "rtcp-return", "rtp-audio"):
        assert flow in text
    assert "FAIL" in text
    assert "rtcp-video: nothing from the camera arrived on UDP 555" in text
    assert "client-side IP sharer: forward UDP 554–555 to the decoder" in text
    assert "Unexpected traffic" in text
    assert "198.51.100.4:9" in text


def test_json_follows_the_design_schema() -> None:
    data = json.loads(report_json(failing_report()))
    assert data["verdict"] == "fail"
    assert data["camera"] == "203.0.113.5"
    assert data["scenario"]["client"] == "decoder"
    rtcp = next(r for r in data["results"] if r["flow"] == "rtcp-video")
    assert rtcp["status"] == "fail"
    assert rtcp["ports"] == [555, 555]
    assert rtcp["forward"] == {
        "router": "client",
        "protocol": "udp",
        "ports": [554, 555],
        "to": "client",
        "to_ports": [554, 555],
        "required": True,
    }
    assert data["unexpected"][0]["source"] == "198.51.100.4:9"


def test_junit_one_testcase_per_flow() -> None:
    root = ET.fromstring(report_junit(failing_report()))
    suite = root.find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    assert len(cases) == 5
    assert suite.get("failures") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1
    assert (failed[0].get("name") or "").startswith("rtcp-video")
    message = failed[0].find("failure").get("message")  # type: ignore[union-attr]
    assert "forward UDP 554–555" in (message or "")
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert {(c.get("name") or "").split()[0] for c in skipped} == {"rtcp-return", "rtp-audio"}


def test_junit_of_a_fleet_has_a_suite_per_camera() -> None:
    report = failing_report()
    root = ET.fromstring(reports_junit([report, report], ["gate", "lobby"]))
    assert [s.get("name") for s in root.findall("testsuite")] == ["gate", "lobby"]


def test_markdown_for_a_ticket() -> None:
    text = report_markdown(failing_report(), "truenprobe check 203.0.113.5 --client decoder")
    assert text.startswith("# truenprobe check 203.0.113.5")
    assert "## What to fix" in text
    assert (
        "- [ ] #3 client-side IP sharer: forward UDP 554–555 to the decoder (for rtcp-video)"
        in text
    )
    assert "| rtcp-video | UDP | 555 | FAIL |" in text
    assert "`truenprobe check 203.0.113.5 --client decoder`" in text
    assert "## Notes from the port plan" in text
