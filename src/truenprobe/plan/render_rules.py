"""Router rulesets that perform a plan's forwards: nftables and iptables.

Each IP sharer gets what a home router does: masquerade outbound, forward inbound
only what its forwards name, drop the rest. The lab applies exactly this output to
its emulated IP sharers, so what an installer copies is what the lab tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from truenprobe.plan.model import Forward, Host, Plan
from truenprobe.plan.words import ROUTER_NAME, forward_text

# Used when the caller does not know the real values; each is marked for replacement.
PLACEHOLDER_IP = {Host.CAMERA: "192.168.1.100", Host.CLIENT: "192.168.0.100"}
PLACEHOLDER_WAN_IF = "eth0"
MULTICAST_RANGE = "224.0.0.0/4"
MULTICAST_NOTE = (
    "multicast: this rule only lets the group's traffic in; the IP sharer must also route "
    "multicast from the WAN to the LAN (IGMP proxy or multicast routing)"
)


@dataclass(frozen=True)
class RouterAddresses:
    """What a ruleset needs to know about the site; None renders a marked placeholder."""

    camera_ip: str | None = None
    client_ip: str | None = None
    wan_if: str | None = None

    def ip_of(self, host: Host) -> str | None:
        return self.camera_ip if host is Host.CAMERA else self.client_ip


def is_multicast_forward(forward: Forward, plan: Plan) -> bool:
    """Whether a forward carries one of the plan's multicast flows (by its ports, so a
    forward read from a site's file, which names no flows, is recognised too)."""
    return forward.protocol == "udp" and any(
        flow.multicast
        and flow.protocol == "udp"
        and flow.destination is forward.router
        and flow.ports.overlaps(forward.ports)
        for flow in plan.flows
    )


def _table_name(router: Host) -> str:
    return f"truenprobe_{router.value}_sharer"


def _dnat_targets(forward: Forward, ip: str) -> list[tuple[str, str]]:
    """(match ports, dnat target) pairs; a shifted range becomes one rule per port."""
    fw, to = forward.ports, forward.to_ports
    if fw == to:
        return [(str(fw), ip)]
    if fw.first == fw.last:
        return [(str(fw.first), f"{ip}:{to.first}")]
    return [(str(p), f"{ip}:{q}") for p, q in zip(fw, to, strict=True)]


def nft_router_ruleset(
    router: Host,
    forwards: Sequence[Forward],
    *,
    target_ip: str,
    wan_if: str,
    drop_unforwarded: bool = False,
    labels: Sequence[str] | None = None,
    target_ips: Sequence[str] | None = None,
    multicast: Sequence[bool] | None = None,
) -> str:
    """One IP sharer's nftables table, re-applicable (it replaces its own earlier version).

    ``target_ip`` and ``wan_if`` are inserted verbatim: pass nft variables (``$camera_ip``)
    or literal values. ``drop_unforwarded`` makes the sharer silently drop new connections
    to itself from the WAN (many real ones do) instead of answering them with a reset.

    ``labels``, ``target_ips`` (a LAN address per forward, e.g. a site's real rule to
    the wrong host) and ``multicast`` run parallel to this router's forwards. A multicast
    forward cannot be a DNAT (a router drops a multicast packet rewritten to a unicast
    address); it is rendered as a forward-chain rule that lets the group's traffic from
    the WAN into the LAN, where multicast routing (an IGMP proxy) must deliver it.
    """
    name = _table_name(router)
    mine = [fw for fw in forwards if fw.router is router]
    rules = []
    admits = []
    for i, fw in enumerate(mine):
        label = labels[i] if labels else f"{fw.protocol} {fw.ports}"
        if multicast and multicast[i]:
            match = f"iifname {wan_if} ip daddr {MULTICAST_RANGE} {fw.protocol} dport {fw.ports}"
            admits.append(f'\t\t{match} accept comment "{label}"')
            continue
        ip = target_ips[i] if target_ips else target_ip
        for ports, target in _dnat_targets(fw, ip):
            match = f"iifname {wan_if} {fw.protocol} dport {ports}"
            rules.append(f'\t\t{match} dnat to {target} comment "{label}"')
    stealth = (
        [
            "\tchain input {",
            "\t\ttype filter hook input priority filter; policy accept;",
            f"\t\tiifname {wan_if} ct state new drop",
            "\t}",
        ]
        if drop_unforwarded
        else []
    )
    return "\n".join(
        [
            f"table ip {name}",
            f"delete table ip {name}",
            f"table ip {name} {{",
            "\tchain prerouting {",
            "\t\ttype nat hook prerouting priority dstnat; policy accept;",
            *rules,
            "\t}",
            "\tchain postrouting {",
            "\t\ttype nat hook postrouting priority srcnat; policy accept;",
            f"\t\toifname {wan_if} masquerade",
            "\t}",
            "\tchain forwarding {",
            "\t\ttype filter hook forward priority filter; policy drop;",
            "\t\tct state established,related accept",
            "\t\tct state invalid drop",
            f"\t\toifname {wan_if} accept",
            "\t\tct status dnat accept",
            *admits,
            "\t}",
            *stealth,
            "}",
        ]
    )


