"""Time and waiting without fixed sleeps: a probe clock and a pulse that wakes waiters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Clock:
    """Milliseconds since the probe started (Observations' time base)."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def ms(self) -> float:
        return (time.monotonic() - self._start) * 1000.0

    def elapsed(self) -> float:
        return time.monotonic() - self._start


class Pulse:
    """Fired on every arrival; each waiter re-checks its own condition.

    Every waiter has its own event, so one waiter clearing cannot make another miss
    an arrival (the classic shared-Event race).
    """

    def __init__(self) -> None:
        self._events: set[asyncio.Event] = set()

    def fire(self) -> None:
        for event in self._events:
            event.set()

    async def wait_for(self, predicate: Callable[[], bool], deadline: float) -> bool:
        """Wait until ``predicate()`` holds or the loop time reaches ``deadline``."""
        event = asyncio.Event()
        self._events.add(event)
        try:
            async with asyncio.timeout_at(deadline):
                while not predicate():
                    await event.wait()
                    event.clear()
        except TimeoutError:
            pass
        finally:
            self._events.discard(event)
        return predicate()


def deadline_in(seconds: float) -> float:
    """A deadline in the running loop's time."""
    return asyncio.get_running_loop().time() + seconds


def remaining(deadline: float) -> float:
    return max(0.0, deadline - asyncio.get_running_loop().time())


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that an inner ``asyncio.wait_for`` swallowed.

    Python 3.11's wait_for returns the inner result when the outer task is cancelled
    just as that result arrives (fixed in 3.12), dropping the cancellation: Ctrl-C
    would then be ignored until the next stage's bound. aiortsp awaits every answer
    that way, so its callers check here.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
