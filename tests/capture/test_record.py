"""`--pcap`: a real recording inside a namespace, read back by the analyzer; no rights, one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.tools import require_tools, unavailable
from truenprobe.capture import record
from truenprobe.capture.analyze import analyze_capture
from truenprobe.capture.observe import Subject
from truenprobe.observations import TcpAttempt, TcpOutcome, UdpArrival
from truenprobe.plan import build_scenario, resolve

PLAN = resolve(
    build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp", "rtsp_port": 8554})
)

# Runs inside the namespace: a camera on 127.0.0.2 answers RTSP and sends RTP to the
# client on 127.0.0.1, while unrelated UDP flows between other ports.
SESSION = r"""
import socket, sys
from pathlib import Path
from truenprobe.capture.record import recording
from truenprobe.plan import build_scenario, resolve
from truenprobe.rtp.packet import RtpPacket, build_rtp

plan = resolve(build_scenario(
    {"client": "decoder", "protocol": "rtsp", "transport": "udp", "rtsp_port": 8554}))
with recording(Path(sys.argv[1]), plan, "127.0.0.2", print) as recorder:
    assert recorder is not None
    server = socket.create_server(("127.0.0.2", 8554))
    client = socket.create_connection(("127.0.0.2", 8554), timeout=10)
    conn, _ = server.accept()
    client.sendall(b"OPTIONS rtsp://127.0.0.2:8554/video1 RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    conn.recv(1000)
    conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n")
    client.recv(1000)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 8554))
    camera = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    camera.bind(("127.0.0.2", 8554))
    for seq in range(20):
        camera.sendto(build_rtp(RtpPacket(96, seq, seq * 3000, 0xABCD, payload=bytes(100))),
                      ("127.0.0.1", 8554))
        receiver.recv(2000)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.sendto(b"unrelated", ("127.0.0.1", 9999))
"""


def test_recording_in_a_namespace_reads_back(tmp_path: Path, netns: str) -> None:
    path = tmp_path / "check.pcap"
    done = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", SESSION, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("recorded ")
    assert done.stdout.rstrip().endswith(str(path))
    obs = analyze_capture(str(path), Subject(PLAN, ("127.0.0.2",)))
    (attempt,) = obs.of(TcpAttempt)
    assert attempt.outcome is TcpOutcome.OPEN
    assert attempt.greeting == "RTSP/1.0 200 OK"
    arrivals = obs.of(UdpArrival)
    assert [(a.port, a.kind, a.packets, a.ssrc) for a in arrivals] == [(8554, "rtp", 20, 0xABCD)]
    if shutil.which("tshark"):  # a peer we did not write reads it as well
        read = subprocess.run(
            [
                "tshark",
                "-r",
                str(path),
                "-Y",
                "udp and not icmp",
                "-T",
                "fields",
                "-e",
                "udp.dstport",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert read.returncode == 0, read.stderr
        ports = {p for p in read.stdout.split() if p}
        assert ports == {"8554"}  # port 9999 was filtered out (only its ICMP answer is kept)


def test_without_capture_rights_one_line_and_no_file(tmp_path: Path) -> None:
    require_tools("setpriv")
    path = tmp_path / "check.pcap"
    script = (
        "import sys; from pathlib import Path; from truenprobe.capture.record import recording\n"
        "from truenprobe.plan import build_scenario, resolve\n"
        "plan = resolve(build_scenario({'client': 'vlc', 'transport': 'tcp'}))\n"
        "with recording(Path(sys.argv[1]), plan, '192.0.2.1', print) as r:\n"
        "    print('checked', r)\n"
    )
    done = subprocess.run(
        ["setpriv", "--bounding-set=-net_raw", sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "--pcap: capturing packets needs root or the CAP_NET_RAW capability; the check runs "
        "without recording",
        "checked None",
    ]
    assert not path.exists()


def test_unwritable_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    messages: list[str] = []
    target = tmp_path / "missing-dir" / "check.pcap"
    try:
        with record.recording(target, PLAN, "192.0.2.1", messages.append) as recorder:
            assert recorder is None
    except PermissionError:  # pragma: no cover - only when not root
        unavailable("needs capture rights to get past the socket")
    if messages and "CAP_NET_RAW" in messages[0]:
        unavailable("no capture rights here")
    assert len(messages) == 1
    assert messages[0].startswith(f"--pcap {target}: No such file or directory")


def test_filter_expression_covers_the_plan() -> None:
    expression = record.bpf_expression(PLAN, ["203.0.113.10"])
    # the audio ports the document lists as unsupported are left out
    assert expression == (
        "host 203.0.113.10 or igmp or icmp or icmp6 or (udp and (port 8554 or port 8555))"
    )


def test_python_filter_matches_the_expression() -> None:
    from tests.capture import synth

    keep = record._Filter(frozenset({bytes([203, 0, 113, 10])}), record.recorded_ports(PLAN)).keep
    assert keep(bytes(synth.tcp("192.168.0.30", 4000, "203.0.113.10", 554, "S", 1)))
    assert keep(bytes(synth.udp("198.51.100.9", 1, "192.168.0.30", 8555, b"x")))
    assert not keep(bytes(synth.udp("198.51.100.9", 1, "192.168.0.30", 9999, b"x")))
    assert not keep(b"\x00" * 10)
