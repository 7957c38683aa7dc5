"""A Report as a rich table for the terminal."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from truenprobe.plan.words import camera_ports_line, ports_text, scenario_title
from truenprobe.report.model import Report, Status
from truenprobe.report.words import (
    STATUS_STYLE,
    VERDICT_STYLE,
    command_title,
    evidence_text,
    status_text,
    unexpected_text,
    verdict_line,
)


def report_table(report: Report) -> Group:
    s = report.plan.scenario
    table = Table(title_justify="left", expand=False)
    table.add_column("flow", no_wrap=True)
    table.add_column("proto", no_wrap=True)
    table.add_column("ports", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("evidence", overflow="fold")
    for r in report.results:
        table.add_row(
            r.flow,
            r.protocol.upper(),
            ports_text(r.ports),
            Text(status_text(r), style=STATUS_STYLE[r.status]),
            evidence_text(r),
        )
    parts: list[Text | Table] = [
        Text(f"{command_title(report)}: {scenario_title(s)}", style="bold"),
        Text(camera_ports_line(s)),
        table,
    ]
    for r in report.results:
        if r.diagnosis and r.status is not Status.PASS:
            parts.append(Text.assemble((f"{r.flow}: ", STATUS_STYLE[r.status]), r.diagnosis))
    parts.append(Text(verdict_line(report), style=VERDICT_STYLE[report.verdict]))
    if report.unexpected:
        parts.append(Text("Unexpected traffic (not explained by the plan):", style="bold"))
        parts.extend(Text(f"  - {unexpected_text(u)}") for u in report.unexpected)
    parts.extend(Text(f"finding: {f}", style="yellow") for f in report.findings)
    return Group(*parts)
