"""The emulated Truen camera: ``async with EmulatedCamera(...) as cam``.

``EmulatedCamera`` is loaded on first use (PEP 562): importing the light parts of this
package (its configuration, for the CLI's options) must not start up asyncio and the
whole server, which every ``truenprobe`` command would otherwise pay for at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from truenprobe.camera.config import CameraConfig, CameraConfigError

if TYPE_CHECKING:
    from truenprobe.camera.server import EmulatedCamera

__all__ = ["CameraConfig", "CameraConfigError", "EmulatedCamera"]


def __getattr__(name: str) -> Any:
    if name == "EmulatedCamera":
        from truenprobe.camera.server import EmulatedCamera

        return EmulatedCamera
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
