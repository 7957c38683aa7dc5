"""The lab's hosts and links for one scenario, as data (no I/O).

```
 camera ── [camera-side IP sharer] ── WAN segment ── [client-side IP sharer] ── client
 192.168.1.100          203.0.113.10   (a switch)   198.51.100.20          192.168.0.100
```

A private host hangs on its IP sharer's LAN port; a public host sits on the WAN segment
itself with its public address. The WAN segment is a switch that carries both public
ranges (the "internet" reduced to one segment): unicast crosses it directly and
multicast floods across it, so what decides whether traffic arrives are the IP sharers.

``Place.CAMERA_LAN`` puts the client inside the camera's LAN (a switch on the camera's
IP sharer), where it tests the camera's public address: the site mistake that only works
with NAT loopback (hairpin NAT), which the lab's IP sharers, like many real ones, lack.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from truenprobe.errors import ScenarioError
from truenprobe.lab.names import netns_name
from truenprobe.plan.model import Host, Side
from truenprobe.plan.render_rules import MULTICAST_RANGE

CAMERA_RANGE = "203.0.113.0/24"
CLIENT_RANGE = "198.51.100.0/24"
CAMERA_PUBLIC = "203.0.113.10"
CLIENT_PUBLIC = "198.51.100.20"
PUBLIC_PREFIX = 24
LAN_PREFIX = 24

DEFAULT_CAMERA_IP = "192.168.1.100"
DEFAULT_CLIENT_IP = "192.168.0.100"

WAN_IF = "wan0"  # an IP sharer's WAN interface
LAN_IF = "lan0"  # an IP sharer's LAN bridge
HOST_IF = "eth0"  # the camera's and the client's only interface
WAN_BRIDGE = "br0"

_LANS = ipaddress.ip_network("192.168.0.0/16")


class Place(StrEnum):
    """Where the client sits."""

    OWN_SIDE = "own-side"  # where the scenario says: behind its own IP sharer, or public
    CAMERA_LAN = "camera-lan"  # inside the camera's LAN, testing the camera's public address


class Role(StrEnum):
    """A node of the lab; the value is the suffix of its namespace's name."""

    WAN = "wan"
    CAMERA_SHARER = "csh"
    CAMERA = "cam"
    CLIENT_SHARER = "ksh"
    CLIENT = "cli"


@dataclass(frozen=True)
class Interface:
    name: str
    addresses: tuple[str, ...] = ()  # "192.168.1.1/24", ...
    master: str | None = None  # the bridge it is a port of


@dataclass(frozen=True)
class Node:
    role: Role
    netns: str
    interfaces: tuple[Interface, ...]
    bridges: tuple[Interface, ...] = ()  # created before the interfaces that join them
    routes: tuple[str, ...] = ()  # "default via 192.168.1.1", "198.51.100.0/24 dev wan0"
    routes_packets: bool = False  # ip_forward


@dataclass(frozen=True)
class Veth:
    """A cable: created with each end directly in its namespace, so nothing is left in ours."""

    netns_a: str
    name_a: str
    netns_b: str
    name_b: str


@dataclass(frozen=True)
class Sharer:
    """An emulated IP sharer: what its rules need to know."""

    side: Host
    netns: str
    public_ip: str
    lan_gateway: str
    wan_if: str = WAN_IF
    lan_if: str = LAN_IF


@dataclass(frozen=True)
class Endpoint:
    """The camera or the client: its namespace and its own address."""

    netns: str
    ip: str


@dataclass(frozen=True)
class Topology:
    cell: int
    place: Place
    nodes: tuple[Node, ...]
    links: tuple[Veth, ...]
    sharers: tuple[Sharer, ...]
    camera: Endpoint
    client: Endpoint
    camera_public: str  # the address the client uses for the camera
    client_public: str  # the address the camera's packets to the client are sent to

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(n.netns for n in self.nodes)

    def sharer(self, side: Host) -> Sharer | None:
        return next((s for s in self.sharers if s.side is side), None)

    def node(self, role: Role) -> Node:
        return next(n for n in self.nodes if n.role is role)


def lan_address(value: str, what: str) -> ipaddress.IPv4Address:
    """A host address for a lab LAN: inside 192.168.0.0/16, not a /24's network or broadcast."""
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise ScenarioError(f"{what}: {value!r} is not an IPv4 address") from None
    if address not in _LANS or int(address) & 0xFF in (0, 255):
        raise ScenarioError(
            f"{what}: {value} must be a host address in 192.168.0.0/16 (not .0 or .255), "
            "the lab's LANs"
        )
    return address


