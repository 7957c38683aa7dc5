"""`truenprobe check` and `truenprobe send` through the real entry point: exit codes,
one-line errors, the report files, fleets, and a startup without scapy."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Cli = Callable[..., subprocess.CompletedProcess[str]]


def closed_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@pytest.fixture
def tcp_servers() -> Iterator[Callable[[str], int]]:
    """Listening TCP sockets (accepting via the backlog, enough for a connect check)."""
    held: list[socket.socket] = []

    def listen(host: str) -> int:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, 0))
        s.listen(64)
        held.append(s)
        return int(s.getsockname()[1])

    try:
        yield listen
    finally:
        for s in held:
            s.close()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["check", "--client", "web"], "CAMERA is required"),
        (["check", "127.0.0.4", "--client", "decoder"], "--protocol is required"),
        (
            [
                "check",
                "rtsp://127.0.0.4:8554/video1",
                "--client",
                "vlc",
                "--transport",
                "tcp",
                "--rtsp-port",
                "554",
            ],
            "the URL's port 8554 differs from --rtsp-port 554",
        ),
        (
            ["check", "127.0.0.4", "--client", "web", "--token", "t"],
            "--token works with --listen-only",
        ),
        (["check", "http://127.0.0.4/", "--client", "web"], "only rtsp:// URLs"),
        (
            ["check", "127.0.0.4", "--client", "web", "--inventory", "x.csv"],
            "either CAMERA or --inventory",
        ),
        (["send", "127.0.0.1", "--ports", "9-1", "--token", "t"], "--ports '9-1'"),
        (["send", "not-an-ip", "--ports", "9", "--token", "t"], "is not an IP address"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(cli: Cli, args: list[str], words: str) -> None:
    done = cli(*args)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_check_writes_json_junit_and_markdown(
    cli: Cli, tmp_path: Path, tcp_servers: Callable[[str], int]
) -> None:
    http = tcp_servers("127.0.0.4")
    base = closed_port("127.0.0.4")
    junit, markdown = tmp_path / "r.xml", tmp_path / "r.md"
    done = cli(
        "check",
        "127.0.0.4",
        "--client",
        "web",
        "--http-port",
        str(http),
        "--base-port",
        str(base),
        "--timeout",
        "0.5",
        "--format",
        "json",
        "--junit",
        str(junit),
        "--markdown",
        str(markdown),
        "--user",
        "admin",
        "--password",
        "hunter2-secret",
    )
    assert done.returncode == 1, done.stderr
    for text in (done.stdout, done.stderr, junit.read_text(), markdown.read_text()):
        assert "hunter2" not in text  # the reproducing command line is redacted
    data = json.loads(done.stdout)
    assert data["verdict"] == "fail"
    statuses = {r["flow"]: r["status"] for r in data["results"]}
    # HTTP: the socket accepts but never answers GET / -> another server or a stuck one.
    assert statuses == {"http": "fail", "base-control": "fail"}
    base_result = next(r for r in data["results"] if r["flow"] == "base-control")
    assert base_result["forward"]["ports"] == [base, base]
    assert ET.parse(junit).getroot().find("testsuite").get("failures") == "2"  # type: ignore[union-attr]
    assert "## What to fix" in markdown.read_text()


def test_fleet_inventory_json_lines(
    cli: Cli, tmp_path: Path, tcp_servers: Callable[[str], int]
) -> None:
    rows = ["camera,name,base_port"]
    expected = {}
    for i in range(12):
        host = f"127.0.{10 + i // 5}.{1 + i % 5}"
        port = tcp_servers(host) if i % 3 else closed_port(host)
        rows.append(f"{host},cam-{i},{port}")
        expected[f"cam-{i}"] = "pass" if i % 3 else "fail"
    inventory = tmp_path / "fleet.csv"
    inventory.write_text("\n".join(rows) + "\n")
    done = cli(
        "check",
        "--inventory",
        str(inventory),
        "--client",
        "sdk",
        "--transport",
        "tcp",
        "--camera-side",
        "public",
        "--timeout",
        "1",
        "--format",
        "json",
        "--concurrency",
        "4",
    )
    assert done.returncode == 1, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert {line["name"]: line["verdict"] for line in lines} == expected


def test_fleet_table_and_bad_rows(
    cli: Cli, tmp_path: Path, tcp_servers: Callable[[str], int]
) -> None:
    port = tcp_servers("127.0.0.5")
    inventory = tmp_path / "fleet.yaml"
    inventory.write_text(
        f"defaults: {{client: sdk, transport: tcp, camera_side: public}}\n"
        f"cameras:\n  - {{camera: 127.0.0.5, name: gate, base_port: {port}}}\n"
    )
    done = cli("check", "--inventory", str(inventory), "--format", "table")
    assert done.returncode == 0, done.stderr
    assert "gate" in done.stdout
    assert "1 camera(s)" in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("camera,transport\n127.0.0.5,tcp\n127.0.0.6,carrier-pigeon\n")
    done = cli("check", "--inventory", str(bad), "--client", "sdk")
    assert done.returncode == 2
    assert "row 2" in done.stderr
    assert "carrier-pigeon" in done.stderr
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("camera,colour\n127.0.0.5,red\n")
    done = cli("check", "--inventory", str(unknown), "--client", "web")
    assert done.returncode == 2
    assert "unknown key 'colour'" in done.stderr


def test_send_reaches_a_listener(cli: Cli) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        port = s.getsockname()[1]
        done = cli("send", "127.0.0.1", "--ports", str(port), "--token", "abc", "--rounds", "2")
        assert done.returncode == 0, done.stderr
        assert "sent 2 datagram(s)" in done.stdout
        data = s.recv(2048)
    assert data.startswith(b"TRUENPROBE/1 abc ")


def test_check_does_not_import_scapy() -> None:
    code = (
        "import sys, truenprobe.cli, truenprobe.cli.check, truenprobe.probe.runner, "
        "truenprobe.verdict, truenprobe.report.table, truenprobe.probe.fleet; "
        "print('scapy' in ' '.join(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
