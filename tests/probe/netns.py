"""Two network namespaces on one veth link, made by a test and always removed.

``camera`` and ``client`` namespaces (names carry the component and the pid), each
with an address in 192.0.2.0/24 and a multicast route, for tests that need real
addresses, multicast between hosts, or an nftables rule dropping traffic.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.support.tools import require_netns

CAMERA_IP = "192.0.2.1"
CLIENT_IP = "192.0.2.2"


@dataclass(frozen=True)
class Pair:
    camera: str  # namespace names
    client: str
    camera_ip: str = CAMERA_IP
    client_ip: str = CLIENT_IP

    def run(self, ns: str, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", ns, *command],
            capture_output=True,
            text=True,
            check=check,
            timeout=60,
        )

    def check(self, *args: str) -> dict[str, Any]:
        """`truenprobe check CAMERA --format json ...` from the client's namespace."""
        done = self.run(
            self.client,
            sys.executable,
            "-m",
            "truenprobe",
            "check",
            self.camera_ip,
            "--format",
            "json",
            *args,
            check=False,
        )
        assert done.returncode in (0, 1, 3), done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    def drop_udp_input(self, ns: str, ports: str) -> None:
        """An nftables rule in ``ns`` that drops incoming UDP to ``ports`` (e.g. "554-555")."""
        self.nft(
            ns,
            "table inet tp_drop {\n"
            f"  chain input {{ type filter hook input priority 0; udp dport {ports} drop; }}\n"
            "}\n",
        )

    def nft(self, ns: str, ruleset: str) -> None:
        subprocess.run(
            ["ip", "netns", "exec", ns, "nft", "-f", "-"],
            input=ruleset,
            text=True,
            check=True,
            capture_output=True,
            timeout=30,
        )


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


@contextlib.contextmanager
def namespace_pair(tag: str) -> Iterator[Pair]:
    require_netns()
    pid = os.getpid()
    pair = Pair(f"tp-prober-{pid}-{tag}-cam", f"tp-prober-{pid}-{tag}-cli")
    short = f"tpp{pid % 100000}{tag[:2]}"
    try:
        _ip("netns", "add", pair.camera)
        _ip("netns", "add", pair.client)
        _ip(
            "link",
            "add",
            f"{short}a",
            "netns",
            pair.camera,
            "type",
            "veth",
            "peer",
            "name",
            f"{short}b",
            "netns",
            pair.client,
        )
        for ns, dev, addr in (
            (pair.camera, f"{short}a", CAMERA_IP),
            (pair.client, f"{short}b", CLIENT_IP),
        ):
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)
        yield pair
    finally:
        for ns in (pair.camera, pair.client):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30, check=False)


def results(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A check's JSON results by flow name."""
    return {r["flow"]: r for r in report["results"]}
