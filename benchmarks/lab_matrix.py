"""Time of one lab cell and of the whole lab matrix. Needs root, ip, nft, smcrouted.

One cell: `lab run` of decoder/RTSP/TCP with both ends private, next to its peer, the
same `truenprobe check` against `truenprobe camera` on loopback with no lab at all (the
floor: two interpreters, the camera's start, the check). Alternating, medians.

The matrix: every cell of `lab matrix` with --jobs cells at once; reported with the sum
of the cells' own times, whose ratio to the wall time is what running them side by side
gains.

    python benchmarks/lab_matrix.py [--runs 5] [--jobs 4] [--no-matrix]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import time

from truenprobe.lab.cell import CellSpec, run_cell
from truenprobe.lab.matrix import matrix_cells, run_matrix
from truenprobe.plan.scenario import build_scenario

SCENARIO = {"client": "decoder", "protocol": "rtsp", "transport": "tcp"}
LOOPBACK = "127.0.0.77"  # a loopback address of its own: no port clash with anyone
# How `truenprobe camera` announces the ports it got (with 0 = any free port).
PORT_LINES = (
    ("http", r"http://[\d.]+:(\d+)/"),
    ("base", r"base port\s+TCP (\d+)"),
    ("rtsp", r"RTSP\s+TCP (\d+)"),
)


def lab_cell() -> float:
    start = time.perf_counter()
    result = asyncio.run(run_cell(CellSpec(build_scenario(SCENARIO)), cell=1))
    if result.report is None or result.report["verdict"] != "pass":
        raise SystemExit(f"the lab cell did not pass: {result.error or result.report}")
    return time.perf_counter() - start


def bare_check() -> float:
    start = time.perf_counter()
    camera = subprocess.Popen(
        [sys.executable, "-m", "truenprobe", "camera", "--host", LOOPBACK,
         "--http-port", "0", "--base-port", "0", "--rtsp-port", "0"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert camera.stdout is not None
        ports = {}
        for line in camera.stdout:
            for key, pattern in PORT_LINES:
                if m := re.search(pattern, line):
                    ports[key] = m.group(1)
            if line.startswith("Ready"):
                break
        check = subprocess.run(
            [sys.executable, "-m", "truenprobe", "check", LOOPBACK, "--client", "decoder",
             "--protocol", "rtsp", "--transport", "tcp", "--camera-side", "public",
             "--client-side", "public", "--http-port", ports["http"], "--base-port",
             ports["base"], "--rtsp-port", ports["rtsp"], "--format", "json", "--timeout", "3"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if check.returncode != 0:
            raise SystemExit(f"the bare check did not pass: {check.stderr or check.stdout}")
    finally:
        camera.terminate()
        camera.wait(timeout=10)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=max(2, 2 * (os.cpu_count() or 1)))
    parser.add_argument("--no-matrix", action="store_true")
    args = parser.parse_args()
    lab_cell(), bare_check()  # warm the page cache
    lab, bare = [], []
    for _ in range(args.runs):
        lab.append(lab_cell())
        bare.append(bare_check())
    a, b = statistics.median(lab), statistics.median(bare)
    print(f"one cell ({args.runs} runs each, alternating): decoder/rtsp/tcp, both ends private")
    print(f"  lab run (namespaces, IP sharers, camera, check): median {a:.2f} s")
    print(f"  peer: check against camera on loopback, no lab:  median {b:.2f} s")
    print(f"  ratio: {a / b:.2f}x")
    if args.no_matrix:
        return
    cells = matrix_cells()
    start = time.perf_counter()
    rows = asyncio.run(run_matrix(cells, args.jobs))
    wall = time.perf_counter() - start
    total = sum(r.result.duration_s for r in rows)
    agree = sum(r.judgement.agree for r in rows)
    print(f"matrix: {len(rows)} cells ({agree} agree), --jobs {args.jobs}, {os.cpu_count()} CPUs")
    print(f"  wall time {wall:.0f} s; the cells' own times add up to {total:.0f} s")
    print(f"  ratio wall / sum: {wall / total:.2f}x")


if __name__ == "__main__":
    main()
