"""The lab's topology as data: who sits where, with which addresses (no root needed)."""

from __future__ import annotations

import ipaddress

import pytest

from truenprobe.errors import ScenarioError
from truenprobe.lab.commands import setup_commands, teardown_batch
from truenprobe.lab.names import parse_netns_name
from truenprobe.lab.topology import (
    CAMERA_PUBLIC,
    CLIENT_PUBLIC,
    Place,
    Role,
    build_topology,
)
from truenprobe.plan.model import Host, Side

PUBLIC_RANGES = [ipaddress.ip_network("203.0.113.0/24"), ipaddress.ip_network("198.51.100.0/24")]
LANS = ipaddress.ip_network("192.168.0.0/16")

SIDES = [(c, k) for c in Side for k in Side]


def _all_addresses(topology):
    for node in topology.nodes:
        for iface in (*node.bridges, *node.interfaces):
            for cidr in iface.addresses:
                yield ipaddress.ip_interface(cidr).ip


@pytest.mark.parametrize(("camera", "client"), SIDES)
def test_every_address_is_a_documentation_or_lan_address(camera, client):
    topo = build_topology(camera, client)
    for address in _all_addresses(topo):
        assert address in LANS or any(address in r for r in PUBLIC_RANGES), address


@pytest.mark.parametrize(("camera", "client"), SIDES)
def test_a_sharer_exactly_where_a_side_is_private(camera, client):
    topo = build_topology(camera, client)
    assert (topo.sharer(Host.CAMERA) is not None) == (camera is Side.PRIVATE)
    assert (topo.sharer(Host.CLIENT) is not None) == (client is Side.PRIVATE)
    assert topo.camera_public == CAMERA_PUBLIC
    assert topo.client_public == CLIENT_PUBLIC


def test_private_hosts_use_their_lan_and_public_ones_the_public_address():
    topo = build_topology(Side.PRIVATE, Side.PUBLIC, camera_ip="192.168.7.20")
    assert topo.camera.ip == "192.168.7.20"
    assert topo.client.ip == CLIENT_PUBLIC
    sharer = topo.sharer(Host.CAMERA)
    assert sharer.lan_gateway == "192.168.7.1"
    assert sharer.public_ip == CAMERA_PUBLIC
    assert topo.node(Role.CAMERA).routes == ("default via 192.168.7.1",)


def test_a_host_at_dot_one_gets_a_gateway_at_dot_254():
    topo = build_topology(Side.PRIVATE, Side.PRIVATE, client_ip="192.168.0.1")
    assert topo.sharer(Host.CLIENT).lan_gateway == "192.168.0.254"


@pytest.mark.parametrize("bad", ["10.0.0.5", "192.168.1.0", "192.168.1.255", "not-an-ip"])
def test_lan_addresses_outside_the_lab_lans_are_refused(bad):
    with pytest.raises(ScenarioError, match="camera-ip"):
        build_topology(Side.PRIVATE, Side.PRIVATE, camera_ip=bad)


def test_client_inside_the_camera_lan():
    topo = build_topology(Side.PRIVATE, Side.PRIVATE, place=Place.CAMERA_LAN)
    assert topo.sharer(Host.CLIENT) is None
    assert ipaddress.ip_address(topo.client.ip) in ipaddress.ip_network("192.168.1.0/24")
    assert topo.client.ip not in (topo.camera.ip, topo.sharer(Host.CAMERA).lan_gateway)
    assert topo.client_public == CAMERA_PUBLIC  # it leaves through the camera's sharer


def test_client_inside_the_lan_of_a_public_camera_is_refused():
    with pytest.raises(ScenarioError, match="only when the camera is private"):
        build_topology(Side.PUBLIC, Side.PRIVATE, place=Place.CAMERA_LAN)


def test_names_carry_pid_and_cell_and_are_unique():
    topo = build_topology(Side.PRIVATE, Side.PRIVATE, cell=7, pid=4242)
    names = topo.namespaces
    assert len(set(names)) == len(names) == 5
    for ns in names:
        parsed = parse_netns_name(ns)
        assert parsed is not None
        assert (parsed.pid, parsed.cell) == (4242, 7)
    assert parse_netns_name("someone-elses") is None


def test_commands_create_cables_inside_the_namespaces_only():
    topo = build_topology(Side.PRIVATE, Side.PRIVATE, pid=1)
    cmds = setup_commands(topo)
    veths = [line for line in cmds.root_batch if line.startswith("link add")]
    assert len(veths) == len(topo.links) == 4
    assert not any("bridge" in line for line in cmds.netns_batches[topo.camera.netns])
    for line in veths:
        # both ends are created in a named namespace: nothing appears in ours
        assert line.count(" netns ") == 2
    wan = topo.node(Role.WAN)
    assert "link add br0 type bridge mcast_snooping 0" in cmds.netns_batches[wan.netns]
    # the WAN segment is a switch: no address, nothing routed there
    assert not any(i.addresses for i in (*wan.bridges, *wan.interfaces))
    assert "net.ipv4.ip_forward=1" not in cmds.sysctls[wan.netns]
    sharer = topo.sharer(Host.CAMERA).netns
    assert "net.ipv4.ip_forward=1" in cmds.sysctls[sharer]
    assert "net.ipv4.ip_forward=1" not in cmds.sysctls[topo.camera.netns]
    assert teardown_batch(list(topo.namespaces)) == tuple(
        f"netns del {ns}" for ns in topo.namespaces
    )
