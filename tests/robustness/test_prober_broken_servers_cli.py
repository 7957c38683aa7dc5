"""Some of the broken servers through the real `truenprobe check` entry point: the exit code
of the verdict, a JSON report that names the behaviour, no traceback on stderr, and a
password given on the command line nowhere in the output."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from tests.probe.probe_helpers import free_rtsp_port, plan_of
from tests.robustness.broken_cases import CASES, PASSWORD, Case
from tests.robustness.hostile_servers import hostile_server
from tests.robustness.support import bound_of
from truenprobe.probe.runner import CheckRequest

TIMEOUT_S = 0.8
THROUGH_THE_CLI = (
    "accepts-never-answers",
    "ssh-banner",
    "10-MB-header-line",
    "wrong-cseq",
    "401-challenge-without-equals",
    "interleaved-garbage-framing",
    "foreign-flood-while-the-stream-is-absent",
)
START_UP_S = 10.0  # a cold interpreter on a loaded machine, before the check's own bound


def scenario_args(case: Case, port: int) -> list[str]:
    if case.plan == "vlc-udp":
        return ["--client", "vlc", "--transport", "udp", "--client-port", str(free_rtsp_port())]
    transport = case.plan.removeprefix("decoder-")
    return ["--client", "decoder", "--protocol", "rtsp", "--transport", transport]


def said(report: dict[str, object]) -> str:
    parts = [str(r.get("diagnosis") or "") for r in report["results"]]  # type: ignore[attr-defined]
    parts += [str(f) for f in report["findings"]]  # type: ignore[attr-defined]
    parts += [str(u.get("note") or "") for u in report["unexpected"]]  # type: ignore[attr-defined]
    return "\n".join(parts)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("case_id", THROUGH_THE_CLI)
async def test_broken_server_through_the_cli(case_id: str) -> None:
    case = next(c for c in CASES if c.id == case_id)
    host = f"127.0.9.{10 + THROUGH_THE_CLI.index(case_id)}"
    async with hostile_server(host, case.behaviour) as server:
        camera = host
        if case.credentials:  # the password goes in the URL, the way users paste it
            camera = f"rtsp://admin:{PASSWORD}@{host}:{server.port}/video1"
        args = ["check", camera, *scenario_args(case, server.port)]
        args += ["--rtsp-port", str(server.port), "--camera-side", "public"]
        args += ["--timeout", str(TIMEOUT_S), "--format", "json"]
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "truenprobe",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        # The check's own bound plus teardown grace, scheduling slack and start-up.
        bound = bound_of(plan_of(client="web"), CheckRequest(host, TIMEOUT_S)) + START_UP_S
        try:
            out, err = await asyncio.wait_for(proc.communicate(), bound)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    report = json.loads(out)
    text = said(report)
    assert proc.returncode == {"fail": 1, "incomplete": 3}[report["verdict"]], err
    assert "Traceback" not in err.decode(), err.decode()
    for words in case.words:
        assert words.lower() in text.lower(), (words, text)
    assert PASSWORD not in out.decode() + err.decode()
