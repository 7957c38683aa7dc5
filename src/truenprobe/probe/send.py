"""`truenprobe send`: tagged test datagrams from the camera's site toward the client's.

Paced so a burst does not overflow the receiver's buffer or a small router: the point
is to see which ports get through, not how fast.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from truenprobe.plan.model import PortRange
from truenprobe.probe.token import build_token

PACE_PER_SECOND = 2000


@dataclass(frozen=True)
class SendSummary:
    address: str
    ports: PortRange
    rounds: int
    sent: int
    errors: int
    first_error: str | None = None


async def send_tokens(
    address: str, ports: PortRange, token: str, rounds: int = 3, rate: int = PACE_PER_SECOND
) -> SendSummary:
    """Send every port of ``ports`` one datagram per round, at most ``rate`` a second."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    loop = asyncio.get_running_loop()
    sent = errors = 0
    first_error: str | None = None
    interval = 1.0 / rate
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        next_at = loop.time()
        for round_ in range(1, rounds + 1):
            for port in ports:
                try:
                    await loop.sock_sendto(
                        sock, build_token(token, port, ports, round_), (address, port)
                    )
                    sent += 1
                except OSError as exc:
                    # ICMP errors from earlier datagrams surface on later sends: count, go on.
                    errors += 1
                    first_error = first_error or (exc.strerror or str(exc))
                next_at += interval
                delay = next_at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
    return SendSummary(address, ports, rounds, sent, errors, first_error)
