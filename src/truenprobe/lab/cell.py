"""One lab run: build the site, start the emulated camera, run the prober, tear it down.

The camera runs on the camera host on the scenario's real ports; the prober runs on the
client host against the address a real client would use (the camera's public address).
The result is the prober's own report (its JSON), plus what the lab did that a real site
would not have: omitted forwards, test aids, the multicast routing it added.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from truenprobe.lab.forwards import LabForwards, SiteForward, select_forwards
from truenprobe.lab.network import LabNetwork
from truenprobe.lab.system import LabError, require_lab
from truenprobe.lab.topology import (
    DEFAULT_CAMERA_IP,
    DEFAULT_CLIENT_IP,
    Place,
    Topology,
    build_topology,
)
from truenprobe.plan.model import Client, Plan, Protocol, Scenario, Transport
from truenprobe.plan.resolve import resolve
from truenprobe.plan.scenario import scenario_to_dict
from truenprobe.plan.serialize import forward_to_dict
from truenprobe.plan.words import forward_text

PASSWORD_ENV = "TRUENPROBE_PASSWORD"  # what `camera --password` and `check --password` read
DEFAULT_STAGE_S = 3.0  # the prober's --timeout in the lab: local paths answer in milliseconds
STARTUP_ALLOWANCE_S = 30.0  # interpreter start and imports, on a busy machine
LAB = "lab"  # the prefix of the lab's own findings in a report


@dataclass(frozen=True)
class CellSpec:
    """What to run: a scenario, where the client sits, and which rules the sharers get."""

    scenario: Scenario
    omit: tuple[int, ...] = ()
    site: tuple[SiteForward, ...] | None = None  # a site's own rules instead of the plan's
    site_source: str = "forwards file"
    place: Place = Place.OWN_SIDE
    drop_unforwarded: bool = False
    camera_ip: str = DEFAULT_CAMERA_IP
    client_ip: str = DEFAULT_CLIENT_IP
    stage_s: float = DEFAULT_STAGE_S
    keep: bool = False
    pcap: Path | None = None  # the prober records its traffic here (check --pcap)
    # RTSP Digest: the camera requires it and the prober is given it. The password goes
    # to both through the environment, never on a command line (ps shows those).
    user: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass
class CellResult:
    spec: CellSpec
    plan: Plan
    topology: Topology
    forwards: LabForwards
    report: dict[str, Any] | None = None  # the prober's report, with the lab's additions
    exit_code: int | None = None  # the prober's
    error: str | None = None  # the lab could not produce a report
    duration_s: float = 0.0
    kept: tuple[str, ...] = ()  # namespaces left for inspection (--keep)
    logs: dict[str, str] = field(default_factory=dict)  # last lines of each process


def _python() -> list[str]:
    return [sys.executable, "-m", "truenprobe"]


def camera_argv(plan: Plan, user: str | None = None) -> list[str]:
    """The emulated camera as a Truen camera of this site would be configured (with
    ``user``: Digest authentication; the password comes from ``secret_env``)."""
    s = plan.scenario
    argv = [
        *_python(),
        "camera",
        "--host",
        "0.0.0.0",
        "--http-port",
        str(s.http_port),
        "--base-port",
        str(s.base_port),
        "--rtsp-port",
        str(s.rtsp_port),
    ]
    vsnm_port = vsnm_multicast_port(plan)
    if vsnm_port is not None:
        # The prober drives VSNM multicast through the camera's RTSP: the camera must send
        # that stream to the VSNM multicast port (base + 16), as a Truen camera does in
        # VSNM multicast mode, instead of the stream's RTSP multicast port.
        media = "video" if s.stream.has_video else "audio"
        argv += ["--multicast-port", f"{s.stream.value}/{media}={vsnm_port}"]
    if s.client is Client.VLC and s.transport is Transport.UDP:
        # The document has the camera use the player's port numbers for its own UDP
        # ports (the optional forwards "xxxx~xxxx+1 -> camera IP/xxxx~xxxx+1" and
        # "yyyy~yyyy+1 -> camera IP/yyyy~yyyy+1").
        if s.client_port is not None:
            argv += ["--server-port", str(s.client_port)]
        if s.client_audio_port is not None:
            argv += ["--server-audio-port", str(s.client_audio_port)]
    if user is not None:
        argv += ["--user", user]
    return argv


def secret_env(password: str | None) -> dict[str, str] | None:
    """The environment that hands the password to `camera` and `check` (both read it)."""
    if password is None:
        return None
    return {**os.environ, PASSWORD_ENV: password}


def vsnm_multicast_port(plan: Plan) -> int | None:
    s = plan.scenario
    if s.protocol is Protocol.VSNM and s.transport is Transport.MULTICAST:
        return s.base_port + 16
    return None


def camera_ports(plan: Plan) -> list[int]:
    s = plan.scenario
    return [s.http_port, s.base_port, s.rtsp_port]


def scenario_argv(scenario: Scenario) -> list[str]:
    """The scenario as the options every command takes."""
    out = []
    for key, value in scenario_to_dict(scenario).items():
        if value is not None:
            out += [f"--{key.replace('_', '-')}", str(value)]
    return out


def prober_argv(
    plan: Plan,
    topology: Topology,
    stage_s: float,
    pcap: Path | None = None,
    *,
    user: str | None = None,
) -> list[str]:
    record = ["--pcap", str(pcap)] if pcap is not None else []
    record += ["--user", user] if user is not None else []
    return [
        *_python(),
        "check",
        topology.camera_public,
        *scenario_argv(plan.scenario),
        "--format",
        "json",
        "--timeout",
        f"{stage_s:g}",
        *record,
    ]


def prober_bound_s(stage_s: float) -> float:
    """Longer than the prober's own overall bound (a few stages), so it always ends first."""
    return 8 * stage_s + STARTUP_ALLOWANCE_S


