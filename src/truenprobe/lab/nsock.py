"""Sockets inside a lab namespace, made from this process.

A thread may enter another network namespace (setns) without affecting the rest of the
process, and a socket keeps the namespace it was created in. So plain-socket checks
and readiness waits need no helper process per probe.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading

from truenprobe.lab.system import NETNS_DIR, LabError

_CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def netns_socket(
    netns: str, family: int = socket.AF_INET, kind: int = socket.SOCK_STREAM
) -> socket.socket:
    """A new non-blocking socket that lives in ``netns``."""
    made: list[socket.socket] = []
    failed: list[str] = []

    def enter_and_create() -> None:
        try:
            fd = os.open(NETNS_DIR / netns, os.O_RDONLY)
        except OSError as exc:
            failed.append(f"no namespace {netns}: {exc.strerror}")
            return
        try:
            if _libc.setns(fd, _CLONE_NEWNET) != 0:
                failed.append(f"cannot enter {netns}: {os.strerror(ctypes.get_errno())}")
                return
            made.append(socket.socket(family, kind))
        finally:
            os.close(fd)

    # The thread dies in the namespace it entered; ours is never touched.
    worker = threading.Thread(target=enter_and_create, name=f"netns-{netns}")
    worker.start()
    worker.join()
    if failed:
        raise LabError(failed[0])
    sock = made[0]
    sock.setblocking(False)
    return sock
