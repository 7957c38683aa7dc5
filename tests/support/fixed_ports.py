"""Tests on ports fixed by Truen (4333-4432, ...) that no other program on the host can take.

As root, the test runs in a network namespace it creates for itself: a loopback of its
own, where every port is free whatever runs on the host. A thread enters the namespace
(setns affects that thread only) and runs the test's coroutine in its own event loop;
every socket the test opens, the camera's and the prober's, is created in there.

Without root (a laptop) the test runs on this host when the ports are free, and skips
when another program holds them; TRUENPROBE_STRICT=1 never gets that far: it needs the
namespace (``require_netns`` fails there without root), so CI never depends on the host.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

from tests.support.tools import STRICT, require_netns, unavailable

T = TypeVar("T")
_CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"


def ports_free(ports: Iterable[int], host: str = "127.0.0.1") -> bool:
    """Whether these UDP ports are free on ``host`` right now."""
    held = []
    try:
        for port in ports:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(sock)
            sock.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for sock in held:
            sock.close()


def _can_make_namespaces() -> bool:
    import shutil

    return os.geteuid() == 0 and shutil.which("ip") is not None


def with_fixed_ports(
    tag: str, ports: Iterable[int], main: Callable[[], Coroutine[Any, Any, T]]
) -> T:
    """Run ``main()`` where ``ports`` are surely free: see the module docstring."""
    wanted = list(ports)
    if STRICT or _can_make_namespaces():
        require_netns()
        return run_in_own_netns(tag, main)
    if not ports_free(wanted):
        shown = f"{min(wanted)}-{max(wanted)}" if len(wanted) > 1 else str(wanted[0])
        unavailable(f"UDP {shown} are busy on this host and there is no root for a namespace")
    return asyncio.run(main())


def run_in_own_netns(tag: str, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """``main()`` in a fresh network namespace (loopback up), removed afterwards."""
    name = f"tp-integ-{os.getpid()}-{tag}"
    _ip("netns", "add", name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
        return _run_in_thread(name, main)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30, check=False)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], capture_output=True, timeout=30, check=True)


def _run_in_thread(netns: str, main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    results: list[T] = []
    errors: list[BaseException] = []

    def inside() -> None:
        try:
            _enter(netns)
            results.append(asyncio.run(main()))
        except BaseException as exc:  # handed to the test's own thread below
            errors.append(exc)

    # A daemon: if the test times out, the thread cannot keep the process alive.
    worker = threading.Thread(target=inside, name=f"netns-{netns}", daemon=True)
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return results[0]


def _enter(netns: str) -> None:
    """Move the calling thread (only) into ``netns``."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(os.path.join(NETNS_DIR, netns), os.O_RDONLY)
    try:
        if libc.setns(fd, _CLONE_NEWNET) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"cannot enter {netns}: {os.strerror(errno)}")
    finally:
        os.close(fd)
