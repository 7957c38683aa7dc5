"""The emulated Truen camera: ``async with EmulatedCamera(...) as cam``."""

from truenprobe.camera.config import CameraConfig, CameraConfigError
from truenprobe.camera.server import EmulatedCamera

__all__ = ["CameraConfig", "CameraConfigError", "EmulatedCamera"]