def routes_multicast(plan: Plan, topology: Topology) -> bool:
    return plan.scenario.transport is Transport.MULTICAST and bool(topology.sharers)


def lab_findings(plan: Plan, topology: Topology, forwards: LabForwards) -> list[str]:
    """What the lab did that the site would not have, for the report."""
    s = plan.scenario
    out = []
    if forwards.source != "plan":
        out.append(f"{LAB}: the IP sharers have the rules of {forwards.source}, not the plan's")
    for rule in forwards.omitted:
        out.append(
            f"{LAB}: forward #{rule.number} omitted on purpose: {forward_text(rule.forward, s)}"
        )
    for rule in forwards.test_aids:
        out.append(f"{LAB}: test aid: {rule.test_aid}")
    vsnm_port = vsnm_multicast_port(plan)
    if vsnm_port is not None:
        out.append(
            f"{LAB}: test aid: the emulated camera sends the RTSP multicast of "
            f"{s.stream.value} to port {vsnm_port} (base port + 16), standing in for its VSNM "
            "multicast, so the prober can drive it"
        )
    out += [f"{LAB}: {note}" for note in forwards.notes]
    if routes_multicast(plan, topology):
        out.append(
            f"{LAB}: multicast crosses the lab's WAN segment, and each IP sharer routes it "
            "(smcroute) besides the rules above; on a real site every router between camera "
            "and client must route multicast"
        )
    if topology.place is Place.CAMERA_LAN:
        out.append(
            f"{LAB}: the client sits inside the camera's LAN ({topology.client.ip}) and tests "
            f"the camera's public address {topology.camera_public}; the camera's IP sharer "
            "has no NAT loopback"
        )
    return out


def lab_section(plan: Plan, topology: Topology, forwards: LabForwards) -> dict[str, Any]:
    """The lab's own block of the JSON report."""

    def rule(r: Any) -> dict[str, Any]:
        return {
            "number": r.number,
            **forward_to_dict(r.forward),
            "to_ip": r.to_ip,
            "multicast": r.multicast,
            "test_aid": r.test_aid,
        }

    return {
        "place": topology.place.value,
        "camera": {"address": topology.camera.ip, "public": topology.camera_public},
        "client": {"address": topology.client.ip, "public": topology.client_public},
        "rules_from": forwards.source,
        "applied": [rule(r) for r in forwards.applied],
        "omitted": [rule(r) for r in forwards.omitted],
        "multicast_routing": routes_multicast(plan, topology),
        "drop_unforwarded": None,  # filled in by run_cell
        "namespaces": list(topology.namespaces),
    }


