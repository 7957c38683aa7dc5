"""Building and always removing the lab's namespaces (needs root, ip and nft)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from tests.support.tools import require_netns

from truenprobe.lab.clean import clean_leftovers, find_leftovers
from truenprobe.lab.network import LabNetwork
from truenprobe.lab.system import LabError, list_netns
from truenprobe.lab.topology import build_topology
from truenprobe.plan.model import Side

pytestmark = [pytest.mark.netns, pytest.mark.usefixtures("no_leftovers")]


@pytest.fixture(autouse=True)
def _needs_netns():
    require_netns()


def _lab(cell, camera=Side.PRIVATE, client=Side.PRIVATE):
    return build_topology(camera, client, cell=cell)


def _present(topology):
    existing = set(list_netns())
    return [ns for ns in topology.namespaces if ns in existing]


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie has exited; only its parent's wait() is missing
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


async def test_built_then_removed_with_its_processes(cell):
    topo = _lab(cell)
    async with LabNetwork(topo) as net:
        assert _present(topo) == list(topo.namespaces)
        proc = await net.start(topo.camera.netns, ["sleep", "60"], name="sleeper")
        workdir = net.workdir
        assert workdir.is_dir()
    assert _present(topo) == []
    assert not workdir.exists()
    await asyncio.wait_for(proc.process.wait(), 5)
    assert not _pid_alive(proc.pid)


async def test_removed_when_the_body_fails(cell):
    topo = _lab(cell)

    async def failing():
        async with LabNetwork(topo) as net:
            await net.start(topo.client.netns, ["sleep", "60"], name="sleeper")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await failing()
    assert _present(topo) == []


async def test_removed_when_cancelled(cell):
    topo = _lab(cell)
    built = asyncio.Event()

    async def body():
        async with LabNetwork(topo) as net:
            await net.start(topo.camera.netns, ["sleep", "60"], name="sleeper")
            built.set()
            await asyncio.sleep(3600)

    task = asyncio.ensure_future(body())
    await asyncio.wait_for(built.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _present(topo) == []


async def test_removed_when_building_fails_half_way(cell):
    topo = _lab(cell)
    # Someone made one of our names already: `netns add` fails in the middle of the batch.
    clash = topo.namespaces[2]
    _ip("netns", "add", clash)
    try:
        with pytest.raises(LabError, match="failed"):
            await LabNetwork(topo).__aenter__()
        assert _present(topo) == []
    finally:
        _ip("netns", "del", clash)


def _ip(*args):
    subprocess.run(["ip", *args], check=False, capture_output=True)


async def test_keep_leaves_the_lab_for_inspection_until_cleaned(cell):
    topo = _lab(cell)
    async with LabNetwork(topo, keep=True) as net:
        pass
    try:
        assert _present(topo) == list(topo.namespaces)
    finally:
        net.keep = False
        net.close()
    assert _present(topo) == []


async def test_commands_in_a_missing_namespace_are_refused(cell):
    topo = _lab(cell)
    async with LabNetwork(topo) as net:
        with pytest.raises(LabError, match="not a namespace of this lab"):
            await net.start("tnplab-nobody", ["true"], name="x")


def _dead_pid():
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(proc.stdout)


def test_clean_removes_leftovers_of_dead_runs_only(cell):
    dead = build_topology(Side.PUBLIC, Side.PUBLIC, cell=cell, pid=_dead_pid())
    alive = build_topology(Side.PUBLIC, Side.PUBLIC, cell=cell)  # ours: still running
    stray = None
    try:
        for ns in (*dead.namespaces, *alive.namespaces):
            subprocess.run(["ip", "netns", "add", ns], check=True)
        # a process an earlier run left inside its namespace
        stray = subprocess.Popen(["ip", "netns", "exec", dead.camera.netns, "sleep", "60"])
        leftovers, in_use = find_leftovers()
        assert set(dead.namespaces) <= set(leftovers)
        assert set(alive.namespaces) <= set(in_use)

        result = clean_leftovers()
        assert set(dead.namespaces) <= set(result.removed)
        assert stray.wait(timeout=5) != 0  # killed
        assert _present(dead) == []
        assert _present(alive) == list(alive.namespaces)
    finally:
        if stray is not None and stray.poll() is None:
            stray.kill()
        for ns in (*dead.namespaces, *alive.namespaces):
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True)
