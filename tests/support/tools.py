"""Gates for tests that need a system tool or root.

On a developer laptop a missing tool skips the test. With TRUENPROBE_STRICT=1 (set by
.ci/run) it fails instead: CI must never pass by skipping.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

STRICT = os.environ.get("TRUENPROBE_STRICT") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip because something outside the test is missing; under strict, fail instead.

    Every skip of the test suite goes through here (or the helpers below), so CI
    (TRUENPROBE_STRICT=1) can never pass by skipping.
    """
    if STRICT:
        pytest.fail(f"TRUENPROBE_STRICT=1 and {reason}")
    pytest.skip(f"{reason} (TRUENPROBE_STRICT=1 would fail here)")


def require_tools(*tools: str) -> None:
    """Skip (or, strict, fail) unless every program is on PATH."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        unavailable(f"missing program(s): {', '.join(missing)}")


def require_root(why: str = "network namespaces") -> None:
    if os.geteuid() != 0:
        unavailable(f"not root, needed for {why}")


def require_netns() -> None:
    """Root plus iproute2 and nft: what the namespace-based tests need."""
    require_root()
    require_tools("ip", "nft")


def require_python_module(python: str, module: str) -> None:
    """Skip (or fail) unless ``python -c 'import module'`` works (e.g. gi for GStreamer)."""
    import subprocess

    if shutil.which(python) is None:
        unavailable(f"missing {python}")
    probe = subprocess.run(
        [python, "-c", f"import {module}"], capture_output=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        unavailable(f"{python} cannot import {module}")
