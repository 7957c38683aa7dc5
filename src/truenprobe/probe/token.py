"""Tagged test datagrams: ``truenprobe send`` writes them, ``check --listen-only`` reads them.

One datagram says who sent it (the token), which port it was sent to, and the whole
range the sender covers, so a listener that hears any one of them knows which ports
should have heard one too. ASCII, so it is readable in a capture:

    TRUENPROBE/1 <token> <port> <first>-<last> <round>

Pure: bytes in, records out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from truenprobe.plan.model import PortRange

MAGIC = b"TRUENPROBE/1 "
_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_LINE = re.compile(
    rb"TRUENPROBE/1 ([A-Za-z0-9._-]{1,64}) (\d{1,5}) (\d{1,5})-(\d{1,5}) (\d{1,6})\Z"
)


@dataclass(frozen=True)
class TokenDatagram:
    token: str
    port: int  # the destination port the sender addressed
    ports: PortRange  # every port the sender covers
    round: int


def valid_token(token: str) -> bool:
    return _TOKEN.fullmatch(token) is not None


def build_token(token: str, port: int, ports: PortRange, round_: int) -> bytes:
    if not valid_token(token):
        raise ValueError(f"token {token!r}: use 1-64 letters, digits, '.', '_' or '-'")
    return MAGIC + f"{token} {port} {ports.first}-{ports.last} {round_}".encode()


def parse_token(data: bytes) -> TokenDatagram | None:
    """The datagram's fields, or None when it is not one of ours (or is malformed)."""
    if not data.startswith(MAGIC):
        return None
    match = _LINE.match(data.rstrip(b"\r\n"))
    if match is None:
        return None
    token, port, first, last, round_ = match.groups()
    try:
        ports = PortRange(int(first), int(last))
    except ValueError:
        return None
    port_number = int(port)
    if port_number not in ports:
        return None
    return TokenDatagram(token.decode(), port_number, ports, int(round_))
