"""Checking many cameras: the inventory file and a bounded-concurrency runner.

An inventory is CSV (a header row) or YAML (a list of rows, or ``{defaults: {...},
cameras: [...]}``). Each row names a ``camera`` and may override any scenario key
(client, transport, rtsp_port, ...) and ``name``, ``user``, ``password``, ``path``.
Every row is validated before anything is sent, so a typo fails fast with its row.

Checks that would listen on the same local UDP ports (two decoders on R..R+1) take
turns; everything else runs concurrently up to the bound.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from truenprobe.errors import InputFileError, ScenarioError, TruenprobeError
from truenprobe.files import load_structured, read_text
from truenprobe.plan.model import Host, Plan, Role
from truenprobe.plan.resolve import resolve
from truenprobe.plan.scenario import SCENARIO_KEYS, build_scenario
from truenprobe.probe.runner import CheckRequest, Progress, pairs_to_test, probe
from truenprobe.probe.target import CameraTarget, parse_camera
from truenprobe.report.model import Report
from truenprobe.verdict import compare

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
            scenario = build_scenario(scenario_values)
        except ScenarioError as exc:
            raise InputFileError(f"{where}: {exc.message}") from None
        if target.port is not None and target.port != scenario.rtsp_port:
            raise InputFileError(
                f"{where}: the URL's port {target.port} differs from rtsp_port {scenario.rtsp_port}"
            )
        rows.append(
            InventoryRow(
                name=str(values.get("name") or target.host),
                target=target,
                plan=resolve(scenario),
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


async def run_fleet(
    rows: list[InventoryRow],
    template: CheckRequest,
    concurrency: int,
    on_done: Callable[[FleetEntry], None],
) -> list[FleetEntry]:
    """Check every row, at most ``concurrency`` at once; ``on_done`` sees each as it ends."""
    slots = asyncio.Semaphore(concurrency)
    turns = _PortTurns()
    results: list[FleetEntry | None] = [None] * len(rows)

    async def check(index: int, row: InventoryRow) -> None:
        request = replace(
            template,
            camera=row.target.host,
            username=row.user or template.username,
            password=row.password or template.password,
            path=row.path,
        )

        async def work() -> FleetEntry:
            async with slots:
                try:
                    observations = await probe(row.plan, request, Progress())
                except TruenprobeError as exc:
                    return FleetEntry(row, error=exc.message)
            return FleetEntry(row, compare(row.plan, observations))

        entry = await turns.run(local_udp_ports(row.plan, template.sweep), work)
        results[index] = entry
        on_done(entry)

    async with asyncio.TaskGroup() as group:
        for index, row in enumerate(rows):
            group.create_task(check(index, row))
    return [r for r in results if r is not None]
