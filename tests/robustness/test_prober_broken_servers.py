"""The prober against broken RTSP servers, in-process through its library entry point.

Each case must end within the check's own bound, with a verdict that is not a pass, a
diagnosis that names what the server did, nothing logged as an error, no exception left
to the event loop, and every socket the check opened closed again.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest

from tests.probe.probe_helpers import free_rtsp_port, plan_of
from tests.robustness.broken_cases import CASES, PASSWORD, Case
from tests.robustness.hostile_servers import hostile_server
from tests.robustness.support import (
    bounded_check,
    loop_errors,
    open_fds,
    report_text,
    settled_fds,
)
from truenprobe.plan.model import Plan
from truenprobe.report.model import Status, Verdict

STAGE_S = 0.6


def camera_address(index: int) -> str:
    """A loopback address of the case's own (127.0.8.x), so cases never share a port space."""
    return f"127.0.8.{10 + index}"


def plan_for(case: Case, rtsp_port: int) -> Plan:
    if case.plan == "vlc-udp":
        return plan_of(
            client="vlc",
            transport="udp",
            rtsp_port=rtsp_port,
            client_port=free_rtsp_port(),
            camera_side="public",
        )
    transport = case.plan.removeprefix("decoder-")
    return plan_of(
        client="decoder",
        protocol="rtsp",
        transport=transport,
        rtsp_port=rtsp_port,
        camera_side="public",
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_broken_server(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    host = camera_address(CASES.index(case))
    credentials = {"username": "admin", "password": PASSWORD} if case.credentials else {}
    loop = asyncio.get_running_loop()
    before = open_fds()
    with caplog.at_level(logging.WARNING), loop_errors(loop) as errors:
        async with hostile_server(host, case.behaviour) as server:
            plan = plan_for(case, server.port)
            report, observations, _took = await bounded_check(
                plan, host, stage_s=STAGE_S, **credentials
            )
    leaked = await settled_fds(before)

    said = report_text(report)
    assert report.verdict is not Verdict.PASS
    result = next(r for r in report.results if r.flow == case.flow)
    assert result.status is not Status.PASS
    for words in case.words:
        assert words.lower() in said.lower(), (words, said)
    assert PASSWORD not in repr(report.to_dict()) + repr(observations)
    assert not errors, errors
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert not leaked, leaked
    # Nothing is retried in a loop (a redirect is not followed, a 401 is answered once).
    assert max(Counter(server.requests).values(), default=0) <= 2, server.requests
