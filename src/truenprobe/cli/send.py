"""`truenprobe send ADDRESS --ports A-B --token T`: tagged UDP test datagrams.

Run at the camera's site when RTSP is off; a `truenprobe check --listen-only S --token T`
on the client's side recognises them and reports which ports got through.
"""

from __future__ import annotations

import ipaddress
import sys
from typing import Annotated

import typer

from truenprobe.errors import ScenarioError
from truenprobe.plan.model import PortRange
from truenprobe.probe.token import valid_token


def parse_ports(text: str) -> PortRange:
    first, sep, last = text.strip().partition("-")
    try:
        ports = PortRange(int(first), int(last) if sep else int(first))
    except ValueError:
        raise ScenarioError(
            f"--ports {text!r}: expected A-B (or one port), within 1-65535, A <= B"
        ) from None
    return ports


def send_command(
    address: Annotated[
        str,
        typer.Argument(
            help="Where the client is reached from here: its public address (its IP sharer's) "
            "or its own when public.",
            show_default=False,
        ),
    ],
    ports: Annotated[str, typer.Option("--ports", help="Destination ports, A-B (e.g. 4333-4432).")],
    token: Annotated[
        str, typer.Option("--token", help="The token the listening `check --listen-only` expects.")
    ],
    rounds: Annotated[
        int, typer.Option("--rounds", help="Datagrams per port (losses happen).", min=1, max=100)
    ] = 3,
    rate: Annotated[
        int, typer.Option("--rate", help="Datagrams per second at most.", min=1, max=100000)
    ] = 2000,
) -> int:
    """Send tagged UDP test datagrams to ADDRESS for a `check --listen-only` there."""
    import asyncio  # loaded only when it sends: `plan` and `--help` stay fast

    from truenprobe.probe.send import send_tokens

    try:
        target = str(ipaddress.ip_address(address.strip("[]")))
    except ValueError:
        raise ScenarioError(f"ADDRESS {address!r} is not an IP address") from None
    if not valid_token(token):
        raise ScenarioError(f"--token {token!r}: use 1-64 letters, digits, '.', '_' or '-'")
    summary = asyncio.run(send_tokens(target, parse_ports(ports), token, rounds, rate))
    errors = f"; {summary.errors} failed ({summary.first_error})" if summary.errors else ""
    sys.stdout.write(
        f"sent {summary.sent} datagram(s) to {target} UDP {summary.ports} "
        f"({summary.rounds} round(s)){errors}\n"
    )
    return 0 if summary.sent else 1
