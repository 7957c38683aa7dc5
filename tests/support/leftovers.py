"""Namespaces an earlier test run could not remove (it was killed: SIGKILL, a CI timeout).

A test removes what it creates in ``finally`` blocks, which a killed process never
reaches. Every test namespace carries the pid of the run that made it, so the next run
removes those whose maker is gone and leaves alone those of a run still going (another
terminal, another worktree's tests).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

# The names tests give their namespaces (tests/*/netns.py, conftest.py, fixed_ports.py).
TEST_NETNS = (
    re.compile(r"^tp-(?:prober|plan|robust|integ|capture)-(?P<pid>\d+)(?:-|$)"),
    re.compile(r"^tpcamera-[A-Za-z0-9_]+-(?P<pid>\d+)-(?:cam|cli)$"),
)


def maker_pid(namespace: str) -> int | None:
    """The pid in a test namespace's name, or None for a namespace tests did not make."""
    for pattern in TEST_NETNS:
        match = pattern.match(namespace)
        if match:
            return int(match["pid"])
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_test_namespaces(namespaces: list[str]) -> list[str]:
    return [ns for ns in namespaces if (pid := maker_pid(ns)) is not None and not _alive(pid)]


def remove_stale_test_namespaces() -> list[str]:
    """Remove the namespaces of dead test runs (root only); the names removed."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return []
    listed = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, text=True, timeout=10, check=False
    )
    names = [line.split()[0] for line in listed.stdout.splitlines() if line.strip()]
    removed = []
    for ns in stale_test_namespaces(names):
        done = subprocess.run(
            ["ip", "netns", "delete", ns], capture_output=True, timeout=10, check=False
        )
        if done.returncode == 0:
            removed.append(ns)
    return removed
