from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


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
