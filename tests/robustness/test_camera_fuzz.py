"""Fuzzing the emulated camera's RTSP request handling with hypothesis, then playing it.

Thousands of hostile byte streams (a request grammar, mutated, cut anywhere down to single
bytes) go through the camera's real connection adapter (``RtspConnection``: the sans-IO
reader and ``RtspService``) on the running camera's own event loop, with a fake transport
that records what the camera writes. Every stream must leave the camera answering only
well-formed RTSP with known statuses, raising nothing; afterwards ffprobe still plays
/video1 from the same camera over real sockets.

TRUENPROBE_FUZZ_EXAMPLES sets the number of streams for the open camera (CI: 3,000, about
20 s; a camera behind Digest gets a third as many);
TRUENPROBE_FUZZ_RANDOM=1 draws new ones each run instead of CI's fixed sequence.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scripts.fuzz_camera_atheris import FakeTransport, check_rtsp

from tests.robustness.rtsp_strategies import HOSTILE_STREAM, SESSION_MARK, HostileStream
from tests.support.tools import require_tools
from truenprobe.camera import EmulatedCamera
from truenprobe.camera.connections import ConnectionPool
from truenprobe.camera.rtsp_conn import RtspConnection

CAMERA = "127.0.11.1"
HOSTILE = ("127.0.11.77", 40404)  # the fuzzer's address: no one listens there
EXAMPLES = int(os.environ.get("TRUENPROBE_FUZZ_EXAMPLES", "3000"))
STATUSES = {200, 400, 401, 404, 405, 413, 451, 454, 455, 459, 460, 461, 501, 503, 505, 551}


@dataclass
class Tally:
    streams: int = 0
    answers: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


async def _one_connection(
    cam: EmulatedCamera, pool: ConnectionPool, stream: HostileStream
) -> bytes:
    """One hostile connection through the real adapter; what the camera wrote back."""
    service = cam.service
    assert service is not None
    transport = FakeTransport(cam.rtsp_port, CAMERA, HOSTILE)
    conn = RtspConnection(service, pool, cam.config.idle_timeout)
    conn.connection_made(transport)  # type: ignore[arg-type]
    mark = SESSION_MARK.encode()
    for piece in stream.pieces:
        if mark in piece:  # the fuzzer reads the Session it was given, as a client would
            ours = [
                s.session_id
                for s in service.sessions
                if conn.info and s.connection_id == conn.info.connection_id
            ]
            piece = piece.replace(mark, (ours[-1] if ours else "0").encode())
        for chunk in stream.chunks(piece):
            if transport.closing:
                break
            if chunk:  # asyncio never delivers empty reads (b"" is EOF)
                conn.data_received(chunk)
    transport.closing = True  # the fuzzer hangs up
    conn.connection_lost(None)
    return bytes(transport.out)


@dataclass
class LiveCamera:
    cam: EmulatedCamera
    loop: asyncio.AbstractEventLoop
    examples: int
    url: str  # what ffprobe plays afterwards (with the credentials, if any)


# An open camera gets most of the streams; one behind Digest the rest (most answers 401).
KINDS = {"open": ({}, 1.0), "digest": ({"user": "admin", "password": "Fuzz-Pw-7"}, 1 / 3)}


@pytest.fixture(scope="module", params=list(KINDS))
def live(request: pytest.FixtureRequest) -> Iterator[LiveCamera]:
    """The camera on its own loop in a thread, the loop at hand for run_coroutine_threadsafe."""
    options, share = KINDS[request.param]
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzzed-camera", daemon=True)
    thread.start()
    cam = EmulatedCamera(host=CAMERA, **options)  # type: ignore[arg-type]
    try:
        asyncio.run_coroutine_threadsafe(cam.start(), loop).result(30)
        url = cam.url("video1")
        if options:
            url = url.replace("rtsp://", f"rtsp://{options['user']}:{options['password']}@")
        try:
            yield LiveCamera(cam, loop, max(1, int(EXAMPLES * share)), url)
        finally:
            asyncio.run_coroutine_threadsafe(cam.stop(), loop).result(15)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(15)
        if not thread.is_alive():
            loop.close()


def _fuzz(live: LiveCamera, tally: Tally) -> None:
    cam = live.cam
    pool = ConnectionPool(cam.config.max_connections)

    @settings(
        max_examples=live.examples,
        deadline=None,
        derandomize=os.environ.get("TRUENPROBE_FUZZ_RANDOM") != "1",
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def one(data: st.DataObject) -> None:
        stream = data.draw(HOSTILE_STREAM, label="stream")
        future = asyncio.run_coroutine_threadsafe(_one_connection(cam, pool, stream), live.loop)
        written = future.result(10)
        answers = check_rtsp(written)
        tally.streams += 1
        tally.answers += len(answers)
        for answer in answers:
            assert answer.status in STATUSES, answer
            tally.statuses[answer.status] = tally.statuses.get(answer.status, 0) + 1

    one()


def ffprobe_video(url: str) -> dict[str, object]:
    command = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-timeout", "10000000"]
    command += ["-select_streams", "v:0", "-show_streams", "-of", "json", url]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    streams = json.loads(done.stdout)["streams"]
    assert streams, done.stdout
    return dict(streams[0])


@pytest.mark.peer
@pytest.mark.timeout(600)
def test_fuzzed_camera_still_plays(live: LiveCamera) -> None:
    require_tools("ffprobe")
    camera = live.cam
    tally = Tally()
    _fuzz(live, tally)
    print(f"fuzz: {tally}, sessions left: {len(camera.sessions)}")
    assert tally.streams >= live.examples
    assert tally.answers > live.examples  # most streams held at least one request
    assert tally.statuses.get(200, 0) > live.examples // 20  # the working paths are reached
    stream = ffprobe_video(live.url)
    assert stream["codec_name"] == "h264"
