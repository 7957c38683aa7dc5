from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session: pytest.Session) -> None:
    """Remove the namespaces a killed earlier run left; a run still going keeps its own.

    The lab's namespaces (tnplab-*) are not touched: `truenprobe lab clean` owns them,
    and a developer's `lab run --keep` must survive a test run.
    """
    from tests.support.leftovers import remove_stale_test_namespaces

    removed = remove_stale_test_namespaces()
    if removed:
        sys.stderr.write(f"removed namespaces of killed test runs: {', '.join(removed)}\n")


def _run_cli(
    *args: str, timeout: float = 60, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real entry point: one-line errors and exit codes are part of the contract."""
    return subprocess.run(
        [sys.executable, "-m", "truenprobe", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input_text,
        check=False,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return _run_cli
