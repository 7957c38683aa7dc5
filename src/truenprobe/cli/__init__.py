"""The typer app. Each command lives in its own module and only builds models and calls
the library; ``main()`` turns user-caused errors into one line and an exit code."""

from __future__ import annotations

import sys

try:  # Ctrl-C while the CLI still loads says what it says later, without a traceback
    import typer

    from truenprobe import __version__
    from truenprobe.cli.analyze import analyze_command
    from truenprobe.cli.camera import camera_command
    from truenprobe.cli.check import check_command
    from truenprobe.cli.lab import lab_app
    from truenprobe.cli.plan import plan_command
    from truenprobe.cli.send import send_command
    from truenprobe.errors import EXIT_INTERRUPTED, EXIT_USAGE, TruenprobeError
except KeyboardInterrupt:
    sys.stderr.write("truenprobe: interrupted\n")
    raise SystemExit(130) from None

app = typer.Typer(
    name="truenprobe",
    help="Can video from this Truen camera reach this client through these routers?",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"truenprobe {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Can video from this Truen camera reach this client through these routers?"""


app.command("plan")(plan_command)
app.command("camera")(camera_command)
app.command("check")(check_command)
app.command("send")(send_command)
app.command("analyze")(analyze_command)
app.add_typer(lab_app, name="lab")


def _fail(message: str, code: int) -> None:
    sys.stderr.write(f"truenprobe: error: {message}\n")
    sys.exit(code)


def _interrupted() -> None:
    sys.stderr.write("truenprobe: interrupted\n")
    sys.exit(EXIT_INTERRUPTED)


def main(argv: list[str] | None = None) -> None:
    try:
        result = app(args=argv, prog_name="truenprobe", standalone_mode=False)
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
