from __future__ import annotations

import os
import subprocess
import sys

from tests.support.leftovers import maker_pid, stale_test_namespaces


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid  # reaped: no process has it (until the kernel reuses it)


def test_every_test_namespace_name_carries_its_maker() -> None:
    pid = 4242
    for name in (
        f"tpcamera-mc-{pid}-cam",
        f"tpcamera-uni-{pid}-cli",
        f"tp-prober-{pid}-udp-cam",
        f"tp-plan-{pid}",
        f"tp-robust-{pid}-3",
        f"tp-integ-{pid}-selftest",
        f"tp-capture-{pid}-1",
    ):
        assert maker_pid(name) == pid, name


def test_other_namespaces_are_never_ours() -> None:
    for name in ("tnplab-4242-1-cam", "tp-prober", "tpcamera-4242-cam", "docker-1", "tp-plan-x"):
        assert maker_pid(name) is None, name


def test_only_dead_runs_namespaces_are_stale() -> None:
    dead, alive = _dead_pid(), os.getpid()
    names = [f"tp-plan-{dead}", f"tp-plan-{alive}", "someone-else"]
    assert stale_test_namespaces(names) == [f"tp-plan-{dead}"]
