"""The real captures in fixtures/captures (see its README): what the analyzer reads in them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from truenprobe.capture.analyze import analyze_capture
from truenprobe.capture.observe import Subject
from truenprobe.observations import (
    InterleavedArrival,
    Limitation,
    MediaRequest,
    MulticastJoin,
    Observations,
    RtspReply,
    TcpAttempt,
    TcpOutcome,
    UdpArrival,
    UdpSent,
    Vantage,
)
from truenprobe.plan import PortRange, build_scenario, resolve

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "captures"
VLC_UDP = {"client": "vlc", "transport": "udp", "client_port": 5000, "stream": "video1s"}
DECODER_TCP = {"client": "decoder", "protocol": "rtsp", "transport": "tcp", "stream": "video1s"}
DECODER_MULTICAST = {
    "client": "decoder",
    "protocol": "rtsp",
    "transport": "multicast",
    "stream": "video1s",
    "camera_side": "public",
    "client_side": "public",
}
CAMERA = "203.0.113.10"


def observe(name: str, scenario: dict[str, Any] = VLC_UDP, camera: str = CAMERA) -> Observations:
    plan = resolve(build_scenario(scenario))
    return analyze_capture(str(FIXTURES / f"{name}.pcap"), Subject(plan, (camera,)))


def limitation(obs: Observations, flow: str) -> str:
    (found,) = [lim.reason for lim in obs.of(Limitation) if lim.flow == flow]
    return found


def session_rtp(obs: Observations, port: int) -> list[UdpArrival]:
    return [a for a in obs.of(UdpArrival) if a.port == port and a.belongs and a.kind == "rtp"]


def test_gstreamer_working_site() -> None:
    obs = observe("vlc-udp-gstreamer-ok")
    assert obs.vantage is Vantage.CLIENT
    assert obs.client == "192.168.0.30"
    (attempt,) = obs.of(TcpAttempt)
    assert (attempt.port, attempt.outcome, attempt.greeting) == (
        554,
        TcpOutcome.OPEN,
        "RTSP/1.0 200 OK",
    )
    methods = [(r.method, r.status) for r in obs.of(RtspReply)]
    assert ("PLAY", 200) in methods
    video = [m for m in obs.of(MediaRequest) if m.client_ports == PortRange(5000, 5001)]
    assert len(video) == 1
    assert video[0].accepted
    assert video[0].played_at_ms is not None
    (rtp,) = session_rtp(obs, 5000)
    assert rtp.source == CAMERA
    assert rtp.first_ms is not None
    assert rtp.first_ms > video[0].played_at_ms
    assert [a.kind for a in obs.of(UdpArrival) if a.port == 5001] == ["rtcp"]
    # GStreamer (nat-method=none) sent nothing from 5000 before the media came
    assert all(s.source_port != 5000 for s in obs.of(UdpSent))
    assert not [lim for lim in obs.of(Limitation) if lim.flow in ("rtp-video", "rtcp-video")]


def test_ffmpeg_punching_leaves_the_client_forward_undecided() -> None:
    obs = observe("vlc-udp-ffmpeg-ok")
    assert session_rtp(obs, 5000)
    assert {s.source_port for s in obs.of(UdpSent)} >= {5000, 5001}
    reason = limitation(obs, "rtp-video")
    assert "before the camera's media arrived there" in reason
    assert "cannot show whether the client-side forward exists" in reason
    # the camera's IP sharer gave its RTP another source port than SETUP announced
    (rtp,) = session_rtp(obs, 5000)
    announced = [r.server_ports for r in obs.of(RtspReply) if r.method == "SETUP"]
    assert PortRange(554, 555) in announced
    assert rtp.source_port != 554
    assert rtp.note is not None
    assert f"it comes from port {rtp.source_port}, not the server_port (554, 555)" in rtp.note


def test_camera_side_capture() -> None:
    obs = observe("vlc-udp-ffmpeg-ok-camera-side")
    assert obs.vantage is Vantage.CAMERA
    assert any("192.168.1.20 is the only host reached" in n for n in obs.notes)
    assert obs.of(TcpAttempt)[0].outcome is TcpOutcome.OPEN
    assert obs.of(UdpArrival) == []
    assert "taken on the camera's side" in limitation(obs, "rtp-video")
    assert "198.51.100.7:5000" in limitation(obs, "rtp-video")


@pytest.mark.parametrize(
    "name", ["vlc-udp-client-forward-missing", "vlc-udp-gstreamer-client-forward-missing"]
)
def test_client_forward_missing(name: str) -> None:
    obs = observe(name)
    (video,) = [m for m in obs.of(MediaRequest) if m.client_ports == PortRange(5000, 5001)]
    assert video.played_at_ms is not None
    assert session_rtp(obs, 5000) == []
    assert not [lim for lim in obs.of(Limitation) if lim.flow == "rtp-video"]


def test_camera_forward_missing_answered_with_rst() -> None:
    obs = observe("vlc-udp-camera-forward-missing-rst")
    (attempt,) = obs.of(TcpAttempt)
    assert (attempt.port, attempt.outcome) == (554, TcpOutcome.REFUSED)
    assert obs.of(RtspReply) == []


def test_camera_forward_missing_dropped() -> None:
    obs = observe("vlc-udp-camera-forward-missing-drop")
    (attempt,) = obs.of(TcpAttempt)
    assert attempt.outcome is TcpOutcome.TIMEOUT
    assert attempt.detail is not None
    assert attempt.detail.startswith("SYN sent 4 times over")


def test_tcp_interleaved() -> None:
    obs = observe("decoder-tcp-ffmpeg-ok", DECODER_TCP)
    modes = {m.mode for m in obs.of(MediaRequest)}
    assert modes == {"tcp"}
    video = [i for i in obs.of(InterleavedArrival) if i.kind == "rtp" and i.belongs]
    assert [i.media.value if i.media else None for i in video] == ["video", "metadata"]
    assert video[0].packets > 20


def test_multicast_to_the_wrong_port() -> None:
    obs = observe("decoder-multicast-wrong-port", DECODER_MULTICAST, camera="192.168.5.10")
    assert obs.vantage is Vantage.CLIENT
    video = [m for m in obs.of(MediaRequest) if m.granted_ports == PortRange(5004, 5005)]
    assert len(video) == 1
    assert video[0].group == "239.255.0.5"
    assert ("239.255.0.5", "192.168.5.30") in {(j.group, j.source) for j in obs.of(MulticastJoin)}
    arrivals = [a for a in obs.of(UdpArrival) if a.port == 5004]
    assert len(arrivals) == 1
    assert arrivals[0].group == "239.255.0.5"
    assert arrivals[0].belongs


def test_wrong_password() -> None:
    obs = observe("vlc-udp-wrong-password")
    refused = [(r.method, r.status, r.authenticated) for r in obs.of(RtspReply)]
    assert ("DESCRIBE", 401, True) in refused
    assert ("DESCRIBE", 401, False) not in refused  # the challenge before it is mechanics
    assert obs.of(MediaRequest) == []
