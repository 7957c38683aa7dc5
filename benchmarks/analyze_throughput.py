"""`truenprobe analyze` next to `tshark -r` on the same large capture: packets/s and peak memory.

The capture is generated (benchmarks/capture_gen.py: a decoder's RTSP/UDP session as
`tcpdump -i any` records it, LINUX_SLL2, mostly 1400-byte RTP, some unrelated traffic)
in a temporary directory and deleted afterwards. tshark gets the equivalent job: decode
UDP 554 as RTP and list the RTP streams (`-q -d udp.port==554,rtp -z rtp,streams`).
Both run as whole commands (startup included), alternately, after one warm-up run each
(page cache); wall time and peak RSS come from wait4() of each run; medians are
reported. Aim (issue 6): at least tshark's packets/s with half its peak memory.

    python benchmarks/analyze_throughput.py [--size-mb 222] [--runs 3]
    python benchmarks/analyze_throughput.py --size-mb 1000 --runs 1   # the 1 GB capture
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from capture_gen import CAMERA, SSRC, generate  # the script's directory is on sys.path


def measure(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MiB, stdout) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read() if proc.stdout else b""
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024.0, out.decode(errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=float, default=222)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("tshark") is None:
        sys.exit("tshark is not installed (Debian: tshark)")
    workdir = Path(tempfile.mkdtemp(prefix="truenprobe-bench-"))
    try:
        capture = workdir / "session.pcap"
        packets = generate(capture, int(args.size_mb * 1e6))
        size_mb = capture.stat().st_size / 1e6
        tshark = [
            "tshark",
            "-r",
            str(capture),
            "-q",
            "-d",
            "udp.port==554,rtp",
            "-z",
            "rtp,streams",
        ]
        ours = [
            sys.executable, "-m", "truenprobe", "analyze", str(capture), "--camera", CAMERA,
            "--client", "decoder", "--protocol", "rtsp", "--transport", "udp", "--format", "json",
        ]  # fmt: skip
        _check(measure(tshark)[2], measure(ours)[2])  # warm-up, and both found the stream
        runs: dict[str, list[tuple[float, float]]] = {"tshark": [], "truenprobe": []}
        for _ in range(args.runs):
            for name, cmd in (("tshark", tshark), ("truenprobe", ours)):
                wall, peak, _out = measure(cmd)
                runs[name].append((wall, peak))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"capture: {packets:,} packets, {size_mb:.0f} MB (LINUX_SLL2, generated, deleted)")
    print(f"runs: {args.runs} each, alternating, after one warm-up run each")
    result = {}
    for name, values in runs.items():
        wall = statistics.median(v[0] for v in values)
        peak = max(v[1] for v in values)
        result[name] = (wall, peak)
        print(
            f"{name:>10}: median {wall:6.2f} s = {packets / wall:>9,.0f} packets/s; "
            f"peak RSS {peak:6.0f} MiB"
        )
    speed = result["tshark"][0] / result["truenprobe"][0]
    memory = result["truenprobe"][1] / result["tshark"][1]
    print(f"packets/s: truenprobe / tshark = {speed:.2f}x (aim: at least 1x)")
    print(f"peak memory: truenprobe / tshark = {memory:.2f} (aim: at most 0.5)")


def _check(tshark_out: str, ours_out: str) -> None:
    if f"0x{SSRC:08X}" not in tshark_out.upper().replace("0X", "0x"):
        sys.exit(f"tshark did not list the RTP stream:\n{tshark_out}")
    report = json.loads(ours_out)
    video = next(r for r in report["results"] if r["flow"] == "rtp-video")
    if video["status"] != "pass":
        sys.exit(f"truenprobe analyze did not find the RTP stream: {video}")


if __name__ == "__main__":
    main()
