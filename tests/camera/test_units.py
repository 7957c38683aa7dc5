"""The camera's pure parts: catalog, config, media, senders, RTCP attribution."""

from __future__ import annotations

import socket
import time

import pytest

from truenprobe.camera.catalog import Target, UnknownTarget, parse_target, tracks_of
from truenprobe.camera.config import CameraConfig, CameraConfigError
from truenprobe.camera.media import (
    PCMU_PACKET_SAMPLES,
    Feed,
    Frame,
    MediaError,
    load_clips,
    pcmu_clip,
)
from truenprobe.camera.session import Mode, Session, SessionTrack
from truenprobe.camera.sessions import SessionTable
from truenprobe.camera.sinks import UdpSender
from truenprobe.plan.model import Media, Stream
from truenprobe.rtp.packet import (
    NTP_UNIX_OFFSET,
    ReceiverReport,
    ReportBlock,
    SenderReport,
    build_receiver_report,
    build_sdes_cname,
    build_sender_report,
    parse_rtcp,
    parse_rtp,
)
from truenprobe.rtsp.transport import TransportSpec


def test_parse_target() -> None:
    assert parse_target("rtsp://h:554/video1") == Target(Stream.VIDEO1, None)
    assert parse_target("rtsp://h/video1%2Baudio1/trackID=3") == Target(Stream.VIDEO1_AUDIO1, 3)
    assert parse_target("rtsp://h/video1s/") == Target(Stream.VIDEO1S, None)
    assert parse_target("/audio1?x=1") == Target(Stream.AUDIO1, None)
    for bad in ("rtsp://h/", "rtsp://h/video3", "rtsp://h/video1/track1", "rtsp://h/video1/a/b"):
        with pytest.raises(UnknownTarget):
            parse_target(bad)


def test_tracks_follow_the_document_unless_overridden() -> None:
    tracks = tracks_of(Stream.VIDEO1S_AUDIO1)
    assert [(t.control, t.media, t.feed, t.multicast_port) for t in tracks] == [
        ("trackID=1", Media.VIDEO, "video1s", 64718),
        ("trackID=2", Media.AUDIO, "audio1", 64818),
        ("trackID=3", Media.METADATA, "metadata", 64918),
    ]
    moved = tracks_of(Stream.AUDIO1, {Stream.AUDIO1: {Media.AUDIO: 60000}})
    assert [t.multicast_port for t in moved] == [60000, 64908]


@pytest.mark.parametrize(
    "changes",
    [
        {"host": "camera.local"},
        {"rtsp_port": 70000},
        {"server_ports": (5000, 5002)},
        {"server_audio_ports": (5002, 5004)},
        {"server_ports": (5000, 5001), "server_audio_ports": (5001, 5002)},  # overlap
        {"server_audio_ports": (65535, 65536)},
        {"multicast_group": "192.0.2.1"},
        {"multicast_ttl": 0},
        {"multicast_ports": {Stream.VIDEO1: {Media.VIDEO: 65535}}},
        {"user": "admin"},
        {"session_timeout": 0},
        {"max_connections": 0},
    ],
)
def test_config_refuses_what_cannot_work(changes: dict[str, object]) -> None:
    with pytest.raises(CameraConfigError):
        CameraConfig(**changes)  # type: ignore[arg-type]


def test_clips_are_packetized_once_with_sane_shapes() -> None:
    clips = load_clips(None, 15)
    video = clips["video1"]
    assert len(video.frames) == 60
    assert video.duration == 60 * 6000
    assert video.frames[0].keyframe
    assert all(len(p) <= 1400 for f in video.frames for p in f.payloads)
    assert all(f.marker for f in video.frames)
    audio = clips["audio1"]
    assert all(len(f.payloads[0]) == PCMU_PACKET_SAMPLES for f in audio.frames)
    assert audio.clock_rate == 8000
    assert clips["metadata"].media.encoding == "vnd.onvif.metadata/90000"
    assert 15 < video.packets_per_second < 200
    with pytest.raises(MediaError):
        pcmu_clip("short", b"\xff" * 10)


class _Loop:
    def time(self) -> float:
        return 0.0


def _receiver() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock


def test_sender_rewrites_only_headers_and_waits_for_a_keyframe() -> None:
    clip = load_clips(None, 15)["video1"]
    out = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp, rtcp = _receiver(), _receiver()
    try:
        sender = UdpSender(clip, "cname", out, out, rtp.getsockname()[:2], rtcp.getsockname()[:2])
        first_seq = sender.sequence
        sender.send_frame(clip.frames[1], 6000, 0.0)  # not a keyframe: skipped
        assert sender.packets == 0
        assert sender.sender_report(0.0) is None
        sender.send_frame(clip.frames[0], 360000, 0.0)
        packets = [parse_rtp(rtp.recv(2000)) for _ in clip.frames[0].payloads]
        assert [p.payload for p in packets] == list(clip.frames[0].payloads)
        assert [p.sequence for p in packets] == [
            (first_seq + i) & 0xFFFF for i in range(len(packets))
        ]
        assert {p.timestamp for p in packets} == {(sender.timestamp_base + 360000) & 0xFFFFFFFF}
        assert [p.marker for p in packets] == [False] * (len(packets) - 1) + [True]
        report = sender.sender_report(0.5)
        assert report is not None
        sender.send_rtcp(report)
        sr = parse_rtcp(rtcp.recv(2000))[0]
        assert sr.ssrc == sender.ssrc
    finally:
        for sock in (out, rtp, rtcp):
            sock.close()


