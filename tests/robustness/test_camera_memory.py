"""A camera process under hostile load stays within bounded memory and keeps serving.

Each round: 1,000 idle connections (a third stopped mid-request) held while a new client
plays; 100 sessions (half UDP, half TCP) opened, played and torn down, three times over;
20 clients writing whole conversations one byte per TCP segment. The camera runs as
`truenprobe camera` in its own process; its resident memory (VmRSS) is read after a
warm-up round and after the measured rounds.
"""

from __future__ import annotations

import asyncio
import gc
import resource
import tracemalloc

import pytest

from tests.camera.process import camera_process
from tests.camera.rtsp_client import eventually
from tests.robustness.camera_load import Target, load_round, plays, rss_kib, status_page
from truenprobe.camera import EmulatedCamera

CAMERA = "127.0.12.1"
IDLE, SESSIONS, SESSION_REPEATS, BYTEWISE = 1000, 100, 3, 20
MEASURED_ROUNDS = 3
# Growth allowed over the measured rounds, after a warm-up round reached steady state:
# allocator slack, not anything that grows with the number of connections or sessions.
GROWTH_LIMIT_KIB = 8 * 1024
# Bytes of Python objects over the measured rounds: each round sets up 300 sessions and
# 1,000 connections, so leaking even one small object for each would show.
HEAP_GROWTH_LIMIT = 512 * 1024


async def one_round(target: Target) -> None:
    await load_round(target, IDLE, SESSIONS, SESSION_REPEATS, BYTEWISE)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_memory_stays_bounded_under_hostile_load() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * IDLE:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8 * IDLE), hard))
    args = ["--host", CAMERA, "--http-port", "0", "--base-port", "0", "--rtsp-port", "0"]
    with camera_process(*args) as cam:
        pid = cam.process.pid
        target = Target(CAMERA, cam.rtsp_port, cam.http_port, cam.base_port)
        started = rss_kib(pid)
        await one_round(target)  # warm-up: caches, the allocator's arenas
        baseline = rss_kib(pid)
        for _ in range(MEASURED_ROUNDS):
            await one_round(target)
        final = rss_kib(pid)
        page = await status_page(target)
        assert await plays(target) >= 10
        assert cam.process.poll() is None
    print(f"camera RSS: started {started} KiB, after warm-up {baseline} KiB, "
          f"after {MEASURED_ROUNDS} rounds {final} KiB")  # fmt: skip
    assert "Active sessions (0)" in page
    assert final - baseline < GROWTH_LIMIT_KIB, (started, baseline, final)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_nothing_accumulates_in_the_camera_under_hostile_load() -> None:
    """The same load on an in-process camera: every session, pooled connection and task is
    gone after each round, and the Python heap (tracemalloc) does not grow round by round."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4 * IDLE:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8 * IDLE), hard))
    async with EmulatedCamera(host="127.0.12.2") as cam:
        target = Target(cam.host, cam.rtsp_port, cam.http_port, cam.base_port)
        await one_round(target)
        tasks = len(asyncio.all_tasks())
        tracemalloc.start(1)
        try:
            traced = []
            for _ in range(MEASURED_ROUNDS):
                await one_round(target)
                gc.collect()
                traced.append(tracemalloc.get_traced_memory()[0])
                assert not cam.sessions
                assert cam.service is not None
                assert not cam.service.transports.groups
                await eventually(lambda: all(len(pool) == 0 for pool in cam._pools))
                assert len(asyncio.all_tasks()) == tasks
        finally:
            tracemalloc.stop()
    print(f"traced Python heap after each round: {[t // 1024 for t in traced]} KiB")
    assert traced[-1] - traced[0] < HEAP_GROWTH_LIMIT, traced
