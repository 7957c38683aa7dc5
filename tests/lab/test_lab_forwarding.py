"""Plain sockets through the lab's IP sharers: the plan's forwards carry their flows, an
omitted or wrong rule is caught and named (needs root, ip, nft; smcrouted for multicast)."""

from __future__ import annotations

import pytest
from tests.support.tools import require_netns, require_tools

from truenprobe.lab.forwards import parse_site_forwards, select_forwards
from truenprobe.lab.network import LabNetwork
from truenprobe.lab.reach import check_plan_forwards, tcp_reach, udp_reach
from truenprobe.lab.topology import CAMERA_PUBLIC, CLIENT_PUBLIC, Place, build_topology
from truenprobe.plan import build_scenario, resolve
from truenprobe.plan.model import Host, Transport
from truenprobe.plan.serialize import plan_to_dict

pytestmark = [pytest.mark.netns, pytest.mark.usefixtures("no_leftovers")]

PRIVATE_TOPOLOGIES = [
    ("private", "private"),
    ("private", "public"),
    ("public", "private"),
]


@pytest.fixture(autouse=True)
def _needs_netns():
    require_netns()


def _plan(**options):
    return resolve(build_scenario(options))


async def _check(plan, cell, *, site=None, omit=(), drop=False, place=Place.OWN_SIDE):
    s = plan.scenario
    topo = build_topology(s.camera_side, s.client_side, cell=cell, place=place)
    multicast = s.transport is Transport.MULTICAST
    if multicast:
        require_tools("smcrouted")
    async with LabNetwork(topo) as net:
        chosen = select_forwards(plan, topo, site=site, omit=omit)
        await net.configure_sharers(chosen, drop_unforwarded=drop, multicast=multicast)
        return await check_plan_forwards(plan, topo)


def _failed(checks):
    return sorted({c.number for c in checks if not c.reach.ok})


def _why(checks):
    """What each failed check saw: the message of an assert that should have held."""
    return [(c.number, c.forward.protocol, c.port, c.reach) for c in checks if not c.reach.ok]


SCENARIOS = [
    {"client": "web"},
    {"client": "decoder", "protocol": "rtsp", "transport": "udp"},
    {"client": "decoder", "protocol": "vsnm", "transport": "udp"},
    {"client": "decoder", "protocol": "vsnm", "transport": "multicast"},
    {"client": "vlc", "transport": "multicast", "stream": "video1+audio1"},
    {"client": "vlc", "transport": "udp", "client_port": 5000},
]


@pytest.mark.parametrize(("camera", "client"), PRIVATE_TOPOLOGIES)
@pytest.mark.parametrize("options", SCENARIOS, ids=lambda o: "-".join(map(str, o.values())))
async def test_the_plans_forwards_carry_their_flows(options, camera, client, cell):
    plan = _plan(**options, camera_side=camera, client_side=client)
    checks = await _check(plan, cell)
    assert _failed(checks) == [], _why(checks)
    routers = {fw.router for fw in plan.forwards}
    assert {c.forward.router for c in checks} == routers  # every forward was exercised


async def test_sharers_masquerade_both_ways(cell):
    plan = _plan(client="decoder", protocol="rtsp", transport="udp")
    checks = await _check(plan, cell)
    by_direction = {c.forward.to: c.reach.source for c in checks}
    # the camera sees the client's sharer, the client sees the camera's sharer
    assert by_direction == {Host.CAMERA: CLIENT_PUBLIC, Host.CLIENT: CAMERA_PUBLIC}


@pytest.mark.parametrize(
    "options",
    [
        {"client": "decoder", "protocol": "rtsp", "transport": "udp"},
        {"client": "vlc", "transport": "multicast", "stream": "video1+audio1"},
        {"client": "sdk", "transport": "multicast"},
    ],
    ids=["decoder-rtsp-udp", "vlc-multicast-audio", "sdk-multicast"],
)
async def test_each_omitted_forward_is_caught_and_named_alone(options, cell):
    plan = _plan(**options)
    assert len(plan.forwards) >= 2
    for number in range(1, len(plan.forwards) + 1):
        checks = await _check(plan, cell, omit=[number])
        assert _failed(checks) == [number]


