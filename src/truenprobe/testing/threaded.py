"""An ``EmulatedCamera`` on its own event loop in a background thread.

For synchronous code (and the pytest fixture): ``with running_camera() as cam:`` gives
a started camera whose ports and URLs can be read from any thread; leaving the block
stops it and joins the thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from truenprobe.camera import EmulatedCamera

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


@contextmanager
def running_camera(**options: Any) -> Iterator[EmulatedCamera]:
    """Start an ``EmulatedCamera(**options)`` (loopback, free ports by default)."""
    options.setdefault("host", "127.0.0.1")
    camera = EmulatedCamera(**options)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="truen-camera", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(camera.start(), loop).result(START_TIMEOUT)
        try:
            yield camera
        finally:
            asyncio.run_coroutine_threadsafe(camera.stop(), loop).result(STOP_TIMEOUT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(STOP_TIMEOUT)
        if not thread.is_alive():
            loop.close()
