"""`check --pcap FILE`: record what the probe sent and received, for a ticket.

The recording is what ``tcpdump -i any`` would write (link type LINUX_SLL2, every
interface, the packets' direction kept), restricted by a kernel BPF filter built from
the plan: everything to or from the camera, the plan's UDP ports, IGMP/MLD and ICMP.
``truenprobe analyze`` reads it back like any customer capture.

Why not scapy's ``AsyncSniffer``: it turns every packet into a scapy object, about
3,000 packets a second here, slower than one camera's video. A packet socket that
receives the network layer (``SOCK_DGRAM``) and writes it out with a 20-byte header
keeps up easily. scapy is still used, only when a recording starts, to compile the
filter (through libpcap); without libpcap the filter runs in Python instead.

Capturing needs root or CAP_NET_RAW; without them ``start()`` reports one line and
the check runs unrecorded.
"""

from __future__ import annotations

import contextlib
import ctypes
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from truenprobe.capture.layers import LINK_RAW, PROTO_ICMP, PROTO_ICMPV6, PROTO_IGMP, ip_of_frame
from truenprobe.plan.model import Plan, PortRange

ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35  # Linux socket options Python does not name
SO_ATTACH_FILTER = 26
SNAPLEN = 262144
_PCAP_NS_HEADER = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, SNAPLEN, 276)
_TIMESPEC = struct.Struct("@qq")
_POLL_S = 0.1  # how often the reader thread looks at the stop flag
_JOIN_S = 5.0


def recorded_ports(plan: Plan) -> list[PortRange]:
    """UDP ports the client sends or receives on (its own ports in the plan)."""
    ranges = [f.ports for f in plan.flows if f.protocol == "udp" and f.supported]
    return sorted(set(ranges))


def bpf_expression(plan: Plan, camera_addresses: list[str]) -> str:
    """tcpdump filter syntax: the camera's traffic, the plan's UDP ports, IGMP and ICMP."""
    parts = [f"host {a}" for a in camera_addresses]
    parts += ["igmp", "icmp", "icmp6"]
    ports = [
        f"portrange {r.first}-{r.last}" if r.first != r.last else f"port {r.first}"
        for r in recorded_ports(plan)
    ]
    if ports:
        parts.append(f"(udp and ({' or '.join(ports)}))")
    return " or ".join(parts)


