"""The report files a command can write besides its main output (--junit, --markdown, ...).

One entry per option: ``@report_options`` (cli/options.py) declares each as a typer
option and the commands write each one given (``cli.options.write_report_files``). To add a format
(e.g. ``--html``), append one ReportFile here; renderers are imported only when used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from truenprobe.report.model import Report

Render = Callable[[Sequence[Report], Sequence[str], str], str]


@dataclass(frozen=True)
class ReportFile:
    key: str  # the command's parameter name
    flag: str
    help: str
    render: Render  # (reports, their names, command line) -> file text


def _junit(reports: Sequence[Report], names: Sequence[str], _command_line: str) -> str:
    from truenprobe.report.junit import reports_junit

    return reports_junit(reports, names if len(reports) > 1 else None)


def _markdown(reports: Sequence[Report], _names: Sequence[str], command_line: str) -> str:
    from truenprobe.report.markdown import report_markdown

    return "\n".join(report_markdown(r, command_line) for r in reports)


def _html(reports: Sequence[Report], names: Sequence[str], command_line: str) -> str:
    from truenprobe.report.html import render_reports_html

    # Written as the command ends: it started the longest check's duration ago.
    longest = max((r.duration_s for r in reports), default=0.0)
    started = datetime.now().astimezone() - timedelta(seconds=longest)
    return render_reports_html(reports, command_line, names=names, checked_at=started)


REPORT_FILES: tuple[ReportFile, ...] = (
    ReportFile(
        "junit", "--junit", "Also write a JUnit XML report (one testcase per flow).", _junit
    ),
    ReportFile(
        "markdown", "--markdown", "Also write a markdown report, e.g. for a ticket.", _markdown
    ),
    ReportFile(
        "html",
        "--html",
        "Also write a self-contained HTML report for people and tickets: the site drawn, "
        "each flow coloured by its verdict, the rule to add, the evidence.",
        _html,
    ),
)
