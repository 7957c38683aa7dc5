"""Time to verdict of `truenprobe check` (decoder, RTSP/UDP) next to `ffprobe -rtsp_transport udp`.

Both run against the same emulated camera (`truenprobe camera` on 127.0.0.2; the prober
listens on 127.0.0.1, so R..R+1 do not collide), alternately, as whole processes from
launch to exit: what a user waits for. The check is the full default site (both sides
private): TCP 554-equivalent, RTP and RTCP on R..R+1, and the RTCP return flow proven
through the camera's GET_PARAMETER feedback. ffprobe stops once it knows the streams.
Medians are reported with their ratio. Aim (issue 4): under half of ffprobe's time.

truenprobe runs as an installed program would: from byte-compiled modules (pip compiles
them at install; this machine sets PYTHONDONTWRITEBYTECODE=1, which would make every run
compile truenprobe's sources again, so the children run without it and the warm-up run
writes the caches). --no-bytecode keeps the variable. The probe's own duration (the
report's duration_s: from the first packet it sends to its verdict) is shown too.

    python benchmarks/check_time_to_verdict.py [--runs 10] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

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


ENV = dict(os.environ)


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False, env=ENV)
    return time.perf_counter() - start, done


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--no-bytecode", action="store_true", help="keep PYTHONDONTWRITEBYTECODE (compile each run)"
    )
    args = parser.parse_args()
    if not args.no_bytecode:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
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
    probes: list[float] = []
    theirs: list[float] = []
    with camera(port):
        timed(check), timed(ffprobe)  # warm caches
        for _ in range(args.runs):
            seconds, done = timed(check)
            report = json.loads(done.stdout) if done.stdout else {"verdict": "none"}
            if report["verdict"] != "pass":
                raise SystemExit(f"check did not pass ({report['verdict']}): {done.stderr.strip()}")
            ours.append(seconds)
            probes.append(report["duration_s"])
            seconds, done = timed(ffprobe)
            if done.returncode != 0:
                raise SystemExit(f"ffprobe failed: {done.stderr.strip()}")
            theirs.append(seconds)
    a, b = statistics.median(ours), statistics.median(theirs)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"runs: {args.runs} each, alternating, against `truenprobe camera` on {HOST}:{port}; "
        f"byte-code {'off' if args.no_bytecode else 'on'}; load average {load}"
    )
    print(
        f"truenprobe check (decoder, RTSP/UDP, verdict pass): median {a * 1000:.0f} ms "
        f"(min {min(ours) * 1000:.0f}, max {max(ours) * 1000:.0f})"
    )
    print(
        f"ffprobe -rtsp_transport udp -show_streams:         median {b * 1000:.0f} ms "
        f"(min {min(theirs) * 1000:.0f}, max {max(theirs) * 1000:.0f})"
    )
    print(
        f"  of it the probe itself (duration_s): median {statistics.median(probes) * 1000:.0f} ms"
    )
    print(f"ratio: {a / b:.2f} (aim: under 0.5)")


if __name__ == "__main__":
    main()
