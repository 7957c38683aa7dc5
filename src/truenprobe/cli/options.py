"""Options shared by several commands, declared once.

``@scenario_options`` adds the scenario options of DESIGN.md (and ``--site FILE``) to a
typer command and hands it a validated ``Scenario``; the command itself declares
``scenario: Scenario`` as its last parameter and never sees the raw values.

``@report_options`` adds ``--format`` and the report files (``--junit``, ``--markdown``;
one entry of ``report.files.REPORT_FILES`` each) and hands ``report: ReportOptions``.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from truenprobe.cli.output import write_file
from truenprobe.errors import ScenarioError
from truenprobe.files import load_mapping
from truenprobe.plan.model import Client, Protocol, Scenario, Side, Stream, Transport
from truenprobe.plan.scenario import SCENARIO_KEYS, build_scenario
from truenprobe.report.files import REPORT_FILES
from truenprobe.report.model import Report

SCENARIO_PANEL = "Scenario (the site)"

F = TypeVar("F", bound=Callable[..., Any])


def _opt(name: str, help_text: str, **extra: Any) -> Any:
    return typer.Option(name, help=help_text, rich_help_panel=SCENARIO_PANEL, **extra)


_KW = inspect.Parameter.KEYWORD_ONLY

# (parameter name, annotation); every default is None so a site file can fill it in.
_SCENARIO_PARAMS: list[inspect.Parameter] = [
    inspect.Parameter(
        "client",
        _KW,
        default=None,
        annotation=Annotated[
            Client | None, _opt("--client", "Client kind (required).", case_sensitive=False)
        ],
    ),
    inspect.Parameter(
        "protocol",
        _KW,
        default=None,
        annotation=Annotated[
            Protocol | None,
            _opt(
                "--protocol",
                "vsnm (Truen's protocol on the base port) or rtsp. "
                "Default: sdk vsnm, vlc rtsp; decoder: required.",
                case_sensitive=False,
            ),
        ],
    ),
    inspect.Parameter(
        "transport",
        _KW,
        default=None,
        annotation=Annotated[
            Transport | None,
            _opt("--transport", "Default: web tcp; otherwise required.", case_sensitive=False),
        ],
    ),
    inspect.Parameter(
        "camera_side",
        _KW,
        default=None,
        annotation=Annotated[
            Side | None,
            _opt(
                "--camera-side",
                "private = behind an IP sharer. Default: private.",
                case_sensitive=False,
            ),
        ],
    ),
    inspect.Parameter(
        "client_side",
        _KW,
        default=None,
        annotation=Annotated[
            Side | None,
            _opt(
                "--client-side",
                "private = behind an IP sharer. Default: private.",
                case_sensitive=False,
            ),
        ],
    ),
    inspect.Parameter(
        "http_port",
        _KW,
        default=None,
        annotation=Annotated[int | None, _opt("--http-port", "Camera's HTTP port. Default 80.")],
    ),
    inspect.Parameter(
        "base_port",
        _KW,
        default=None,
        annotation=Annotated[int | None, _opt("--base-port", "Camera's base port. Default 2222.")],
    ),
    inspect.Parameter(
        "rtsp_port",
        _KW,
        default=None,
        annotation=Annotated[int | None, _opt("--rtsp-port", "Camera's RTSP port. Default 554.")],
    ),
    inspect.Parameter(
        "stream",
        _KW,
        default=None,
        annotation=Annotated[
            Stream | None,
            _opt("--stream", "Stream (RTSP URL path). Default video1.", case_sensitive=False),
        ],
    ),
    inspect.Parameter(
        "sdk_cameras",
        _KW,
        default=None,
        annotation=Annotated[
            int | None, _opt("--sdk-cameras", "Cameras the SDK client connects to. Default 1.")
        ],
    ),
    inspect.Parameter(
        "client_port",
        _KW,
        default=None,
        annotation=Annotated[
            int | None, _opt("--client-port", "VLC-type client's video RTP port (UDP mode).")
        ],
    ),
    inspect.Parameter(
        "client_audio_port",
        _KW,
        default=None,
        annotation=Annotated[
            int | None,
            _opt("--client-audio-port", "VLC-type client's audio RTP port (UDP, with audio)."),
        ],
    ),
    inspect.Parameter(
        "site",
        _KW,
        default=None,
        annotation=Annotated[
            Path | None,
            _opt(
                "--site",
                "TOML or YAML file with the same keys (client, transport, rtsp_port, ...); "
                "options given here override it.",
            ),
        ],
    ),
]


def site_file_options(path: Path) -> dict[str, Any]:
    data = load_mapping(path, "site file")
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name not in SCENARIO_KEYS:
            raise ScenarioError(
                f"site file {path}: unknown key {key!r}; known: {', '.join(SCENARIO_KEYS)}"
            )
        out[name] = value
    return out


def scenario_from_options(raw: dict[str, Any], site: Path | None) -> Scenario:
    merged = site_file_options(site) if site else {}
    merged.update({k: v for k, v in raw.items() if v is not None})
    return build_scenario(merged)


def scenario_options(func: F) -> F:
    """Give ``func`` the scenario options; it receives ``scenario=Scenario``."""
    own = [
        p
        for p in inspect.signature(func, eval_str=True).parameters.values()
        if p.name != "scenario"
    ]
    names = {p.name for p in own}
    clash = names & {p.name for p in _SCENARIO_PARAMS}
    if clash:  # a programming error, caught by the CLI tests
        raise TypeError(f"{func.__name__} redeclares scenario options {clash}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = {k: kwargs.pop(k) for k in SCENARIO_KEYS}
        site = kwargs.pop("site")
        return func(*args, scenario=scenario_from_options(raw, site), **kwargs)

    wrapper.__signature__ = inspect.Signature([*own, *_SCENARIO_PARAMS])  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


# --- scenario values unvalidated (a fleet inventory completes them row by row) ----------


def raw_scenario_options(func: F) -> F:
    """Like ``scenario_options``, but hands ``scenario_values`` (site file merged with the
    options, not yet validated) for commands that complete them elsewhere."""
    own = [
        p
        for p in inspect.signature(func, eval_str=True).parameters.values()
        if p.name != "scenario_values"
    ]
    clash = {p.name for p in own} & {p.name for p in _SCENARIO_PARAMS}
    if clash:
        raise TypeError(f"{func.__name__} redeclares scenario options {clash}")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        raw = {k: kwargs.pop(k) for k in SCENARIO_KEYS}
        site = kwargs.pop("site")
        merged = site_file_options(site) if site else {}
        merged.update({k: v for k, v in raw.items() if v is not None})
        return func(*args, scenario_values=merged, **kwargs)

    wrapper.__signature__ = inspect.Signature([*own, *_SCENARIO_PARAMS])  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


# --- report options (check, analyze, lab run) -------------------------------------------

REPORT_PANEL = "Report"


class ReportFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@dataclass(frozen=True)
class ReportOptions:
    """What ``@report_options`` hands a command: its main format and the extra files."""

    fmt: ReportFormat | None = None
    files: Mapping[str, Path] = field(default_factory=dict)  # REPORT_FILES key -> path

    def main_format(self) -> ReportFormat:
        """Default: a table in a terminal, JSON when piped (as `plan` does)."""
        if self.fmt is not None:
            return self.fmt
        return ReportFormat.TABLE if sys.stdout.isatty() else ReportFormat.JSON


def _report_params() -> list[inspect.Parameter]:
    params = [
        inspect.Parameter(
            "report_format",
            _KW,
            default=None,
            annotation=Annotated[
                ReportFormat | None,
                typer.Option(
                    "--format",
                    "-f",
                    help="Output: table or json. Default: table in a terminal, json otherwise.",
                    case_sensitive=False,
                    rich_help_panel=REPORT_PANEL,
                ),
            ],
        )
    ]
    for entry in REPORT_FILES:
        params.append(
            inspect.Parameter(
                f"report_{entry.key}",
                _KW,
                default=None,
                annotation=Annotated[
                    Path | None,
                    typer.Option(
                        entry.flag, help=entry.help, metavar="FILE", rich_help_panel=REPORT_PANEL
                    ),
                ],
            )
        )
    return params


def report_options(func: F) -> F:
    """Give ``func`` --format and one option per report file (REPORT_FILES: --junit,
    --markdown, ...); it receives ``report=ReportOptions``."""
    params = _report_params()
    own = [
        p for p in inspect.signature(func, eval_str=True).parameters.values() if p.name != "report"
    ]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        fmt = kwargs.pop("report_format")
        files = {}
        for entry in REPORT_FILES:
            path = kwargs.pop(f"report_{entry.key}")
            if path is not None:
                files[entry.key] = path
        return func(*args, report=ReportOptions(fmt, files), **kwargs)

    wrapper.__signature__ = inspect.Signature([*own, *params])  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def write_report_files(
    options: ReportOptions,
    reports: Sequence[Report],
    command_line: str,
    names: Sequence[str] = (),
) -> None:
    """Write every report file the user asked for."""
    for entry in REPORT_FILES:
        path = options.files.get(entry.key)
        if path is not None:
            write_file(path, entry.render(reports, names, command_line), f"{entry.key} report")
