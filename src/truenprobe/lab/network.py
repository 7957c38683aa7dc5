"""A lab network that exists only inside ``async with``: built on entry, removed on exit.

Removal happens on success, on failure, on Ctrl-C and SIGTERM (the CLI turns both into
cancellation), and even if building stopped half way: every namespace name is recorded
before it is created. Processes started in the lab are killed before their namespaces
are deleted, because a namespace with a live process in it outlives ``ip netns del``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from truenprobe.lab.commands import setup_commands, teardown_batch
from truenprobe.lab.forwards import LabForwards
from truenprobe.lab.nsock import netns_socket
from truenprobe.lab.sharer import multicast_route_config, sharer_ruleset
from truenprobe.lab.system import (
    LabError,
    in_netns,
    ip_batch,
    ip_batch_sync,
    link_states,
    list_netns,
    netns_pids,
    nft_apply,
    signals_deferred,
    sysctl,
)
from truenprobe.lab.topology import Sharer, Topology

READY_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 3.0


@dataclass
class LabProcess:
    """A program running in one of the lab's namespaces; its output goes to files."""

    name: str
    netns: str
    process: asyncio.subprocess.Process
    stdout: Path
    stderr: Path
    argv: tuple[str, ...] = field(default=())

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.returncode is None

    def last_error(self) -> str:
        """The last non-empty line it wrote to stderr (what went wrong, usually)."""
        try:
            lines = self.stderr.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""

    async def wait(self, within_s: float) -> int | None:
        try:
            return await asyncio.wait_for(self.process.wait(), within_s)
        except TimeoutError:
            return None

    async def stop(self, within_s: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM, then SIGKILL when it does not go within ``within_s``."""
        if not self.running():
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        if await self.wait(within_s) is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.wait(within_s)


class LabNetwork:
    def __init__(self, topology: Topology, *, keep: bool = False) -> None:
        self.topology = topology
        self.keep = keep
        self.workdir = Path(tempfile.mkdtemp(prefix=f"tnplab{os.getpid()}-{topology.cell}-"))
        self.processes: list[LabProcess] = []
        self._namespaces: list[str] = []
        self._closed = False

    async def __aenter__(self) -> LabNetwork:
        try:
            await self.build()
        except BaseException:
            self.close()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.keep and exc_type is None:
            return
        self.close()

    # --- building --------------------------------------------------------------------

    async def build(self) -> None:
        commands = setup_commands(self.topology)
        self._namespaces = list(self.topology.namespaces)  # before any exists: see close()
        await ip_batch(commands.root_batch)
        # Settings first, while every link is still down: no IPv6 chatter ever starts.
        await asyncio.gather(*(sysctl(ns, s) for ns, s in commands.sysctls.items()))
        await asyncio.gather(*(ip_batch(lines, ns) for ns, lines in commands.netns_batches.items()))
        await self._wait_links_up()

    async def _wait_links_up(self) -> None:
        """Until every addressed link is up: the kernel activates a new bridge up to a
        second late (it batches such events) and drops what the bridge's own address sends
        before that. A switch without an address forwards port to port at once."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        delay = 0.02
        while True:
            addressed = {
                n.netns: {i.name for i in (*n.bridges, *n.interfaces) if i.addresses}
                for n in self.topology.nodes
            }
            watched = [ns for ns, names in addressed.items() if names]
            states = await asyncio.gather(*(link_states(ns) for ns in watched))
            down = [
                f"{ns}/{name} {state}"
                for ns, links in zip(watched, states, strict=True)
                for name, state in links.items()
                if name in addressed[ns] and state != "UP"
            ]
            if not down:
                return
            if time.monotonic() > deadline:
                raise LabError(f"links not up within {READY_TIMEOUT_S:g} s: {', '.join(down)}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def configure_sharers(
        self, forwards: LabForwards, *, drop_unforwarded: bool = False, multicast: bool = False
    ) -> None:
        """Apply each IP sharer's nft table; with ``multicast``, start its multicast routing."""
        for sharer in self.topology.sharers:
            ruleset = sharer_ruleset(sharer, forwards.applied, drop_unforwarded=drop_unforwarded)
            (self.workdir / f"{sharer.side.value}-sharer.nft").write_text(ruleset)
            await nft_apply(sharer.netns, ruleset)
        if multicast:
            await asyncio.gather(*(self._route_multicast(s) for s in self.topology.sharers))

    async def _route_multicast(self, sharer: Sharer) -> None:
        base = self.workdir / f"smcroute-{sharer.side.value}"
        conf = base.with_suffix(".conf")
        conf.write_text(multicast_route_config(sharer))
        ident = f"tnplab-{sharer.netns}"
        argv = [
            "smcrouted",
            "-n",  # foreground: it is our child, and we stop it
            "-N",  # only the interfaces the configuration enables
            "-f", str(conf),
            "-u", str(base.with_suffix(".sock")),
            "-P", str(base.with_suffix(".pid")),
            "-i", ident,
            "-l", "notice",
        ]  # fmt: skip
        proc = await self.start(sharer.netns, argv, name=f"smcroute-{sharer.side.value}")
        await self._wait_for_line(proc, "Ready", "multicast routing (smcrouted)")

    # --- processes -------------------------------------------------------------------

    async def start(
        self, netns: str, argv: Sequence[str], *, name: str, env: dict[str, str] | None = None
    ) -> LabProcess:
        if netns not in self._namespaces:
            raise LabError(f"{netns} is not a namespace of this lab")
        out = self.workdir / f"{name}.out"
        err = self.workdir / f"{name}.err"
        full = in_netns(netns, argv)
        with out.open("wb") as out_f, err.open("wb") as err_f:
            proc = await asyncio.create_subprocess_exec(
                *full,
                stdin=subprocess.DEVNULL,
                stdout=out_f,
                stderr=err_f,
                env=env,
                start_new_session=True,  # a Ctrl-C at the terminal is ours to handle
            )
        lab_proc = LabProcess(name, netns, proc, out, err, tuple(argv))
        self.processes.append(lab_proc)
        return lab_proc

    async def _wait_for_line(self, proc: LabProcess, needle: str, what: str) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        delay = 0.01
        while time.monotonic() < deadline:
            for path in (proc.stdout, proc.stderr):
                if needle in path.read_text(errors="replace"):
                    return
            if not proc.running():
                raise LabError(f"{what} exited: {proc.last_error() or 'no message'}")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)
        raise LabError(f"{what} was not ready within {READY_TIMEOUT_S:g} s")

    async def wait_tcp(
        self, proc: LabProcess, netns: str, host: str, ports: Sequence[int], what: str
    ) -> None:
        """Wait until every port accepts a connection from inside ``netns``, or fail if
        ``proc`` exits first; polled, with a bound."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        loop = asyncio.get_running_loop()
        pending = list(ports)
        delay = 0.01
        while pending:
            if not proc.running():
                raise LabError(f"{what} exited: {proc.last_error() or 'no message'}")
            if time.monotonic() > deadline:
                raise LabError(
                    f"{what} did not accept connections on {host} port(s) "
                    f"{', '.join(map(str, pending))} within {READY_TIMEOUT_S:g} s"
                )
            sock = netns_socket(netns, socket.AF_INET, socket.SOCK_STREAM)
            try:
                await asyncio.wait_for(loop.sock_connect(sock, (host, pending[0])), 1.0)
                pending.pop(0)
                continue
            except (OSError, TimeoutError):
                pass
            finally:
                sock.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.2)

    # --- removal ---------------------------------------------------------------------

    def close(self) -> None:
        """Kill what runs in the lab, delete its namespaces and files. Idempotent, and
        synchronous so a second Ctrl-C cannot cut it short."""
        if self._closed:
            return
        self._closed = True
        with signals_deferred():
            remove_namespaces(self._namespaces, [p.process for p in self.processes])
            shutil.rmtree(self.workdir, ignore_errors=True)


def remove_namespaces(
    namespaces: Sequence[str], own: Sequence[asyncio.subprocess.Process] = ()
) -> list[str]:
    """Kill every process inside the namespaces, delete them; the ones that remain."""
    present = [ns for ns in namespaces if ns in set(list_netns())]
    for proc in own:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while True:
        inside = [pid for ns in present for pid in netns_pids(ns)]
        if not inside or time.monotonic() > deadline:
            break
        for pid in inside:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    if present:
        ip_batch_sync(teardown_batch(present))
    return [ns for ns in present if ns in set(list_netns())]
