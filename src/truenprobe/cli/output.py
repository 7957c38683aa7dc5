"""Writing a command's result to stdout or a file, with one-line errors."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from truenprobe.errors import InputFileError

if TYPE_CHECKING:  # rich is imported only when something is drawn: JSON output starts faster
    from rich.console import RenderableType


def write_file(path: Path, text: str, what: str = "output") -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputFileError(f"cannot write {what} {path}: {exc.strerror or exc}") from None


def render_plain(content: RenderableType, width: int = 120) -> str:
    """A rich renderable as plain text (no colour codes), e.g. for a file."""
    from rich.console import Console

    console = Console(file=io.StringIO(), record=True, width=width, color_system=None)
    console.print(content)
    return console.export_text()


def emit(content: str | RenderableType, output: Path | None = None) -> None:
    """Text goes out verbatim; rich renderables are drawn (plain when written to a file)."""
    if isinstance(content, str):
        if output is None:
            sys.stdout.write(content)
            sys.stdout.flush()
        else:
            write_file(output, content)
    elif output is None:
        from rich.console import Console

        Console().print(content)
    else:
        write_file(output, render_plain(content))
