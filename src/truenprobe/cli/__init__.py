"""The typer app. Each command lives in its own module and only builds models and calls
the library; ``main()`` turns user-caused errors into one line and an exit code.

A run registers only the command it runs: building every command's options (typer
inspects each signature) and importing their modules was most of what `plan` took on
top of `import typer`. Without a known command (``--help``, a typo) all are registered.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

try:  # Ctrl-C while the CLI still loads says what it says later, without a traceback
    import typer

    from truenprobe import __version__
    from truenprobe.errors import EXIT_INTERRUPTED, EXIT_USAGE, TruenprobeError
except KeyboardInterrupt:
    sys.stderr.write("truenprobe: interrupted\n")
    raise SystemExit(130) from None

if TYPE_CHECKING:
    from collections.abc import Sequence

HELP = "Can video from this Truen camera reach this client through these routers?"

# name: (module, attribute); a typer.Typer attribute is a group of subcommands.
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("truenprobe.cli.plan", "plan_command"),
    "camera": ("truenprobe.cli.camera", "camera_command"),
    "check": ("truenprobe.cli.check", "check_command"),
    "send": ("truenprobe.cli.send", "send_command"),
    "analyze": ("truenprobe.cli.analyze", "analyze_command"),
    "lab": ("truenprobe.cli.lab", "lab_app"),
}


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"truenprobe {__version__}\n")
        raise typer.Exit(0)


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Can video from this Truen camera reach this client through these routers?"""


def build_app(names: Sequence[str] = tuple(COMMANDS)) -> typer.Typer:
    """The app with the named commands (all by default), in COMMANDS' order."""
    app = typer.Typer(
        name="truenprobe",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)  # a group even with one command: `truenprobe plan ...` stays
    for name in (n for n in COMMANDS if n in names):
        module, attribute = COMMANDS[name]
        command: Any = getattr(importlib.import_module(module), attribute)
        if isinstance(command, typer.Typer):
            app.add_typer(command, name=name)
        else:
            app.command(name)(command)
    return app


def commands_needed(args: Sequence[str]) -> tuple[str, ...]:
    """The command a command line runs, or all of them when it names none we know.

    The root's only option (--version) takes no value, so the first argument that is not
    an option is the command."""
    first = next((a for a in args if not a.startswith("-")), None)
    return (first,) if first in COMMANDS else tuple(COMMANDS)


def __getattr__(name: str) -> Any:
    if name == "app":  # the whole app, for whoever embeds it (CliRunner, docs)
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"truenprobe: error: {message}\n")
    sys.exit(code)


def _interrupted() -> None:
    sys.stderr.write("truenprobe: interrupted\n")
    sys.exit(EXIT_INTERRUPTED)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        app = build_app(commands_needed(args))
    except KeyboardInterrupt:
        _interrupted()
    try:
        result = app(args=args, prog_name="truenprobe", standalone_mode=False)
    except TruenprobeError as exc:
        _fail(exc.message, exc.exit_code)
    except typer.TyperException as exc:  # bad option or value (typer's click errors)
        ctx = getattr(exc, "ctx", None)
        if not exc.format_message():  # no arguments: typer has already shown the help
            sys.exit(EXIT_USAGE)
        hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _fail(exc.format_message() + hint, EXIT_USAGE)
    except (KeyboardInterrupt, typer.Abort):
        _interrupted()
    # typer catches a KeyboardInterrupt raised in a command and, outside standalone
    # mode, returns 130 without a word; no command returns 130 for anything else (the
    # camera returns it when Ctrl-C stopped it).
    if result == EXIT_INTERRUPTED:
        _interrupted()
    sys.exit(result if isinstance(result, int) else 0)
