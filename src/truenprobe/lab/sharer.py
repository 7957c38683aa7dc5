"""What each emulated IP sharer is configured with (pure).

Its nftables table is the plan's own renderer's output (what an installer copies), with
the lab's real addresses and interface names filled in. When the site uses multicast it
also gets a static multicast route (smcroute): LAN to WAN on the camera's side, WAN to
LAN on the client's side, the "IGMP proxy or multicast routing" the plan's note asks of
every router; the forward-chain rule from the plan still decides whether the group gets
into the client's LAN, so an omitted forward is still an omitted forward.
"""

from __future__ import annotations

from collections.abc import Sequence

from truenprobe.lab.forwards import LabRule
from truenprobe.lab.topology import Sharer
from truenprobe.plan.model import Host
from truenprobe.plan.render_rules import MULTICAST_RANGE, nft_router_ruleset


def sharer_ruleset(sharer: Sharer, rules: Sequence[LabRule], *, drop_unforwarded: bool) -> str:
    mine = [r for r in rules if r.forward.router is sharer.side]
    return (
        nft_router_ruleset(
            sharer.side,
            [r.forward for r in mine],
            target_ip=sharer.lan_gateway,  # unused: every rule names its own target
            wan_if=sharer.wan_if,
            drop_unforwarded=drop_unforwarded,
            labels=[r.label for r in mine],
            target_ips=[r.to_ip for r in mine],
            multicast=[r.multicast for r in mine],
        )
        + "\n"
    )


def multicast_route_config(sharer: Sharer) -> str:
    """smcrouted's configuration: route every group away from the camera's side."""
    lan, wan = sharer.lan_if, sharer.wan_if
    inbound, outbound = (lan, wan) if sharer.side is Host.CAMERA else (wan, lan)
    return "\n".join(
        [
            f"phyint {sharer.lan_if} enable",
            f"phyint {sharer.wan_if} enable",
            f"mroute from {inbound} group {MULTICAST_RANGE} to {outbound}",
            "",
        ]
    )
