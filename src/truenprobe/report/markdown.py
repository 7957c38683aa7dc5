"""A Report as markdown, to paste into a ticket: what was tested, what failed, what to fix."""

from __future__ import annotations

from truenprobe.plan.words import (
    camera_ports_line,
    forward_index,
    forward_text,
    ports_text,
    scenario_title,
    sentence_case,
)
from truenprobe.report.model import Report, Status
from truenprobe.report.words import (
    command_title,
    evidence_text,
    status_text,
    unexpected_text,
    verdict_line,
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def report_markdown(report: Report, command_line: str | None = None) -> str:
    plan = report.plan
    s = plan.scenario
    lines = [
        f"# {command_title(report)}",
        "",
        f"**{verdict_line(report)}**",
        "",
        f"- Site: {scenario_title(s)}",
        f"- {sentence_case(camera_ports_line(s))}",
        f"- Evidence: {report.source}",
    ]
    if command_line:
        lines.append(f"- Command: `{command_line}`")
    fixes = [r for r in report.results if r.status is Status.FAIL and r.forward is not None]
    if fixes:
        lines += ["", "## What to fix", ""]
        seen = set()
        for r in fixes:
            forward = r.forward
            if forward is None or forward in seen:
                continue
            seen.add(forward)
            number = f"#{forward_index(plan, forward)} " if forward in plan.forwards else ""
            lines.append(f"- [ ] {number}{forward_text(forward, s)} (for {r.flow})")
    lines += [
        "",
        "## Flows",
        "",
        "| flow | protocol | ports | result | evidence | diagnosis |",
        "|---|---|---|---|---|---|",
    ]
    for r in report.results:
        lines.append(
            f"| {r.flow} | {r.protocol.upper()} | {ports_text(r.ports)} | {status_text(r)} "
            f"| {_cell(evidence_text(r))} | {_cell(r.diagnosis or '')} |"
        )
    if report.unexpected:
        lines += ["", "## Unexpected traffic", ""]
        lines += [f"- {unexpected_text(u)}" for u in report.unexpected]
    if report.findings:
        lines += ["", "## Findings", ""]
        lines += [f"- {f}" for f in report.findings]
    if plan.notes:
        lines += ["", "## Notes from the port plan", ""]
        lines += [f"- {n}" for n in plan.notes]
    return "\n".join(lines) + "\n"
