"""``--html FILE``: the HTML report of a check, analyze or lab run, written in one place.

The shared ``@report_options`` decorator calls ``write_html_report`` after the command
has built its Report; the reproduction command is the process's own command line (the
renderer redacts its secrets).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from truenprobe.cli.output import write_file
from truenprobe.report.model import Report

HtmlOption = Annotated[
    Path | None,
    typer.Option(
        "--html",
        metavar="FILE",
        help="Also write a self-contained HTML report (the site drawn, evidence, the rule "
        "to add) to FILE.",
        dir_okay=False,
    ),
]


def invoked_command_line() -> list[str]:
    """This process's command line as a user would type it again."""
    return ["truenprobe", *sys.argv[1:]]


def write_html_report(
    path: Path,
    report: Report,
    *,
    started_at: datetime,
    command_line: Sequence[str] | None = None,
) -> None:
    """Render and write the report; an unwritable path is one clear line (exit 2)."""
    from truenprobe.report.html import render_report_html  # only when asked for

    argv = invoked_command_line() if command_line is None else command_line
    write_file(path, render_report_html(report, argv, checked_at=started_at), "HTML report")
