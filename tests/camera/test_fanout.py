"""The unicast fan-out: every session gets what a lone sender would have sent it."""

from __future__ import annotations

import ctypes
import errno
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from tests.support.tools import unavailable
from truenprobe.camera import fanout as fanout_module
from truenprobe.camera.fanout import UnicastFanout
from truenprobe.camera.media import Clip, Feed, load_clips
from truenprobe.camera.sinks import UdpSender
from truenprobe.rtp.packet import RtpPacket, SenderReport, parse_rtcp, parse_rtp


def _usable() -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        return UnicastFanout.usable(sock)


@pytest.fixture(autouse=True)
def _needs_sendmmsg() -> None:
    if not _usable():  # skips elsewhere; CI runs on Linux, where it must be there
        unavailable("the fan-out needs Linux's sendmmsg (64-bit, IPv4)")


STEP = 6000  # 90 kHz ticks of a 15 fps frame


class _Loop:
    def time(self) -> float:
        return 0.0


@dataclass
class Client:
    rtp: socket.socket
    rtcp: socket.socket
    sender: UdpSender

    def packets(self) -> list[RtpPacket]:
        out: list[RtpPacket] = []
        while True:
            try:
                out.append(parse_rtp(self.rtp.recv(65536)))
            except BlockingIOError:
                return out

    def reports(self) -> list[SenderReport]:
        out: list[SenderReport] = []
        while True:
            try:
                data = self.rtcp.recv(65536)
            except BlockingIOError:
                return out
            out += [p for p in parse_rtcp(data) if isinstance(p, SenderReport)]


@dataclass
class Rig:
    clip: Clip
    feed: Feed
    fanout: UnicastFanout
    server: socket.socket
    clients: list[Client]

    def send(self, indices: list[int], start: int = 0) -> None:
        """Frames of the clip by index, at consecutive frame times from ``start``."""
        for n, index in enumerate(indices, start=start):
            self.fanout.send_frame(self.clip.frames[index], n * STEP, 0.0)


def _socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.setblocking(False)
    return sock


@pytest.fixture
def rig() -> Iterator[Rig]:
    clip = load_clips(None, 15)["video1"]
    feed = Feed(clip, _Loop())  # type: ignore[arg-type]
    server = _socket()
    fanout = UnicastFanout(server, server, clip, feed)
    clients = []
    try:
        for _ in range(3):
            rtp, rtcp = _socket(), _socket()
            sender = UdpSender(
                clip, "cam", server, server, rtp.getsockname(), rtcp.getsockname(), fanout=fanout
            )
            clients.append(Client(rtp, rtcp, sender))
        yield Rig(clip, feed, fanout, server, clients)
    finally:
        server.close()
        for client in clients:
            client.rtp.close()
            client.rtcp.close()


def _expected(
    rig: Rig, client: Client, first_sequence: int, sent: list[tuple[int, int]]
) -> list[RtpPacket]:
    """What a lone sender sends: (frame index, clip ticks) in order, from a sequence."""
    out = []
    sequence = first_sequence
    for index, ticks in sent:
        frame = rig.clip.frames[index]
        for i, payload in enumerate(frame.payloads):
            out.append(
                RtpPacket(
                    payload_type=96,
                    sequence=sequence,
                    timestamp=client.sender.rtp_timestamp(ticks),
                    ssrc=client.sender.ssrc,
                    marker=frame.marker and i == len(frame.payloads) - 1,
                    payload=payload,
                )
            )
            sequence = (sequence + 1) & 0xFFFF
    return out


def test_each_session_gets_its_own_headers_from_its_first_keyframe(rig: Rig) -> None:
    announced = [c.sender.next_sequence() for c in rig.clients]
    for client in rig.clients:
        client.sender.attach(rig.feed)
    assert rig.feed.sinks == {rig.fanout}  # one sink, however many sessions
    count = len(rig.clip.frames)
    rig.send([count - 2, count - 1, 0, 1, 2, 3])  # the first two are not keyframes
    sent = [(0, 2 * STEP), (1, 3 * STEP), (2, 4 * STEP), (3, 5 * STEP)]
    for client, first in zip(rig.clients, announced, strict=True):
        assert client.packets() == _expected(rig, client, first, sent)
        packets = sum(len(rig.clip.frames[i].payloads) for i, _ in sent)
        assert client.sender.next_sequence() == (first + packets) & 0xFFFF
        assert client.sender.packets == packets
        assert client.sender.octets == sum(rig.clip.frames[i].octets for i, _ in sent)
        # the first sender report came with the first frame, naming what it had sent
        reports = client.reports()
        assert [r.ssrc for r in reports] == [client.sender.ssrc]
        assert reports[0].packet_count == len(rig.clip.frames[0].payloads)


