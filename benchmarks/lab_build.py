"""Build and remove one lab topology: the lab's way next to one `ip` process per command.

The peer is how lab scripts usually do it: the same commands (from
``truenprobe.lab.commands``), each its own `ip` process, then `ip netns del` each. Both
run alternately in the same run; the median of each is reported. Needs root.

    python benchmarks/lab_build.py [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import time

from truenprobe.lab.commands import setup_commands
from truenprobe.lab.network import LabNetwork
from truenprobe.lab.topology import build_topology
from truenprobe.plan.model import Side


def _topology(cell: int):
    return build_topology(Side.PRIVATE, Side.PRIVATE, cell=cell)


def lab_way(cell: int) -> float:
    async def once() -> None:
        async with LabNetwork(_topology(cell)):
            pass

    start = time.perf_counter()
    asyncio.run(once())
    return time.perf_counter() - start


def one_process_per_command(cell: int) -> float:
    topo = _topology(cell)
    cmds = setup_commands(topo)
    start = time.perf_counter()
    for line in cmds.root_batch:
        subprocess.run(["ip", *line.split()], check=True)
    for ns, lines in cmds.netns_batches.items():
        for line in lines:
            subprocess.run(["ip", "-n", ns, *line.split()], check=True)
    for ns, settings in cmds.sysctls.items():
        for setting in settings:
            subprocess.run(
                ["ip", "netns", "exec", ns, "sysctl", "-q", "-e", "-w", setting], check=True
            )
    for ns in topo.namespaces:
        subprocess.run(["ip", "netns", "del", ns], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    lab_way(1), one_process_per_command(2)  # warm up
    lab, peer = [], []
    for i in range(args.runs):
        lab.append(lab_way(10 + i))
        peer.append(one_process_per_command(100 + i))
    a, b = statistics.median(lab), statistics.median(peer)
    print(f"runs: {args.runs} each, alternating; topology: camera and client both private")
    print(f"lab (ip -batch, build and remove):   median {a * 1000:.0f} ms")
    print(f"one ip process per command (peer):   median {b * 1000:.0f} ms")
    print(f"ratio: {a / b:.2f}x")


if __name__ == "__main__":
    main()
