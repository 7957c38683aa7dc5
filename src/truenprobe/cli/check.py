"""`truenprobe check CAMERA`: prove each flow of the plan from the client's network.

Builds the plan and the request, runs the probe (or a fleet of them), compares, and
writes the report; exit code 0 pass, 1 a required flow failed, 2 bad usage, 3 a
required flow could not be tested.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from truenprobe.cli.options import (
    ReportFormat,
    ReportOptions,
    raw_scenario_options,
    report_options,
    write_report_files,
)
from truenprobe.cli.output import emit
from truenprobe.errors import ScenarioError
from truenprobe.plan.model import Plan
from truenprobe.plan.resolve import resolve
from truenprobe.plan.scenario import build_scenario
from truenprobe.probe.target import parse_camera
from truenprobe.probe.token import valid_token
from truenprobe.report.redact import command_line_text

if TYPE_CHECKING:  # the probe (aiortsp) loads only when a check runs: `plan` stays fast
    from truenprobe.probe.runner import CheckRequest

PROBE_PANEL = "Probe"


def _opt(*names: str, help_text: str, **extra: Any) -> Any:
    return typer.Option(*names, help=help_text, rich_help_panel=PROBE_PANEL, **extra)


@raw_scenario_options
@report_options
def check_command(
    camera: Annotated[
        str | None,
        typer.Argument(
            help="The camera's address as the client uses it (its public address when it is "
            "behind an IP sharer), a name, or rtsp://user:password@host:port/path.",
            show_default=False,
            metavar="CAMERA",
        ),
    ] = None,
    timeout: Annotated[
        float,
        _opt(
            "--timeout",
            help_text="Seconds each stage may wait (connect, each RTSP answer, the first media); "
            "the whole check is bounded by a few times this.",
            min=0.1,
            max=600,
        ),
    ] = 5.0,
    user: Annotated[str | None, _opt("--user", help_text="RTSP user (Digest or Basic).")] = None,
    password: Annotated[
        str | None,
        _opt(
            "--password",
            help_text="RTSP password (or the environment, which keeps it off the command line).",
            envvar="TRUENPROBE_PASSWORD",
            show_envvar=True,
        ),
    ] = None,
    sweep: Annotated[
        bool,
        _opt(
            "--sweep",
            help_text="VSNM UDP ranges: test every port pair (default: the first and the last).",
        ),
    ] = False,
    listen_only: Annotated[
        float | None,
        _opt(
            "--listen-only",
            help_text="Start no RTSP session: listen on the planned ports for SECONDS and report "
            "what arrives (the real camera streaming, or `truenprobe send`).",
            metavar="SECONDS",
            min=0.1,
            max=3600,
        ),
    ] = None,
    token: Annotated[
        str | None,
        _opt(
            "--token",
            help_text="With --listen-only: the token of a `truenprobe send` at the camera's site.",
        ),
    ] = None,
    multicast_group: Annotated[
        str | None,
        _opt(
            "--multicast-group",
            help_text="With --listen-only: the multicast group to join for multicast flows.",
        ),
    ] = None,
    inventory: Annotated[
        Path | None,
        _opt(
            "--inventory",
            help_text="Check many cameras: a CSV or YAML file, one camera a row (camera, name, "
            "user, password, path, and any scenario key to override).",
            metavar="FILE",
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        _opt(
            "--concurrency",
            help_text="With --inventory: cameras checked at once (default: 64 where checks "
            "hold RTSP sessions; where every check is a TCP connect, 1024 or as many as open "
            "files allow).",
            min=1,
            max=65536,
        ),
    ] = None,
    pcap: Annotated[
        Path | None,
        _opt(
            "--pcap",
            help_text="Also record what the check sends and receives (the camera's traffic, the "
            "plan's UDP ports) as a pcap for a ticket; needs root or CAP_NET_RAW, else the check "
            "runs unrecorded.",
            metavar="FILE",
        ),
    ] = None,
    *,
    scenario_values: dict[str, Any],
    report: ReportOptions,
) -> int:
    """Prove each flow of the plan from here, and name the rule that is missing."""
    if token is not None and listen_only is None:
        raise ScenarioError("--token works with --listen-only (the receiving side of `send`)")
    if token is not None and not valid_token(token):
        raise ScenarioError(f"--token {token!r}: use 1-64 letters, digits, '.', '_' or '-'")
    if multicast_group is not None and listen_only is None:
        raise ScenarioError(
            "--multicast-group works with --listen-only (an RTSP session learns the group)"
        )
    from truenprobe.probe.runner import CheckRequest

    template = CheckRequest(
        camera="",
        stage_s=timeout,
        username=user,
        password=password,
        sweep=sweep,
        listen_only_s=listen_only,
        token=token,
        multicast_group=multicast_group,
    )
    # Every report file shows how to reproduce the check: never with its secrets.
    command_line = command_line_text(["truenprobe", *sys.argv[1:]])
    if inventory is not None:
        if camera is not None:
            raise ScenarioError("give either CAMERA or --inventory FILE, not both")
        if pcap is not None:
            raise ScenarioError("--pcap records one camera's check, not an --inventory")
        return _fleet(inventory, scenario_values, template, concurrency, report, command_line)
    if camera is None:
        raise ScenarioError("CAMERA is required (or --inventory FILE); see --help")
    target = parse_camera(camera)
    values = dict(scenario_values)
    if target.port is not None:
        values.setdefault("rtsp_port", target.port)
    plan = resolve(build_scenario(values))
    if target.port is not None and target.port != plan.scenario.rtsp_port:
        raise ScenarioError(
            f"the URL's port {target.port} differs from --rtsp-port {plan.scenario.rtsp_port}"
        )
    request = CheckRequest(
        camera=target.host,
        stage_s=timeout,
        username=user or target.user,
        password=password or target.password,
        path=target.path,
        sweep=sweep,
        listen_only_s=listen_only,
        token=token,
        multicast_group=multicast_group,
    )
    return _single(plan, request, report, command_line, pcap)


def _single(
    plan: Plan,
    request: CheckRequest,
    report: ReportOptions,
    command_line: str,
    pcap: Path | None = None,
) -> int:
    import asyncio  # loaded only when a check runs: `plan` and `--help` stay fast

    from truenprobe.capture.record import recording
    from truenprobe.probe.runner import Progress, probe
    from truenprobe.report.live import with_status
    from truenprobe.verdict import compare

    progress = Progress()

    def describe() -> str:
        return f"checking {request.camera} ({progress.clock.elapsed():.1f} s): {progress.line()}"

    with recording(pcap, plan, request.camera, _say):
        observations = asyncio.run(
            with_status(probe(plan, request, progress), describe, sys.stderr.isatty())
        )
    result = compare(plan, observations)
    if report.main_format() is ReportFormat.JSON:
        from truenprobe.report.json import report_json

        emit(report_json(result))
    else:
        from truenprobe.report.table import report_table

        emit(report_table(result))
    write_report_files(report, [result], command_line)
    return result.verdict.exit_code


def _say(line: str) -> None:
    sys.stderr.write(f"truenprobe: {line}\n")


def _fleet(
    inventory: Path,
    base: dict[str, Any],
    template: CheckRequest,
    concurrency: int | None,
    report: ReportOptions,
    command_line: str,
) -> int:
    import asyncio  # loaded only when a check runs: `plan` and `--help` stay fast

    from truenprobe.probe.fleet import FleetEntry, load_inventory, run_fleet
    from truenprobe.report.fleet import entry_json_line, fleet_exit_code, fleet_table
    from truenprobe.report.live import FleetBar

    rows = load_inventory(inventory, base)
    as_json = report.main_format() is ReportFormat.JSON
    started = time.monotonic()

    with FleetBar(len(rows), sys.stderr.isatty()) as bar:

        def done(entry: FleetEntry) -> None:
            bar.advance()
            if as_json:  # JSON lines as each camera finishes: a big fleet streams
                emit(entry_json_line(entry))

        entries = asyncio.run(run_fleet(rows, template, concurrency, done))
    if not as_json:
        emit(fleet_table(entries, time.monotonic() - started))
    checked = [e for e in entries if e.report is not None]
    write_report_files(
        report,
        [e.report for e in checked if e.report is not None],
        command_line,
        [e.row.name for e in checked],
    )
    return fleet_exit_code(entries)
