"""Checking many cameras: the inventory file and a bounded-concurrency runner.

An inventory is CSV (a header row) or YAML (a list of rows, or ``{defaults: {...},
cameras: [...]}``). Each row names a ``camera`` and may override any scenario key
(client, transport, rtsp_port, ...) and ``name``, ``user``, ``password``, ``path``.
Every row is validated before anything is sent, so a typo fails fast with its row.

Checks that would listen on the same local UDP ports (two decoders on R..R+1) take
turns; everything else runs concurrently up to the bound.

Sites whose every check is a TCP connect (SDK over VSNM/TCP, web clients) skip the
per-camera probe: all their connections go through one ``sweep`` loop, and each camera
gets the same Observations ``probe`` would have made of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import ipaddress
import os
import resource
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from truenprobe.errors import InputFileError, ScenarioError, TruenprobeError
from truenprobe.files import load_structured, read_text
from truenprobe.observations import Observations, Vantage
from truenprobe.plan.model import Host, Plan, Protocol, Role
from truenprobe.plan.resolve import resolve
from truenprobe.plan.scenario import SCENARIO_KEYS, build_scenario
from truenprobe.probe.hairpin import is_public, worth_probing
from truenprobe.probe.local import local_address_toward, resolve_camera
from truenprobe.probe.runner import GREETINGS, CheckRequest, Progress, pairs_to_test, probe
from truenprobe.probe.sweep import CameraSweep, Port, sweep
from truenprobe.probe.target import CameraTarget, parse_camera
from truenprobe.report.model import Report
from truenprobe.verdict import compare

MEDIA_CONCURRENCY = 64  # cameras at once when checks hold RTSP sessions and listeners
SWEEP_CONCURRENCY = 1024  # cameras at once when every check is a TCP connect
RESERVED_FILES = 64  # descriptors left for everything but the sweep's sockets
# Descriptors one check with RTSP sessions may hold (RTSP, TCP checks, UDP listeners):
# a sweep beside such checks leaves room for MEDIA_CONCURRENCY of them.
FILES_PER_MEDIA_CHECK = 16

ROW_KEYS = ("camera", "name", "user", "password", "path")


@dataclass(frozen=True)
class InventoryRow:
    name: str
    target: CameraTarget
    plan: Plan
    user: str | None = None
    password: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class FleetEntry:
    row: InventoryRow
    report: Report | None = None
    error: str | None = None  # a camera that could not be checked at all (name lookup)


def _rows(path: Path) -> tuple[list[Mapping[str, Any]], Mapping[str, Any]]:
    """The raw rows and the defaults block (YAML only)."""
    if path.suffix.lower() == ".csv":
        text = read_text(path, "inventory")
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames:
            raise InputFileError(f"inventory {path}: empty CSV (a header row is needed)")
        rows: list[Mapping[str, Any]] = [
            {k: v for k, v in row.items() if k is not None} for row in reader
        ]
        return rows, {}
    data = load_structured(path, "inventory")
    defaults: Mapping[str, Any] = {}
    if isinstance(data, Mapping):
        defaults = data.get("defaults") or {}
        if not isinstance(defaults, Mapping):
            raise InputFileError(f"inventory {path}: 'defaults' must be keys and values")
        data = data.get("cameras")
    if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
        raise InputFileError(
            f"inventory {path}: expected a list of cameras (or 'cameras:' with a list)"
        )
    return list(data), defaults


def _clean(row: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = str(key).strip().lower().replace("-", "_")
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                continue
        if value is None:
            continue
        if name not in SCENARIO_KEYS and name not in ROW_KEYS:
            known = ", ".join((*ROW_KEYS, *SCENARIO_KEYS))
            raise InputFileError(f"{where}: unknown key {key!r}; known: {known}")
        out[name] = value
    return out


def load_inventory(path: Path, base: Mapping[str, Any]) -> list[InventoryRow]:
    """Every row, validated; ``base`` holds the scenario values given on the command line."""
    raw_rows, raw_defaults = _rows(path)
    defaults = _clean(raw_defaults, f"inventory {path}: defaults")
    plans: dict[tuple[tuple[str, str], ...], Plan] = {}  # rows of one kind share a plan
    rows = []
    for number, raw in enumerate(raw_rows, start=1):
        where = f"inventory {path}, row {number}"
        values = {**defaults, **_clean(raw, where)}
        if "camera" not in values:
            raise InputFileError(f"{where}: no 'camera' (the address the client uses)")
        try:
            target = parse_camera(str(values.pop("camera")))
            scenario_values = {**base, **{k: v for k, v in values.items() if k in SCENARIO_KEYS}}
            if target.port is not None:
                scenario_values.setdefault("rtsp_port", target.port)
            key = tuple(sorted((k, repr(v)) for k, v in scenario_values.items()))
            plan = plans.get(key)
            if plan is None:
                plan = plans[key] = resolve(build_scenario(scenario_values))
        except ScenarioError as exc:
            raise InputFileError(f"{where}: {exc.message}") from None
        scenario = plan.scenario
        if target.port is not None and target.port != scenario.rtsp_port:
            raise InputFileError(
                f"{where}: the URL's port {target.port} differs from rtsp_port {scenario.rtsp_port}"
            )
        rows.append(
            InventoryRow(
                name=str(values.get("name") or target.host),
                target=target,
                plan=plan,
                user=_text(values.get("user")) or target.user,
                password=_text(values.get("password")) or target.password,
                path=_text(values.get("path")) or target.path,
            )
        )
    if not rows:
        raise InputFileError(f"inventory {path}: no cameras")
    return rows


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def local_udp_ports(plan: Plan, sweep: bool) -> set[int]:
    """The local UDP ports a check of this plan listens on (two checks must not share)."""
    ports: set[int] = set()
    for flow in plan.flows:
        if flow.protocol != "udp" or flow.destination is not Host.CLIENT or not flow.supported:
            continue
        if flow.role is Role.VSNM_MEDIA:
            for pair in pairs_to_test(flow.ports, sweep):
                ports.update(pair)
        else:
            ports.update(flow.ports)
            if flow.role in (Role.RTP, Role.MULTICAST):
                ports.add(flow.ports.first + 1)
    return ports


class _PortTurns:
    """One lock per local port; a check takes all of its ports in order (no deadlock)."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}

    async def run(self, ports: set[int], work: Callable[[], Awaitable[FleetEntry]]) -> FleetEntry:
        locks = [self._locks.setdefault(p, asyncio.Lock()) for p in sorted(ports)]
        for lock in locks:
            await lock.acquire()
        try:
            return await work()
        finally:
            for lock in reversed(locks):
                lock.release()


