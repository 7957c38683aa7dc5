"""Fleet TCP checks: `truenprobe check --inventory` over 500+ emulated cameras, next to nmap.

512 emulated cameras (`EmulatedCamera`, one process) listen on 127.0.10.1 ... 127.0.12.12,
each with its HTTP port (8080) and base port (2222). truenprobe checks them as a fleet twice:
as SDK sites over VSNM/TCP (a connect to the base port: what nmap does) and as web-client
sites (also `GET /` on HTTP, which the camera's HTTP server must answer); each with a verdict
and a JSON line per camera. nmap does a connect scan of the same addresses and ports
(`nmap -sT -n -Pn -T4`), which says open/closed only (the kernel completes the handshake from
the listen backlog, the camera process is not involved). Both run alternately as whole
processes; medians and their ratio are reported. Aim (issue 4): no slower than nmap.

    python benchmarks/check_fleet_tcp.py [--cameras 512] [--runs 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HTTP_PORT, BASE_PORT = 8080, 2222

# Runs in its own process: the cameras must not share the prober's CPU time slices.
CAMERAS = f"""
import asyncio, resource, sys
from truenprobe.camera import EmulatedCamera

async def main(addresses):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ports = dict(http_port={HTTP_PORT}, base_port={BASE_PORT}, rtsp_port=0)
    cameras = [EmulatedCamera(host=a, **ports) for a in addresses]
    for cam in cameras:
        await cam.start()
    print("READY", flush=True)
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    finally:
        for cam in cameras:
            await cam.stop()

asyncio.run(main(sys.argv[1:]))
"""


def addresses(count: int) -> list[str]:
    return [f"127.0.{10 + i // 250}.{1 + i % 250}" for i in range(count)]


@contextlib.contextmanager
def cameras(hosts: list[str]) -> Iterator[None]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CAMERAS, *hosts],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "READY":
            raise SystemExit("the emulated cameras did not start")
        yield
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def timed(cmd: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    return time.perf_counter() - start, done


# (label, scenario options, ports nmap scans): a connect-only fleet, then the web fleet.
SITES = (
    (
        "SDK over VSNM/TCP: connect to the base port",
        ["--client", "sdk", "--transport", "tcp"],
        [BASE_PORT],
    ),
    (
        "web client: GET / on HTTP, connect to the base port",
        ["--client", "web"],
        [HTTP_PORT, BASE_PORT],
    ),
)


def compare_once(
    label: str, site: list[str], ports: list[int], inventory: Path, targets: Path, args: Any
) -> None:
    check = [
        sys.executable,
        "-m",
        "truenprobe",
        "check",
        "--inventory",
        str(inventory),
        *site,
        "--camera-side",
        "public",
        "--http-port",
        str(HTTP_PORT),
        "--base-port",
        str(BASE_PORT),
        "--format",
        "json",
        "--concurrency",
        str(args.cameras),
    ]
    nmap = ["nmap", "-sT", "-n", "-Pn", "-T4", "-p", ",".join(map(str, ports))]
    nmap += ["-iL", str(targets), "-oG", "-"]
    ours: list[float] = []
    theirs: list[float] = []
    timed(check), timed(nmap)  # warm caches
    for _ in range(args.runs):
        seconds, done = timed(check)
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        passed = sum(1 for line in lines if line["verdict"] == "pass")
        if passed != args.cameras:
            raise SystemExit(f"check: {passed} of {args.cameras} passed: {done.stderr[-500:]}")
        ours.append(seconds)
        seconds, done = timed(nmap)
        open_ports = done.stdout.count("/open/")
        if open_ports != len(ports) * args.cameras:
            raise SystemExit(f"nmap saw {open_ports} open ports")
        theirs.append(seconds)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"{label} ({len(ports)} port(s) a camera):")
    print(
        f"  truenprobe check --inventory: median {a * 1000:.0f} ms "
        f"(min {min(ours) * 1000:.0f}, max {max(ours) * 1000:.0f})"
    )
    print(
        f"  nmap -sT -n -Pn -T4:          median {b * 1000:.0f} ms "
        f"(min {min(theirs) * 1000:.0f}, max {max(theirs) * 1000:.0f})"
    )
    print(f"  ratio: {a / b:.2f} (aim: <= 1)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("nmap") is None:
        raise SystemExit("nmap is not installed")
    hosts = addresses(args.cameras)
    with tempfile.TemporaryDirectory() as tmp:
        inventory = Path(tmp) / "fleet.csv"
        inventory.write_text("camera\n" + "\n".join(hosts) + "\n")
        targets = Path(tmp) / "targets.txt"  # addresses only: nmap must resolve no name
        targets.write_text("\n".join(hosts) + "\n")
        print(f"{len(hosts)} emulated cameras, {args.runs} runs each, alternating")
        with cameras(hosts):
            for label, site, ports in SITES:
                compare_once(label, site, ports, inventory, targets, args)


if __name__ == "__main__":
    main()