def _gateway_for(host: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    """The IP sharer's LAN address: .1 of the host's /24, or .254 when the host is .1."""
    base = int(host) & ~0xFF
    return ipaddress.IPv4Address(base + (254 if int(host) & 0xFF == 1 else 1))


def _neighbour(
    host: ipaddress.IPv4Address, taken: set[ipaddress.IPv4Address]
) -> ipaddress.IPv4Address:
    """A free address in the same /24 for a second host (the client in the camera's LAN)."""
    base = int(host) & ~0xFF
    for last in (50, *range(51, 254)):
        candidate = ipaddress.IPv4Address(base + last)
        if candidate not in taken:
            return candidate
    raise ScenarioError(f"no free address left in {host}/24")  # pragma: no cover - 200 free


def build_topology(
    camera_side: Side,
    client_side: Side,
    *,
    cell: int = 0,
    place: Place = Place.OWN_SIDE,
    camera_ip: str = DEFAULT_CAMERA_IP,
    client_ip: str = DEFAULT_CLIENT_IP,
    pid: int | None = None,
) -> Topology:
    """The lab for one site. ``camera_ip``/``client_ip`` are the LAN addresses of private hosts."""
    if place is Place.CAMERA_LAN and camera_side is not Side.PRIVATE:
        raise ScenarioError(
            "the client can sit inside the camera's LAN only when the camera is private "
            "(behind an IP sharer); a public camera needs no NAT loopback"
        )
    builder = _Builder(cell, pid)
    if camera_side is Side.PRIVATE:
        cam = lan_address(camera_ip, "--camera-ip")
        hosts = [(Role.CAMERA, cam)]
        if place is Place.CAMERA_LAN:
            hosts.append((Role.CLIENT, _neighbour(cam, {cam, _gateway_for(cam)})))
        builder.sharer(Host.CAMERA, Role.CAMERA_SHARER, CAMERA_PUBLIC, hosts)
        camera = Endpoint(builder.ns(Role.CAMERA), str(cam))
    else:
        builder.public_host(Role.CAMERA, CAMERA_PUBLIC)
        camera = Endpoint(builder.ns(Role.CAMERA), CAMERA_PUBLIC)

    if place is Place.CAMERA_LAN:
        client = Endpoint(builder.ns(Role.CLIENT), str(hosts[1][1]))
        client_public = CAMERA_PUBLIC  # it leaves through the camera's own IP sharer
    elif client_side is Side.PRIVATE:
        cli = lan_address(client_ip, "--client-ip")
        builder.sharer(Host.CLIENT, Role.CLIENT_SHARER, CLIENT_PUBLIC, [(Role.CLIENT, cli)])
        client = Endpoint(builder.ns(Role.CLIENT), str(cli))
        client_public = CLIENT_PUBLIC
    else:
        builder.public_host(Role.CLIENT, CLIENT_PUBLIC)
        client = Endpoint(builder.ns(Role.CLIENT), CLIENT_PUBLIC)
        client_public = CLIENT_PUBLIC

    return Topology(
        cell=cell,
        place=place,
        nodes=(builder.wan(), *builder.nodes),
        links=tuple(builder.links),
        sharers=tuple(builder.sharers),
        camera=camera,
        client=client,
        camera_public=CAMERA_PUBLIC,
        client_public=client_public,
    )


class _Builder:
    """Collects nodes and cables; every WAN attachment becomes a port of the WAN switch."""

    def __init__(self, cell: int, pid: int | None) -> None:
        self.cell, self.pid = cell, pid
        self.nodes: list[Node] = []
        self.links: list[Veth] = []
        self.sharers: list[Sharer] = []
        self.wan_ports: list[Interface] = []

    def ns(self, role: Role) -> str:
        return netns_name(self.cell, role.value, self.pid)

    def _attach_to_wan(self, role: Role, ifname: str) -> None:
        port = f"p-{role.value}"
        self.wan_ports.append(Interface(port, master=WAN_BRIDGE))
        self.links.append(Veth(self.ns(Role.WAN), port, self.ns(role), ifname))

    @staticmethod
    def _wan_routes(public_ip: str, ifname: str) -> tuple[str, ...]:
        """Every public range is on the WAN segment: reach the other one directly."""
        other = CLIENT_RANGE if public_ip == CAMERA_PUBLIC else CAMERA_RANGE
        return (f"{other} dev {ifname}",)

    def sharer(
        self,
        side: Host,
        role: Role,
        public_ip: str,
        hosts: list[tuple[Role, ipaddress.IPv4Address]],
    ) -> None:
        gateway = str(_gateway_for(hosts[0][1]))
        lan = f"{gateway}/{LAN_PREFIX}"
        interfaces = [Interface(WAN_IF, (f"{public_ip}/{PUBLIC_PREFIX}",))]
        bridges: tuple[Interface, ...] = ()
        if len(hosts) == 1:  # one cable straight to the host: no bridge to wait for
            self.links.append(Veth(self.ns(role), LAN_IF, self.ns(hosts[0][0]), HOST_IF))
            interfaces.append(Interface(LAN_IF, (lan,)))
        else:  # a switch, like a home router's LAN ports
            bridges = (Interface(LAN_IF, (lan,)),)
            for host_role, _ip in hosts:
                port = f"p-{host_role.value}"
                self.links.append(Veth(self.ns(role), port, self.ns(host_role), HOST_IF))
                interfaces.append(Interface(port, master=LAN_IF))
        self.nodes.append(
            Node(
                role,
                self.ns(role),
                tuple(interfaces),
                bridges=bridges,
                routes=self._wan_routes(public_ip, WAN_IF),
                routes_packets=True,
            )
        )
        self._attach_to_wan(role, WAN_IF)
        self.sharers.append(Sharer(side, self.ns(role), public_ip, gateway))
        for host_role, ip in hosts:
            host_if = Interface(HOST_IF, (f"{ip}/{LAN_PREFIX}",))
            self.nodes.append(
                Node(host_role, self.ns(host_role), (host_if,), routes=(f"default via {gateway}",))
            )

    def public_host(self, role: Role, public_ip: str) -> None:
        host_if = Interface(HOST_IF, (f"{public_ip}/{PUBLIC_PREFIX}",))
        # Multicast needs a route to be sent or joined; a private host's default covers it.
        routes = (*self._wan_routes(public_ip, HOST_IF), f"{MULTICAST_RANGE} dev {HOST_IF}")
        self.nodes.append(Node(role, self.ns(role), (host_if,), routes=routes))
        self._attach_to_wan(role, HOST_IF)

    def wan(self) -> Node:
        # A switch without an address: frames pass port to port, nothing is routed here.
        return Node(Role.WAN, self.ns(Role.WAN), tuple(self.wan_ports), (Interface(WAN_BRIDGE),))
