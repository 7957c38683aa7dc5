"""Leftovers of earlier lab runs (killed with SIGKILL, or kept with --keep) and their removal.

A lab namespace is a leftover when the process that made it (the pid in its name) is
gone. A namespace whose maker still runs belongs to a lab in progress, perhaps in another
terminal or test run, and is left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from truenprobe.lab.names import PREFIX, parse_netns_name
from truenprobe.lab.network import remove_namespaces
from truenprobe.lab.system import list_netns, signals_deferred


@dataclass(frozen=True)
class CleanResult:
    removed: tuple[str, ...]
    in_use: tuple[str, ...]  # their lab is still running
    failed: tuple[str, ...]
    workdirs: tuple[str, ...] = ()  # temporary directories removed (logs, rulesets)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, someone else's
        return True
    return True


def lab_namespaces() -> list[str]:
    return [ns for ns in list_netns() if parse_netns_name(ns) is not None]


def find_leftovers(
    namespaces: Sequence[str] | None = None, *, force: bool = False
) -> tuple[list[str], list[str]]:
    """(leftovers, in use) among the lab's namespaces; ``force`` counts all as leftovers."""
    leftovers: list[str] = []
    in_use: list[str] = []
    for ns in lab_namespaces() if namespaces is None else namespaces:
        name = parse_netns_name(ns)
        if name is None:
            continue
        (in_use if _alive(name.pid) and not force else leftovers).append(ns)
    return leftovers, in_use


def clean_leftovers(*, force: bool = False) -> CleanResult:
    leftovers, in_use = find_leftovers(force=force)
    with signals_deferred():
        failed = remove_namespaces(leftovers) if leftovers else []
    return CleanResult(
        removed=tuple(ns for ns in leftovers if ns not in failed),
        in_use=tuple(in_use),
        failed=tuple(failed),
        workdirs=tuple(_remove_workdirs(force=force)),
    )


_WORKDIR = re.compile(rf"^{PREFIX}(?P<pid>\d+)-\d+-")


def _remove_workdirs(*, force: bool) -> list[str]:
    """The lab's temporary directories whose lab is gone."""
    removed = []
    root = tempfile.gettempdir()
    for entry in os.scandir(root):
        match = _WORKDIR.match(entry.name)
        if match and entry.is_dir() and (force or not _alive(int(match["pid"]))):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed
