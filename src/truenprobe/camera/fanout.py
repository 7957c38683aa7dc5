"""One system call per frame for every unicast UDP session of a feed (Linux).

Per packet and session only the 12-byte RTP header differs (sequence, timestamp,
SSRC). Writing it in Python for every session was most of the camera's CPU per added
session, so a ``UnicastFanout`` writes the headers of all its sessions for a frame with
a few big-integer operations: each header field of each session is a lane of one
integer, and the frame's timestamp and sequence advance are added to every lane at
once. The kernel then gets the whole frame for every session in one ``sendmmsg``
call, each datagram gathered from its header and its payload straight from the
packetized clip. Python's work per frame no longer grows with the number of sessions
(only the C loops inside the integer operations do); the kernel's does, as it must.

(Handing runs of full-size packets to the kernel as one UDP GSO message each was tried
and measured: no gain on loopback, where the receiving side cuts them again, and it
adds failure modes on real paths, so it is not done.)

``UnicastFanout.usable(sock)`` says whether this works here (Linux, a C library with
``sendmmsg``, 64-bit, IPv4); elsewhere each session sends its own packets
(``UdpSender``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import logging
import socket
import struct
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from truenprobe.camera.media import Clip, Feed, Frame
from truenprobe.rtp.packet import RTCP_SR, RTP_HEADER, RTP_VERSION, ntp_timestamp

if TYPE_CHECKING:
    from truenprobe.camera.sinks import UdpSender

log = logging.getLogger(__name__)

RTP_HEADER_SIZE = RTP_HEADER.size
# The socket's buffer is full: nothing more goes out in this frame.
BUFFER_FULL = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS})

_IOVEC = struct.Struct("=QQ")  # struct iovec {void *base; size_t len} on 64-bit Linux
IOVEC_SIZE = _IOVEC.size
_SR_HEAD = bytes((RTP_VERSION << 6, RTCP_SR)) + (6).to_bytes(2, "big")  # 7 words in all

# One header record as a pattern: [0x80][PT|M][sequence][timestamp][SSRC], big-endian.
_SEQUENCE_ONE = bytes(3) + b"\x01" + bytes(8)
_SEQUENCE_MASK = bytes(2) + b"\xff\xff" + bytes(8)
_TIMESTAMP_ONE = bytes(7) + b"\x01" + bytes(4)
_TIMESTAMP_MASK = bytes(4) + b"\xff\xff\xff\xff" + bytes(4)


class _MsgHdr(ctypes.Structure):
    _fields_ = (
        ("msg_name", ctypes.c_void_p),
        ("msg_namelen", ctypes.c_uint32),
        ("msg_iov", ctypes.c_void_p),
        ("msg_iovlen", ctypes.c_size_t),
        ("msg_control", ctypes.c_void_p),
        ("msg_controllen", ctypes.c_size_t),
        ("msg_flags", ctypes.c_int),
    )


class _MMsgHdr(ctypes.Structure):
    _fields_ = (("msg_hdr", _MsgHdr), ("msg_len", ctypes.c_uint))


@functools.cache
def _sendmmsg() -> Callable[..., int] | None:
    if sys.platform != "linux" or ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.sendmmsg
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int)
    function.restype = ctypes.c_int
    return function


def _address_of(data: bytes) -> int:
    """Where a bytes object keeps its data (it never moves while the object lives)."""
    return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value or 0


def _sockaddr_in(address: tuple[str, int]) -> bytes:
    """struct sockaddr_in: family (host order), port, address (network order), zeros."""
    host, port = address
    family = struct.pack("=H", socket.AF_INET)
    return family + struct.pack("!H", port) + socket.inet_aton(host) + bytes(8)


def _payload_iovecs(frame: Frame) -> bytes:
    """One member's iovecs of a frame: the header entries blank, the payloads filled in."""
    return b"".join(bytes(IOVEC_SIZE) + _IOVEC.pack(_address_of(p), len(p)) for p in frame.payloads)


