"""Wall time of `truenprobe plan ... --format json` next to `python -c 'import typer'`.

`import typer` is the floor for any typer CLI, so the ratio says how much truenprobe adds
on top. Both are measured alternately in the same run (the machine is noisy); the median
of each is reported. Aim (issue 2): under 1.5x.

    python benchmarks/plan_startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

PLAN = [
    sys.executable,
    "-m",
    "truenprobe",
    "plan",
    "--client",
    "decoder",
    "--protocol",
    "rtsp",
    "--transport",
    "udp",
    "--format",
    "json",
]
FLOOR = [sys.executable, "-c", "import typer"]


def _once(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    _once(PLAN), _once(FLOOR)  # warm the page cache
    plan, floor = [], []
    for _ in range(args.runs):
        plan.append(_once(PLAN))
        floor.append(_once(FLOOR))
    p, f = statistics.median(plan), statistics.median(floor)
    print(f"runs: {args.runs} each, alternating")
    print(f"truenprobe plan --format json: median {p * 1000:.0f} ms")
    print(f"python -c 'import typer':      median {f * 1000:.0f} ms")
    print(f"ratio: {p / f:.2f}x (aim: under 1.5x)")


if __name__ == "__main__":
    main()