def prepare(spec: CellSpec, cell: int) -> tuple[Plan, Topology, LabForwards]:
    """Everything decided before touching the system (and every user error found)."""
    plan = resolve(spec.scenario)
    s = spec.scenario
    topology = build_topology(
        s.camera_side,
        s.client_side,
        cell=cell,
        place=spec.place,
        camera_ip=spec.camera_ip,
        client_ip=spec.client_ip,
    )
    forwards = select_forwards(
        plan, topology, site=spec.site, site_source=spec.site_source, omit=spec.omit
    )
    return plan, topology, forwards


async def run_cell(spec: CellSpec, cell: int = 0) -> CellResult:
    plan, topology, forwards = prepare(spec, cell)
    require_lab(multicast_routing=routes_multicast(plan, topology))
    result = CellResult(spec, plan, topology, forwards)
    started = time.monotonic()
    try:
        async with LabNetwork(topology, keep=spec.keep) as net:
            await _run_inside(net, result)
            if spec.keep:
                result.kept = topology.namespaces
    except LabError as exc:
        result.error = exc.message
    result.duration_s = time.monotonic() - started
    return result


async def _run_inside(net: LabNetwork, result: CellResult) -> None:
    spec, plan, topology = result.spec, result.plan, result.topology
    await net.configure_sharers(
        result.forwards,
        drop_unforwarded=spec.drop_unforwarded,
        multicast=routes_multicast(plan, topology),
    )
    env = secret_env(spec.password)
    camera = await net.start(
        topology.camera.netns, camera_argv(plan, spec.user), name="camera", env=env
    )
    await net.wait_tcp(
        camera, topology.camera.netns, topology.camera.ip, camera_ports(plan), "the emulated camera"
    )
    prober = await net.start(
        topology.client.netns,
        prober_argv(plan, topology, spec.stage_s, spec.pcap, user=spec.user),
        name="prober",
        env=env,
    )
    bound = prober_bound_s(spec.stage_s)
    code = await prober.wait(bound)
    result.logs = {p.name: p.last_error() for p in net.processes}
    if code is None:
        await prober.stop()
        raise LabError(f"the prober did not finish within {bound:g} s")
    if not spec.keep:
        await camera.stop()
    result.exit_code = code
    result.report = _read_report(prober.stdout.read_text(errors="replace"), prober.last_error())
    section = lab_section(plan, topology, result.forwards)
    section["drop_unforwarded"] = spec.drop_unforwarded
    result.report["findings"] = [
        *result.report.get("findings", []),
        *lab_findings(plan, topology, result.forwards),
    ]
    result.report["lab"] = section


def _read_report(stdout: str, last_error: str) -> dict[str, Any]:
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError:
        why = last_error or "no output"
        raise LabError(f"the prober gave no report: {why}") from None
    if not isinstance(data, dict) or "results" not in data:
        raise LabError("the prober's output is not a report")
    return data


async def run_cells(
    specs: Sequence[CellSpec],
    jobs: int,
    on_done: Callable[[int, CellResult], None] | None = None,
    first_cell: int = 1,
) -> list[CellResult]:
    """Run cells ``jobs`` at a time (each has its own namespaces); results in input order.

    ``on_done(index, result)`` is called as each cell finishes.
    """
    gate = asyncio.Semaphore(max(1, jobs))

    async def one(index: int, spec: CellSpec) -> CellResult:
        async with gate:
            outcome = await run_cell(spec, first_cell + index)
        if on_done is not None:
            on_done(index, outcome)
        return outcome

    # A TaskGroup: one cell's unexpected error (or Ctrl-C) cancels the others, and each
    # cancelled cell still removes its namespaces on the way out.
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(i, s)) for i, s in enumerate(specs)]
    return [t.result() for t in tasks]
