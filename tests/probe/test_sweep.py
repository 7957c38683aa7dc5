"""The fleet's TCP sweep finds what ``probe_tcp`` finds, port by port and camera by camera."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.probe.probe_helpers import plan_of
from truenprobe.observations import TcpAttempt, TcpOutcome
from truenprobe.plan.model import Plan
from truenprobe.probe.fleet import FleetEntry, load_inventory, run_fleet, sweepable
from truenprobe.probe.runner import CheckRequest, Progress, probe
from truenprobe.probe.sweep import CameraSweep, Port, sweep
from truenprobe.probe.tcp import Greeting, probe_tcp
from truenprobe.probe.waiting import Clock
from truenprobe.verdict import compare

HOST = "127.0.0.6"
WAIT_S = 0.4


class _Handler(socketserver.BaseRequestHandler):
    """What a server does with a connection: by the ``behaviour`` of its server."""

    def handle(self) -> None:
        with contextlib.suppress(OSError):  # the checks close with RST
            self._handle()

    def _handle(self) -> None:
        behaviour = self.server.behaviour  # type: ignore[attr-defined]
        sock: socket.socket = self.request
        sock.settimeout(5)
        if behaviour == "hang up":
            return
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                return
            data += chunk
        if behaviour == "http":
            sock.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
        elif behaviour == "flood":
            sock.sendall(b"x" * 5000)  # never a line end: read up to the bound, no more
        elif behaviour == "silent":
            sock.recv(1)  # until the client gives up


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, behaviour: str) -> None:
        super().__init__((HOST, 0), _Handler)
        self.behaviour = behaviour


@pytest.fixture
def servers() -> Iterator[Callable[[str], int]]:
    """Servers in threads (the sweep blocks the thread it runs in), by behaviour."""
    started: list[_Server] = []

    def serve(behaviour: str) -> int:
        server = _Server(behaviour)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return int(server.server_address[1])

    try:
        yield serve
    finally:
        for server in started:
            server.shutdown()
            server.server_close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port whose accept queue is full: the kernel drops SYNs to it, as a firewall would."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    queued = []
    try:
        for _ in range(2):  # backlog 0 still queues one connection; the second fills it
            client = socket.socket()
            client.setblocking(False)
            client.connect_ex((HOST, port))
            queued.append(client)
        yield port
    finally:
        for client in queued:
            client.close()
        listener.close()


def _without_timing(attempt: TcpAttempt) -> TcpAttempt:
    connect = None if attempt.connect_ms is None else 0.0
    return dataclasses.replace(attempt, connect_ms=connect)


def test_each_outcome_is_the_one_probe_tcp_reports(
    servers: Callable[[str], int], full_backlog: int
) -> None:
    ports = [
        Port(servers("http"), Greeting.HTTP),
        Port(servers("http")),  # open, nothing asked
        Port(servers("silent"), Greeting.RTSP),
        Port(servers("hang up"), Greeting.RTSP),
        Port(servers("flood"), Greeting.HTTP),
        Port(_closed_port(), Greeting.HTTP),
        Port(full_backlog),
    ]
    done: list[CameraSweep] = []
    sweep([CameraSweep(HOST, ports)], wait_s=WAIT_S, max_open=100, on_done=done.append)
    assert len(done) == 1
    swept = {a.port: a for a in done[0].attempts}

    async def alone() -> dict[int, TcpAttempt]:
        found = {}
        for p in ports:
            found[p.port] = await probe_tcp(
                HOST, p.port, wait_s=WAIT_S, clock=Clock(), greeting=p.greeting
            )
        return found

    for port, expected in asyncio.run(alone()).items():
        got = swept[port]
        if expected.unanswered and "without answering" in expected.unanswered:
            # a hang-up reads as a close or a reset, by timing, on either path
            assert got.unanswered is not None
            assert "OPTIONS" in got.unanswered
            got = dataclasses.replace(got, unanswered=expected.unanswered)
        assert _without_timing(got) == _without_timing(expected), port
    assert swept[ports[0].port].greeting == "HTTP/1.0 200 OK"
    assert swept[ports[2].port].unanswered == "did not answer OPTIONS within 0.4 s"
    assert swept[ports[4].port].greeting == "x" * 120
    assert swept[ports[5].port].outcome is TcpOutcome.REFUSED
    assert swept[ports[6].port].outcome is TcpOutcome.TIMEOUT


def test_a_bound_on_open_connections_still_checks_everyone(servers: Callable[[str], int]) -> None:
    cameras = [
        CameraSweep(HOST, [Port(servers("http"), Greeting.HTTP), Port(_closed_port())])
        for _ in range(5)
    ]
    done: list[CameraSweep] = []
    sweep(cameras, wait_s=WAIT_S, max_open=1, on_done=done.append)
    assert sorted(map(id, done)) == sorted(map(id, cameras))
    for camera in cameras:
        assert sorted(a.outcome for a in camera.attempts) == [
            TcpOutcome.OPEN,
            TcpOutcome.REFUSED,
        ]
        assert camera.ended >= camera.started


@pytest.mark.parametrize("threaded", [False, True])
def test_a_fleet_of_tcp_sites_gets_the_reports_probe_would_give(
    servers: Callable[[str], int], tmp_path: Path, threaded: bool
) -> None:
    http, base = servers("http"), servers("silent")
    rows = [
        "camera,name,client,protocol,transport,http_port,base_port,rtsp_port",
        f"{HOST},good,web,,,{http},{base},",
        f"{HOST},no-http,web,,,{_closed_port()},{base},",
        f"{HOST},sdk,sdk,,tcp,,{base},",
        f"{HOST},sdk-closed,sdk,,tcp,,{_closed_port()},",
    ]
    if threaded:  # a site with media makes the sweep run beside it, in a thread
        rows.append(f"{HOST},decoder,decoder,rtsp,tcp,,,{_closed_port()}")
    inventory = tmp_path / "fleet.csv"
    inventory.write_text("\n".join(rows) + "\n")
    loaded = load_inventory(inventory, {"camera_side": "public"})
    template = CheckRequest(camera="", stage_s=WAIT_S)
    assert [sweepable(r.plan, template) for r in loaded][:4] == [True] * 4
    entries: list[FleetEntry] = []
    asyncio.run(run_fleet(loaded, template, None, entries.append))
    assert {e.row.name for e in entries} == {r.name for r in loaded}

    async def alone(plan: Plan, host: str) -> dict[str, Any]:
        observations = await probe(plan, CheckRequest(host, stage_s=WAIT_S), Progress())
        return _comparable(compare(plan, observations).to_dict())

    for entry in entries:
        assert entry.report is not None
        expected = asyncio.run(alone(entry.row.plan, HOST))
        assert _comparable(entry.report.to_dict()) == expected, entry.row.name


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without its timings."""
    out = dict(report)
    out.pop("duration_s", None)
    results = []
    for result in out["results"]:
        result = dict(result)
        evidence = dict(result.get("evidence") or {})
        evidence.pop("connect_ms", None)
        result["evidence"] = evidence
        results.append(result)
    out["results"] = results
    return out


