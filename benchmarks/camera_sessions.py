"""N concurrent UDP unicast sessions of /video1: our camera against gst-rtsp-server.

    .venv/bin/python benchmarks/camera_sessions.py [--sessions 1,25,50,100] [--seconds 10]

Both servers serve the same clip (made here by scripts/make_media.sh, 60 s, so neither
loops during a run) from their own process; this process is the load: N RTSP clients
that SETUP the video track over UDP and PLAY. Measured per server and N:
- CPU of the server process (utime+stime from /proc over the window, in cores), and the
  kernel's part of it (stime: mostly the sends themselves);
- CPU per added session = (cpu(N) - cpu(1)) / (N - 1), and per RTP packet;
- pacing jitter: for each session, |arrival gap - RTP timestamp gap| between consecutive
  frames (marker packets), with kernel receive timestamps (SO_TIMESTAMPNS) so the
  client's own scheduling does not count; p50 and p99 over all sessions' frames.
Prints a markdown table and writes test-artifacts/camera_sessions.json.
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
    """(user, system) CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


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


async def measure(url: str, pid: int, sessions: int, seconds: float) -> dict[str, float]:
    clients = [Client(url) for _ in range(sessions)]
    for client in clients:  # one by one, like real clients arriving
        await client.start()
    await asyncio.sleep(2.0)  # every session past its first keyframe
    receivers = [c.receiver for c in clients if c.receiver is not None]
    for receiver in receivers:
        receiver.recording = True
    cpu0, wall0 = process_cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    cpu1, wall1 = process_cpu_seconds(pid), time.monotonic()
    user, system = ((b - a) / (wall1 - wall0) for a, b in zip(cpu0, cpu1, strict=True))
    for receiver in receivers:
        receiver.recording = False
    jitter_ms = []
    for receiver in receivers:
        for (t0, ts0), (t1, ts1) in zip(receiver.frames, receiver.frames[1:], strict=False):
            expected = ((ts1 - ts0) & 0xFFFFFFFF) / 90000
            jitter_ms.append(abs((t1 - t0) - expected) * 1000)
    for client in clients:
        await client.stop()
    packets = sum(r.packets for r in receivers)
    return {
        "sessions": sessions,
        "cpu_cores": user + system,
        "user_cores": user,
        "system_cores": system,
        "packets_per_s": packets / (wall1 - wall0),
        "frames_per_session_s": sum(len(r.frames) for r in receivers)
        / max(1, len(receivers))
        / (wall1 - wall0),
        "jitter_p50_ms": percentile(jitter_ms, 0.50),
        "jitter_p99_ms": percentile(jitter_ms, 0.99),
    }


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


async def run_server(
    name: str, command: list[str], ready: str, url: str, counts: list[int], seconds: float
) -> list[dict[str, float]]:
    process = start_server(command, ready)
    rows = []
    try:
        for count in counts:
            row = await measure(url, process.pid, count, seconds)
            row["server"] = name  # type: ignore[assignment]
            rows.append(row)
            print(
                f"{name:>18} N={count:<4} cpu={row['cpu_cores']:.4f} cores "
                f"p50={row['jitter_p50_ms']:.2f} ms p99={row['jitter_p99_ms']:.2f} ms "
                f"{row['packets_per_s']:.0f} pkt/s",
                flush=True,
            )
            await asyncio.sleep(1.0)
    finally:
        stop_server(process)
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


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="1,25,50,100")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    counts = [int(n) for n in args.sessions.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="truenprobe-bench-"))
    try:
        make_clips(workdir)
        ours_port, gst_port = free_tcp_port(), free_tcp_port()
        ours = [
            sys.executable,
            "-m",
            "truenprobe",
            "camera",
            "--host",
            "127.0.0.1",
            "--rtsp-port",
            str(ours_port),
            "--http-port",
            "0",
            "--base-port",
            "0",
            "--media-dir",
            str(workdir),
        ]
        gst = [
            GST_PYTHON,
            str(Path(__file__).with_name("camera_gst_server.py")),
            str(workdir / "video1.mp4"),
            str(gst_port),
        ]
        rows = await run_server(
            "truenprobe camera",
            ours,
            "Ready",
            f"rtsp://127.0.0.1:{ours_port}/video1",
            counts,
            args.seconds,
        )
        rows += await run_server(
            "gst-rtsp-server",
            gst,
            "ready",
            f"rtsp://127.0.0.1:{gst_port}/video1",
            counts,
            args.seconds,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        "\n| server | sessions | CPU (cores) | of it kernel | RTP pkt/s "
        "| jitter p50 (ms) | jitter p99 (ms) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['server']} | {row['sessions']:.0f} | {row['cpu_cores']:.4f} | "
            f"{row['system_cores']:.4f} | {row['packets_per_s']:.0f} | "
            f"{row['jitter_p50_ms']:.2f} | {row['jitter_p99_ms']:.2f} |"
        )
    summary = {}
    for name in ("truenprobe camera", "gst-rtsp-server"):
        mine = [r for r in rows if r["server"] == name]
        cores, micros = slope(mine)
        summary[name] = {"cores_per_added_session": cores, "us_per_added_packet": micros}
        print(
            f"\n{name}: {cores:.5f} cores per added session, {micros:.2f} µs per added RTP packet"
        )
    ratio = (
        summary["truenprobe camera"]["cores_per_added_session"]
        / summary["gst-rtsp-server"]["cores_per_added_session"]
    )
    print(f"ratio (ours / gst) of CPU per added session: {ratio:.2f}")
    out = ROOT / "test-artifacts" / "camera_sessions.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "summary": summary, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