def render_nft(plan: Plan, addresses: RouterAddresses = RouterAddresses()) -> str:
    """An nft script (``nft -f``) with one table per IP sharer of the site."""
    out = [
        "#!/usr/sbin/nft -f",
        f"# truenprobe plan: apply each table on its own IP sharer ({_scenario_tag(plan)})",
    ]
    if not plan.routers():
        out.append("# Both ends are public: no IP sharer, nothing to forward.")
        return "\n".join(out) + "\n"
    wan = addresses.wan_if
    out.append(
        f'define wan_if = "{wan}"'
        if wan
        else f'define wan_if = "{PLACEHOLDER_WAN_IF}"  # CHANGE ME: the IP sharer\'s WAN interface'
    )
    for router in plan.routers():
        ip = addresses.ip_of(router)
        var = f"{router.value}_ip"
        out.append("")
        out.append(f"# --- {ROUTER_NAME[router]} ---")
        change_me = f"  # CHANGE ME: the {router.value}'s LAN address"
        out.append(
            f"define {var} = {ip}" if ip else f"define {var} = {PLACEHOLDER_IP[router]}{change_me}"
        )
        mine = [fw for fw in plan.forwards if fw.router is router]
        labels = [f"#{plan.forwards.index(fw) + 1} {','.join(fw.serves)}" for fw in mine]
        multicast = [is_multicast_forward(fw, plan) for fw in mine]
        for fw, mc in zip(mine, multicast, strict=True):
            out.append(f"# {forward_text(fw, plan.scenario)}")
            if mc:
                out.append(f"# {MULTICAST_NOTE}")
        out.append(
            nft_router_ruleset(
                router,
                mine,
                target_ip=f"${var}",
                wan_if="$wan_if",
                labels=labels,
                multicast=multicast,
            )
        )
    return "\n".join(out) + "\n"


def render_iptables(plan: Plan, addresses: RouterAddresses = RouterAddresses()) -> str:
    """A shell script of iptables commands, one section per IP sharer."""
    out = [
        "#!/bin/sh",
        f"# truenprobe plan: run each section on its own IP sharer ({_scenario_tag(plan)})",
        "set -e",
    ]
    if not plan.routers():
        out.append("# Both ends are public: no IP sharer, nothing to forward.")
        return "\n".join(out) + "\n"
    wan = addresses.wan_if or PLACEHOLDER_WAN_IF
    out.append(f"WAN_IF={wan}" + ("" if addresses.wan_if else "  # CHANGE ME: the WAN interface"))
    for router in plan.routers():
        ip = addresses.ip_of(router)
        var = f"{router.value.upper()}_IP"
        out += ["", f"# --- {ROUTER_NAME[router]} ---"]
        out.append(
            f"{var}={ip}"
            if ip
            else f"{var}={PLACEHOLDER_IP[router]}  # CHANGE ME: the {router.value}'s LAN address"
        )
        for fw in (f for f in plan.forwards if f.router is router):
            out.append(f"# {forward_text(fw, plan.scenario)}")
            if is_multicast_forward(fw, plan):
                out.append(f"# {MULTICAST_NOTE}")
                out.append(
                    f"iptables -A FORWARD -i $WAN_IF -d {MULTICAST_RANGE} -p {fw.protocol} "
                    f"--dport {str(fw.ports).replace('-', ':')} -j ACCEPT"
                )
                continue
            for ports, target in _dnat_targets(fw, f"${var}"):
                out.append(
                    f"iptables -t nat -A PREROUTING -i $WAN_IF -p {fw.protocol} "
                    f"--dport {ports.replace('-', ':')} -j DNAT --to-destination {target}"
                )
        out += [
            "iptables -t nat -A POSTROUTING -o $WAN_IF -j MASQUERADE",
            "iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
            "iptables -A FORWARD -m conntrack --ctstate DNAT -j ACCEPT",
            "iptables -A FORWARD -o $WAN_IF -j ACCEPT",
            "iptables -A FORWARD -i $WAN_IF -j DROP",
        ]
    return "\n".join(out) + "\n"


def _scenario_tag(plan: Plan) -> str:
    s = plan.scenario
    proto = s.protocol.value if s.protocol else "web"
    return (
        f"{s.client.value} {proto} {s.transport.value}, camera {s.camera_side.value}, "
        f"client {s.client_side.value}"
    )