def test_sweepable_means_only_tcp_connects() -> None:
    template = CheckRequest(camera="")
    assert sweepable(plan_of(client="web"), template)
    assert sweepable(plan_of(client="sdk", transport="tcp"), template)
    assert not sweepable(plan_of(client="sdk", transport="udp"), template)
    assert not sweepable(plan_of(client="decoder", protocol="rtsp", transport="tcp"), template)
    listen = CheckRequest(camera="", listen_only_s=1.0)
    assert not sweepable(plan_of(client="web"), listen)


def test_a_host_out_of_descriptors_leaves_the_flow_untested_not_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import errno

    from truenprobe.observations import Observations, Vantage
    from truenprobe.probe import sweep as sweep_module
    from truenprobe.report.model import Status

    def no_socket(*_args: Any) -> socket.socket:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(sweep_module.socket, "socket", no_socket)
    plan = plan_of(client="sdk", protocol="vsnm", transport="tcp")
    camera = CameraSweep(HOST, [Port(2222, None)])
    sweep([camera], wait_s=WAIT_S, max_open=10, on_done=lambda _c: None)
    monkeypatch.undo()
    report = compare(
        plan, Observations(camera=HOST, vantage=Vantage.CLIENT, records=tuple(camera.attempts))
    )
    base = [r for r in report.results if r.ports.first == 2222 and r.protocol == "tcp"]
    assert base, report.results
    assert all(r.status is Status.SKIPPED for r in base), report.results
    assert "ulimit -n" in (base[0].diagnosis or "")
    assert report.verdict.value == "incomplete"  # exit 3: the host, not a router


def test_the_sweep_budget_leaves_room_for_what_is_open_and_what_runs_beside() -> None:
    from truenprobe.probe.fleet import open_file_budget, open_files

    held = [socket.socket() for _ in range(20)]
    try:
        with_them = open_file_budget(reserve=0)
        assert open_files() >= 20
    finally:
        for sock in held:
            sock.close()
    assert open_file_budget(reserve=0) >= with_them + 20
    assert open_file_budget(reserve=0) - open_file_budget(reserve=500) == 500
