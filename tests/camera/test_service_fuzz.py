"""Whatever a client sends, the RTSP service answers with a status and keeps serving."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truenprobe.camera.config import CameraConfig
from truenprobe.camera.media import Feed, load_clips
from truenprobe.camera.rtsp_service import RtspService
from truenprobe.camera.transports import ConnectionInfo, UdpPair
from truenprobe.rtsp import Headers, Request

STATUSES = {200, 400, 401, 404, 405, 451, 454, 455, 459, 460, 461, 501, 503, 551}


class _Transport:
    def is_closing(self) -> bool:
        return False

    def get_write_buffer_size(self) -> int:
        return 0

    def write(self, data: bytes) -> None:
        pass


@pytest.fixture(scope="module", params=[False, True], ids=["open", "digest"])
def service(request: pytest.FixtureRequest) -> Iterator[RtspService]:
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(5)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    clips = load_clips(None, 15)
    loop = asyncio.new_event_loop()
    feeds = {name: Feed(clip, loop) for name, clip in clips.items()}
    credentials = {"user": "admin", "password": "pw"} if request.param else {}
    config = CameraConfig(host="127.0.0.1", max_sessions=8, **credentials)  # type: ignore[arg-type]
    pairs = [
        UdpPair(a, b, (a.getsockname()[1], b.getsockname()[1]))
        for a, b in (sockets[0:2], sockets[2:4])
    ]
    yield RtspService(config, clips, feeds, pairs[0], pairs[1], sockets[4], lambda: 0.0)
    for sock in sockets:
        sock.close()
    loop.close()


METHODS = st.sampled_from(
    ["OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER",
     "SET_PARAMETER", "RECORD", "ANNOUNCE", "X"]
)  # fmt: skip
URIS = st.one_of(
    st.sampled_from(
        ["*", "rtsp://h/video1", "rtsp://h/video1/trackID=1", "rtsp://h/video1+audio1/trackID=2",
         "rtsp://h/audio1/trackID=3", "rtsp://h/nope", "/video1s", "rtsp://h/video1/trackID=x"]
    ),
    st.text(alphabet="abc/:%+=0123456789", min_size=1, max_size=30),
)  # fmt: skip
TRANSPORTS = st.one_of(
    st.sampled_from(
        ["RTP/AVP;unicast;client_port=5000-5001", "RTP/AVP/TCP;interleaved=0-1",
         "RTP/AVP;multicast", "RTP/AVP;unicast;destination=192.0.2.9;client_port=5000-5001",
         "RTP/AVP;unicast;client_port=0-1", "RTP/SAVP;unicast;client_port=5000-5001", ""]
    ),
    st.text(max_size=60),
)  # fmt: skip
HEADERS = st.lists(
    st.one_of(
        st.tuples(st.just("Transport"), TRANSPORTS),
        st.tuples(st.just("Session"), st.sampled_from(["", "abc", "abc;timeout=x", ";"])),
        st.tuples(st.just("Authorization"), st.text(max_size=80)),
        st.tuples(st.just("Authorization"), st.just('Digest username="admin", realm="x"')),
        st.tuples(st.just("Content-Type"), st.just("text/parameters")),
    ),
    max_size=4,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(METHODS, URIS, HEADERS, st.binary(max_size=40), st.booleans())
def test_service_answers_every_request(
    service: RtspService,
    method: str,
    uri: str,
    headers: list[tuple[str, str]],
    body: bytes,
    with_cseq: bool,
) -> None:
    items = ([("CSeq", "7")] if with_cseq else []) + headers
    conn = ConnectionInfo(1, "127.0.0.1", "127.0.0.1", _Transport())  # type: ignore[arg-type]
    response = service.handle(Request(method, uri, Headers(tuple(items)), body), conn)
    assert response.status in STATUSES
    response.to_bytes()  # always writable on the wire
    if with_cseq:
        assert response.cseq == 7
