"""The lab's contact with the system: privileges, iproute2, nft, sysctl.

Every command has a time bound; a failing one becomes a LabError naming the command
and the first line of its complaint. The synchronous variants exist for cleanup, which
must finish even while the event loop is being torn down by Ctrl-C.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from truenprobe.errors import MissingToolError, TruenprobeError

NETNS_DIR = Path("/run/netns")
COMMAND_TIMEOUT_S = 20.0


class LabError(TruenprobeError):
    """The lab could not build or drive its namespaces."""


def missing_requirements(*, multicast_routing: bool = False) -> list[str]:
    """What this machine lacks for the lab, as short phrases (empty: all there)."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root (network namespaces and nftables need it)")
    for tool, package in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None:
            missing.append(f"{tool} (Debian package {package})")
    if multicast_routing and shutil.which("smcrouted") is None:
        missing.append("smcrouted (Debian package smcroute), to route multicast")
    return missing


def require_lab(*, multicast_routing: bool = False) -> None:
    missing = missing_requirements(multicast_routing=multicast_routing)
    if missing:
        raise MissingToolError("the lab needs " + "; ".join(missing))


def _first_line(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[0] if lines else "no message"


def _describe(argv: Sequence[str]) -> str:
    return " ".join(argv[:6]) + (" ..." if len(argv) > 6 else "")


async def run(
    argv: Sequence[str], *, stdin: str | None = None, within_s: float = COMMAND_TIMEOUT_S
) -> str:
    """Run a command to completion; its stdout, or LabError with its first error line."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(stdin.encode() if stdin is not None else None), within_s
        )
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise LabError(f"'{_describe(argv)}' did not finish within {within_s:g} s") from None
    finally:
        if proc.returncode is None:  # cancelled: do not leave it running
            proc.kill()
    if proc.returncode != 0:
        raise LabError(f"'{_describe(argv)}' failed: {_first_line(err.decode(errors='replace'))}")
    return out.decode(errors="replace")


async def ip_batch(lines: Iterable[str], netns: str | None = None) -> None:
    body = "\n".join(lines) + "\n"
    argv = ["ip", *(["-n", netns] if netns else []), "-batch", "-"]
    await run(argv, stdin=body)


async def link_states(netns: str) -> dict[str, str]:
    """Each link's operational state (``UP``, ``DOWN``, ``UNKNOWN``...) in a namespace."""
    links = json.loads(await run(["ip", "-n", netns, "-j", "link", "show"]) or "[]")
    return {str(link["ifname"]): str(link.get("operstate", "UNKNOWN")) for link in links}


def in_netns(netns: str, argv: Sequence[str]) -> list[str]:
    """``argv`` run inside a namespace (``ip netns exec`` execs it: the pid is the program's)."""
    return ["ip", "netns", "exec", netns, *argv]


async def sysctl(netns: str, settings: Sequence[str]) -> None:
    # -e: a key this kernel lacks (no br_netfilter, IPv6 disabled) is not an error.
    await run(in_netns(netns, ["sysctl", "-q", "-e", "-w", *settings]))


async def nft_apply(netns: str, ruleset: str) -> None:
    await run(in_netns(netns, ["nft", "-f", "-"]), stdin=ruleset)


def list_netns() -> list[str]:
    """Names of the named network namespaces (what ``ip netns list`` shows)."""
    try:
        return sorted(p.name for p in NETNS_DIR.iterdir())
    except FileNotFoundError:
        return []


def netns_pids(netns: str) -> list[int]:
    result = subprocess.run(
        ["ip", "netns", "pids", netns],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    return [int(tok) for tok in result.stdout.split() if tok.isdigit()]


def ip_batch_sync(lines: Iterable[str]) -> str:
    """Best effort (``-force`` goes on after a failed line); returns what went wrong."""
    body = "\n".join(lines) + "\n"
    result = subprocess.run(
        ["ip", "-force", "-batch", "-"],
        input=body,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    return result.stderr.strip()


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while cleanup runs, then deliver them.

    Cleanup interrupted half way would leave namespaces behind; it takes a fraction of
    a second, so the user loses nothing by waiting for it.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda s, _f: pending.append(s))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        for number in pending[:1]:
            signal.raise_signal(number)
