"""Plain-socket reachability through the lab's IP sharers, forward by forward.

Independent of the camera and the prober: a listener on the host a forward points at,
a sender on the other side addressing the IP sharer's public address, as the real
flow would. It proves the lab's routers do what their rules say, and that a wrong rule
(wrong LAN address, wrong port, TCP instead of UDP) is caught and named.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass

from truenprobe.lab.nsock import netns_socket
from truenprobe.lab.topology import Topology
from truenprobe.plan.model import Flow, Forward, Host, Plan

REACH_TIMEOUT_S = 1.5
MULTICAST_TTL = 8  # crosses both IP sharers (each takes one)
TEST_GROUP = "239.255.77.7"
PAYLOAD = b"truenprobe-lab reach"


@dataclass(frozen=True)
class Reach:
    ok: bool
    source: str | None = None  # who the receiver saw the packet from
    detail: str = ""


async def tcp_reach(
    from_ns: str,
    to_ns: str,
    *,
    listen: tuple[str, int],
    connect: tuple[str, int],
    within_s: float = REACH_TIMEOUT_S,
) -> Reach:
    """A connection from ``from_ns`` to ``connect`` arrives at a listener on ``listen``."""
    loop = asyncio.get_running_loop()
    server = netns_socket(to_ns, socket.AF_INET, socket.SOCK_STREAM)
    client = netns_socket(from_ns, socket.AF_INET, socket.SOCK_STREAM)
    try:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(listen)
        server.listen(4)
        try:
            await asyncio.wait_for(loop.sock_connect(client, connect), within_s)
        except TimeoutError:
            return Reach(False, detail="no answer (SYN dropped)")
        except ConnectionRefusedError:
            return Reach(False, detail="connection refused (RST)")
        except OSError as exc:
            return Reach(False, detail=exc.strerror or str(exc))
        try:
            conn, peer = await asyncio.wait_for(loop.sock_accept(server), within_s)
        except TimeoutError:
            return Reach(False, detail="connected, but not to the listener")
        conn.close()
        return Reach(True, source=peer[0])
    finally:
        client.close()
        server.close()


async def udp_reach(
    from_ns: str,
    to_ns: str,
    *,
    listen_port: int,
    send_to: tuple[str, int],
    source_port: int = 0,
    group: str | None = None,
    within_s: float = REACH_TIMEOUT_S,
) -> Reach:
    """Datagrams from ``from_ns`` sent to ``send_to`` arrive on ``listen_port`` in ``to_ns``.

    With ``group`` the receiver joins it and the sender sends to it (``send_to``'s
    address is then ignored). Several datagrams are sent, a few milliseconds apart, so a
    multicast route being installed on the first one does not decide the result.
    """
    loop = asyncio.get_running_loop()
    receiver = netns_socket(to_ns, socket.AF_INET, socket.SOCK_DGRAM)
    sender = netns_socket(from_ns, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        receiver.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        receiver.bind(("0.0.0.0", listen_port))
        target = send_to
        if group:
            membership = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0"))
            receiver.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
            sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, MULTICAST_TTL)
            target = (group, send_to[1])
        sender.bind(("0.0.0.0", source_port))
        arrival = asyncio.ensure_future(loop.sock_recvfrom(receiver, 2048))
        deadline = loop.time() + within_s
        while not arrival.done() and loop.time() < deadline:
            with contextlib.suppress(OSError):  # ICMP errors of earlier sends
                sender.sendto(PAYLOAD, target)
            await asyncio.wait({arrival}, timeout=min(0.05, max(0.0, deadline - loop.time())))
        if not arrival.done():
            arrival.cancel()
            return Reach(False, detail="nothing arrived")
        data, peer = arrival.result()
        if data != PAYLOAD:
            return Reach(False, source=peer[0], detail="foreign datagram")
        return Reach(True, source=peer[0])
    finally:
        sender.close()
        receiver.close()


@dataclass(frozen=True)
class ForwardCheck:
    number: int  # 1-based in the plan's forwards
    forward: Forward
    port: int
    reach: Reach


def _multicast_flow(plan: Plan, forward: Forward) -> Flow | None:
    return next(
        (
            f
            for f in plan.flows
            if f.multicast and f.destination is forward.router and f.ports.overlaps(forward.ports)
        ),
        None,
    )


async def check_plan_forwards(plan: Plan, topology: Topology) -> list[ForwardCheck]:
    """Every plan forward, at the first and last port of its range, as its flow would use it.

    Only forwards whose IP sharer exists in ``topology`` are checked. Checks run at the
    same time except where two would listen on the same port of the same host.
    """
    Item = tuple[tuple[str, str, int], int, Forward, int]  # (listener), number, forward, port
    pending: list[Item] = []
    for number, forward in enumerate(plan.forwards, start=1):
        if topology.sharer(forward.router) is None:
            continue
        receiver = topology.camera if forward.to is Host.CAMERA else topology.client
        for port in sorted({forward.ports.first, forward.ports.last}):
            to_port = forward.to_ports.first + (port - forward.ports.first)
            pending.append(((receiver.netns, forward.protocol, to_port), number, forward, port))
    checks: list[ForwardCheck] = []
    while pending:
        wave: list[Item] = []
        later: list[Item] = []
        keys: set[tuple[str, str, int]] = set()
        for item in pending:
            (later if item[0] in keys else wave).append(item)
            keys.add(item[0])
        results = await asyncio.gather(
            *(_check_one(plan, topology, forward, port) for _k, _n, forward, port in wave)
        )
        checks += [
            ForwardCheck(number, forward, port, reach)
            for (_k, number, forward, port), reach in zip(wave, results, strict=True)
        ]
        pending = later
    return sorted(checks, key=lambda c: (c.number, c.port))


async def _check_one(plan: Plan, topology: Topology, forward: Forward, port: int) -> Reach:
    sharer = topology.sharer(forward.router)
    if sharer is None:  # pragma: no cover - filtered by the caller
        raise ValueError(forward)
    if forward.to is Host.CAMERA:
        receiver, sender = topology.camera, topology.client
    else:
        receiver, sender = topology.client, topology.camera
    to_port = forward.to_ports.first + (port - forward.ports.first)
    if forward.protocol == "tcp":
        return await tcp_reach(
            sender.netns,
            receiver.netns,
            listen=(receiver.ip, to_port),
            connect=(sharer.public_ip, port),
        )
    return await udp_reach(
        sender.netns,
        receiver.netns,
        listen_port=to_port,
        send_to=(sharer.public_ip, port),
        group=TEST_GROUP if _multicast_flow(plan, forward) else None,
    )
