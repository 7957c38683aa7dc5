"""N concurrent UDP unicast sessions of /video1: our camera against gst-rtsp-server.

    .venv/bin/python benchmarks/camera_sessions.py [--sessions 1,25,50,100] [--seconds 10]
        [--runs 3] [--servers ours,gst] [--sequential]

Both servers serve the same clip (made here by scripts/make_media.sh, 60 s, so neither
loops during a run) from their own process; this process is the load: N RTSP clients
that SETUP the video track over UDP and PLAY. Measured per server and N:
- CPU of the server process over the window, in cores: the scheduler's run time of all
  its threads (/proc/PID/task/*/schedstat, nanoseconds; utime+stime tick in 10 ms steps,
  too coarse for one session), and the kernel's part of it (stime/(utime+stime): mostly
  the sends and the loopback delivery they trigger);
- CPU per added session = (cpu(N) - cpu(1)) / (N - 1), and per added RTP packet;
- pacing jitter: for each session, |arrival gap - RTP timestamp gap| between consecutive
  frames (marker packets), with kernel receive timestamps (SO_TIMESTAMPNS) so the
  client's own scheduling does not count; p50 and p99 over all sessions' frames.
By default both servers run at once, each with N sessions, and are measured over the
same windows: the machine is shared and its load drifts by more than the difference
being measured, so only side by side do both see the same conditions (each also sees
the other's load; jitter is then a pessimistic figure). --sequential measures one server
at a time instead (jitter without the other's load). --runs K repeats it all K times;
the summary gives the median of each server's per-session cost and the median of the K
per-run ratios. Prints a markdown table (the median run) and writes
test-artifacts/camera_sessions.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from truenprobe.rtsp import Headers, MessageReader, Request, Response, parse_session

ROOT = Path(__file__).resolve().parents[1]
GST_PYTHON = "/usr/bin/python3"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def free_tcp_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu_seconds(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process so far, in clock ticks (10 ms steps)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def process_run_seconds(pid: int) -> float:
    """On-CPU time of all the process's live threads so far, to the nanosecond."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@dataclass
class Receiver:
    """One session's RTP socket: frame arrival times (kernel stamps) and RTP timestamps."""

    sock: socket.socket
    rtcp: socket.socket
    packets: int = 0
    frames: list[tuple[float, int]] = field(default_factory=list)
    recording: bool = False

    def drain(self) -> None:
        while True:
            try:
                data, ancillary, _, _ = self.sock.recvmsg(2048, 64)
            except BlockingIOError:
                return
            if not self.recording or len(data) < 12:
                continue
            self.packets += 1
            if data[1] & 0x80:  # marker: the last packet of a frame
                stamp = time.monotonic()
                for level, kind, raw in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                        seconds, nanos = struct.unpack("qq", raw[:16])
                        stamp = seconds + nanos / 1e9
                self.frames.append((stamp, struct.unpack_from("!I", data, 4)[0]))


def udp_pair() -> tuple[socket.socket, socket.socket]:
    while True:
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0:
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind(("127.0.0.1", port + 1))
            except OSError:
                rtcp.close()
            else:
                rtp.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                rtp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                rtp.setblocking(False)
                return rtp, rtcp
        rtp.close()


class Client:
    """A minimal RTSP client: SETUP the first track over UDP, PLAY, TEARDOWN."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.cseq = 0
        self.session = ""
        self.receiver: Receiver | None = None

    async def _ask(self, method: str, url: str, **headers: str) -> Response:
        self.cseq += 1
        request = Request(method, url, Headers.of(CSeq=self.cseq, **headers))
        self.writer.write(request.to_bytes())
        async with asyncio.timeout(10):
            while True:
                event = self.parser.next_event()
                if isinstance(event, Response):
                    if event.status != 200:
                        raise RuntimeError(f"{method} {url}: {event.status}")
                    return event
                self.parser.receive_data(await self.reader.read(65536))

    async def start(self) -> None:
        host, port = self.url.split("/")[2].split(":")
        self.reader, self.writer = await asyncio.open_connection(host, int(port))
        self.parser = MessageReader.for_client()
        describe = await self._ask("DESCRIBE", self.url, Accept="application/sdp")
        base = describe.headers.get("Content-Base") or self.url + "/"
        control = re.search(r"a=control:(\S+)", describe.body.decode().split("m=", 1)[1])
        track = control.group(1) if control else ""
        track_url = track if "://" in track else base.rstrip("/") + "/" + track
        rtp, rtcp = udp_pair()
        self.receiver = Receiver(rtp, rtcp)
        asyncio.get_running_loop().add_reader(rtp.fileno(), self.receiver.drain)
        port = rtp.getsockname()[1]
        setup = await self._ask(
            "SETUP", track_url, Transport=f"RTP/AVP;unicast;client_port={port}-{port + 1}"
        )
        self.session = parse_session(setup.headers.get("Session") or "").session_id
        await self._ask("PLAY", base, Session=self.session, Range="npt=0.000-")

    async def stop(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, TimeoutError):
            await self._ask("TEARDOWN", self.url, Session=self.session)
        self.writer.close()
        if self.receiver is not None:
            asyncio.get_running_loop().remove_reader(self.receiver.sock.fileno())
            self.receiver.sock.close()
            self.receiver.rtcp.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Served:
    """One server under load: its process and the sessions playing from it."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    clients: list[Client] = field(default_factory=list)

    async def resize(self, sessions: int) -> None:
        while len(self.clients) > sessions:
            await self.clients.pop().stop()
        while len(self.clients) < sessions:  # one by one, like real clients arriving
            client = Client(self.url)
            await client.start()
            self.clients.append(client)


