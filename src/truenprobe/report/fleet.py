"""A fleet check's outputs: one JSON line per camera, and a summary table.

The table lists every camera of a small fleet; a bigger one lists the cameras that did
not pass and counts the rest (drawing hundreds of passing rows took rich most of a
second in a terminal, to show what the summary line says; the JSON lines have them all).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from truenprobe.errors import EXIT_FAIL, EXIT_INCOMPLETE, EXIT_PASS, EXIT_USAGE
from truenprobe.probe.fleet import FleetEntry
from truenprobe.report.model import Status, Verdict
from truenprobe.report.words import VERDICT_STYLE

if TYPE_CHECKING:
    from rich.console import Group


def entry_dict(entry: FleetEntry) -> dict[str, Any]:
    if entry.report is None:
        return {
            "name": entry.row.name,
            "camera": entry.row.target.host,
            "verdict": "error",
            "error": entry.error,
        }
    return {"name": entry.row.name, **entry.report.to_dict()}


_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder for every line, not one per line
LISTED_PASSES = 25  # a fleet bigger than this lists only the cameras that did not pass


def entry_json_line(entry: FleetEntry) -> str:
    return _JSON.encode(entry_dict(entry)) + "\n"


def fleet_exit_code(entries: Sequence[FleetEntry]) -> int:
    """The worst camera decides: fail > error (bad input) > incomplete > pass."""
    verdicts = {e.report.verdict for e in entries if e.report is not None}
    if Verdict.FAIL in verdicts:
        return EXIT_FAIL
    if any(e.report is None for e in entries):
        return EXIT_USAGE
    if Verdict.INCOMPLETE in verdicts:
        return EXIT_INCOMPLETE
    return EXIT_PASS


def fleet_table(entries: Sequence[FleetEntry], seconds: float) -> Group:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    table = Table(title="truenprobe fleet check", title_justify="left")
    for col in ("name", "camera", "site", "verdict", "first problem", "s"):
        table.add_column(col, overflow="fold")
    counts = {"pass": 0, "fail": 0, "incomplete": 0, "error": 0}
    list_passes = len(entries) <= LISTED_PASSES
    for e in entries:
        s = e.row.plan.scenario
        site = f"{s.client.value} {s.protocol.value if s.protocol else ''} {s.transport.value}"
        if e.report is None:
            counts["error"] += 1
            table.add_row(
                e.row.name, e.row.target.host, site, Text("ERROR", "red"), e.error or "", ""
            )
            continue
        v = e.report.verdict
        counts[v.value] += 1
        if v is Verdict.PASS and not list_passes:
            continue
        problem = next(
            (
                f"{r.flow}: {r.diagnosis}"
                for r in e.report.results
                if r.required and r.status is not Status.PASS and r.diagnosis
            ),
            "",
        )
        table.add_row(
            e.row.name,
            e.row.target.host,
            " ".join(site.split()),
            Text(v.value.upper(), VERDICT_STYLE[v]),
            problem,
            f"{e.report.duration_s:.1f}",
        )
    summary = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    if not list_passes and counts["pass"]:
        summary += " (the passing ones are not listed; --format json gives every camera)"
    line = Text(f"{len(entries)} camera(s) in {seconds:.1f} s: {summary}")
    return Group(table, line) if table.row_count else Group(line)
