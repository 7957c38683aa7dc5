"""The fixed-ports runner: a namespace of the test's own, removed afterwards."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from tests.support.fixed_ports import ports_free, run_in_own_netns
from tests.support.tools import require_netns


def _namespaces() -> set[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return {line.split()[0] for line in done.stdout.splitlines() if line.strip()}


def test_runs_in_a_fresh_namespace_where_the_ports_are_free_and_leaves_nothing():
    require_netns()
    host_ns = os.readlink("/proc/thread-self/ns/net")

    async def inside() -> tuple[str, bool, str]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.2", 0))  # loopback is up in there
            address = sock.getsockname()[0]
        return os.readlink("/proc/thread-self/ns/net"), ports_free(range(4333, 4433)), address

    netns, free, address = run_in_own_netns("selftest", inside)
    assert netns != host_ns
    assert free
    assert address == "127.0.0.2"
    assert f"tp-integ-{os.getpid()}-selftest" not in _namespaces()  # removed
    assert os.readlink("/proc/thread-self/ns/net") == host_ns  # ours untouched


def test_an_error_inside_reaches_the_test_and_the_namespace_still_goes():
    require_netns()

    async def inside() -> None:
        raise LookupError("from inside")

    with pytest.raises(LookupError, match="from inside"):
        run_in_own_netns("selferr", inside)
    assert f"tp-integ-{os.getpid()}-selferr" not in _namespaces()


def test_without_root_it_runs_here_when_free_and_skips_when_busy(monkeypatch):
    import tests.support.fixed_ports as fixed
    import tests.support.tools as tools

    monkeypatch.setattr(fixed, "_can_make_namespaces", lambda: False)
    monkeypatch.setattr(fixed, "STRICT", False)
    monkeypatch.setattr(tools, "STRICT", False)
    here = os.readlink("/proc/thread-self/ns/net")

    async def inside() -> str:
        return os.readlink("/proc/thread-self/ns/net")

    monkeypatch.setattr(fixed, "ports_free", lambda _ports: True)
    assert fixed.with_fixed_ports("host", (4333, 4334), inside) == here
    monkeypatch.setattr(fixed, "ports_free", lambda _ports: False)
    with pytest.raises(pytest.skip.Exception, match="4333-4334 are busy"):
        fixed.with_fixed_ports("host", (4333, 4334), inside)


def test_strict_never_looks_at_the_host(monkeypatch):
    import tests.support.fixed_ports as fixed
    import tests.support.tools as tools

    monkeypatch.setattr(fixed, "STRICT", True)
    monkeypatch.setattr(tools, "STRICT", True)
    monkeypatch.setattr(tools.os, "geteuid", lambda: 1000)  # a laptop user
    monkeypatch.setattr(fixed, "ports_free", lambda _ports: pytest.fail("looked at the host"))

    async def inside() -> None:
        return None

    with pytest.raises(pytest.fail.Exception, match="TRUENPROBE_STRICT=1 and not root"):
        fixed.with_fixed_ports("strict", (4333,), inside)
