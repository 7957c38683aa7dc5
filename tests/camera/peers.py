"""Clients we did not write, run against the camera with bounded waits."""

from __future__ import annotations

import re
import subprocess

PEER_TIMEOUT = 60


def ffmpeg_frames(url: str, transport: str, prefix: tuple[str, ...] = (), frames: int = 30) -> int:
    """Frames of the first video stream ffmpeg decoded (it stops at ``frames``)."""
    command = [
        *prefix,
        "ffmpeg",
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-rtsp_transport",
        transport,
        "-timeout",
        "10000000",  # µs without data before giving up
        "-i",
        url,
        "-map",
        "0:v:0",
        "-frames:v",
        str(frames),
        "-f",
        "null",
        "-progress",
        "pipe:1",
        "-",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=PEER_TIMEOUT, check=False
    )
    counts = [int(n) for n in re.findall(r"^frame=(\d+)$", result.stdout, re.MULTILINE)]
    if result.returncode != 0 or not counts:
        raise AssertionError(
            f"ffmpeg {transport} {url} failed ({result.returncode}): {result.stderr}"
        )
    return counts[-1]


def gst_plays(url: str, protocols: str, prefix: tuple[str, ...] = (), frames: int = 30) -> None:
    """gst-launch rtspsrc decodes ``frames`` video frames and exits 0 (NOTES.md pipeline)."""
    command = [
        *prefix,
        "gst-launch-1.0",
        "-q",
        "rtspsrc",
        f"location={url}",
        f"protocols={protocols}",
        "timeout=10000000",
        "!",
        "rtph264depay",
        "!",
        "h264parse",
        "!",
        "avdec_h264",
        "!",
        "identity",
        f"eos-after={frames}",
        "!",
        "fakesink",
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=PEER_TIMEOUT, check=False
    )
    if result.returncode != 0:
        raise AssertionError(
            f"gst-launch rtspsrc {protocols} {url} failed ({result.returncode}): "
            f"{result.stdout[-2000:]} {result.stderr[-2000:]}"
        )
