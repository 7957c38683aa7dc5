"""Options shared by several commands, declared once.

``@scenario_options`` adds the scenario options of DESIGN.md (and ``--site FILE``) to a
typer command and hands it a validated ``Scenario``; the command itself declares
``scenario: Scenario`` as its last parameter and never sees the raw values.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from truenprobe.errors import ScenarioError
from truenprobe.files import load_mapping
from truenprobe.plan.model import Client, Protocol, Scenario, Side, Stream, Transport
from truenprobe.plan.scenario import SCENARIO_KEYS, build_scenario

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