def test_sender_reports_are_what_the_rtcp_builder_makes() -> None:
    clip = load_clips(None, 15)["video1"]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
        sender = UdpSender(clip, "camera@host", out, out, ("127.0.0.1", 9), ("127.0.0.1", 9))
        sender.last_timestamp, sender.last_send = 0xFFFFFFF0, 10.0
        sender.packets, sender.octets = 5 + (1 << 32), 7000
        report = sender.sender_report(10.5)
    assert report is not None
    sr, _sdes = parse_rtcp(report)
    assert isinstance(sr, SenderReport)
    expected = SenderReport(
        sender.ssrc, sr.ntp_timestamp, (0xFFFFFFF0 + 45000) & 0xFFFFFFFF, 5, 7000
    )
    assert report == build_sender_report(expected) + build_sdes_cname(sender.ssrc, "camera@host")
    assert abs(sr.ntp_timestamp / (1 << 32) - NTP_UNIX_OFFSET - time.time()) < 60


def test_feed_timestamps_continue_across_loops() -> None:
    clip = pcmu_clip("a", b"\xff" * (PCMU_PACKET_SAMPLES * 2))
    feed = Feed(clip, _Loop())  # type: ignore[arg-type]
    assert feed.next_timestamp() == 0
    feed._index = 5  # third pass, second frame
    assert feed.next_timestamp() == 2 * 320 + 160
    assert isinstance(clip.frames[0], Frame)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now


def test_an_idle_feed_keeps_its_schedule_like_a_live_encoder() -> None:
    clip = pcmu_clip("a", b"\xff" * (PCMU_PACKET_SAMPLES * 10))  # 10 frames of 20 ms
    clock = _Clock()
    feed = Feed(clip, clock)  # type: ignore[arg-type]
    clock.now = 0.05  # nobody watched for 50 ms: the frame of 40-60 ms is the current one
    assert feed.next_timestamp() == 2 * PCMU_PACKET_SAMPLES
    clock.now = 0.25  # past the clip's end: the second pass
    assert feed.next_timestamp() == 12 * PCMU_PACKET_SAMPLES


def _session(ip: str, rtcp_port: int, ssrc: int, number: int) -> Session:
    session = Session(f"S{number}", Stream.VIDEO1, ip, 60, 0.0, number)

    class _Sender:
        def __init__(self) -> None:
            self.ssrc = ssrc

    track = SessionTrack(
        tracks_of(Stream.VIDEO1)[0],
        Mode.UDP,
        TransportSpec(),
        feed=None,  # type: ignore[arg-type]
        sender=_Sender(),  # type: ignore[arg-type]
        client_rtcp=(ip, rtcp_port),
    )
    session.tracks[1] = track
    return session


def test_rtcp_is_credited_by_ssrc_then_source_then_address() -> None:
    table = SessionTable(10)
    a = _session("198.51.100.1", 5001, 0xAAAA, 1)
    b = _session("198.51.100.1", 6001, 0xBBBB, 2)
    c = _session("203.0.113.9", 7001, 0xCCCC, 3)
    for s in (a, b, c):
        table.add(s)
    naming_a = build_receiver_report(ReceiverReport(1, (ReportBlock(0xAAAA, 0, 0, 0, 0, 0, 0),)))
    bare = build_receiver_report(ReceiverReport(1))
    # NAT rewrote the source port, but the report block names a's SSRC.
    assert table.note_rtcp(naming_a, ("198.51.100.1", 40000), 1.0) is a
    assert table.note_rtcp(bare, ("198.51.100.1", 6001), 1.0) is b  # exact source
    assert table.note_rtcp(bare, ("203.0.113.9", 1), 1.0) is c  # only session of that address
    assert table.note_rtcp(bare, ("192.0.2.99", 1), 1.0) is None
    assert table.note_rtcp(b"junk", ("198.51.100.1", 5001), 1.0) is None
    assert (a.rtcp_received, b.rtcp_received, c.rtcp_received) == (1, 1, 1)
    assert table.rtcp_by_address["198.51.100.1"] == 2
    assert table.foreign_datagrams == 1
    assert c.last_activity == 1.0


class _SlowTransport:
    """A TCP transport whose peer does not read: the write buffer is always full."""

    def __init__(self) -> None:
        self.written = 0

    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 10 * 1024 * 1024

    def write(self, data: bytes) -> None:
        self.written += len(data)


def test_tcp_sender_drops_frames_for_a_client_that_does_not_read() -> None:
    from truenprobe.camera.sinks import TcpSender

    clip = load_clips(None, 15)["video1"]
    transport = _SlowTransport()
    sender = TcpSender(clip, "c", transport, 0)  # type: ignore[arg-type]
    for index, frame in enumerate(clip.frames[:20]):
        sender.send_frame(frame, index * 6000, 0.0)
    assert transport.written == 0  # nothing more is queued for it...
    assert sender.dropped_frames > 0
    assert sender.waiting_for_keyframe  # ...and it restarts at a keyframe once it reads
