"""Running the camera in the foreground until Ctrl-C or SIGTERM (``truenprobe camera``)."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import signal
from collections.abc import Callable

from truenprobe.camera.config import CameraConfig
from truenprobe.camera.server import EmulatedCamera
from truenprobe.plan.model import Stream


def raise_open_file_limit() -> None:
    """Thousands of idle connections need thousands of descriptors: take what we may."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def summary(cam: EmulatedCamera) -> str:
    """What the camera serves, for people (the credentials are never shown)."""
    cfg = cam.config
    video_rtp, video_rtcp = cam.server_ports
    audio_rtp, audio_rtcp = cam.audio_server_ports
    lines = [
        f"{cfg.model} on {cam.host}",
        f"  HTTP       {cam.http_url}",
        f"  base port  TCP {cam.base_port} (holds connections; VSNM itself is not emulated)",
        f"  RTSP       TCP {cam.rtsp_port}"
        + (" (Digest authentication)" if cfg.user is not None else ""),
        f"  UDP from   video/metadata {video_rtp}-{video_rtcp}, audio {audio_rtp}-{audio_rtcp}",
        f"  multicast  group {cam.multicast_group}, ttl {cfg.multicast_ttl}",
    ]
    for stream in Stream:
        ports = ", ".join(
            f"{media} {cam.multicast_port(stream, media)}"
            for media in ("video", "audio", "metadata")
            if _has(cam, stream, media)
        )
        lines.append(f"  {cam.url(stream):<44} multicast {ports}")
    lines.append("Ready; Ctrl-C stops.")
    return "\n".join(lines) + "\n"


def _has(cam: EmulatedCamera, stream: Stream, media: str) -> bool:
    try:
        cam.multicast_port(stream, media)
    except KeyError:
        return False
    return True


async def serve(config: CameraConfig, announce: Callable[[str], None]) -> signal.Signals | None:
    """Start, announce, and run until SIGINT or SIGTERM; then stop cleanly. Returns the
    signal that stopped it."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received: list[signal.Signals] = []

    def stop_on(sig: signal.Signals) -> None:
        received.append(sig)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_on, sig)
    try:
        async with EmulatedCamera(config=config) as cam:
            announce(summary(cam))
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return received[0] if received else None


def run(config: CameraConfig, announce: Callable[[str], None]) -> signal.Signals | None:
    raise_open_file_limit()
    return asyncio.run(serve(config, announce))
