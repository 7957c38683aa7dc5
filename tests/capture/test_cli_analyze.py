"""`truenprobe analyze` end to end: the fixtures' verdicts, report files, and bad input."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.capture import synth

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "captures"
VLC = ["--client", "vlc", "--transport", "udp", "--client-port", "5000", "--stream", "video1s"]
DECODER_TCP = ["--client", "decoder", "--protocol", "rtsp", "--transport", "tcp"]
DECODER_MULTICAST = [
    "--client", "decoder", "--protocol", "rtsp", "--transport", "multicast",
    "--camera-side", "public", "--client-side", "public",
]  # fmt: skip
CAMERA = ["--camera", "203.0.113.10"]
Cli = Callable[..., subprocess.CompletedProcess[str]]

# capture, options, exit code, {flow: (status, words in the diagnosis)}, forward pointed at
CASES: list[
    tuple[str, list[str], int, dict[str, tuple[str, str | None]], dict[str, Any] | None]
] = [
    (
        "vlc-udp-gstreamer-ok",
        [*CAMERA, *VLC],
        0,
        {"rtsp-control": ("pass", None), "rtp-video": ("pass", None), "rtcp-video": ("pass", None)},
        None,
    ),
    (
        "vlc-udp-ffmpeg-ok",
        [*CAMERA, *VLC],
        3,
        {
            "rtsp-control": ("pass", None),
            "rtp-video": ("skipped", "cannot show whether the client-side forward exists"),
        },
        None,
    ),
    (
        "vlc-udp-ffmpeg-ok-camera-side",
        [*CAMERA, *VLC],
        3,
        {
            "rtsp-control": ("pass", None),
            "rtp-video": ("skipped", "taken on the camera's side"),
            "rtcp-video": ("skipped", "taken on the camera's side"),
        },
        None,
    ),
    (
        "vlc-udp-client-forward-missing",
        [*CAMERA, *VLC],
        1,
        {"rtsp-control": ("pass", None), "rtp-video": ("fail", "client-side IP sharer: forward")},
        {"router": "client", "protocol": "udp", "ports": [5000, 5001]},
    ),
    (
        "vlc-udp-gstreamer-client-forward-missing",
        [*CAMERA, *VLC],
        1,
        {"rtp-video": ("fail", "nothing from the camera arrived on UDP 5000")},
        {"router": "client", "protocol": "udp", "ports": [5000, 5001]},
    ),
    (
        "vlc-udp-camera-forward-missing-rst",
        [*CAMERA, *VLC],
        1,
        {"rtsp-control": ("fail", "refused TCP 554 (RST)")},
        {"router": "camera", "protocol": "tcp", "ports": [554, 554]},
    ),
    (
        "vlc-udp-camera-forward-missing-drop",
        [*CAMERA, *VLC],
        1,
        {"rtsp-control": ("fail", "SYN sent 4 times")},
        {"router": "camera", "protocol": "tcp", "ports": [554, 554]},
    ),
    (
        "decoder-tcp-ffmpeg-ok",
        [*CAMERA, *DECODER_TCP, "--stream", "video1s"],
        0,
        {"rtsp-control": ("pass", None)},
        None,
    ),
    (
        "decoder-multicast-wrong-port",
        ["--camera", "192.168.5.10", *DECODER_MULTICAST, "--stream", "video1s"],
        1,
        {"multicast-video": ("fail", "streams video1s to multicast port 5004")},
        None,
    ),
    (
        "vlc-udp-wrong-password",
        [*CAMERA, *VLC],
        3,
        {"rtsp-control": ("pass", None), "rtp-video": ("skipped", "rejected the credentials")},
        None,
    ),
]


def run_json(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    done = cli("analyze", *args, "--format", "json")
    assert done.stdout, done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.mark.parametrize(
    ("name", "options", "code", "flows", "forward"), CASES, ids=[c[0] for c in CASES]
)
def test_fixture_verdicts(
    cli: Cli,
    name: str,
    options: list[str],
    code: int,
    flows: dict[str, tuple[str, str | None]],
    forward: dict[str, Any] | None,
) -> None:
    returncode, report = run_json(cli, str(FIXTURES / f"{name}.pcap"), *options)
    assert returncode == code
    assert report["verdict"] == {0: "pass", 1: "fail", 3: "incomplete"}[code]
    assert report["source"] == f"capture:{name}.pcap"
    results = {r["flow"]: r for r in report["results"]}
    for flow, (status, words) in flows.items():
        assert results[flow]["status"] == status, results[flow]
        if words is not None:
            assert words in results[flow]["diagnosis"]
    failed = [r for r in report["results"] if r["status"] == "fail" and r["forward"]]
    if forward is not None:
        assert failed
        assert {k: failed[0]["forward"][k] for k in forward} == forward
    else:
        assert failed == []


def test_table_and_report_files(cli: Cli, tmp_path: Path) -> None:
    markdown, junit = tmp_path / "ticket.md", tmp_path / "junit.xml"
    done = cli(
        "analyze",
        str(FIXTURES / "vlc-udp-camera-forward-missing-rst.pcap"),
        *CAMERA,
        *VLC,
        "--format",
        "table",
        "--markdown",
        str(markdown),
        "--junit",
        str(junit),
    )
    assert done.returncode == 1, done.stderr
    title = "truenprobe analyze vlc-udp-camera-forward-missing-rst.pcap (camera 203.0.113.10)"
    assert " ".join(done.stdout.split()).startswith(title)
    assert "forward TCP 554" in done.stdout
    assert markdown.read_text().startswith(f"# {title}")
    assert "<testsuite" in junit.read_text()


def test_gzip_and_stdin(cli: Cli, tmp_path: Path) -> None:
    data = (FIXTURES / "vlc-udp-gstreamer-ok.pcap").read_bytes()
    zipped = tmp_path / "c.pcap.gz"
    zipped.write_bytes(gzip.compress(data))
    assert run_json(cli, str(zipped), *CAMERA, *VLC)[0] == 0
    done = subprocess.run(
        [sys.executable, "-m", "truenprobe", "analyze", "-", *CAMERA, *VLC, "--format", "json"],
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file, not a capture"),
        (b"<html>not a capture</html>", "not a pcap or pcapng capture"),
    ],
)
def test_not_a_capture_is_one_line(cli: Cli, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)
    done = cli("analyze", str(path), *CAMERA, *VLC)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("truenprobe: error: ")
    assert message in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/c.pcap", *CAMERA, *VLC], "no such file"),
        ([str(FIXTURES / "vlc-udp-ffmpeg-ok.pcap"), "--camera", "camera.example", *VLC],
         "--camera 'camera.example' is not an IP address"),
        ([str(FIXTURES / "vlc-udp-ffmpeg-ok.pcap"), *VLC], "Missing option '--camera'"),
        ([str(FIXTURES / "vlc-udp-ffmpeg-ok.pcap"), *CAMERA, "--client", "vlc"],
         "--transport is required"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line(cli: Cli, args: list[str], message: str) -> None:
    done = cli("analyze", *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert message in done.stderr


def test_truncated_capture_gives_a_partial_verdict(cli: Cli, tmp_path: Path) -> None:
    data = (FIXTURES / "vlc-udp-gstreamer-ok.pcap").read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[: len(data) // 2 + 7])
    returncode, report = run_json(cli, str(path), *CAMERA, *VLC)
    assert returncode in (0, 1, 3)
    assert any("the capture is cut short" in f for f in report["findings"])
    assert {r["flow"]: r["status"] for r in report["results"]}["rtsp-control"] == "pass"


def test_header_only_capture_is_incomplete(cli: Cli, tmp_path: Path) -> None:
    path = synth.write(tmp_path / "empty.pcap", [])
    returncode, report = run_json(cli, str(path), *CAMERA, *VLC)
    assert returncode == 3
    assert report["verdict"] == "incomplete"
    assert any("no packet to or from the camera" in f for f in report["findings"])


def test_no_traffic_to_the_camera(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "other.pcap"
    path.write_bytes((FIXTURES / "vlc-udp-gstreamer-ok.pcap").read_bytes())
    returncode, report = run_json(cli, str(path), "--camera", "192.0.2.77", *VLC)
    assert returncode == 3
    assert all(r["status"] == "skipped" for r in report["results"])
    finding = next(f for f in report["findings"] if "192.0.2.77" in f)
    assert "203.0.113.10" in finding  # it names the host that was reached instead


@pytest.mark.parametrize("vlans", [(7,), (100, 7)])
def test_vlan_tagged_capture(cli: Cli, tmp_path: Path, vlans: tuple[int, ...]) -> None:
    path = _rewrite_with_vlans(FIXTURES / "vlc-udp-gstreamer-ok.pcap", tmp_path, vlans)
    assert run_json(cli, str(path), *CAMERA, *VLC)[0] == 0


def test_ipv6_capture(cli: Cli, tmp_path: Path) -> None:
    camera, client = "2001:db8::10", "2001:db8:1::30"
    scene = synth.Scene()
    conv = synth.Conversation(client, 40000, camera, 554, server_ttl=62)
    scene.add(*conv.handshake())
    player = synth.RtspPlayer(scene, conv, f"rtsp://[{camera}]/video1")
    player.describe()
    player.setup(
        "trackID=1",
        "RTP/AVP;unicast;client_port=5000-5001",
        "RTP/AVP;unicast;client_port=5000-5001;server_port=554-555",
    )
    player.play()
    for seq in range(20):
        scene.add(synth.udp(camera, 554, client, 5000, synth.rtp(seq), ttl=62))
        scene.add(synth.udp(camera, 555, client, 5001, synth.sender_report(), ttl=62))
    path = synth.write(tmp_path / "v6.pcap", scene.frames)
    options = ["--client", "vlc", "--transport", "udp", "--client-port", "5000"]
    returncode, report = run_json(cli, str(path), "--camera", camera, *options)
    assert returncode == 0, report
    assert report["camera"] == camera


def _rewrite_with_vlans(source: Path, tmp_path: Path, vlans: tuple[int, ...]) -> Path:
    """The fixture (LINUX_SLL2) as Ethernet frames with 802.1Q tags, as a switch's mirror port."""
    sc = synth.scapy()
    frames = []
    for packet in sc.rdpcap(str(source)):
        ip = packet[sc.IP] if packet.haslayer(sc.IP) else None
        if ip is not None:
            frames.append((float(packet.time), ip))
    return synth.write(tmp_path / "vlan.pcap", frames, vlans=vlans)


def test_reading_a_capture_does_not_import_scapy() -> None:
    """scapy is imported only to record (and then only to compile the filter)."""
    script = (
        "import sys\n"
        "from truenprobe.cli import main\n"
        "try:\n"
        f"    main(['analyze', {str(FIXTURES / 'vlc-udp-gstreamer-ok.pcap')!r}, *{CAMERA + VLC!r},"
        " '--format', 'json'])\n"
        "except SystemExit as exit:\n"
        "    assert exit.code == 0, exit.code\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scapy'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
