"""Wall time of `truenprobe plan ... --format json` next to `python -c 'import typer'`.

`import typer` is the floor for any typer CLI, so the ratio says how much truenprobe adds
on top. Both are measured alternately in the same run (the machine is noisy); the median
of each is reported. Aim (issue 2): under 1.5x.

Both run as an installed program would: from byte-compiled modules (pip compiles them at
install, and typer's already are). This machine sets PYTHONDONTWRITEBYTECODE=1, which would
make every `plan` run compile truenprobe's sources again while typer's stay compiled, so
the children run without it and the warm-up run writes the caches. --no-bytecode keeps it.

    python benchmarks/plan_startup.py [--runs 30] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import os
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
ENV = dict(os.environ)


def _once(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--no-bytecode", action="store_true", help="keep PYTHONDONTWRITEBYTECODE (compile each run)"
    )
    args = parser.parse_args()
    if not args.no_bytecode:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    _once(PLAN), _once(FLOOR)  # warm the page cache
    plan, floor = [], []
    for _ in range(args.runs):
        plan.append(_once(PLAN))
        floor.append(_once(FLOOR))
    p, f = statistics.median(plan), statistics.median(floor)
    print(f"runs: {args.runs} each, alternating; byte-code {'off' if args.no_bytecode else 'on'}")
    print(f"truenprobe plan --format json: median {p * 1000:.0f} ms")
    print(f"python -c 'import typer':      median {f * 1000:.0f} ms")
    print(f"ratio: {p / f:.2f}x (aim: under 1.5x)")


if __name__ == "__main__":
    main()
