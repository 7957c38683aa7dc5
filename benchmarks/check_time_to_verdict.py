"""Time to verdict of `truenprobe check` (decoder, RTSP/UDP) next to `ffprobe -rtsp_transport udp`.

Both run against the same emulated camera (`truenprobe camera` on 127.0.0.2; the prober
listens on 127.0.0.1, so R..R+1 do not collide), alternately, as whole processes from
launch to exit: what a user waits for. The check is the full default site (both sides
private): TCP 554-equivalent, RTP and RTCP on R..R+1, and the RTCP return flow proven
through the camera's GET_PARAMETER feedback. ffprobe stops once it knows the streams.
Medians are reported with their ratio. Aim (issue 4): under half of ffprobe's time.

    python benchmarks/check_time_to_verdict.py [--runs 10]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator

HOST = "127.0.0.2"


def free_rtsp_port() -> int:
    """R with TCP R on the camera's address and UDP R, R+1 free on both addresses."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port % 2 or port > 65000:
            continue
        held = []
        try:
            for host in ("127.0.0.1", HOST):
                for p in (port, port + 1):
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    held.append(u)
                    u.bind((host, p))
            t = socket.socket()
            held.append(t)
            t.bind((HOST, port))
            return port
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise SystemExit("no free port pair")


@contextlib.contextmanager
def camera(port: int) -> Iterator[None]:
    cmd = [
        sys.executable,
        "-m",
        "truenprobe",
        "camera",
        "--host",
        HOST,
        "--rtsp-port",
        str(port),
        "--http-port",
        "0",
        "--base-port",
        "0",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("Ready"):
                break
        else:
            raise SystemExit("the emulated camera did not start")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    return time.perf_counter() - start, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("ffprobe") is None:
        raise SystemExit("ffprobe is not installed (Debian: ffmpeg)")
    port = free_rtsp_port()
    check = [
        sys.executable,
        "-m",
        "truenprobe",
        "check",
        HOST,
        "--client",
        "decoder",
        "--protocol",
        "rtsp",
        "--transport",
        "udp",
        "--rtsp-port",
        str(port),
        "--format",
        "json",
    ]
    ffprobe = [
        "ffprobe",
        "-v",
        "error",
        "-rtsp_transport",
        "udp",
        "-show_streams",
        f"rtsp://{HOST}:{port}/video1",
    ]
    ours: list[float] = []
    theirs: list[float] = []
    with camera(port):
        timed(check), timed(ffprobe)  # warm caches
        for _ in range(args.runs):
            seconds, done = timed(check)
            verdict = json.loads(done.stdout)["verdict"] if done.stdout else "none"
            if verdict != "pass":
                raise SystemExit(f"check did not pass ({verdict}): {done.stderr.strip()}")
            ours.append(seconds)
            seconds, done = timed(ffprobe)
            if done.returncode != 0:
                raise SystemExit(f"ffprobe failed: {done.stderr.strip()}")
            theirs.append(seconds)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"runs: {args.runs} each, alternating, against `truenprobe camera` on {HOST}:{port}")
    print(
        f"truenprobe check (decoder, RTSP/UDP, verdict pass): median {a * 1000:.0f} ms "
        f"(min {min(ours) * 1000:.0f}, max {max(ours) * 1000:.0f})"
    )
    print(
        f"ffprobe -rtsp_transport udp -show_streams:         median {b * 1000:.0f} ms "
        f"(min {min(theirs) * 1000:.0f}, max {max(theirs) * 1000:.0f})"
    )
    print(f"ratio: {a / b:.2f} (aim: under 0.5)")


if __name__ == "__main__":
    main()