def resolve_camera(camera: str) -> list[str]:
    """The camera's addresses (a name may have several); [] when it does not resolve."""
    try:
        infos = socket.getaddrinfo(camera.strip("[]"), None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


class RecordingError(Exception):
    """Recording cannot start here; the message is one line for the user."""


@dataclass
class _Filter:
    """The same selection as the BPF expression, in Python, for hosts without libpcap."""

    addresses: frozenset[bytes]
    ports: list[PortRange]

    def keep(self, packet: bytes) -> bool:
        ip = ip_of_frame(LINK_RAW, packet, 0, len(packet))
        if ip is None:
            return False
        _v, src, dst, proto, _ttl, pos, end, *_rest = ip
        if src in self.addresses or dst in self.addresses:
            return True
        if proto in (PROTO_IGMP, PROTO_ICMP, PROTO_ICMPV6):
            return True
        if proto == 17 and pos + 4 <= end:
            sport, dport = struct.unpack_from("!HH", packet, pos)
            return any(sport in r or dport in r for r in self.ports)
        return False


@dataclass
class Recorder:
    path: Path
    plan: Plan
    camera: str
    packets: int = 0
    python_filter: bool = False  # libpcap was missing: filtering in Python
    _sock: socket.socket | None = None
    _out: BinaryIO | None = None
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _filter: _Filter | None = None
    _ifindex: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def start(self) -> None:
        """Open the capture and start recording; RecordingError when it cannot."""
        if not hasattr(socket, "AF_PACKET"):
            raise RecordingError("--pcap records on Linux only; the check runs without recording")
        addresses = resolve_camera(self.camera)
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
        except PermissionError:
            raise RecordingError(
                "--pcap: capturing packets needs root or the CAP_NET_RAW capability; the check "
                "runs without recording"
            ) from None
        try:
            self._attach_filter(sock, addresses)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.settimeout(_POLL_S)
            self._out = open(self.path, "wb")  # noqa: SIM115 - closed by stop()
        except OSError as exc:
            sock.close()
            raise RecordingError(
                f"--pcap {self.path}: {exc.strerror or exc}; the check runs without recording"
            ) from None
        self._out.write(_PCAP_NS_HEADER)
        self._sock = sock
        self._thread = threading.Thread(target=self._run, name="truenprobe-pcap", daemon=True)
        self._thread.start()

    def _attach_filter(self, sock: socket.socket, addresses: list[str]) -> None:
        expression = bpf_expression(self.plan, addresses)
        try:
            instructions = _compile_bpf(expression)
        except (ImportError, OSError):
            instructions = None  # no libpcap here
        if instructions is not None:
            count, code = instructions
            program = ctypes.create_string_buffer(code, len(code))
            fprog = struct.pack("HL", count, ctypes.addressof(program))
            # the kernel copies the program now; ``program`` only has to live until then
            sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
            return
        packed = set()
        for a in addresses:
            with contextlib.suppress(OSError):
                packed.add(socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a))
        self._filter = _Filter(frozenset(packed), recorded_ports(self.plan))
        self.python_filter = True

    def _run(self) -> None:
        sock, out = self._sock, self._out
        if sock is None or out is None:
            return
        while not self._stop.is_set():
            try:
                self._receive(sock, out)
            except TimeoutError:
                continue
            except OSError as exc:
                self.error = f"--pcap: recording stopped early: {exc.strerror or exc}"
                return
        # the probe is done: write what is still queued in the socket
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError, InterruptedError, OSError):
            while True:
                self._receive(sock, out)

    def _receive(self, sock: socket.socket, out: BinaryIO) -> None:
        data, ancillary, flags, address = sock.recvmsg(SNAPLEN, 64)
        if self._filter is not None and not self._filter.keep(data):
            return
        seconds = nanoseconds = 0
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanoseconds = _TIMESPEC.unpack_from(value)
        if not seconds:
            seconds, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
        ifname, ethertype, packet_type, hatype, hwaddr = address
        index = self._ifindex.get(ifname)
        if index is None:
            try:
                index = socket.if_nametoindex(ifname)
            except OSError:
                index = 0
            self._ifindex[ifname] = index
        header = struct.pack(
            "!HHIHBB8s", ethertype, 0, index, hatype, packet_type, len(hwaddr), hwaddr[:8]
        )
        frame = header + data
        # a packet longer than the buffer was cut: say so, its true length is unknown
        wire = len(frame) + (1 if flags & socket.MSG_TRUNC else 0)
        out.write(struct.pack("<IIII", seconds, nanoseconds, len(frame), wire) + frame)
        self.packets += 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(_JOIN_S)
        if self._sock is not None:
            self._sock.close()
        if self._out is not None:
            self._out.close()


def _compile_bpf(expression: str) -> tuple[int, bytes]:
    """(instruction count, instructions) of the filter, compiled by libpcap through scapy.

    Compiled for raw IP: a SOCK_DGRAM packet socket filters from the network header on.
    """
    from scapy.arch.common import compile_filter  # scapy, only when a recording starts

    program = compile_filter(expression, linktype=12)  # DLT_RAW
    code = ctypes.string_at(ctypes.addressof(program.bf_insns.contents), program.bf_len * 8)
    return program.bf_len, code


@contextlib.contextmanager
def recording(
    path: Path | None, plan: Plan, camera: str, say: Callable[[str], None]
) -> Iterator[Recorder | None]:
    """Record around a check; ``say`` gets the one-line messages (start failure, summary)."""
    if path is None:
        yield None
        return
    recorder = Recorder(path, plan, camera)
    try:
        recorder.start()
    except RecordingError as exc:
        say(str(exc))
        yield None
        return
    try:
        yield recorder
    finally:
        recorder.stop()
        if recorder.error:
            say(recorder.error)
        say(f"recorded {recorder.packets} packets to {path}")
