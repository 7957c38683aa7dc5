"""NAT loopback (hairpin NAT): a client inside the camera's LAN testing the camera's public
address.

A common site mistake: the installer checks the camera's public address from a laptop
on the camera's own LAN. The packets go to the IP sharer's own WAN address from the LAN
side; only an IP sharer with NAT loopback sends them back in to the camera, and many do
not. Then every flow fails although every forward may be right, and blaming a forward
would send the installer after the wrong rule.

How we know, without asking the user: the camera's public address answers a probe that
can travel one hop only (IP TTL 1). The only public address one hop from a client with a
private address is its own gateway's, so the client sits behind the IP sharer that holds
the camera's public address.

How the prober uses it (two calls; both cheap, neither sends anything unless the
client's address is private and the camera's is public):

1. In the probe, once the camera's address and the local address are known::

       record = await detect_nat_loopback(plan, camera_ip, local_ip, within_s=1.0)
       if record is not None:
           records.append(record)

2. At the end of ``compare(plan, observations)``::

       report = explain_nat_loopback(report, observations)

The analyzer may add the same Limitation when a capture shows it (see
``nat_loopback_limitation``).
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
from collections.abc import Callable
from dataclasses import replace

from truenprobe.observations import Limitation, Observations
from truenprobe.plan.model import Host, Plan
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
    """Pure: the client is behind the IP sharer that holds the camera's public address."""
    return camera_one_hop is True and behind_nat(client_ip) and is_public(camera_ip)


SocketFactory = Callable[[int, int], socket.socket]  # (family, type) -> socket


async def camera_one_hop(
    camera_ip: str, port: int, within_s: float, make_socket: SocketFactory = socket.socket
) -> bool | None:
    """Whether ``camera_ip`` answers a TCP SYN sent with IP TTL 1.

    True: it answered (connected or refused): the address is the first router's own.
    False: the first router reported the TTL expired (the address is further away).
    None: no answer within ``within_s`` (a router that drops silently): unknown.
    """
    family = socket.AF_INET6 if ":" in camera_ip else socket.AF_INET
    loop = asyncio.get_running_loop()
    sock = make_socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 1)
        try:
            await asyncio.wait_for(loop.sock_connect(sock, (camera_ip, port)), within_s)
        except ConnectionRefusedError:
            return True
        except TimeoutError:
            return None
        except OSError as exc:
            if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
                return False  # ICMP time exceeded (or no route): not our gateway's address
            return None
        return True
    finally:
        sock.close()


def nat_loopback_text(camera_ip: str, client_ip: str) -> str:
    return (
        f"{NAT_LOOPBACK}: this client ({client_ip}) is inside the camera's LAN, behind the IP "
        f"sharer that holds {camera_ip}; a test of that public address from here only works "
        "if the IP sharer does NAT loopback (hairpin NAT), and this one does not for what "
        "failed, so the forwards were not tested. Test from outside the camera's LAN (another "
        "site, or a phone's mobile hotspot), or test the camera's LAN address from here with "
        "--camera-side public."
    )


def nat_loopback_limitation(camera_ip: str, client_ip: str) -> Limitation:
    return Limitation(ports=None, protocol=None, reason=nat_loopback_text(camera_ip, client_ip))


def _probe_port(plan: Plan) -> int | None:
    """A TCP port the client would open toward the camera anyway."""
    for flow in plan.flows:
        if flow.protocol == "tcp" and flow.destination is Host.CAMERA:
            return flow.ports.first
    return None


async def detect_nat_loopback(
    plan: Plan,
    camera_ip: str,
    client_ip: str | None,
    within_s: float = 1.0,
    make_socket: SocketFactory = socket.socket,
) -> Limitation | None:
    """The NAT-loopback Limitation when this client tests its own IP sharer's address.

    Sends one TTL-1 SYN, and only when the client's address is private and the
    camera's public; returns within ``within_s``.
    """
    if client_ip is None or not (behind_nat(client_ip) and is_public(camera_ip)):
        return None
    port = _probe_port(plan)
    if port is None:
        return None
    one_hop = await camera_one_hop(camera_ip, port, within_s, make_socket)
    if not nat_loopback_suspected(client_ip, camera_ip, one_hop):
        return None
    return nat_loopback_limitation(camera_ip, client_ip)


def nat_loopback_reason(observations: Observations) -> str | None:
    for limitation in observations.of(Limitation):
        if limitation.reason.startswith(NAT_LOOPBACK):
            return limitation.reason
    return None


def explain_nat_loopback(report: Report, observations: Observations) -> Report:
    """Pure: with the NAT-loopback Limitation, no failure blames a forward.

    A failed flow becomes skipped (it could not be tested from here) with no forward and
    a short diagnosis; the whole explanation, with how to test correctly, is the
    report's first finding. Flows that passed stay passed.
    """
    reason = nat_loopback_reason(observations)
    if reason is None:
        return report
    results = tuple(
        replace(r, status=Status.SKIPPED, diagnosis=NAT_LOOPBACK_SHORT, forward=None)
        if r.status is Status.FAIL or (r.diagnosis and NAT_LOOPBACK in r.diagnosis)
        else r
        for r in report.results
    )
    findings = report.findings if reason in report.findings else (reason, *report.findings)
    return replace(report, results=results, findings=findings)
