"""Short evidence lines people read in the table and markdown reports."""

from __future__ import annotations

from truenprobe.plan.model import PortRange
from truenprobe.report.model import FlowResult, Status
from truenprobe.report.words import evidence_text


def _rtcp_return(**evidence: object) -> FlowResult:
    return FlowResult("rtcp-return", "udp", PortRange(555, 555), Status.PASS, True, dict(evidence))


def test_return_flow_evidence_from_a_live_check() -> None:
    assert evidence_text(_rtcp_return(sent_packets=3, camera_received=2)) == (
        "camera counted 2 RTCP of 3 sent"
    )


def test_return_flow_evidence_from_a_camera_side_capture_has_no_sender_count() -> None:
    assert evidence_text(_rtcp_return(camera_received=4)) == "camera received 4 RTCP"
