"""A Topology as iproute2 batch lines and sysctls (pure), so building it is a few processes.

``ip -batch`` runs many commands in one process: one batch in our own namespace creates
the namespaces and the cables (each end created directly inside its namespace, so no
interface ever appears in ours), then one batch per namespace configures it.
"""

from __future__ import annotations

from dataclasses import dataclass

from truenprobe.lab.topology import Node, Topology


@dataclass(frozen=True)
class SetupCommands:
    root_batch: tuple[str, ...]  # run with `ip -batch -` in our own namespace
    netns_batches: dict[str, tuple[str, ...]]  # run with `ip -n NS -batch -`
    sysctls: dict[str, tuple[str, ...]]  # "key=value", set before the links come up


def setup_commands(topology: Topology) -> SetupCommands:
    root = [f"netns add {ns}" for ns in topology.namespaces]
    root += [
        f"link add {v.name_a} netns {v.netns_a} type veth peer name {v.name_b} netns {v.netns_b}"
        for v in topology.links
    ]
    return SetupCommands(
        root_batch=tuple(root),
        netns_batches={n.netns: _node_batch(n) for n in topology.nodes},
        sysctls={n.netns: _node_sysctls(n) for n in topology.nodes},
    )


def _node_batch(node: Node) -> tuple[str, ...]:
    lines = ["link set lo up"]
    for bridge in node.bridges:
        # Snooping off: multicast floods to every port, as on a plain switch without IGMP.
        lines.append(f"link add {bridge.name} type bridge mcast_snooping 0")
    for iface in (*node.bridges, *node.interfaces):
        if iface.master:
            lines.append(f"link set {iface.name} master {iface.master}")
        lines.append(f"link set {iface.name} up")
        lines += [f"addr add {a} dev {iface.name}" for a in iface.addresses]
    lines += [f"route add {route}" for route in node.routes]
    return tuple(lines)


def _node_sysctls(node: Node) -> tuple[str, ...]:
    # IPv6 off: its router solicitations and MLD reports would only be noise to the prober.
    out = ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]
    if node.routes_packets:
        out.append("net.ipv4.ip_forward=1")
    if node.bridges:
        # With br_netfilter loaded, bridged frames would cross the IP sharer's forward
        # chain (policy drop); a home router's switch does not filter its own LAN.
        out.append("net.bridge.bridge-nf-call-iptables=0")
    return tuple(out)


def teardown_batch(namespaces: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``ip -force -batch -`` lines; deleting a namespace deletes its cables and rules."""
    return tuple(f"netns del {ns}" for ns in namespaces)
