"""Fixtures of the HTML report tests: one headless Chromium per module, and the folder the
rendered pages, screenshots and PDFs are kept in for a person to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.chromium import Chromium
from tests.support.tools import require_tools

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "html"


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    require_tools("chromium")
    with Chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