def _site_with(plan, index, **change):
    """The plan's forwards as a site's router has them, one rule changed."""
    data = plan_to_dict(plan)["forwards"]
    data[index].update(change)
    return parse_site_forwards(data)


DECODER_UDP = {"client": "decoder", "protocol": "rtsp", "transport": "udp"}


@pytest.mark.parametrize(
    ("index", "change"),
    [
        (2, {"to_ip": "192.168.0.77"}),  # forwards to the wrong LAN address
        (0, {"to_ip": "192.168.1.23"}),  # ... for TCP too
        (2, {"to_ports": [556, 557]}),  # to the wrong port
        (0, {"to_ports": [8554, 8554]}),
        (2, {"protocol": "tcp"}),  # TCP instead of UDP
        (1, {"protocol": "tcp"}),
        (0, {"protocol": "udp"}),  # UDP instead of TCP
    ],
    ids=[
        "wrong-lan-address",
        "wrong-lan-address-tcp",
        "wrong-port",
        "wrong-port-tcp",
        "tcp-not-udp",
        "tcp-not-udp-camera-side",
        "udp-not-tcp",
    ],
)
async def test_a_wrong_rule_is_caught_and_named(index, change, cell):
    plan = _plan(**DECODER_UDP)
    checks = await _check(plan, cell, site=_site_with(plan, index, **change))
    assert _failed(checks) == [index + 1]


async def test_unforwarded_tcp_refused_or_dropped_as_configured(cell):
    plan = _plan(**DECODER_UDP)
    refused = await _check(plan, cell, omit=[1])
    dropped = await _check(plan, cell, omit=[1], drop=True)
    [r] = [c.reach for c in refused if c.number == 1]
    [d] = [c.reach for c in dropped if c.number == 1]
    assert "refused" in r.detail
    assert "no answer" in d.detail


async def test_no_nat_loopback_inside_the_camera_lan(cell):
    """From inside the camera's LAN the camera's public address does not work (the IP
    sharer has no NAT loopback), although the forward is there; its LAN address does."""
    plan = _plan(**DECODER_UDP)
    topo = build_topology(
        plan.scenario.camera_side, plan.scenario.client_side, cell=cell, place=Place.CAMERA_LAN
    )
    async with LabNetwork(topo) as net:
        await net.configure_sharers(select_forwards(plan, topo))
        from_outside_address = await tcp_reach(
            topo.client.netns,
            topo.camera.netns,
            listen=(topo.camera.ip, 554),
            connect=(CAMERA_PUBLIC, 554),
        )
        direct = await tcp_reach(
            topo.client.netns,
            topo.camera.netns,
            listen=(topo.camera.ip, 554),
            connect=(topo.camera.ip, 554),
        )
    assert not from_outside_address.ok
    assert "refused" in from_outside_address.detail
    assert direct.ok
    assert direct.source == topo.client.ip


async def test_public_ends_reach_each_other_without_forwards(cell):
    plan = _plan(**DECODER_UDP, camera_side="public", client_side="public")
    topo = build_topology(plan.scenario.camera_side, plan.scenario.client_side, cell=cell)
    async with LabNetwork(topo):
        tcp = await tcp_reach(
            topo.client.netns,
            topo.camera.netns,
            listen=(CAMERA_PUBLIC, 554),
            connect=(CAMERA_PUBLIC, 554),
        )
        udp = await udp_reach(
            topo.camera.netns, topo.client.netns, listen_port=554, send_to=(CLIENT_PUBLIC, 554)
        )
    assert tcp.ok
    assert tcp.source == CLIENT_PUBLIC
    assert udp.ok
    assert udp.source == CAMERA_PUBLIC
