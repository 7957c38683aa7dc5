"""Helpers for other projects' tests: a camera in a background thread, and a pytest plugin."""

from truenprobe.testing.threaded import running_camera

__all__ = ["running_camera"]
