"""`truenprobe analyze CAPTURE --camera ADDR`: a site's capture, judged like a live check.

Builds the plan, reads the capture into the prober's Observations, and calls the same
``compare()``: the report, its formats and the exit codes are those of ``check``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from truenprobe.cli.options import (
    ReportFormat,
    ReportOptions,
    report_options,
    scenario_options,
    write_report_files,
)
from truenprobe.cli.output import emit
from truenprobe.plan.model import Scenario
from truenprobe.plan.resolve import resolve
from truenprobe.report.redact import command_line_text

CAPTURE_PANEL = "Capture"


@scenario_options
@report_options
def analyze_command(
    capture: Annotated[
        Path,
        typer.Argument(
            help="A pcap or pcapng file (gzip-compressed too; - reads stdin), taken on the "
            "client's or the camera's side.",
            show_default=False,
            metavar="CAPTURE",
        ),
    ],
    camera: Annotated[
        list[str],
        typer.Option(
            "--camera",
            help="The camera's address as the client uses it (its public address when it is "
            "behind an IP sharer). Repeat it to add the camera's LAN address for a capture "
            "taken on the camera's side.",
            rich_help_panel=CAPTURE_PANEL,
            show_default=False,
        ),
    ],
    client_address: Annotated[
        str | None,
        typer.Option(
            "--client-address",
            help="The client's address as it appears in the capture, when several hosts talk "
            "to the camera.",
            rich_help_panel=CAPTURE_PANEL,
        ),
    ] = None,
    *,
    scenario: Scenario,
    report: ReportOptions,
) -> int:
    """Read a capture and say which planned flow never arrived and which rule is missing."""
    from truenprobe.capture.analyze import analyze_capture  # loads only when analyzing
    from truenprobe.capture.observe import Subject
    from truenprobe.verdict import compare

    plan = resolve(scenario)
    subject = Subject(plan, tuple(camera), client_address, capture.name)
    observations = analyze_capture(str(capture), subject)
    result = compare(plan, observations)
    if report.main_format() is ReportFormat.JSON:
        from truenprobe.report.json import report_json

        emit(report_json(result))
    else:
        from truenprobe.report.table import report_table

        emit(report_table(result))
    write_report_files(report, [result], command_line_text(["truenprobe", *sys.argv[1:]]))
    return result.verdict.exit_code
