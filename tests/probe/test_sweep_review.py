"""Review findings on the fleet's TCP sweep (loopback only)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from tests.probe.test_sweep import HOST, WAIT_S, full_backlog, servers  # noqa: F401
from tests.support.tools import unavailable
from truenprobe.observations import TcpOutcome
from truenprobe.probe.sweep import CameraSweep, Port, sweep
from truenprobe.probe.tcp import Greeting


def test_a_silent_greeting_behind_a_dropped_syn_is_still_open(
    servers: Callable[[str], int],  # noqa: F811
    full_backlog: int,  # noqa: F811
) -> None:
    # The dropped SYN comes first in the camera's ports (e.g. HTTP filtered, RTSP open but
    # silent): when its connect expires, the open port's greeting deadline (a few
    # microseconds later) has passed too, and it must not be taken for a dropped SYN.
    silent = servers("silent")
    camera = CameraSweep(HOST, [Port(full_backlog), Port(silent, Greeting.RTSP)])
    sweep([camera], wait_s=WAIT_S, max_open=100, on_done=lambda _c: None)
    got = {a.port: a for a in camera.attempts}
    assert got[full_backlog].outcome is TcpOutcome.TIMEOUT
    assert got[silent].outcome is TcpOutcome.OPEN, got[silent]
    assert got[silent].unanswered == f"did not answer OPTIONS within {WAIT_S:g} s"


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_stopped_sweep_ends_soon_and_closes_its_sockets(full_backlog: int) -> None:  # noqa: F811
    if not os.path.isdir("/proc/self/fd"):
        unavailable("no /proc/self/fd to count descriptors in")
    # Ctrl-C or a cancelled fleet sets ``stop``: the sweep must not run on to every
    # camera's bound (the loop cannot see the signal while a sweep blocks it).
    cameras = [CameraSweep(HOST, [Port(full_backlog)]) for _ in range(3)]
    stop = threading.Event()
    before = _open_fds()
    worker = threading.Thread(
        target=sweep,
        args=(cameras,),
        kwargs={"wait_s": 60.0, "max_open": 100, "on_done": lambda _c: None, "stop": stop},
    )
    worker.start()
    stop.set()
    worker.join(timeout=10)
    assert not worker.is_alive()
    assert _open_fds() == before
