"""Phrases every report renderer shares, so the table, markdown and JUnit agree."""

from __future__ import annotations

from typing import Any

from truenprobe.plan.model import PortRange
from truenprobe.plan.words import ports_text
from truenprobe.report.model import FlowResult, Report, Status, Verdict

STATUS_WORD = {Status.PASS: "PASS", Status.FAIL: "FAIL", Status.SKIPPED: "SKIP"}
STATUS_STYLE = {Status.PASS: "green", Status.FAIL: "bold red", Status.SKIPPED: "yellow"}
VERDICT_STYLE = {Verdict.PASS: "bold green", Verdict.FAIL: "bold red", Verdict.INCOMPLETE: "yellow"}
VERDICT_SENTENCE = {
    Verdict.PASS: "every required flow works",
    Verdict.FAIL: "a required flow fails",
    Verdict.INCOMPLETE: "nothing failed, but a required flow could not be tested",
}


def command_title(report: Report) -> str:
    """What the report judges: a live check of a camera, or an analyzed capture."""
    if report.source.startswith("capture:"):
        capture = report.source.removeprefix("capture:")
        return f"truenprobe analyze {capture} (camera {report.camera})"
    return f"truenprobe check {report.camera}"


def verdict_line(report: Report) -> str:
    v = report.verdict
    return f"{v.value.upper()}: {VERDICT_SENTENCE[v]} ({report.duration_s:.1f} s)"


def status_text(result: FlowResult) -> str:
    word = STATUS_WORD[result.status]
    return word if result.required else f"{word} (optional)"


def _ranges_text(ranges: Any) -> str:
    try:
        return ", ".join(ports_text(PortRange(a, b)) for a, b in ranges)
    except (TypeError, ValueError):
        return str(ranges)


def _media_text(e: dict[str, Any]) -> str:
    """One port's evidence: '54 RTP from 127.0.0.1:4000 in 1 ms, SSRC 0x…, PT 96, 0 lost'."""
    kind = str(e.get("kind", "")).upper() or "packets"
    parts = [f"{e.get('packets', 0)} {kind}"]
    if e.get("source"):
        parts[0] += f" from {e['source']}"
    if e.get("group"):
        parts[0] += f" to {e['group']}"
    if "first_after_play_ms" in e:
        parts.append(f"first {e['first_after_play_ms']:g} ms after PLAY")
    if e.get("ssrc"):
        parts.append(f"SSRC {e['ssrc']}")
    if e.get("payload_type") is not None:
        parts.append(f"PT {e['payload_type']}")
    if e.get("sequence_gaps"):
        parts.append(f"{e['sequence_gaps']} lost")
    if e.get("sender_reports"):
        parts.append(f"{e['sender_reports']} SR")
    return ", ".join(parts)


def evidence_text(result: FlowResult) -> str:
    """The evidence in one short line for people (the JSON keeps all of it)."""
    e = result.evidence
    if not e:
        return ""
    if "outcome" in e:
        text = str(e["outcome"])
        if e.get("connect_ms") is not None:
            text += f" in {e['connect_ms']:g} ms"
        if e.get("greeting"):
            text += f", {e['greeting']}"
        if e.get("unanswered"):
            text += f"; {e['unanswered']}"
        if e.get("interleaved"):
            media = ", ".join(
                f"{name}: {v.get('rtp_packets', 0)} RTP" for name, v in e["interleaved"].items()
            )
            text += f"; interleaved {media}"
        return text
    if "camera_received" in e or "sent_packets" in e:
        sent = e.get("sent_packets", 0)
        if "camera_received" in e:
            if not sent:  # e.g. a camera-side capture: what the camera received is all we know
                return f"camera received {e['camera_received']} RTCP"
            return f"camera counted {e['camera_received']} RTCP of {sent} sent"
        return f"{sent} RTCP sent"
    parts = []
    if "arrived" in e:
        arrived = e["arrived"]
        if arrived:
            ports = sorted(int(p) for p in arrived)
            parts.append("arrived on " + ", ".join(str(p) for p in ports))
        if e.get("tested_ports"):
            parts.append("tested " + _ranges_text(e["tested_ports"]))
        if e.get("untested_ports"):
            parts.append(f"{e['untested_ports']} ports untested (--sweep tests all)")
    elif "packets" in e:
        parts.append(_media_text(e))
    if e.get("foreign_packets"):
        parts.append(f"{e['foreign_packets']} foreign packets")
    if e.get("listen_errors"):
        parts.append("cannot listen: " + "; ".join(e["listen_errors"].values()))
    return "; ".join(parts)


def unexpected_text(entry: dict[str, Any]) -> str:
    where = f"{str(entry.get('protocol', '')).upper()} {entry.get('port')}"
    if entry.get("channel") is not None:
        where += f" channel {entry['channel']}"
    source = f" from {entry['source']}" if entry.get("source") else ""
    group = f" (group {entry['group']})" if entry.get("group") else ""
    note = f": {entry['note']}" if entry.get("note") else ""
    return f"{where}{group}: {entry.get('packets')} {entry.get('kind')} packet(s){source}{note}"
