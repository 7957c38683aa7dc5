"""Memory under hostile load: the truenprobe camera against gst-rtsp-server, same load.

    .venv/bin/python benchmarks/robustness_camera_memory.py [--rounds 3] [--idle 1000]

Each server runs in its own process and serves the same clip (scripts/make_media.sh, as
MP4 for gst-rtsp-server: benchmarks/camera_gst_server.py, UDP only). This process is the
hostile client (tests/robustness/camera_load.py), with UDP sessions only so both servers
get exactly the same requests. A round:
- IDLE connections to the RTSP port held open, a third stopped mid-request, while a new
  client plays (RSS is read while they are held);
- 100 sessions SETUP, PLAY, TEARDOWN at once, three times;
- 20 clients writing DESCRIBE..TEARDOWN one byte per TCP segment.
RSS (VmRSS) of the server process after start, while the idle connections are held, after
a warm-up round and after ROUNDS more; the growth over those rounds is the leak signal.
Prints a markdown table and writes test-artifacts/robustness_camera_memory.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the load lives with the tests that assert on it

from camera_sessions import GST_PYTHON, free_tcp_port, start_server, stop_server  # noqa: E402
from tests.robustness.camera_load import (  # noqa: E402
    Target,
    bytewise_round,
    idle_connections,
    plays,
    rss_kib,
    session_round,
    udp_pairs,
)

SESSIONS, REPEATS, BYTEWISE = 100, 3, 20


async def one_round(target: Target, pid: int, idle: int) -> dict[str, Any]:
    """One round of the load; failures are counted, not fatal (the peer has some)."""
    started = time.monotonic()
    async with idle_connections(target, idle) as accepted:
        await asyncio.sleep(1.0)  # the server has taken them all in (or evicted some)
        held = rss_kib(pid)
        try:
            played = await plays(target)
        except (AssertionError, OSError, TimeoutError):
            played = 0
    failed: list[BaseException] = []
    with udp_pairs(SESSIONS) as sockets:
        for _ in range(REPEATS):
            failed += await session_round(target, sockets)
    bytewise = await bytewise_round(target, BYTEWISE)
    return {
        "accepted": accepted,
        "rss_with_idle_kib": held,
        "played_beside_idle": played >= 10,
        "failed_sessions": len(failed),
        "failed_bytewise": len(bytewise),
        "why": Counter(_why(e) for e in failed + bytewise),
        "seconds": time.monotonic() - started,
    }


def _why(error: BaseException) -> str:
    """A failure in a few words: a timeout, a status, a dropped connection."""
    text = str(error) or type(error).__name__
    return re.sub(r"\d{5,}|b'.*'", "…", f"{type(error).__name__}: {text}")[:70]


async def measure(
    name: str, command: list[str], ready: str, port: int, args: argparse.Namespace
) -> dict[str, object]:
    process = start_server(command, ready)
    try:
        target = Target("127.0.0.1", port, transports=("udp",))
        start = rss_kib(process.pid)
        warm = await one_round(target, process.pid, args.idle)
        after_warm_up = rss_kib(process.pid)
        rounds = [await one_round(target, process.pid, args.idle) for _ in range(args.rounds)]
        final = rss_kib(process.pid)
        try:
            alive = process.poll() is None and await plays(target) >= 10
        except (AssertionError, OSError, TimeoutError):
            alive = False
    finally:
        stop_server(process)
    row: dict[str, object] = {
        "server": name,
        "rss_start_kib": start,
        "rss_with_idle_kib": max(r["rss_with_idle_kib"] for r in [warm, *rounds]),
        "rss_after_warm_up_kib": after_warm_up,
        "rss_final_kib": final,
        "growth_kib": final - after_warm_up,
        "accepted_idle": min(r["accepted"] for r in [warm, *rounds]),
        "seconds_per_round": sum(r["seconds"] for r in rounds) / len(rounds),
        "played_beside_idle": sum(bool(r["played_beside_idle"]) for r in [warm, *rounds]),
        "failed_sessions": sum(int(r["failed_sessions"]) for r in [warm, *rounds]),
        "failed_bytewise": sum(int(r["failed_bytewise"]) for r in [warm, *rounds]),
        "plays_after": alive,
        "why": dict(sum((Counter(r["why"]) for r in [warm, *rounds]), Counter())),
    }
    print(f"{name}: {row}", flush=True)
    return row


def make_clips(workdir: Path, seconds: int) -> None:
    subprocess.run(
        [str(ROOT / "scripts" / "make_media.sh"), str(workdir), str(seconds)], check=True
    )
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-r", "15", "-i",
         str(workdir / "video1.h264"), "-c", "copy", str(workdir / "video1.mp4")],
        check=True,
    )  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--idle", type=int, default=1000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * args.idle)), hard))
    workdir = Path(tempfile.mkdtemp(prefix="truenprobe-robust-"))
    try:
        make_clips(workdir, 180)  # longer than the whole run: gst-rtsp-server does not loop
        ours_port, gst_port = free_tcp_port(), free_tcp_port()
        ours = [sys.executable, "-m", "truenprobe", "camera", "--host", "127.0.0.1",
                "--rtsp-port", str(ours_port), "--http-port", "0", "--base-port", "0",
                "--media-dir", str(workdir)]  # fmt: skip
        gst = [GST_PYTHON, str(Path(__file__).with_name("camera_gst_server.py")),
               str(workdir / "video1.mp4"), str(gst_port)]  # fmt: skip
        rows = [
            await measure("truenprobe camera", ours, "Ready", ours_port, args),
            await measure("gst-rtsp-server", gst, "ready", gst_port, args),
        ]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    total = args.rounds + 1
    print(
        "\n| server | RSS at start | with idle connections | after warm-up "
        f"| after {args.rounds} more rounds | growth | s per round "
        f"| new client played (of {total}) | failed sessions (of {total * SESSIONS * REPEATS}) "
        f"| failed byte-by-byte (of {total * BYTEWISE}) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['server']} | {r['rss_start_kib']} KiB | {r['rss_with_idle_kib']} KiB "
            f"| {r['rss_after_warm_up_kib']} KiB | {r['rss_final_kib']} KiB "
            f"| {r['growth_kib']} KiB | {r['seconds_per_round']:.1f} | {r['played_beside_idle']} "
            f"| {r['failed_sessions']} | {r['failed_bytewise']} |"
        )
    ours, gst = rows
    idle_cost = [int(r["rss_with_idle_kib"]) - int(r["rss_after_warm_up_kib"]) for r in rows]  # type: ignore[call-overload]
    steady = int(ours["rss_final_kib"]) / int(gst["rss_final_kib"])  # type: ignore[call-overload]
    held = f"ours {idle_cost[0]} KiB, gst {idle_cost[1]} KiB"
    print(f"\nRSS held by {args.idle} idle connections: {held}")
    print(f"RSS after all rounds, ours / gst: {steady:.2f}")
    out = ROOT / "test-artifacts" / "robustness_camera_memory.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "idle_cost_kib": idle_cost}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
