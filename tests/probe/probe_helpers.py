"""Helpers for the prober's tests: free ports on loopback, and running a whole check."""

from __future__ import annotations

import socket
from typing import Any

from truenprobe.observations import Observations
from truenprobe.plan.model import Plan
from truenprobe.plan.resolve import resolve
from truenprobe.plan.scenario import build_scenario
from truenprobe.probe.runner import CheckRequest, probe
from truenprobe.report.model import FlowResult, Report
from truenprobe.verdict import compare

CAMERA_HOST = "127.0.0.2"  # the prober's listeners sit on 127.0.0.1


def free_rtsp_port(host: str = CAMERA_HOST) -> int:
    """A port R free for TCP on the camera's address and for UDP R, R+1 on 127.0.0.1."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe_sock:
            probe_sock.bind(("127.0.0.1", 0))
            port = probe_sock.getsockname()[1]
        if port % 2 or port > 65000:
            continue
        held = []
        try:
            for family, kind, addr in (
                (socket.AF_INET, socket.SOCK_STREAM, (host, port)),
                (socket.AF_INET, socket.SOCK_DGRAM, (host, port)),
                (socket.AF_INET, socket.SOCK_DGRAM, (host, port + 1)),
                (socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", port)),
                (socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", port + 1)),
            ):
                s = socket.socket(family, kind)
                held.append(s)
                s.bind(addr)
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
        return port
    raise RuntimeError("no free port pair")


# The document's default decoder site on the command line (check options).
DECODER_RTSP_UDP = ("--client", "decoder", "--protocol", "rtsp", "--transport", "udp")


def plan_of(**values: Any) -> Plan:
    return resolve(build_scenario(values))


async def check(
    plan: Plan, camera: str = CAMERA_HOST, **options: Any
) -> tuple[Report, Observations]:
    options.setdefault("stage_s", 3.0)
    observations = await probe(plan, CheckRequest(camera, **options))
    return compare(plan, observations), observations


def by_flow(report: Report) -> dict[str, FlowResult]:
    return {r.flow: r for r in report.results}
