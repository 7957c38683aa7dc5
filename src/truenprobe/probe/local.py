"""This host's side of the probe: the camera's address, our address toward it, bind errors."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket

from truenprobe.errors import TruenprobeError


class CameraAddressError(TruenprobeError):
    """The camera's name does not resolve."""


async def resolve_camera(host: str, wait_s: float) -> str:
    """The camera's IP address (a literal is returned as is)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(wait_s):
            infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise CameraAddressError(f"camera {host!r}: name lookup timed out") from None
    except socket.gaierror as exc:
        raise CameraAddressError(f"camera {host!r}: {exc.strerror}") from None
    ipv4 = [i for i in infos if i[0] == socket.AF_INET]
    chosen = (ipv4 or infos)[0]
    return str(chosen[4][0])


def local_address_toward(address: str) -> str | None:
    """The source address this host uses to reach ``address`` (routing lookup, no packet)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((address, 9))
        except OSError:
            return None
        return str(sock.getsockname()[0])


def bind_error_text(exc: OSError, port: int) -> str:
    """Why a local port cannot be bound, as the one line a user needs."""
    if exc.errno == errno.EADDRINUSE:
        return f"port {port} is in use by another program on this host"
    if exc.errno == errno.EACCES:
        return (
            f"port {port} is below 1024: run as root, grant CAP_NET_BIND_SERVICE, or lower "
            "net.ipv4.ip_unprivileged_port_start"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return "this host has no such local address"
    return exc.strerror or str(exc)


def is_multicast(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_multicast
    except ValueError:
        return False
