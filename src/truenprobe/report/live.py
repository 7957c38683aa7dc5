"""Live progress on stderr while a check waits: a status line, or a bar for a fleet.

Only when stderr is a terminal; redrawn a few times a second while the awaited work
runs (the work itself never sleeps to wait).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from rich.progress import Progress

T = TypeVar("T")
REDRAW_S = 0.1


async def with_status(work: Awaitable[T], describe: Callable[[], str], enabled: bool) -> T:
    if not enabled:
        return await work
    from rich.console import Console

    console = Console(stderr=True)
    task = asyncio.ensure_future(work)
    with console.status(describe(), spinner="dots") as status:
        while not task.done():
            status.update(describe())
            await asyncio.wait({task}, timeout=REDRAW_S)
    return task.result()


class FleetBar:
    """A progress bar of cameras checked; ``advance()`` after each one."""

    def __init__(self, total: int, enabled: bool) -> None:
        self._progress: Progress | None = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("checking cameras"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._task = self._progress.add_task("cameras", total=total)

    def __enter__(self) -> FleetBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def advance(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)
