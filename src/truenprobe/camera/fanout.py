"""One system call per frame for every unicast UDP session of a feed (Linux).

Per packet and session only the 12-byte RTP header differs (sequence, timestamp,
SSRC). Writing it in Python for every session was most of the camera's CPU per added
session, so a ``UnicastFanout`` writes the headers of all its sessions for a frame with
a few big-integer operations: each header field of each session is a lane of one
integer, and the frame's timestamp and sequence advance are added to every lane at
once. The kernel then gets the whole frame for every session in one ``sendmmsg``
call: each message gathers [header, payload, header, payload, ...] straight from the
packetized clip, and a run of full-size packets is one message that the kernel cuts
into the same datagrams (UDP GSO). Python's work per frame no longer grows with the
number of sessions; the kernel's does, as it must.

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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from truenprobe.camera.media import RTP_HEADER_SIZE, Clip, Feed, Frame

if TYPE_CHECKING:
    from truenprobe.camera.sinks import UdpSender

log = logging.getLogger(__name__)

UDP_SEGMENT = 103  # Linux: setsockopt/cmsg level SOL_UDP, the GSO segment size
# A GSO message fails with these where GSO cannot be used: no checksum offload (old
# kernels), a path MTU below the segment, a kernel without UDP_SEGMENT.
GSO_REFUSED = frozenset({errno.EIO, errno.EINVAL, errno.EMSGSIZE, errno.ENOPROTOOPT})
# The socket's buffer is full: nothing more goes out in this frame.
BUFFER_FULL = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS})

_IOVEC = struct.Struct("=QQ")  # struct iovec {void *base; size_t len} on 64-bit Linux
_SEQ_ONE = (1).to_bytes(4, "big")  # lowest bit of a header's sequence field (bytes 2-3)


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
    return (
        struct.pack("=H", socket.AF_INET)
        + struct.pack("!H", port)
        + socket.inet_aton(host)
        + bytes(8)
    )


class _Members:
    """Everything that depends on who is in the fan-out, built again when that changes.

    Per frame shape (packets per frame, marker) it holds the integers the headers are
    computed from; per burst layout the ``sendmmsg`` message array. The buffers the
    kernel reads (headers, iovecs, addresses) live here too, so the pointers in the
    message arrays stay valid exactly as long as the arrays do.
    """

    def __init__(self, senders: list[UdpSender], payload_type: int) -> None:
        self.senders = senders
        self.payload_type = payload_type
        names = b"".join(_sockaddr_in(s.rtp_address) for s in senders)
        self.name_size = len(names) // len(senders)
        self.names = ctypes.create_string_buffer(names, len(names))
        self.headers = ctypes.create_string_buffer(0)
        self.iovecs = ctypes.create_string_buffer(0)
        self._shapes: dict[tuple[int, bool], tuple[int, int, int, int, int, int, int, int]] = {}
        self._messages: dict[tuple[tuple[int, int, int], ...], Any] = {}
        self._controls: dict[int, ctypes.Array[ctypes.c_char]] = {}

    def reserve(self, packets: int) -> None:
        """Room for the headers and iovecs of a frame of ``packets`` packets."""
        records = packets * len(self.senders)
        if ctypes.sizeof(self.headers) < RTP_HEADER_SIZE * records:
            # Addresses change: the cached shapes and messages point at the old buffers.
            self.headers = ctypes.create_string_buffer(2 * RTP_HEADER_SIZE * records)
            self.iovecs = ctypes.create_string_buffer(2 * 2 * _IOVEC.size * records)
            self._shapes.clear()
            self._messages.clear()

    def shape(self, packets: int, marker: bool) -> tuple[int, int, int, int, int, int, int, int]:
        """The integers a frame's headers (and header iovecs) come from, for a frame shape.

        Headers are records of 12 bytes, member after member, each member's ``packets``
        records in a row: [0x80][PT|M][sequence][timestamp][SSRC], read big-endian.
        """
        key = (packets, marker)
        found = self._shapes.get(key)
        if found is not None:
            return found
        pt = self.payload_type
        heads = [bytes((0x80, pt)) for _ in range(packets)]
        if marker:
            heads[-1] = bytes((0x80, pt | 0x80))
        static, offsets, bases = [], [], []
        for sender in self.senders:
            ssrc = sender.ssrc.to_bytes(4, "big")
            base = sender.timestamp_base.to_bytes(4, "big")
            for k in range(packets):
                static.append(heads[k] + bytes(6) + ssrc)
                offsets.append(bytes(2) + ((sender.batch_offset + k) & 0xFFFF).to_bytes(2, "big"))
                bases.append(bytes(4) + base)
        records = len(static)
        seq_ones = (bytes(3) + b"\x01" + bytes(8)) * records
        seq_mask = (bytes(2) + b"\xff\xff" + bytes(8)) * records
        ts_ones = (bytes(7) + b"\x01" + bytes(4)) * records
        ts_mask = (bytes(4) + b"\xff\xff\xff\xff" + bytes(4)) * records
        header_base = ctypes.addressof(self.headers)
        # The header iovec of record r is entry 2r; its payload (per frame) is 2r + 1.
        header_iovecs = b"".join(
            _IOVEC.pack(header_base + RTP_HEADER_SIZE * r, RTP_HEADER_SIZE) + bytes(_IOVEC.size)
            for r in range(records)
        )
        found = (
            int.from_bytes(b"".join(static), "big"),
            int.from_bytes(b"".join(o + bytes(8) for o in offsets), "big"),
            int.from_bytes(seq_ones, "big"),
            int.from_bytes(seq_mask, "big"),
            int.from_bytes(b"".join(b + bytes(4) for b in bases), "big"),
            int.from_bytes(ts_ones, "big"),
            int.from_bytes(ts_mask, "big"),
            int.from_bytes(header_iovecs, "little"),
        )
        self._shapes[key] = found
        return found

    def messages(self, frame: Frame, gso: bool) -> Any:
        """The message array for this frame's burst layout: member after member."""
        if gso:
            layout = tuple((b.first, b.count, b.segment) for b in frame.bursts)
        else:
            layout = tuple((i, 1, 0) for i in range(len(frame.payloads)))
        found = self._messages.get(layout)
        if found is not None:
            return found
        packets = len(frame.payloads)
        array = (_MMsgHdr * (len(self.senders) * len(layout)))()
        names, iovecs = ctypes.addressof(self.names), ctypes.addressof(self.iovecs)
        index = 0
        for member in range(len(self.senders)):
            for first, count, segment in layout:
                header = array[index].msg_hdr
                header.msg_name = names + self.name_size * member
                header.msg_namelen = self.name_size
                header.msg_iov = iovecs + _IOVEC.size * 2 * (member * packets + first)
                header.msg_iovlen = 2 * count
                if count > 1:
                    control = self._control(segment)
                    header.msg_control = ctypes.addressof(control)
                    header.msg_controllen = ctypes.sizeof(control)
                index += 1
        self._messages[layout] = array
        return array

    def _control(self, segment: int) -> ctypes.Array[ctypes.c_char]:
        """A control message that makes a message GSO with this segment size."""
        control = self._controls.get(segment)
        if control is None:
            # struct cmsghdr {size_t len; int level; int type}, a u16, padded to 8 bytes
            data = struct.pack("=QiiH", 16 + 2, socket.SOL_UDP, UDP_SEGMENT, segment)
            control = ctypes.create_string_buffer(data + bytes(6), 24)
            self._controls[segment] = control
        return control


