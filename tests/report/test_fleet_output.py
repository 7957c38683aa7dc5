"""The fleet's outputs: a JSON line per camera, and a table that lists what needs a look."""

from __future__ import annotations

import json

from truenprobe.cli.output import render_plain
from truenprobe.observations import Observations, TcpAttempt, TcpOutcome
from truenprobe.plan.resolve import resolve
from truenprobe.plan.scenario import build_scenario
from truenprobe.probe.fleet import FleetEntry, InventoryRow
from truenprobe.probe.target import parse_camera
from truenprobe.report.fleet import LISTED_PASSES, entry_json_line, fleet_table
from truenprobe.verdict import compare

PLAN = resolve(build_scenario({"client": "web", "camera_side": "public"}))


def _entry(number: int, open_ports: bool) -> FleetEntry:
    host = f"198.51.100.{number}"
    if open_ports:
        records = (
            TcpAttempt(80, TcpOutcome.OPEN, 1.0, greeting="HTTP/1.0 200 OK"),
            TcpAttempt(2222, TcpOutcome.OPEN, 1.0),
        )
    else:
        records = (
            TcpAttempt(80, TcpOutcome.REFUSED, 1.0),
            TcpAttempt(2222, TcpOutcome.REFUSED, 1.0),
        )
    row = InventoryRow(f"cam-{number}", parse_camera(host), PLAN)
    return FleetEntry(row, compare(PLAN, Observations(host, records=records, duration_ms=2)))


def test_a_big_fleet_lists_the_cameras_that_did_not_pass() -> None:
    entries = [_entry(n, open_ports=n not in (7, 19)) for n in range(1, LISTED_PASSES + 6)]
    text = render_plain(fleet_table(entries, 1.5), width=200)
    assert "cam-7 " in text
    assert "cam-19 " in text
    assert "cam-1 " not in text
    assert f"{len(entries)} camera(s) in 1.5 s: {len(entries) - 2} pass, 2 fail" in text
    assert "--format json gives every camera" in text


def test_a_small_fleet_lists_every_camera() -> None:
    entries = [_entry(n, open_ports=True) for n in range(1, 4)]
    text = render_plain(fleet_table(entries, 0.2), width=200)
    for n in range(1, 4):
        assert f"cam-{n} " in text
    assert "3 camera(s) in 0.2 s: 3 pass" in text
    assert "not listed" not in text


def test_every_camera_has_its_json_line() -> None:
    line = entry_json_line(_entry(3, open_ports=False))
    assert line.endswith("\n")
    data = json.loads(line)
    assert data["name"] == "cam-3"
    assert data["verdict"] == "fail"
