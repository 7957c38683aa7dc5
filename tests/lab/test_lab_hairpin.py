"""NAT loopback: recognised from the client's side, and no forward blamed for it."""

from __future__ import annotations

import asyncio
import functools
import json
import subprocess
import sys

import pytest
from tests.support.tools import require_netns

from truenprobe.lab.forwards import select_forwards
from truenprobe.lab.network import LabNetwork
from truenprobe.lab.nsock import netns_socket
from truenprobe.lab.topology import CAMERA_PUBLIC, Place, build_topology
from truenprobe.observations import Limitation, Observations
from truenprobe.plan import build_scenario, resolve
from truenprobe.plan.model import PortRange
from truenprobe.probe.hairpin import (
    NAT_LOOPBACK,
    detect_nat_loopback,
    explain_nat_loopback,
    nat_loopback_limitation,
    nat_loopback_suspected,
)
from truenprobe.report.model import FlowResult, Report, Status, Verdict

PLAN = resolve(build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"}))


@pytest.mark.parametrize(
    ("client", "camera", "one_hop", "expected"),
    [
        ("192.168.1.50", "203.0.113.10", True, True),
        ("100.64.3.4", "203.0.113.10", True, True),  # carrier-grade NAT counts as private
        ("192.168.1.50", "203.0.113.10", False, False),  # further away: a real remote test
        ("192.168.1.50", "203.0.113.10", None, False),  # unknown: never guess
        ("198.51.100.20", "203.0.113.10", True, False),  # a public client on the same segment
        ("192.168.1.50", "192.168.1.100", True, False),  # the camera's LAN address: fine
        (None, "203.0.113.10", True, False),
    ],
)
def test_suspected_only_for_a_private_client_one_hop_from_a_public_address(
    client, camera, one_hop, expected
):
    assert nat_loopback_suspected(client, camera, one_hop) is expected


def _report(*statuses):
    results = tuple(
        FlowResult(
            flow=f.name,
            protocol=f.protocol,
            ports=f.ports,
            status=status,
            required=f.required,
            diagnosis="blamed" if status is Status.FAIL else None,
            forward=PLAN.forwards_for(f.name)[0] if status is Status.FAIL else None,
        )
        for f, status in zip(PLAN.flows, statuses, strict=False)
    )
    return Report(plan=PLAN, camera=CAMERA_PUBLIC, results=results)


def test_failures_become_untested_without_a_forward_to_blame():
    report = _report(Status.FAIL, Status.PASS, Status.FAIL)
    assert report.verdict is Verdict.FAIL
    obs = Observations(
        camera=CAMERA_PUBLIC,
        records=(nat_loopback_limitation(CAMERA_PUBLIC, "192.168.1.50"),),
    )
    explained = explain_nat_loopback(report, obs)
    assert explained.verdict is Verdict.INCOMPLETE
    assert [r.status for r in explained.results] == [Status.SKIPPED, Status.PASS, Status.SKIPPED]
    for result in (explained.results[0], explained.results[2]):
        assert result.forward is None
        assert NAT_LOOPBACK in result.diagnosis
    assert explained.findings[0].startswith(NAT_LOOPBACK)
    assert "hotspot" in explained.findings[0]  # how to test correctly


def test_other_limitations_change_nothing():
    report = _report(Status.FAIL)
    obs = Observations(
        camera=CAMERA_PUBLIC, records=(Limitation(PortRange(554, 555), "udp", "something else"),)
    )
    assert explain_nat_loopback(report, obs) is report


@pytest.mark.netns
@pytest.mark.parametrize(
    ("place", "client_side", "expected"),
    [
        (Place.CAMERA_LAN, "private", True),
        (Place.OWN_SIDE, "private", False),
        (Place.OWN_SIDE, "public", False),
    ],
)
async def test_detected_from_inside_the_camera_lan_only(
    place, client_side, expected, cell, no_leftovers
):
    require_netns()
    # the lab's public ranges are documentation space, which counts as public here
    plan = resolve(build_scenario({"client": "web", "client_side": client_side}))
    topo = build_topology(
        plan.scenario.camera_side, plan.scenario.client_side, cell=cell, place=place
    )
    async with LabNetwork(topo) as net:
        await net.configure_sharers(select_forwards(plan, topo))
        found = await detect_nat_loopback(
            plan,
            CAMERA_PUBLIC,
            topo.client.ip,
            within_s=2.0,
            make_socket=functools.partial(netns_socket, topo.client.netns),
        )
    assert (found is not None) is expected
    if expected:
        assert topo.client.ip in found.reason


def _check_in(netns: str, *args: str) -> dict:
    done = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-m", "truenprobe", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout, done.stderr[-2000:]
    return json.JSONDecoder().raw_decode(done.stdout)[0]  # a report, or a fleet's first line


@pytest.mark.netns
async def test_a_fleet_says_nat_loopback_like_a_single_check(cell, no_leftovers, tmp_path):
    """A TCP-only fleet goes through the fast sweep, except where NAT loopback may hide."""
    require_netns()
    plan = resolve(build_scenario({"client": "web", "client_side": "private"}))
    topo = build_topology(
        plan.scenario.camera_side, plan.scenario.client_side, cell=cell, place=Place.CAMERA_LAN
    )
    inventory = tmp_path / "fleet.csv"
    inventory.write_text(f"camera\n{CAMERA_PUBLIC}\n")
    site = ["--client", "web", "--timeout", "1", "--format", "json"]
    async with LabNetwork(topo) as net:
        await net.configure_sharers(select_forwards(plan, topo))
        single = await asyncio.to_thread(_check_in, topo.client.netns, CAMERA_PUBLIC, *site)
        fleet = await asyncio.to_thread(
            _check_in, topo.client.netns, "--inventory", str(inventory), *site
        )
    assert single["verdict"] == "incomplete", single
    assert any(NAT_LOOPBACK in f for f in single["findings"]), single
    assert fleet["verdict"] == single["verdict"], fleet
    assert [r["status"] for r in fleet["results"]] == [r["status"] for r in single["results"]]
