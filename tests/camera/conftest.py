from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from truenprobe.camera import EmulatedCamera


@pytest.fixture
async def cam() -> AsyncIterator[EmulatedCamera]:
    async with EmulatedCamera(host="127.0.0.1") as camera:
        yield camera


@pytest.fixture
async def auth_cam() -> AsyncIterator[EmulatedCamera]:
    async with EmulatedCamera(host="127.0.0.1", user="admin", password="s3cret!") as camera:
        yield camera
