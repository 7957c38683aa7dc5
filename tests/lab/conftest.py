"""Fixtures for the lab's namespace tests: each test's namespaces carry this pid and a
fresh cell number, and are checked gone afterwards."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from truenprobe.lab.system import list_netns

_cells = itertools.count(100)


@pytest.fixture
def cell() -> int:
    return next(_cells)


@pytest.fixture
def no_leftovers(cell: int) -> Iterator[None]:
    """Fails a test that leaves any namespace of its cell behind."""
    yield
    mine = f"tnplab{os.getpid()}-{cell}-"
    left = [ns for ns in list_netns() if ns.startswith(mine)]
    assert left == [], f"namespaces left behind: {left}"
