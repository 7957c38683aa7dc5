"""NAT loopback (hairpin NAT), the pure part: who is suspected, what the record says, and
how compare() words a report that depends on it.

A common site mistake: the installer checks the camera's public address from a laptop
on the camera's own LAN. The packets go to the IP sharer's own WAN address from the LAN
side; only an IP sharer with NAT loopback sends them back in to the camera, and many do
not. Then flows fail although every forward may be right, and blaming a forward would
send the installer after the wrong rule.

The prober finds out (``truenprobe.probe.hairpin.detect_nat_loopback``, one TTL-1 SYN)
and records a ``Limitation`` whose reason starts with ``NAT_LOOPBACK``; the record states
only the fact (where the client sits, what its test depends on, how to test correctly).
``explain_nat_loopback`` then rewords the report: what failed from here was not tested,
no forward is blamed, and the finding says whether this IP sharer did NAT loopback for
what passed. No I/O here: compare() and the capture analyzer may use all of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from dataclasses import replace

from truenprobe.observations import Limitation, Observations
from truenprobe.report.model import Report, Status

NAT_LOOPBACK = "NAT loopback"  # every Limitation.reason of this kind starts with it
NAT_LOOPBACK_SHORT = (
    f"not tested: depends on {NAT_LOOPBACK} (this client is inside the camera's LAN; "
    "see the finding)"
)
# Addresses behind an IP sharer. Written out rather than ``is_private``, which also
# counts documentation ranges (the lab's "public" internet) as private.
_BEHIND_NAT = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)
_FAILED_WORDS = (
    " This IP sharer did not do it for what failed, so those flows were not tested from here "
    "and no forward is blamed for them."
)
_PASSED_WORDS = (
    " Everything tested passed through it, so this IP sharer does NAT loopback; a client "
    "outside the LAN still depends on the forwards alone: confirm from outside."
)


def _address(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value) if value else None
    except ValueError:
        return None


def behind_nat(client_ip: str | None) -> bool:
    """A private (RFC 1918), shared (RFC 6598) or unique-local address: behind an IP sharer."""
    address = _address(client_ip)
    return address is not None and any(
        address.version == net.version and address in net for net in _BEHIND_NAT
    )


def is_public(camera_ip: str | None) -> bool:
    """An address a router forwards across the internet (not private, loopback, ...)."""
    address = _address(camera_ip)
    return not (
        address is None
        or behind_nat(camera_ip)
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
    )


def nat_loopback_suspected(
    client_ip: str | None, camera_ip: str | None, camera_one_hop: bool | None
) -> bool:
    """The client is behind the IP sharer that holds the camera's public address."""
    return camera_one_hop is True and behind_nat(client_ip) and is_public(camera_ip)


def nat_loopback_text(camera_ip: str, client_ip: str) -> str:
    """The fact and how to test correctly; whether the IP sharer did it is compare()'s to say."""
    return (
        f"{NAT_LOOPBACK}: this client ({client_ip}) is inside the camera's LAN, behind the IP "
        f"sharer that holds {camera_ip}: a test of that public address from here goes out to "
        "the IP sharer and only comes back in to the camera if the IP sharer does NAT loopback "
        "(hairpin NAT), so the result depends on NAT loopback, not on the forwards. To test the "
        "forwards, test from outside the camera's LAN (another site, or a laptop on a phone's "
        "mobile hotspot); to test the camera itself from here, check its LAN address with "
        "--camera-side public."
    )


def nat_loopback_limitation(camera_ip: str, client_ip: str) -> Limitation:
    return Limitation(ports=None, protocol=None, reason=nat_loopback_text(camera_ip, client_ip))


def nat_loopback_reason(observations: Observations) -> str | None:
    for limitation in observations.of(Limitation):
        if limitation.reason.startswith(NAT_LOOPBACK):
            return limitation.reason
    return None


def explain_nat_loopback(
    report: Report, observations: Observations, keep: Collection[str] = ()
) -> Report:
    """With the NAT-loopback Limitation, no failure blames a forward.

    A failed flow becomes skipped (it could not be tested from here) with no forward and
    a short diagnosis; its evidence (what was seen from here) stays. ``keep`` names flows
    whose failure is the camera's own answer (e.g. RTSP 404), which NAT loopback cannot
    explain: they stay failed. The whole explanation, with how to test correctly, is the
    report's first finding. Flows that passed stay passed.
    """
    reason = nat_loopback_reason(observations)
    if reason is None:
        return report
    results = tuple(
        replace(r, status=Status.SKIPPED, diagnosis=NAT_LOOPBACK_SHORT, forward=None)
        if (r.status is Status.FAIL and r.flow not in keep)
        or (r.status is Status.SKIPPED and r.diagnosis and NAT_LOOPBACK in r.diagnosis)
        else r
        for r in report.results
    )
    unreached = any(r.diagnosis == NAT_LOOPBACK_SHORT for r in results)
    passed = any(r.status is Status.PASS for r in results)
    finding = reason + (_FAILED_WORDS if unreached or not passed else _PASSED_WORDS)
    others = tuple(f for f in report.findings if f != reason)
    return replace(report, results=results, findings=(finding, *others))