def sweepable(plan: Plan, template: CheckRequest) -> bool:
    """Whether checking this plan is TCP connects only (what ``probe`` would do, too)."""
    if template.listen_only_s is not None or plan.scenario.protocol is Protocol.RTSP:
        return False
    return all(
        f.protocol == "tcp" and f.role not in (Role.VSNM_MEDIA, Role.MULTICAST) for f in plan.flows
    )


def sweep_ports(plan: Plan) -> list[Port]:
    """The ports ``probe`` connects to for this plan, with their greetings."""
    return [
        Port(f.ports.first, GREETINGS.get(f.role))
        for f in plan.flows
        if f.protocol == "tcp" and f.role in (Role.HTTP, Role.BASE, Role.RTSP)
    ]


def open_file_budget(reserve: int = RESERVED_FILES) -> int:
    """Descriptors a sweep may hold open: the soft limit (raised to the hard one if we may)
    less those open already and ``reserve`` for everything else running beside it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        wanted = 65536 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
            soft = max(soft, wanted)
    return max(1, soft - open_files() - reserve)


def open_files() -> int:
    """Descriptors this process holds now (0 where the system does not say)."""
    for listing in ("/proc/self/fd", "/dev/fd"):
        with contextlib.suppress(OSError):
            return len(os.listdir(listing))
    return 0


async def run_fleet(
    rows: list[InventoryRow],
    template: CheckRequest,
    concurrency: int | None,
    on_done: Callable[[FleetEntry], None],
) -> list[FleetEntry]:
    """Check every row, at most ``concurrency`` at once; ``on_done`` sees each as it ends.

    ``concurrency`` None: as many as the kind of check allows (see the constants).
    """
    results: list[FleetEntry | None] = [None] * len(rows)

    def finish(index: int, entry: FleetEntry) -> None:
        results[index] = entry
        on_done(entry)

    swept = [i for i, row in enumerate(rows) if sweepable(row.plan, template)]
    others = [i for i, row in enumerate(rows) if not sweepable(row.plan, template)]
    async with asyncio.TaskGroup() as group:
        if others:
            group.create_task(
                _probe_rows(rows, others, template, concurrency or MEDIA_CONCURRENCY, finish)
            )
        if swept:
            beside = (concurrency or MEDIA_CONCURRENCY) * FILES_PER_MEDIA_CHECK if others else 0
            group.create_task(
                _sweep_rows(rows, swept, template, concurrency or SWEEP_CONCURRENCY, finish, beside)
            )
    return [r for r in results if r is not None]


async def _probe_rows(
    rows: list[InventoryRow],
    indices: list[int],
    template: CheckRequest,
    concurrency: int,
    finish: Callable[[int, FleetEntry], None],
) -> None:
    slots = asyncio.Semaphore(concurrency)
    turns = _PortTurns()

    async def check(index: int, row: InventoryRow) -> None:
        request = _request(template, row)

        async def work() -> FleetEntry:
            async with slots:
                try:
                    observations = await probe(row.plan, request, Progress())
                except TruenprobeError as exc:
                    return FleetEntry(row, error=exc.message)
            return FleetEntry(row, compare(row.plan, observations))

        finish(index, await turns.run(local_udp_ports(row.plan, template.sweep), work))

    async with asyncio.TaskGroup() as group:
        for index in indices:
            group.create_task(check(index, rows[index]))


def _request(template: CheckRequest, row: InventoryRow) -> CheckRequest:
    return replace(
        template,
        camera=row.target.host,
        username=row.user or template.username,
        password=row.password or template.password,
        path=row.path,
    )


async def _sweep_rows(
    rows: list[InventoryRow],
    indices: list[int],
    template: CheckRequest,
    concurrency: int,
    finish: Callable[[int, FleetEntry], None],
    beside: int = 0,  # descriptors to leave for the checks running beside the sweep
) -> None:
    cameras: list[CameraSweep] = []
    owner: dict[int, int] = {}  # id() of a CameraSweep -> row index
    hairpin: list[int] = []  # rows probe() must check: NAT loopback possible
    for index, address in zip(indices, await _addresses(rows, indices, template), strict=True):
        if isinstance(address, TruenprobeError):
            finish(index, FleetEntry(rows[index], error=address.message))
            continue
        if nat_loopback_possible(address):
            hairpin.append(index)
            continue
        camera = CameraSweep(address, sweep_ports(rows[index].plan))
        owner[id(camera)] = index
        cameras.append(camera)
    async with asyncio.TaskGroup() as group:
        if hairpin:
            # A private client testing a public address may be behind that address's own
            # IP sharer: probe() finds out (one SYN with TTL 1) and says so instead of
            # blaming a forward, exactly as a single check of that camera would.
            group.create_task(_probe_rows(rows, hairpin, template, MEDIA_CONCURRENCY, finish))
        if cameras:
            most = max(len(c.ports) for c in cameras)
            if hairpin:
                beside += MEDIA_CONCURRENCY * FILES_PER_MEDIA_CHECK
            max_open = min(concurrency * most, open_file_budget(RESERVED_FILES + beside))
            group.create_task(_run_sweep(rows, cameras, owner, template, max_open, finish))


async def _run_sweep(
    rows: list[InventoryRow],
    cameras: list[CameraSweep],
    owner: dict[int, int],
    template: CheckRequest,
    max_open: int,
    finish: Callable[[int, FleetEntry], None],
) -> None:
    def done(camera: CameraSweep) -> None:
        index = owner[id(camera)]
        row = rows[index]
        observations = Observations(
            camera=row.target.host,
            vantage=Vantage.CLIENT,
            client=None,  # the kernel picks the source address of a bare connect
            records=tuple(camera.attempts),
            duration_ms=round((camera.ended - camera.started) * 1000.0, 1),
            source="probe",
        )
        finish(index, FleetEntry(row, compare(row.plan, observations)))

    # The sweep blocks the thread it runs in, so it always runs in one of its own: the
    # loop stays free to see Ctrl-C (asyncio.run only cancels the main task) and a
    # cancelled fleet stops the sweep instead of waiting for every camera's bound.
    loop = asyncio.get_running_loop()
    stop = threading.Event()

    def hand_over(camera: CameraSweep) -> None:  # from the sweep's thread to the loop's
        loop.call_soon_threadsafe(done, camera)

    worker = asyncio.ensure_future(
        asyncio.to_thread(
            sweep,
            cameras,
            wait_s=template.stage_s,
            max_open=max_open,
            on_done=hand_over,
            stop=stop,
        )
    )
    try:
        await asyncio.shield(worker)
    except asyncio.CancelledError:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await worker  # within STOP_POLL_S: its sockets are closed when this returns
        raise


def nat_loopback_possible(address: str) -> bool:
    """Whether this host (private) tests a public address: the case NAT loopback hides in."""
    return is_public(address) and worth_probing(local_address_toward(address), address)


async def _addresses(
    rows: list[InventoryRow], indices: list[int], template: CheckRequest
) -> list[str | TruenprobeError]:
    """Each row's camera as an IP literal (names looked up concurrently), or why not."""
    out: list[str | TruenprobeError] = []
    lookups: dict[int, asyncio.Task[str]] = {}
    for position, index in enumerate(indices):
        host = rows[index].target.host
        try:
            out.append(str(ipaddress.ip_address(host)))
        except ValueError:
            out.append(host)
            lookups[position] = asyncio.ensure_future(resolve_camera(host, template.stage_s))
    for position, task in lookups.items():
        try:
            out[position] = await task
        except TruenprobeError as exc:
            out[position] = exc
    return out
