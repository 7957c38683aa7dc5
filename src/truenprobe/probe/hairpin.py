"""NAT loopback (hairpin NAT), the probe's part: is this client testing its own IP sharer's
public address?

How we know, without asking the user: the camera's public address answers a probe that
can travel one hop only (IP TTL 1). The only public address one hop from a client with a
private address is its own gateway's, so the client sits behind the IP sharer that holds
the camera's public address. The probe sends that one SYN, and only when the client's
address is private and the camera's public; ``runner.probe()`` records the Limitation it
returns and ``verdict.compare()`` explains it (``truenprobe.nat_loopback``, pure).
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Callable

from truenprobe.nat_loopback import (
    NAT_LOOPBACK,
    NAT_LOOPBACK_SHORT,
    behind_nat,
    explain_nat_loopback,
    is_public,
    nat_loopback_limitation,
    nat_loopback_reason,
    nat_loopback_suspected,
    nat_loopback_text,
)
from truenprobe.observations import Limitation
from truenprobe.plan.model import Host, Plan

__all__ = [
    "NAT_LOOPBACK",
    "NAT_LOOPBACK_SHORT",
    "behind_nat",
    "camera_one_hop",
    "detect_nat_loopback",
    "explain_nat_loopback",
    "is_public",
    "nat_loopback_limitation",
    "nat_loopback_reason",
    "nat_loopback_suspected",
    "nat_loopback_text",
]

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


def _probe_port(plan: Plan) -> int | None:
    """A TCP port the client would open toward the camera anyway."""
    for flow in plan.flows:
        if flow.protocol == "tcp" and flow.destination is Host.CAMERA:
            return flow.ports.first
    return None


def worth_probing(client_ip: str | None, camera_ip: str) -> bool:
    """Only a private client testing a public address can be behind that address's sharer."""
    return client_ip is not None and behind_nat(client_ip) and is_public(camera_ip)


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
    if client_ip is None or not worth_probing(client_ip, camera_ip):
        return None
    port = _probe_port(plan)
    if port is None:
        return None
    one_hop = await camera_one_hop(camera_ip, port, within_s, make_socket)
    if not nat_loopback_suspected(client_ip, camera_ip, one_hop):
        return None
    return nat_loopback_limitation(camera_ip, client_ip)
