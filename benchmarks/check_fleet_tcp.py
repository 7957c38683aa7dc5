"""Fleet TCP checks: `truenprobe check --inventory` over 500+ emulated cameras, next to nmap.

Emulated cameras (`EmulatedCamera`, 512 to a process) listen on 127.0.10.1, 127.0.10.2,
... each with its HTTP port (8080) and base port (2222). Two kinds of fleet, each next to
the nmap run that does the same work, alternately, as whole processes from launch to
exit (medians and their ratio are reported; aim of issue 4: no slower than nmap):

1. connect only: SDK sites over VSNM/TCP (a connect to the base port, a verdict and a
   JSON line per camera) next to `nmap -sT -n -Pn -T4 -p 2222` (a connect scan: open or
   closed; the kernel completes the handshake from the listen backlog, the camera
   process is not involved in either).
2. GET /: web-client sites (`GET /` on HTTP, whose status line the camera's HTTP server
   must send, and a connect to the base port) next to `nmap -sT -n -Pn -T4 -p 8080,2222
   --script http-title` (which sends `GET /` to the HTTP port and reads the answer).
   Plain `nmap -sT` of the same ports is shown too: it sends no request.

Both tools run as an installed program would: Python from byte-compiled modules (pip
compiles them at install; this machine sets PYTHONDONTWRITEBYTECODE=1, which would make
every run compile truenprobe's sources again, so the children run without it and the
warm-up run writes the caches). `--no-bytecode` measures with compiling instead. The
fixed cost of a `check --inventory` of one camera is reported too (start-up, imports).

    python benchmarks/check_fleet_tcp.py [--cameras 512] [--runs 5] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HTTP_PORT, BASE_PORT = 8080, 2222
PER_PROCESS = 512  # cameras per camera process (8 descriptors each, and their connections)

# Runs in its own processes: the cameras must not share the prober's CPU time slices.
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


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@contextlib.contextmanager
def cameras(hosts: list[str]) -> Iterator[None]:
    procs = []
    try:
        for first in range(0, len(hosts), PER_PROCESS):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", CAMERAS, *hosts[first : first + PER_PROCESS]],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "READY":
                raise SystemExit("the emulated cameras did not start")
        yield
    finally:
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.close()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False, env=env)
    return time.perf_counter() - start, done


def check_command(inventory: Path, site: list[str], concurrency: int | None) -> list[str]:
    cmd = [sys.executable, "-m", "truenprobe", "check", "--inventory", str(inventory), *site]
    cmd += ["--camera-side", "public", "--http-port", str(HTTP_PORT)]
    cmd += ["--base-port", str(BASE_PORT), "--format", "json"]
    if concurrency is not None:
        cmd += ["--concurrency", str(concurrency)]
    return cmd


def nmap_command(ports: list[int], targets: Path, script: str | None) -> list[str]:
    cmd = ["nmap", "-sT", "-n", "-Pn", "-T4", "-p", ",".join(map(str, ports))]
    if script:
        cmd += ["--script", script]
    return [*cmd, "-iL", str(targets), "-oG", "-"]


def verify_check(done: subprocess.CompletedProcess[str], cameras: int) -> None:
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    passed = sum(1 for line in lines if line["verdict"] == "pass")
    if passed != cameras:
        raise SystemExit(f"check: {passed} of {cameras} passed: {done.stderr[-500:]}")


def verify_nmap(done: subprocess.CompletedProcess[str], expected_open: int) -> None:
    open_ports = done.stdout.count("/open/")
    if open_ports != expected_open:
        raise SystemExit(f"nmap saw {open_ports} open ports, expected {expected_open}")


def fmt(values: list[float]) -> str:
    return (
        f"median {statistics.median(values) * 1000:.0f} ms "
        f"(min {min(values) * 1000:.0f}, max {max(values) * 1000:.0f})"
    )


def compare(
    label: str,
    check: list[str],
    peers: list[tuple[str, list[str], int]],
    cameras: int,
    runs: int,
    env: dict[str, str],
) -> dict[str, object]:
    """truenprobe and each peer, alternately; the ratio is against the first peer."""
    timed(check, env)  # warm up: caches, byte-code
    for _, cmd, _ in peers:
        timed(cmd, env)
    ours: list[float] = []
    theirs: list[list[float]] = [[] for _ in peers]
    for _ in range(runs):
        seconds, done = timed(check, env)
        verify_check(done, cameras)
        ours.append(seconds)
        for index, (_, cmd, expected_open) in enumerate(peers):
            seconds, done = timed(cmd, env)
            verify_nmap(done, expected_open)
            theirs[index].append(seconds)
    ratio = statistics.median(ours) / statistics.median(theirs[0])
    print(f"{label}:", flush=True)
    print(f"  truenprobe check --inventory: {fmt(ours)}")
    for (name, _, _), values in zip(peers, theirs, strict=True):
        print(f"  {name:<28}  {fmt(values)}")
    print(f"  ratio to {peers[0][0]}: {ratio:.2f} (aim: <= 1); load average {load_average()}")
    return {
        "label": label,
        "truenprobe_s": ours,
        "peers": {name: values for (name, _, _), values in zip(peers, theirs, strict=True)},
        "ratio": ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cameras", type=int, default=512)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--concurrency", type=int, default=None, help="pass --concurrency (default: the CLI's)"
    )
    parser.add_argument(
        "--no-bytecode", action="store_true", help="keep PYTHONDONTWRITEBYTECODE (compile each run)"
    )
    args = parser.parse_args()
    if shutil.which("nmap") is None:
        raise SystemExit("nmap is not installed")
    env = dict(os.environ)
    if not args.no_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    hosts = addresses(args.cameras)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        inventory = Path(tmp) / "fleet.csv"
        inventory.write_text("camera\n" + "\n".join(hosts) + "\n")
        one = Path(tmp) / "one.csv"
        one.write_text(f"camera\n{hosts[0]}\n")
        targets = Path(tmp) / "targets.txt"  # addresses only: nmap must resolve no name
        targets.write_text("\n".join(hosts) + "\n")
        n = args.cameras
        print(
            f"{n} emulated cameras, {args.runs} runs each, alternating; "
            f"byte-code {'off' if args.no_bytecode else 'on'}; load average {load_average()}",
            flush=True,
        )
        with cameras(hosts):
            sdk = ["--client", "sdk", "--transport", "tcp"]
            base = check_command(one, sdk, None)
            timed(base, env)
            fixed = statistics.median(timed(base, env)[0] for _ in range(args.runs))
            print(f"fixed cost, check --inventory of 1 camera: median {fixed * 1000:.0f} ms")
            results.append(
                compare(
                    "connect only: SDK sites over VSNM/TCP, the base port",
                    check_command(inventory, sdk, args.concurrency),
                    [("nmap -sT -n -Pn -T4", nmap_command([BASE_PORT], targets, None), n)],
                    n,
                    args.runs,
                    env,
                )
            )
            web = check_command(inventory, ["--client", "web"], args.concurrency)
            both = [HTTP_PORT, BASE_PORT]
            title = nmap_command(both, targets, "http-title")
            results.append(
                compare(
                    "GET /: web sites, GET / on HTTP and a connect to the base port",
                    web,
                    [
                        ("nmap ... --script http-title", title, 2 * n),
                        ("nmap -sT (no request)", nmap_command(both, targets, None), 2 * n),
                    ],
                    n,
                    args.runs,
                    env,
                )
            )
    out = Path(__file__).resolve().parents[1] / "test-artifacts" / "check_fleet_tcp.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"cameras": n, "fixed_s": fixed, "results": results}, indent=2))


if __name__ == "__main__":
    main()