@dataclass(frozen=True)
class _Shape:
    """The integers all members' headers of a frame come from (see ``_Members.shape``)."""

    static: int  # version, payload type, marker, SSRC
    sequences: int  # each member's sequence offset (+ packet index) in its sequence lanes
    sequence_ones: int
    sequence_mask: int
    timestamps: int  # each member's timestamp base in its timestamp lanes
    timestamp_ones: int
    timestamp_mask: int
    header_iovecs: int  # the iovecs of the headers (payload entries blank), little-endian


@dataclass(frozen=True)
class _Messages:
    array: Any  # ctypes array of struct mmsghdr, member after member
    address: int
    per_member: int


class _Members:
    """Everything that depends on who is in the fan-out, built again when that changes.

    Per frame shape (packets per frame, marker) it holds the integers the headers are
    computed from; per number of packets the ``sendmmsg`` message array. The memory the
    kernel reads (addresses, iovecs, headers) lives here too, so the pointers in the
    message arrays stay valid exactly as long as the arrays do.
    """

    def __init__(self, senders: list[UdpSender], payload_type: int, most_packets: int) -> None:
        self.senders = senders
        self.payload_type = payload_type
        names = b"".join(_sockaddr_in(s.rtp_address) for s in senders)
        self.name_size = len(names) // len(senders)
        self.names = ctypes.create_string_buffer(names, len(names))
        # One buffer: every record's two iovecs (header, payload), then the headers.
        records = most_packets * len(senders)
        self.header_offset = 2 * IOVEC_SIZE * records
        self.memory = ctypes.create_string_buffer(self.header_offset + RTP_HEADER_SIZE * records)
        self.view = memoryview(self.memory).cast("B")
        self._shapes: dict[tuple[int, bool], _Shape] = {}
        self._messages: dict[int, _Messages] = {}

    def shape(self, packets: int, marker: bool) -> _Shape:
        """The integers a frame's headers (and header iovecs) come from, for a frame shape.

        Headers are 12-byte records, member after member, each member's ``packets``
        records in a row: [0x80][PT|M][sequence][timestamp][SSRC], read big-endian.
        """
        key = (packets, marker)
        found = self._shapes.get(key)
        if found is not None:
            return found
        pt = self.payload_type
        heads = [bytes((0x80, pt))] * packets
        if marker:
            heads[-1] = bytes((0x80, pt | 0x80))
        static, sequences, timestamps = [], [], []
        for sender in self.senders:
            ssrc = sender.ssrc.to_bytes(4, "big")
            base = bytes(4) + sender.timestamp_base.to_bytes(4, "big") + bytes(4)
            for k in range(packets):
                static.append(heads[k] + bytes(6) + ssrc)
                offset = (sender.batch_offset + k) & 0xFFFF
                sequences.append(bytes(2) + offset.to_bytes(2, "big") + bytes(8))
                timestamps.append(base)
        records = len(static)
        headers = ctypes.addressof(self.memory) + self.header_offset
        # The header iovec of record r is entry 2r; its payload's (per frame) is 2r + 1.
        header_iovecs = b"".join(
            _IOVEC.pack(headers + RTP_HEADER_SIZE * r, RTP_HEADER_SIZE) + bytes(IOVEC_SIZE)
            for r in range(records)
        )
        found = _Shape(
            static=int.from_bytes(b"".join(static), "big"),
            sequences=int.from_bytes(b"".join(sequences), "big"),
            sequence_ones=int.from_bytes(_SEQUENCE_ONE * records, "big"),
            sequence_mask=int.from_bytes(_SEQUENCE_MASK * records, "big"),
            timestamps=int.from_bytes(b"".join(timestamps), "big"),
            timestamp_ones=int.from_bytes(_TIMESTAMP_ONE * records, "big"),
            timestamp_mask=int.from_bytes(_TIMESTAMP_MASK * records, "big"),
            header_iovecs=int.from_bytes(header_iovecs, "little"),
        )
        self._shapes[key] = found
        return found

    def messages(self, packets: int) -> _Messages:
        """The message array for frames of ``packets`` packets: member after member.

        Message r sends record r: its iovecs 2r (header) and 2r + 1 (payload).
        """
        found = self._messages.get(packets)
        if found is not None:
            return found
        array = (_MMsgHdr * (len(self.senders) * packets))()
        names, iovecs = ctypes.addressof(self.names), ctypes.addressof(self.memory)
        for record in range(len(array)):
            header = array[record].msg_hdr
            header.msg_name = names + self.name_size * (record // packets)
            header.msg_namelen = self.name_size
            header.msg_iov = iovecs + 2 * IOVEC_SIZE * record
            header.msg_iovlen = 2
        found = _Messages(array, ctypes.addressof(array), packets)
        self._messages[packets] = found
        return found


class _Reports:
    """The members' RTCP sender reports (RFC 3550 6.4.1, with SDES), written at once.

    Every member's compound report has the same length (one CNAME for the camera), so
    the reports are records of one integer like the RTP headers: the NTP time is the
    same for all, the RTP timestamp and the counts are lanes of a base per member plus
    the fan-out's own value.
    """

    def __init__(self, senders: list[UdpSender], rtcp_addresses: list[tuple[str, int]]) -> None:
        sdes = [s.sdes() for s in senders]
        self.size = 28 + len(sdes[0])
        count = len(senders)
        zeros = bytes(len(sdes[0]))

        def lanes(offset: int, values: list[int]) -> int:
            fields = (
                bytes(offset) + (v & 0xFFFFFFFF).to_bytes(4, "big") + bytes(24 - offset) + zeros
                for v in values
            )
            return int.from_bytes(b"".join(fields), "big")

        self.static = int.from_bytes(
            b"".join(
                _SR_HEAD + s.ssrc.to_bytes(4, "big") + bytes(20) + d
                for s, d in zip(senders, sdes, strict=True)
            ),
            "big",
        )
        self.ntp_ones = int.from_bytes((bytes(15) + b"\x01" + bytes(12) + zeros) * count, "big")
        self.timestamps = lanes(16, [s.timestamp_base for s in senders])
        self.packets = lanes(20, [s.batch_packets for s in senders])
        self.octets = lanes(24, [s.batch_octets for s in senders])
        self.timestamp_ones, self.packet_ones, self.octet_ones = (
            lanes(offset, [1] * count) for offset in (16, 20, 24)
        )
        self.timestamp_mask, self.packet_mask, self.octet_mask = (
            lanes(offset, [0xFFFFFFFF] * count) for offset in (16, 20, 24)
        )
        # Memory: one iovec per report, then the reports; one message per member.
        self.reports_offset = IOVEC_SIZE * count
        self.memory = ctypes.create_string_buffer(self.reports_offset + self.size * count)
        self.view = memoryview(self.memory).cast("B")
        base = ctypes.addressof(self.memory)
        iovecs = b"".join(
            _IOVEC.pack(base + self.reports_offset + self.size * r, self.size) for r in range(count)
        )
        self.view[: len(iovecs)] = iovecs
        names = b"".join(_sockaddr_in(a) for a in rtcp_addresses)
        self.names = ctypes.create_string_buffer(names, len(names))
        self.messages = (_MMsgHdr * count)()
        name_size = len(names) // count
        for r in range(count):
            header = self.messages[r].msg_hdr
            header.msg_name = ctypes.addressof(self.names) + name_size * r
            header.msg_namelen = name_size
            header.msg_iov = base + IOVEC_SIZE * r
            header.msg_iovlen = 1
        self.address = ctypes.addressof(self.messages)

    def write(self, ntp: int, ticks: int, packets: int, octets: int) -> None:
        """Every member's report for this instant, into the memory the messages point at."""
        reports = (
            self.static
            | ntp * self.ntp_ones
            | ((self.timestamps + (ticks & 0xFFFFFFFF) * self.timestamp_ones) & self.timestamp_mask)
            | ((self.packets + (packets & 0xFFFFFFFF) * self.packet_ones) & self.packet_mask)
            | ((self.octets + (octets & 0xFFFFFFFF) * self.octet_ones) & self.octet_mask)
        ).to_bytes(self.size * len(self.messages), "big")
        self.view[self.reports_offset : self.reports_offset + len(reports)] = reports


class UnicastFanout:
    """Sends a feed's frames to every unicast UDP session that plays it from one socket.

    A sender joins when its session plays and leaves when it pauses or ends. A video
    sender waits for a keyframe before its first packet (as ``UdpSender`` does alone).
    While a sender is in the fan-out its sequence and counts advance here; ``settle``
    writes them back to it (before a sender report, when it leaves).
    """

    def __init__(
        self, sock: socket.socket, rtcp_sock: socket.socket, clip: Clip, feed: Feed
    ) -> None:
        self._sock = sock
        self._rtcp_sock = rtcp_sock
        self._reports: _Reports | None = None
        self._clip = clip  # the iovecs point into its payloads: it must outlive them
        self._feed = feed
        self._most_packets = max(len(f.payloads) for f in clip.frames)
        self._active: dict[UdpSender, None] = {}  # ordered: the members' order in memory
        self._waiting: list[UdpSender] = []
        self._members: _Members | None = None
        self._payloads: dict[int, bytes] = {}  # by id() of the clip's frames
        # What every active member got since this fan-out started (a sender keeps the
        # difference at joining, so these never need a per-member update).
        self.packets = 0
        self.octets = 0
        self.last_ticks: int | None = None
        self.last_send = 0.0

    @staticmethod
    def usable(sock: socket.socket) -> bool:
        return sock.family == socket.AF_INET and _sendmmsg() is not None

    def __len__(self) -> int:
        return len(self._active) + len(self._waiting)

    # -- membership ----------------------------------------------------------------------
    def join(self, sender: UdpSender) -> None:
        if sender in self._active or sender in self._waiting:
            return
        if not self:
            self._feed.subscribe(self)
        sender.waiting_for_keyframe = sender.keyframes_only_start
        self._waiting.append(sender)

    def leave(self, sender: UdpSender) -> None:
        if sender in self._active:
            self.settle(sender)
            del self._active[sender]
            self._members = self._reports = None
        elif sender in self._waiting:
            self._waiting.remove(sender)
        if not self:
            self._feed.unsubscribe(self)

    def settle(self, sender: UdpSender) -> None:
        """Write the fan-out's counts since the sender started here back to it."""
        if sender not in self._active:
            return
        sender.sequence = (sender.batch_offset + self.packets) & 0xFFFF
        sender.packets = sender.batch_packets + self.packets
        sender.octets = sender.batch_octets + self.octets
        if self.last_ticks is not None and self.packets != sender.batch_start:
            sender.last_timestamp = sender.rtp_timestamp(self.last_ticks)
            sender.last_send = self.last_send

    def _start(self, sender: UdpSender) -> None:
        # Offsets such that ``value = offset + fan-out count`` continues the sender's own.
        sender.batch_offset = (sender.sequence - self.packets) & 0xFFFF
        sender.batch_packets = sender.packets - self.packets
        sender.batch_octets = sender.octets - self.octets
        sender.batch_start = self.packets
        sender.waiting_for_keyframe = False
        self._active[sender] = None
        self._members = self._reports = None

    def _stop(self, sender: UdpSender) -> None:
        """A send to it failed: it starts again at the next keyframe, like a lone sender."""
        self.settle(sender)
        del self._active[sender]
        self._members = self._reports = None
        sender.send_errors += 1
        sender.waiting_for_keyframe = sender.keyframes_only_start
        self._waiting.append(sender)

    # -- sending -------------------------------------------------------------------------
    def send_reports(self, now: float) -> None:
        """Every member's sender report (those that have sent), in one system call."""
        if not self._active or self.last_ticks is None:
            return
        senders = list(self._active)
        reports = self._reports
        if reports is None:
            addresses = [s.rtcp_address for s in senders]
            reports = self._reports = _Reports(senders, addresses)
        elapsed = max(0.0, now - self.last_send)
        ticks = self.last_ticks + int(elapsed * self._clip.clock_rate)
        reports.write(ntp_timestamp(time.time()), ticks, self.packets, self.octets)
        messages = _Messages(reports.messages, reports.address, 1)
        for sender in self._transmit(self._rtcp_sock, senders, messages):
            sender.send_errors += 1

    def send_frame(self, frame: Frame, timestamp: int, now: float) -> None:
        started: list[UdpSender] = []
        if self._waiting and (frame.keyframe or not self._clip.starts_on_keyframe):
            started, self._waiting = self._waiting, []
            for sender in started:
                self._start(sender)
            # They go first: a member that lost a frame to a full send buffer (the tail
            # of the order) must not stand at the tail again for the keyframe, the
            # largest frame, or the same members could lose every keyframe.
            self._active = dict.fromkeys([*started, *self._active])
        if not self._active:
            return
        members = self._members
        if members is None:
            members = self._members = _Members(
                list(self._active), self._clip.media.payload_type, self._most_packets
            )
        failed = self._send(members, frame, timestamp)
        self.packets += len(frame.payloads)
        self.octets += frame.octets
        self.last_ticks = timestamp
        self.last_send = now
        for sender in failed:
            self._stop(sender)
        # The first sender report goes out with the first packets: a receiver waiting
        # for one (to map RTP time to wall clock) need not wait for the next second.
        for sender in started:
            if sender not in failed:
                report = sender.sender_report(now)
                if report is not None:
                    sender.send_rtcp(report)

    def _send(self, members: _Members, frame: Frame, timestamp: int) -> list[UdpSender]:
        """Write this frame's iovecs and headers, send; the members whose sends failed."""
        payloads = self._payloads.get(id(frame))
        if payloads is None:
            payloads = self._payloads[id(frame)] = _payload_iovecs(frame)
        packets = len(frame.payloads)
        records = packets * len(members.senders)
        shape = members.shape(packets, frame.marker)
        # A carry out of a lane lands in the field above it, which the mask clears.
        sequences = shape.sequences + (self.packets & 0xFFFF) * shape.sequence_ones
        timestamps = shape.timestamps + (timestamp & 0xFFFFFFFF) * shape.timestamp_ones
        headers = (
            shape.static | (sequences & shape.sequence_mask) | (timestamps & shape.timestamp_mask)
        ).to_bytes(RTP_HEADER_SIZE * records, "big")
        iovecs = (
            int.from_bytes(payloads * len(members.senders), "little") | shape.header_iovecs
        ).to_bytes(2 * IOVEC_SIZE * records, "little")
        view = members.view
        view[: len(iovecs)] = iovecs
        view[members.header_offset : members.header_offset + len(headers)] = headers
        return self._transmit(self._sock, members.senders, members.messages(packets))

    @staticmethod
    def _transmit(
        sock: socket.socket, senders: list[UdpSender], messages: _Messages
    ) -> list[UdpSender]:
        """Send every message (``per_member`` a sender, in order); whose sends failed."""
        sendmmsg = _sendmmsg()
        if sendmmsg is None:  # usable() was asked before this fan-out was made
            raise RuntimeError("sendmmsg is not available")
        per_member = messages.per_member
        total = per_member * len(senders)
        fd = sock.fileno()
        failed: list[UdpSender] = []
        done = 0
        while done < total:
            sent = sendmmsg(fd, messages.address + done * _MESSAGE_SIZE, total - done, 0)
            if sent > 0:
                done += sent
                continue
            code = ctypes.get_errno()
            if code == errno.EINTR:
                continue
            member = done // per_member
            if code in BUFFER_FULL:  # everyone not yet served misses this round
                failed += senders[member:]
                break
            failed.append(senders[member])  # its path refuses (unreachable, firewall)
            done = (member + 1) * per_member
        return failed


_MESSAGE_SIZE = ctypes.sizeof(_MMsgHdr)
