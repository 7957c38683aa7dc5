"""`truenprobe lab`: the site's IP sharers emulated in network namespaces on this machine.

- ``lab run``: one site, end to end: the emulated camera behind its IP sharer, the
  prober behind the client's, the plan's forwards (or a site's own) minus omitted ones.
  Its output is the prober's report, with what the lab changed marked in it.
- ``lab matrix``: every scenario of the document in every topology, each forward omitted.
- ``lab clean``: remove what earlier runs left behind.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Coroutine
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from truenprobe.cli.options import (
    ReportFormat,
    ReportOptions,
    report_options,
    scenario_options,
    write_report_files,
)
from truenprobe.cli.output import emit, write_file
from truenprobe.errors import ScenarioError
from truenprobe.lab.topology import DEFAULT_CAMERA_IP, DEFAULT_CLIENT_IP, Place
from truenprobe.plan.model import Scenario
from truenprobe.report.redact import command_line_text

lab_app = typer.Typer(
    name="lab",
    help="Emulated IP sharers in network namespaces: rehearse a site, or run every scenario.",
    no_args_is_help=True,
    add_completion=False,
)

LAB_PANEL = "Lab"
T = TypeVar("T")


def _opt(*names: str, help_text: str, **extra: Any) -> Any:
    return typer.Option(*names, help=help_text, rich_help_panel=LAB_PANEL, **extra)


def run_interruptible(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, with SIGTERM handled like Ctrl-C: the work is cancelled, and every lab
    network on the way removes itself before the process exits."""
    import asyncio  # here, not at the top: every truenprobe command imports this module

    async def guarded() -> T:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            return await main
        finally:
            loop.remove_signal_handler(signal.SIGTERM)

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:  # SIGTERM
        raise KeyboardInterrupt from None


@lab_app.command("run")
@scenario_options
@report_options
def run_command(
    forwards: Annotated[
        Path | None,
        _opt(
            "--forwards",
            help_text="The IP sharers' rules from this file instead of the plan's: the plan's "
            'JSON forward format (a list, or a whole plan), optionally with "to_ip" per rule '
            "(the LAN address the rule really points at): rehearse a site's own router setup.",
            metavar="FILE",
        ),
    ] = None,
    omit_forward: Annotated[
        list[int] | None,
        _opt(
            "--omit-forward",
            help_text="Leave out forward N (1-based, in the order `plan --format json` lists "
            "them, or the file's); repeatable.",
            metavar="N",
        ),
    ] = None,
    client_in_camera_lan: Annotated[
        bool,
        _opt(
            "--client-in-camera-lan",
            help_text="Put the client inside the camera's LAN, testing the camera's public "
            "address through an IP sharer without NAT loopback (a common site mistake).",
        ),
    ] = False,
    silent_sharers: Annotated[
        bool,
        _opt(
            "--silent-sharers",
            help_text="IP sharers drop unforwarded connections instead of refusing them.",
        ),
    ] = False,
    camera_ip: Annotated[
        str, _opt("--camera-ip", help_text="The camera's LAN address (camera private).")
    ] = DEFAULT_CAMERA_IP,
    client_ip: Annotated[
        str, _opt("--client-ip", help_text="The client's LAN address (client private).")
    ] = DEFAULT_CLIENT_IP,
    timeout: Annotated[
        float,
        _opt("--timeout", help_text="The prober's --timeout (seconds per stage).", min=0.5),
    ] = 3.0,
    keep: Annotated[
        bool,
        _opt(
            "--keep",
            help_text="Leave the namespaces (and the camera) running for inspection; "
            "`truenprobe lab clean` removes them.",
        ),
    ] = False,
    user: Annotated[
        str | None,
        _opt(
            "--user",
            help_text="The camera requires RTSP Digest authentication as this user, and the "
            "prober is given the credentials.",
        ),
    ] = None,
    password: Annotated[
        str | None,
        _opt(
            "--password",
            help_text="The password for --user (or the environment, which keeps it off the "
            "command line). Never shown in any output.",
            envvar="TRUENPROBE_PASSWORD",
            show_envvar=True,
        ),
    ] = None,
    pcap: Annotated[
        Path | None,
        _opt(
            "--pcap",
            help_text="Record what the prober sends and receives, inside the client's namespace, "
            "as a pcap (`check --pcap`); `truenprobe analyze` reads it.",
            metavar="FILE",
        ),
    ] = None,
    *,
    scenario: Scenario,
    report: ReportOptions,
) -> int:
    """Run one site end to end in network namespaces and report as `check` does."""
    from truenprobe.lab.cell import CellSpec, prepare, run_cell
    from truenprobe.lab.forwards import load_site_forwards
    from truenprobe.lab.report_io import report_from_dict

    if user is not None and password is None:
        raise ScenarioError("--user needs --password (or TRUENPROBE_PASSWORD)")
    if password is not None and user is None:
        raise ScenarioError(
            "--password (or TRUENPROBE_PASSWORD) needs --user: give both, or neither"
        )
    site = load_site_forwards(forwards) if forwards is not None else None
    spec = CellSpec(
        scenario,
        omit=tuple(omit_forward or ()),
        site=site,
        site_source=str(forwards) if forwards else "forwards file",
        place=Place.CAMERA_LAN if client_in_camera_lan else Place.OWN_SIDE,
        drop_unforwarded=silent_sharers,
        camera_ip=camera_ip,
        client_ip=client_ip,
        stage_s=timeout,
        keep=keep,
        pcap=pcap.resolve() if pcap is not None else None,  # the prober runs elsewhere
        user=user,
        password=password,
    )
    prepare(spec, 0)  # every mistake in the options is reported before anything is built
    result = run_interruptible(run_cell(spec))
    if result.error is not None or result.report is None:
        from truenprobe.lab.system import LabError

        raise LabError(f"lab: {result.error or 'no report'}")
    command_line = command_line_text(["truenprobe", *sys.argv[1:]])  # never its secrets
    parsed = report_from_dict(result.report, result.plan)
    if report.main_format() is ReportFormat.JSON:
        emit(json.dumps(result.report, indent=2, ensure_ascii=False) + "\n")
    else:
        from truenprobe.report.table import report_table

        emit(report_table(parsed))
    write_report_files(report, [parsed], command_line)
    if spec.pcap is not None:
        recorded = spec.pcap.is_file() and spec.pcap.stat().st_size > 24
        sys.stderr.write(
            f"lab: the prober's packets are in {spec.pcap}\n"
            if recorded
            else f"truenprobe: lab: no packets were recorded to {spec.pcap}\n"
        )
    if result.kept:
        camera_ns = result.topology.camera.netns
        sys.stderr.write(
            f"lab kept: {' '.join(result.kept)}\n"
            f"  the camera still runs in {camera_ns}; look around with "
            f"`ip netns exec {result.topology.client.netns} sh`\n"
            "  remove it all with `truenprobe lab clean`\n"
        )
    return parsed.verdict.exit_code


class MatrixFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _default_jobs() -> int:
    # Cells mostly wait on the network; two per core keeps both busy.
    return max(2, 2 * (os.cpu_count() or 1))


@lab_app.command("matrix")
def matrix_command(
    fmt: Annotated[
        MatrixFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="table or json. Default: table in a terminal, json otherwise.",
            case_sensitive=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the matrix to this file.")
    ] = None,
    junit: Annotated[
        Path | None,
        typer.Option(
            "--junit", help="Also write JUnit XML, one testcase per cell.", metavar="FILE"
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", help="Cells at once (default: two per CPU, at least 2).", min=1
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Run only the cells whose name contains these words (repeatable: all must "
            "match), e.g. --only decoder/rtsp --only 'cli=private'.",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="The prober's --timeout in each cell.", min=0.5)
    ] = 3.0,
) -> int:
    """Every scenario of the document in every topology; then each forward omitted."""
    from truenprobe.lab.matrix import (
        matrix_cells,
        matrix_dict,
        needs_multicast_routing,
        run_matrix,
        select_cells,
    )
    from truenprobe.lab.matrix_render import matrix_junit, matrix_table, progress_line

    cells = select_cells(matrix_cells(timeout), only or [])
    if not cells:
        raise ScenarioError(f"--only {' '.join(only or [])}: no cell matches")
    from truenprobe.lab.system import require_lab

    require_lab(multicast_routing=needs_multicast_routing(cells))
    jobs = jobs or _default_jobs()
    started = time.monotonic()
    done = [0]

    def on_row(row: Any) -> None:
        done[0] += 1
        sys.stderr.write(progress_line(row, done[0], len(cells)) + "\n")
        sys.stderr.flush()

    rows = run_interruptible(run_matrix(cells, jobs, on_row))
    data = matrix_dict(rows, time.monotonic() - started, jobs)
    if fmt is None:
        fmt = MatrixFormat.TABLE if output is None and sys.stdout.isatty() else MatrixFormat.JSON
    if fmt is MatrixFormat.JSON:
        emit(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
    else:
        emit(matrix_table(data), output)
    if junit is not None:
        write_file(junit, matrix_junit(data), "JUnit report")
    return 0 if data["summary"]["disagree"] == 0 else 1


@lab_app.command("clean")
def clean_command(
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Also remove namespaces of labs that still seem to be running."
        ),
    ] = False,
) -> int:
    """Remove what earlier lab runs left behind (killed runs, --keep)."""
    from truenprobe.lab.system import require_lab

    require_lab()
    from truenprobe.lab.clean import clean_leftovers

    result = clean_leftovers(force=force)
    for ns in result.removed:
        sys.stdout.write(f"removed {ns}\n")
    for ns in result.in_use:
        sys.stdout.write(f"kept {ns}: its lab is still running (--force removes it)\n")
    for ns in result.failed:
        sys.stderr.write(f"truenprobe: could not remove {ns}\n")
    if not (result.removed or result.in_use or result.failed):
        sys.stdout.write("nothing to clean\n")
    return 1 if result.failed else 0