def test_a_session_that_leaves_and_plays_again_continues_its_own_numbering(rig: Rig) -> None:
    for client in rig.clients:
        client.sender.attach(rig.feed)
    rig.send([0, 1])
    leaving, staying = rig.clients[0], rig.clients[1]
    leaving.sender.detach(rig.feed)
    resume = leaving.sender.next_sequence()
    rig.send([2, 3], start=2)
    for client in rig.clients:
        client.packets()
    leaving.sender.attach(rig.feed)
    count = len(rig.clip.frames)
    rig.send([4, 0, 1], start=4)  # frame 4 is not a keyframe: it waits for frame 0
    assert leaving.packets() == _expected(rig, leaving, resume, [(0, 5 * STEP), (1, 6 * STEP)])
    got = staying.packets()
    assert [p.payload for p in got] == [
        p for i in (4, 0, 1) for p in rig.clip.frames[i % count].payloads
    ]
    for client in rig.clients:
        client.sender.detach(rig.feed)
    assert not rig.feed.sinks
    assert not len(rig.fanout)


def test_sender_reports_of_all_members_go_at_once(rig: Rig) -> None:
    for client in rig.clients:
        client.sender.attach(rig.feed)
    rig.send([0, 1])
    rig.clients[1].sender.detach(rig.feed)  # a member that left gets none
    rig.send([2], start=2)
    for client in rig.clients:
        client.reports()  # the first ones, sent with the first packets
    rig.fanout.send_reports(now=0.5)  # half a second after the last frame went out
    staying = [rig.clients[0], rig.clients[2]]
    for client in staying:
        data = client.rtcp.recv(65536)
        sr = parse_rtcp(data)[0]
        assert isinstance(sr, SenderReport)
        assert sr.ssrc == client.sender.ssrc
        assert data.endswith(client.sender.sdes())
        sent = [rig.clip.frames[i] for i in (0, 1, 2)]
        assert sr.packet_count == sum(len(f.payloads) for f in sent)
        assert sr.octet_count == sum(f.octets for f in sent)
        assert sr.rtp_timestamp == client.sender.rtp_timestamp(2 * STEP + 45000)
        # byte for byte what the sender alone would send, but for the NTP time (8:16)
        alone = client.sender.sender_report(0.5)
        assert alone is not None
        assert data[:8] + data[16:] == alone[:8] + alone[16:]
    assert rig.clients[1].reports() == []


def _fake_sendmmsg(
    monkeypatch: pytest.MonkeyPatch, refuse: Callable[[int, ctypes.Structure], int]
) -> None:
    """sendmmsg one message a call; ``refuse(call number, message)`` -> errno or 0."""
    real = fanout_module._sendmmsg()
    assert real is not None
    calls = [0]

    def fake(fd: int, address: int, count: int, flags: int) -> int:
        calls[0] += 1
        message = fanout_module._MMsgHdr.from_address(address)
        code = refuse(calls[0], message)
        if code:
            ctypes.set_errno(code)
            return -1
        return real(fd, address, 1, flags)

    monkeypatch.setattr(fanout_module, "_sendmmsg", lambda: fake)


def test_a_full_socket_buffer_drops_the_frame_for_those_not_served(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    for client in rig.clients:
        client.sender.attach(rig.feed)
    rig.send([0])
    first = rig.clients[0]
    messages_each = len(rig.clip.frames[1].payloads)
    _fake_sendmmsg(monkeypatch, lambda n, _m: errno.EAGAIN if n > messages_each else 0)
    rig.send([1], start=1)
    monkeypatch.undo()
    rig.send([2, 0], start=2)
    frames = rig.clip.frames
    assert [p.payload for p in first.packets()] == [
        p for i in (0, 1, 2, 0) for p in frames[i].payloads
    ]
    for client in rig.clients[1:]:
        got = client.packets()
        # frame 1 missed, frame 2 skipped (no keyframe yet), back at frame 0 ...
        assert [p.payload for p in got] == [p for i in (0, 0) for p in frames[i].payloads]
        # ... and the numbers of what it missed were used: the receiver sees a loss
        gap = got[len(frames[0].payloads)].sequence - got[len(frames[0].payloads) - 1].sequence
        assert gap & 0xFFFF == 1 + len(frames[1].payloads)
        assert client.sender.send_errors == 1


def test_members_that_lost_a_frame_are_served_first_at_the_next_keyframe(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full send buffer cuts the same place in the order each time: who lost moves up."""
    for client in rig.clients:
        client.sender.attach(rig.feed)
    rig.send([0])
    keyframe = len(rig.clip.frames[0].payloads)  # messages of one member's keyframe
    for step in (1, 2, 3):  # the buffer takes one member's keyframe, three times running
        _fake_sendmmsg(monkeypatch, lambda n, _m: errno.EAGAIN if n > keyframe else 0)
        rig.send([0], start=step)
        monkeypatch.undo()
    got = [len(c.packets()) // keyframe for c in rig.clients]
    # Each takes its turn (in a fixed order client 0 would get all three: [4, 1, 1]).
    assert got == [2, 2, 2], got
    assert [c.sender.send_errors for c in rig.clients] == [2, 2, 2]
