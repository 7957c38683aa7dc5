"""pytest plugin (entry point ``truenprobe``): a ``truen_camera`` fixture.

Installing truenprobe is enough; then in any test::

    def test_my_vms_plays(truen_camera):
        assert my_vms.play(truen_camera.url("video1"))

Options go in a marker, as ``EmulatedCamera`` keyword arguments::

    @pytest.mark.truen_camera(user="admin", password="secret")
    def test_with_auth(truen_camera): ...

The camera runs in a background thread on loopback with free ports, so the fixture
works in synchronous and asyncio tests alike, and parallel test runs do not collide.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from truenprobe.camera import EmulatedCamera
from truenprobe.testing.threaded import running_camera


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "truen_camera(**options): EmulatedCamera options for the truen_camera fixture",
    )


@pytest.fixture
def truen_camera(request: pytest.FixtureRequest) -> Iterator[EmulatedCamera]:
    """A started emulated Truen camera; ``truen_camera.url("video1")`` is its RTSP URL."""
    marker = request.node.get_closest_marker("truen_camera")
    options = dict(marker.kwargs) if marker is not None else {}
    with running_camera(**options) as camera:
        yield camera
