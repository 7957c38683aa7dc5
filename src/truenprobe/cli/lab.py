"""`truenprobe lab`: the site's IP sharers emulated in network namespaces on this machine."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from truenprobe.lab.system import require_lab

lab_app = typer.Typer(
    name="lab",
    help="Emulated IP sharers in network namespaces: rehearse a site, or run every scenario.",
    no_args_is_help=True,
    add_completion=False,
)


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
