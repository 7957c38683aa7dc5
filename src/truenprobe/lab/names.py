"""Names of the lab's network namespaces: unique per process and cell, and recognisable.

A name is ``tnplab<pid>-<cell>-<role>``: the pid keeps parallel runs (other engineers'
tests, two terminals) apart and tells ``lab clean`` whether the run that made it is gone.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

PREFIX = "tnplab"

_NAME = re.compile(rf"^{PREFIX}(?P<pid>\d+)-(?P<cell>\d+)-(?P<role>[a-z]+)$")


@dataclass(frozen=True)
class LabName:
    pid: int
    cell: int
    role: str

    def __str__(self) -> str:
        return f"{PREFIX}{self.pid}-{self.cell}-{self.role}"


def netns_name(cell: int, role: str, pid: int | None = None) -> str:
    return str(LabName(os.getpid() if pid is None else pid, cell, role))


def parse_netns_name(name: str) -> LabName | None:
    """The parts of a lab namespace name, or None for anyone else's namespace."""
    match = _NAME.match(name)
    if match is None:
        return None
    return LabName(int(match["pid"]), int(match["cell"]), match["role"])