def jitters_ms(receivers: list[Receiver]) -> list[float]:
    out = []
    for receiver in receivers:
        for (t0, ts0), (t1, ts1) in zip(receiver.frames, receiver.frames[1:], strict=False):
            expected = ((ts1 - ts0) & 0xFFFFFFFF) / 90000
            out.append(abs((t1 - t0) - expected) * 1000)
    return out


async def measure(served: list[Served], seconds: float) -> list[dict[str, float]]:
    """CPU and jitter of each server over the same window, at its current sessions."""
    await asyncio.sleep(2.0)  # every session past its first keyframe
    receivers = [[c.receiver for c in s.clients if c.receiver is not None] for s in served]
    for receiver in (r for mine in receivers for r in mine):
        receiver.frames.clear()
        receiver.packets = 0
        receiver.recording = True
    pids = [s.process.pid for s in served]
    ticks0 = [process_cpu_seconds(pid) for pid in pids]
    run0 = [process_run_seconds(pid) for pid in pids]
    wall0 = time.monotonic()
    await asyncio.sleep(seconds)
    ticks1 = [process_cpu_seconds(pid) for pid in pids]
    run1 = [process_run_seconds(pid) for pid in pids]
    wall = time.monotonic() - wall0
    for receiver in (r for mine in receivers for r in mine):
        receiver.recording = False
    rows = []
    for index, server in enumerate(served):
        cores = (run1[index] - run0[index]) / wall
        user, system = (b - a for a, b in zip(ticks0[index], ticks1[index], strict=True))
        kernel_share = system / (user + system) if user + system else 0
        jitter = jitters_ms(receivers[index])
        mine = receivers[index]
        rows.append(
            {
                "server": server.name,  # type: ignore[dict-item]
                "sessions": len(server.clients),
                "cpu_cores": cores,
                "user_cores": cores * (1 - kernel_share),
                "system_cores": cores * kernel_share,
                "packets_per_s": sum(r.packets for r in mine) / wall,
                "frames_per_session_s": sum(len(r.frames) for r in mine) / max(1, len(mine)) / wall,
                "jitter_p50_ms": percentile(jitter, 0.50),
                "jitter_p99_ms": percentile(jitter, 0.99),
                "load_average": load_average(),  # type: ignore[dict-item]
            }
        )
    return rows


def start_server(command: list[str], ready: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    output = b""
    assert process.stdout is not None
    while ready.encode() not in output:
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"server did not start: {command} {output!r}")
        output += os.read(process.stdout.fileno(), 65536)
    return process


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def show(row: dict[str, float]) -> None:
    print(
        f"{row['server']:>18} N={row['sessions']:<4.0f} cpu={row['cpu_cores']:.5f} cores "
        f"p50={row['jitter_p50_ms']:.2f} ms p99={row['jitter_p99_ms']:.2f} ms "
        f"{row['packets_per_s']:.0f} pkt/s (load {row['load_average']})",
        flush=True,
    )


async def run_turn(
    servers: dict[str, tuple[list[str], str, int]], counts: list[int], seconds: float, paired: bool
) -> list[dict[str, float]]:
    """Every server through every session count: one after the other, or side by side."""
    groups = [list(servers)] if paired else [[key] for key in servers]
    rows: list[dict[str, float]] = []
    for group in groups:
        served: list[Served] = []
        try:
            for key in group:
                command, ready, port = servers[key]
                process = start_server(command, ready)
                served.append(Served(SERVERS[key], f"rtsp://127.0.0.1:{port}/video1", process))
            for count in counts:
                for server in served:
                    await server.resize(count)
                for row in await measure(served, seconds):
                    show(row)
                    rows.append(row)
        finally:
            for server in served:
                await server.resize(0)
                stop_server(server.process)
    return rows


