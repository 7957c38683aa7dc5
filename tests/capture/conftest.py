"""Fixtures for the capture tests: a network namespace of our own for real recordings."""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.support.tools import require_netns

_counter = itertools.count()


@pytest.fixture
def netns() -> Iterator[str]:
    """An empty network namespace with loopback up, removed afterwards whatever happens."""
    require_netns()
    name = f"tp-capture-{os.getpid()}-{next(_counter)}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, timeout=30)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False, timeout=30)