class UnicastFanout:
    """Sends a feed's frames to every unicast UDP session that plays it from one socket.

    A sender joins when its session plays and leaves when it pauses or ends. A video
    sender waits for a keyframe before its first packet (as ``UdpSender`` does alone).
    While a sender is in the fan-out its sequence and counters advance here; ``settle``
    writes them back to it (before a sender report, when it leaves).
    """

    def __init__(self, sock: socket.socket, clip: Clip, feed: Feed) -> None:
        self._sock = sock
        self._clip = clip  # the iovecs point into its payloads: they must outlive us
        self._feed = feed
        self._active: list[UdpSender] = []
        self._waiting: list[UdpSender] = []
        self._members: _Members | None = None
        self._gso = True
        self._payload_iovecs: dict[int, bytes] = {}
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
            self._active.remove(sender)
            self._members = None
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
        self._active.append(sender)
        self._members = None

    def _stop(self, sender: UdpSender) -> None:
        """A send to it failed: it starts again at the next keyframe, like a lone sender."""
        self.settle(sender)
        self._active.remove(sender)
        self._members = None
        sender.send_errors += 1
        sender.waiting_for_keyframe = sender.keyframes_only_start
        self._waiting.append(sender)

    # -- sending -------------------------------------------------------------------------
    def send_frame(self, frame: Frame, timestamp: int, now: float) -> None:
        started = []
        if self._waiting and (frame.keyframe or not self._clip.starts_on_keyframe):
            started, self._waiting = self._waiting, []
            for sender in started:
                sender.waiting_for_keyframe = False
                self._start(sender)
        if not self._active:
            return
        members = self._members
        if members is None:
            members = self._members = _Members(list(self._active), self._clip.media.payload_type)
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
        """Write this frame's headers and iovecs, send; the members whose sends failed."""
        packets = len(frame.payloads)
        count = len(members.senders)
        members.reserve(packets)
        static, offsets, seq_ones, seq_mask, bases, ts_ones, ts_mask, header_iovecs = members.shape(
            packets, frame.marker
        )
        sequence = self.packets & 0xFFFF
        headers = (
            static
            | ((offsets + sequence * seq_ones) & seq_mask)
            | ((bases + (timestamp & 0xFFFFFFFF) * ts_ones) & ts_mask)
        ).to_bytes(RTP_HEADER_SIZE * packets * count, "big")
        ctypes.memmove(members.headers, headers, len(headers))
        iovecs = (int.from_bytes(self._payloads(frame) * count, "little") | header_iovecs).to_bytes(
            2 * _IOVEC.size * packets * count, "little"
        )
        ctypes.memmove(members.iovecs, iovecs, len(iovecs))
        gso = self._gso and len(frame.bursts) < packets
        messages = members.messages(frame, gso)
        failed, refused = self._transmit(members, messages, 0)
        if refused is not None:
            # Send the rest one datagram a message, and so from now on.
            log.warning("UDP GSO refused (%s): one datagram a message from now on", refused[1])
            self._gso = False
            member, burst = divmod(refused[0], len(frame.bursts))
            resume = member * packets + frame.bursts[burst].first
            failed += self._transmit(members, members.messages(frame, False), resume)[0]
        return failed

    def _transmit(
        self, members: _Members, messages: Any, first: int
    ) -> tuple[list[UdpSender], tuple[int, str] | None]:
        """Send the messages from index ``first`` on.

        Returns the members whose sends failed, and, if GSO was refused, the index of
        the message it was refused for and why: nothing after it was sent.
        """
        sendmmsg = _sendmmsg()
        if sendmmsg is None:  # usable() was asked before this fan-out was made
            raise RuntimeError("sendmmsg is not available")
        total = len(messages)
        per_member = total // len(members.senders)
        size = ctypes.sizeof(_MMsgHdr)
        base = ctypes.addressof(messages)
        fd = self._sock.fileno()
        failed: list[UdpSender] = []
        done = first
        while done < total:
            sent = sendmmsg(fd, base + done * size, total - done, 0)
            if sent > 0:
                done += sent
                continue
            code = ctypes.get_errno()
            if code == errno.EINTR:
                continue
            member = done // per_member
            if code in BUFFER_FULL:  # everyone not yet served misses this frame
                failed += members.senders[member:]
                break
            if code in GSO_REFUSED and messages[done].msg_hdr.msg_control:
                return failed, (done, errno.errorcode.get(code, str(code)))
            failed.append(members.senders[member])  # its path refuses (unreachable, firewall)
            done = (member + 1) * per_member
        return failed, None

    def _payloads(self, frame: Frame) -> bytes:
        """One member's iovecs of a frame with the payloads filled in, headers blank."""
        found = self._payload_iovecs.get(id(frame))
        if found is None:
            found = b"".join(
                bytes(_IOVEC.size) + _IOVEC.pack(_address_of(p), len(p)) for p in frame.payloads
            )
            self._payload_iovecs[id(frame)] = found
        return found
