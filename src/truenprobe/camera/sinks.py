"""RTP senders: one per track of a session (or per multicast group).

A sender owns what RFC 3550 makes per-stream (a random SSRC, sequence number and
timestamp base) and writes only the 12-byte header in front of payloads that were
packetized once. It also keeps the counts its RTCP sender reports need, and sends its
first sender report right after its first packets (a receiver waiting for one to map
RTP time to wall-clock time need not wait for the once-a-second reports).

Unicast UDP senders on Linux do not send themselves: they join their feed's
``UnicastFanout``, which sends a frame to every session in one system call.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import struct
import time
from typing import TYPE_CHECKING

from truenprobe.camera.media import Clip, Feed, Frame
from truenprobe.rtp.packet import RTCP_SR, RTP_VERSION, build_sdes_cname, ntp_timestamp

if TYPE_CHECKING:
    from truenprobe.camera.fanout import UnicastFanout

_RTP_HEADER = struct.Struct("!BBHII")
# An RTCP sender report without report blocks (RFC 3550 6.4.1), in one pack: every
# session sends one a second, so rtp.packet's general builder is too slow here.
_SENDER_REPORT = struct.Struct("!BBHIIIIII")
_INTERLEAVED = struct.Struct("!cBH")
MAX_TCP_BACKLOG = 512 * 1024  # bytes queued to a slow TCP client before frames are dropped


class RtpSender:
    """Header rewriting and counters; subclasses decide where the bytes go."""

    __slots__ = (
        "_pack",
        "_pt",
        "_pt_marker",
        "_sdes",
        "clock_rate",
        "cname",
        "keyframes_only_start",
        "last_send",
        "last_timestamp",
        "octets",
        "packets",
        "sequence",
        "ssrc",
        "timestamp_base",
        "waiting_for_keyframe",
    )

    def __init__(self, clip: Clip, cname: str) -> None:
        self.ssrc = secrets.randbits(32)
        self.sequence = secrets.randbits(16)
        self.timestamp_base = secrets.randbits(32)
        self.clock_rate = clip.clock_rate
        self.cname = cname
        self._pt = clip.media.payload_type
        self._pt_marker = self._pt | 0x80
        self._pack = _RTP_HEADER.pack
        self.keyframes_only_start = clip.starts_on_keyframe
        self.waiting_for_keyframe = clip.starts_on_keyframe
        self.packets = 0
        self.octets = 0
        self.last_timestamp: int | None = None  # RTP timestamp of the last frame sent
        self.last_send = 0.0  # loop time it went out
        self._sdes: bytes | None = None

    def rtp_timestamp(self, clip_ticks: int) -> int:
        return (self.timestamp_base + clip_ticks) & 0xFFFFFFFF

    def attach(self, feed: Feed) -> None:
        """Start receiving the feed's frames (the session plays)."""
        feed.subscribe(self)

    def detach(self, feed: Feed) -> None:
        """Stop receiving them (the session pauses or ends)."""
        feed.unsubscribe(self)

    def settle(self) -> None:
        """Bring the sequence number and counts up to date (a fan-out keeps them)."""

    def next_sequence(self) -> int:
        """The sequence number of the next packet (for RTP-Info)."""
        self.settle()
        return self.sequence

    def _first_report(self, now: float) -> None:
        report = self.sender_report(now)
        if report is not None:
            self.send_rtcp(report)

    def send_frame(self, frame: Frame, timestamp: int, now: float) -> None:
        if self.waiting_for_keyframe:
            if not frame.keyframe:
                return
            self.waiting_for_keyframe = False
        if not self._ready():  # a dropped picture breaks the chain until the next keyframe
            self.waiting_for_keyframe = self.keyframes_only_start
            return
        ts = (self.timestamp_base + timestamp) & 0xFFFFFFFF
        seq = self.sequence
        last = len(frame.payloads) - 1
        pack, ssrc, pt = self._pack, self.ssrc, self._pt
        for i, payload in enumerate(frame.payloads):
            second = self._pt_marker if (i == last and frame.marker) else pt
            self._emit(pack(0x80, second, seq, ts, ssrc), payload)
            seq = (seq + 1) & 0xFFFF
        self.sequence = seq
        self.packets += len(frame.payloads)
        self.octets += frame.octets
        first = self.last_timestamp is None
        self.last_timestamp = ts
        self.last_send = now
        if first:
            self._first_report(now)

    def sender_report(self, now_loop: float) -> bytes | None:
        """An SR + SDES compound packet, or None before the first RTP packet."""
        self.settle()
        if self.last_timestamp is None:
            return None
        elapsed = max(0.0, now_loop - self.last_send)
        rtp_now = (self.last_timestamp + int(elapsed * self.clock_rate)) & 0xFFFFFFFF
        ntp = ntp_timestamp(time.time())
        report = _SENDER_REPORT.pack(
            RTP_VERSION << 6,
            RTCP_SR,
            6,  # length in 32-bit words, minus one
            self.ssrc,
            ntp >> 32,
            ntp & 0xFFFFFFFF,
            rtp_now,
            self.packets & 0xFFFFFFFF,
            self.octets & 0xFFFFFFFF,
        )
        return report + self.sdes()

    def sdes(self) -> bytes:
        """The SDES (CNAME) part of every report: the same each time, built once."""
        if self._sdes is None:
            self._sdes = build_sdes_cname(self.ssrc, self.cname)
        return self._sdes

    def _ready(self) -> bool:
        return True

    def _emit(self, header: bytes, payload: bytes) -> None:
        raise NotImplementedError

    def send_rtcp(self, packet: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release what this sender owns (nothing, unless a subclass says otherwise)."""


class UdpSender(RtpSender):
    """Unicast or multicast over UDP from the camera's server (or multicast) sockets.

    With a ``fanout`` (unicast on Linux) the fan-out sends this session's packets and
    keeps its sequence and counts (``batch_*`` relate them to the fan-out's own);
    otherwise it sends them itself, from its own connected socket if it has one.
    """

    __slots__ = (
        "_connected",
        "_fanout",
        "_rtcp_addr",
        "_rtcp_sock",
        "_rtp_addr",
        "_sendto",
        "batch_octets",
        "batch_offset",
        "batch_packets",
        "batch_start",
        "send_errors",
    )

    def __init__(
        self,
        clip: Clip,
        cname: str,
        rtp_sock: socket.socket,
        rtcp_sock: socket.socket,
        rtp_addr: tuple[str, int],
        rtcp_addr: tuple[str, int],
        connected: socket.socket | None = None,
        fanout: UnicastFanout | None = None,
    ) -> None:
        super().__init__(clip, cname)
        self._sendto = rtp_sock.sendto
        self._connected = connected  # this session's own socket on the same server port
        self._fanout = fanout
        self._rtcp_sock = rtcp_sock
        self._rtp_addr = rtp_addr
        self._rtcp_addr = rtcp_addr
        self.send_errors = 0
        self.batch_offset = self.batch_packets = self.batch_octets = self.batch_start = 0

    @property
    def rtp_address(self) -> tuple[str, int]:
        return self._rtp_addr

    @property
    def rtcp_address(self) -> tuple[str, int]:
        return self._rtcp_addr

    @property
    def fanout(self) -> UnicastFanout | None:
        """The fan-out that sends for it (its packets and its sender reports), if any."""
        return self._fanout

    def attach(self, feed: Feed) -> None:
        if self._fanout is not None:
            self._fanout.join(self)
        else:
            feed.subscribe(self)

    def detach(self, feed: Feed) -> None:
        if self._fanout is not None:
            self._fanout.leave(self)
        else:
            feed.unsubscribe(self)

    def settle(self) -> None:
        if self._fanout is not None:
            self._fanout.settle(self)

    def send_frame(self, frame: Frame, timestamp: int, now: float) -> None:
        # The hot path of the camera: one header and one send per packet, nothing else.
        if self.waiting_for_keyframe:
            if not frame.keyframe:
                return
            self.waiting_for_keyframe = False
        ts = (self.timestamp_base + timestamp) & 0xFFFFFFFF
        seq = self.sequence
        pack, ssrc, pt = self._pack, self.ssrc, self._pt
        payloads = frame.payloads
        last = len(payloads) - 1
        connected = self._connected
        try:
            if connected is not None:
                send = connected.send
                for i, payload in enumerate(payloads):
                    second = self._pt_marker if (i == last and frame.marker) else pt
                    send(pack(0x80, second, seq, ts, ssrc) + payload)
                    seq = (seq + 1) & 0xFFFF
            else:
                sendto, addr = self._sendto, self._rtp_addr
                for i, payload in enumerate(payloads):
                    second = self._pt_marker if (i == last and frame.marker) else pt
                    sendto(pack(0x80, second, seq, ts, ssrc) + payload, addr)
                    seq = (seq + 1) & 0xFFFF
        except OSError:  # a full socket buffer, or the client's port is closed: UDP drops
            self.send_errors += 1
            if self.keyframes_only_start:
                self.waiting_for_keyframe = True
            seq = (seq + 1) & 0xFFFF  # the packet that failed still used its number
        self.sequence = seq
        self.packets += len(payloads)
        self.octets += frame.octets
        first = self.last_timestamp is None
        self.last_timestamp = ts
        self.last_send = now
        if first:
            self._first_report(now)

    def send_rtcp(self, packet: bytes) -> None:
        try:
            self._rtcp_sock.sendto(packet, self._rtcp_addr)
        except OSError:
            self.send_errors += 1

    def close(self) -> None:
        if self._fanout is not None:
            self._fanout.leave(self)
        if self._connected is not None:
            self._connected.close()
            self._connected = None


class TcpSender(RtpSender):
    """Interleaved on the client's RTSP connection (RFC 2326 §10.12)."""

    __slots__ = ("_channel", "_transport", "dropped_frames")

    def __init__(
        self, clip: Clip, cname: str, transport: asyncio.WriteTransport, channel: int
    ) -> None:
        super().__init__(clip, cname)
        self._transport = transport
        self._channel = channel
        self.dropped_frames = 0

    def _ready(self) -> bool:
        transport = self._transport
        if transport.is_closing() or transport.get_write_buffer_size() > MAX_TCP_BACKLOG:
            self.dropped_frames += 1
            return False
        return True

    def send_frame(self, frame: Frame, timestamp: int, now: float) -> None:
        if self._transport.is_closing():
            return
        super().send_frame(frame, timestamp, now)

    def _emit(self, header: bytes, payload: bytes) -> None:
        prefix = _INTERLEAVED.pack(b"$", self._channel, len(header) + len(payload))
        self._transport.write(prefix + header + payload)

    def send_rtcp(self, packet: bytes) -> None:
        if not self._transport.is_closing():
            self._transport.write(_INTERLEAVED.pack(b"$", self._channel + 1, len(packet)) + packet)
