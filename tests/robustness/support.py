"""Helpers of the robustness tests: open descriptors, a whole check within its bound, and
everything a report says in one text to search."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from truenprobe.observations import Observations
from truenprobe.plan.model import Plan
from truenprobe.probe.runner import TEARDOWN_GRACE_S, CheckRequest, overall_bound, probe
from truenprobe.report.model import Report
from truenprobe.verdict import compare

# What a loaded 2-core machine may add to the check's own bound before we call it a hang.
SCHEDULING_SLACK_S = 5.0


def open_fds() -> dict[int, str]:
    """This process's open file descriptors and what each points at."""
    out = {}
    for name in os.listdir("/proc/self/fd"):
        try:
            out[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except OSError:  # the descriptor listdir itself used, gone by now
            continue
    return out


async def settled_fds(before: dict[int, str], within: float = 5.0) -> dict[int, str]:
    """The descriptors opened since ``before`` still open once closing callbacks have run.

    asyncio closes a socket in a callback after ``close()``; give them a bounded chance.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        extra = {fd: what for fd, what in open_fds().items() if before.get(fd) != what}
        if not extra or loop.time() >= deadline:
            return extra
        await asyncio.sleep(0.02)


def bound_of(plan: Plan, request: CheckRequest) -> float:
    """The longest a whole check may take: its own bound, teardown grace, scheduling slack."""
    return overall_bound(plan, request) + TEARDOWN_GRACE_S + SCHEDULING_SLACK_S


async def bounded_check(
    plan: Plan, camera: str, **options: Any
) -> tuple[Report, Observations, float]:
    """probe() + compare(), failing the test (TimeoutError) if it outlives its bound."""
    request = CheckRequest(camera, **options)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.timeout(bound_of(plan, request)):
        observations = await probe(plan, request)
    return compare(plan, observations), observations, loop.time() - started


def report_text(report: Report) -> str:
    """Every sentence the report gives a person: diagnoses, findings, unexpected traffic."""
    parts = [r.diagnosis or "" for r in report.results]
    parts += list(report.findings)
    parts += [str(u.get("note") or "") for u in report.unexpected]
    return "\n".join(parts)


@contextmanager
def loop_errors(loop: asyncio.AbstractEventLoop) -> Iterator[list[dict[str, Any]]]:
    """Collect what the loop would print as 'Task exception was never retrieved' & co."""
    seen: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        yield seen
    finally:
        loop.set_exception_handler(previous)
