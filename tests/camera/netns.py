"""Two network namespaces joined by a veth pair, for multicast that never touches loopback."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

CAMERA_ADDRESS = "192.0.2.1"
CLIENT_ADDRESS = "192.0.2.2"


@dataclass(frozen=True)
class NamespacePair:
    camera: str
    client: str

    def exec_prefix(self, namespace: str) -> tuple[str, ...]:
        return ("ip", "netns", "exec", namespace)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=20)


@contextmanager
def namespace_pair(tag: str) -> Iterator[NamespacePair]:
    """``camera`` (192.0.2.1) and ``client`` (192.0.2.2) with a multicast route each."""
    pid = os.getpid()
    pair = NamespacePair(f"tpcamera-{tag}-{pid}-cam", f"tpcamera-{tag}-{pid}-cli")
    veth_cam, veth_cli = f"tpc{pid % 100000}{tag[:2]}a", f"tpc{pid % 100000}{tag[:2]}b"
    created: list[str] = []
    try:
        for namespace in (pair.camera, pair.client):
            _ip("netns", "add", namespace)
            created.append(namespace)
        _ip("link", "add", veth_cam, "type", "veth", "peer", "name", veth_cli)
        for namespace, veth, address in (
            (pair.camera, veth_cam, CAMERA_ADDRESS),
            (pair.client, veth_cli, CLIENT_ADDRESS),
        ):
            _ip("link", "set", veth, "netns", namespace)
            _ip("-n", namespace, "addr", "add", f"{address}/24", "dev", veth)
            _ip("-n", namespace, "link", "set", veth, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
            _ip("-n", namespace, "route", "add", "224.0.0.0/4", "dev", veth)
        yield pair
    finally:
        for namespace in created:  # deleting a namespace removes its end of the veth pair
            subprocess.run(
                ["ip", "netns", "del", namespace], capture_output=True, timeout=20, check=False
            )