def slope(rows: list[dict[str, float]]) -> tuple[float, float]:
    """Cores per added session and µs per added RTP packet, from the first and last rows."""
    first, last = rows[0], rows[-1]
    added = last["sessions"] - first["sessions"]
    cores = (last["cpu_cores"] - first["cpu_cores"]) / added
    per_packet = (last["cpu_cores"] - first["cpu_cores"]) / max(
        1.0, last["packets_per_s"] - first["packets_per_s"]
    )
    return cores, per_packet * 1e6


def make_clips(workdir: Path) -> None:
    """The 60 s clips both servers serve; gst-rtsp-server gets the same H.264 in an MP4."""
    subprocess.run([str(ROOT / "scripts" / "make_media.sh"), str(workdir), "60"], check=True)
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-r", "15", "-i",
         str(workdir / "video1.h264"), "-c", "copy", str(workdir / "video1.mp4")],
        check=True,
    )  # fmt: skip


SERVERS = {"ours": "truenprobe camera", "gst": "gst-rtsp-server"}


def server_commands(workdir: Path) -> dict[str, tuple[list[str], str, int]]:
    """Per server: its command, the line it prints when ready, and its RTSP port."""
    ours_port, gst_port = free_tcp_port(), free_tcp_port()
    ours = [sys.executable, "-m", "truenprobe", "camera", "--host", "127.0.0.1",
            "--rtsp-port", str(ours_port), "--http-port", "0", "--base-port", "0",
            "--media-dir", str(workdir)]  # fmt: skip
    gst = [GST_PYTHON, str(Path(__file__).with_name("camera_gst_server.py")),
           str(workdir / "video1.mp4"), str(gst_port)]  # fmt: skip
    return {"ours": (ours, "Ready", ours_port), "gst": (gst, "ready", gst_port)}


def print_table(rows: list[dict[str, float]]) -> None:
    print(
        "\n| server | sessions | CPU (cores) | of it kernel | RTP pkt/s "
        "| jitter p50 (ms) | jitter p99 (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in sorted(rows, key=lambda r: (r["server"], r["sessions"])):
        print(
            f"| {row['server']} | {row['sessions']:.0f} | {row['cpu_cores']:.4f} | "
            f"{row['system_cores']:.4f} | {row['packets_per_s']:.0f} | "
            f"{row['jitter_p50_ms']:.2f} | {row['jitter_p99_ms']:.2f} |"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,25,50,100")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3, help="turns of each server")
    parser.add_argument("--servers", default="ours,gst", help="ours, gst or both")
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="one server at a time (default: both at once, measured over the same windows)",
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]
    chosen = [s.strip() for s in args.servers.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="truenprobe-bench-"))
    runs: list[list[dict[str, float]]] = []
    try:
        make_clips(workdir)
        for turn in range(args.runs):
            print(f"run {turn + 1} of {args.runs}, load average {load_average()}", flush=True)
            commands = {k: v for k, v in server_commands(workdir).items() if k in chosen}
            runs.append(await run_turn(commands, counts, args.seconds, not args.sequential))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    per_run: list[dict[str, tuple[float, float]]] = [
        {
            name: slope([r for r in rows if r["server"] == name])
            for name in (SERVERS[k] for k in chosen)
        }
        for rows in runs
    ]
    summary: dict[str, dict[str, float]] = {}
    for name in (SERVERS[k] for k in chosen):
        cores = statistics.median(run[name][0] for run in per_run)
        micros = statistics.median(run[name][1] for run in per_run)
        summary[name] = {"cores_per_added_session": cores, "us_per_added_packet": micros}
        each = ", ".join(f"{run[name][0]:.6f}" for run in per_run)
        print(
            f"\n{name}: median {cores:.6f} cores per added session ({each}), "
            f"{micros:.2f} µs per added RTP packet"
        )
    ratio = None
    if len(chosen) == 2:
        ratios = [
            run[SERVERS["ours"]][0] / run[SERVERS["gst"]][0]
            for run in per_run
            if run[SERVERS["gst"]][0] > 0
        ]
        ratio = statistics.median(ratios)
        shown = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"ratio (ours / gst) of CPU per added session: median {ratio:.2f} ({shown})")
        middle = sorted(range(len(runs)), key=lambda i: ratios[i])[len(ratios) // 2]
        print_table(runs[middle])
    else:
        print_table(runs[-1])
    out = ROOT / "test-artifacts" / "camera_sessions.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"runs": runs, "summary": summary, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
