"""Review findings on the fleet's TCP sweep (loopback only)."""

from __future__ import annotations

from collections.abc import Callable

from tests.probe.test_sweep import HOST, WAIT_S, full_backlog, servers  # noqa: F401
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
