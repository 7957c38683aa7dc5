"""Coverage-guided fuzzing of the emulated camera's RTSP handling with atheris (libFuzzer),
for long local runs; CI runs the same harness on its seeds (tests/robustness/test_fuzz_harness.py)
and the hypothesis fuzz, not atheris.

    .venv/bin/pip install atheris            # a wheel for CPython 3.11 on x86-64 Linux
    .venv/bin/python scripts/fuzz_camera_atheris.py --seeds test-artifacts/fuzz-corpus
    .venv/bin/python scripts/fuzz_camera_atheris.py test-artifacts/fuzz-corpus \\
        -max_total_time=600 -rss_limit_mb=4096 -print_final_stats=1

One input is one hostile connection: pieces separated by ``SEPARATOR``; in each piece
``@SESSION@`` becomes the connection's latest session id (so SETUP, PLAY and TEARDOWN are
reachable); the first byte says how the network cuts the pieces (0 whole, 1 byte by byte,
n: every n bytes). It goes through the real ``RtspConnection`` (the sans-IO reader and
``RtspService``) of a running camera, with a fake transport recording the answers. A crash
is any exception, or anything the camera writes that is not well-formed RTSP.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

SEPARATOR = b"\xff\xfe"
SESSION_MARK = b"@SESSION@"
HOSTILE = ("127.0.11.78", 40405)  # nobody listens there: media sent to it goes nowhere
CAMERA = "127.0.11.2"
MAX_OUTPUT = 1 << 20


class FakeTransport:
    """The socket side of one connection: records what the camera writes, never blocks."""

    def __init__(
        self, rtsp_port: int, camera: str = CAMERA, peer: tuple[str, int] = HOSTILE
    ) -> None:
        self.rtsp_port = rtsp_port
        self.camera = camera
        self.peer = peer
        self.out = bytearray()
        self.closing = False

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": self.peer, "sockname": (self.camera, self.rtsp_port)}.get(name, default)

    def write(self, data: bytes) -> None:
        if not self.closing and len(self.out) < MAX_OUTPUT:
            self.out += data

    def close(self) -> None:
        self.closing = True

    abort = close

    def is_closing(self) -> bool:
        return self.closing

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def get_write_buffer_size(self) -> int:
        return 0


def seeds() -> list[bytes]:
    """Conversations a real client has, as inputs to start from."""
    url = f"rtsp://{CAMERA}:554/video1"

    def request(method: str, target: str, *headers: str) -> bytes:
        lines = [f"{method} {target} RTSP/1.0", "CSeq: 1", *headers]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    session = "Session: @SESSION@"
    tcp = [
        request("OPTIONS", "*"),
        request("DESCRIBE", url, "Accept: application/sdp"),
        request("SETUP", url + "/trackID=1", "Transport: RTP/AVP/TCP;unicast;interleaved=0-1"),
        request("PLAY", url, session, "Range: npt=0.000-"),
        request("GET_PARAMETER", url, session),
        request("PAUSE", url, session),
        request("TEARDOWN", url, session),
    ]
    udp = [
        request("SETUP", url + "/trackID=1", "Transport: RTP/AVP;unicast;client_port=21000-21001"),
        request("PLAY", url, session),
        request("TEARDOWN", url, session),
    ]
    both = f"rtsp://{CAMERA}:554/video1+audio1"
    two = [
        request("SETUP", both + "/trackID=1", "Transport: RTP/AVP/TCP;interleaved=0-1"),
        request("SETUP", both + "/trackID=2", session, "Transport: RTP/AVP/TCP;interleaved=2-3"),
        request("PLAY", both, session),
    ]
    return [
        b"\x00" + SEPARATOR.join(tcp),
        b"\x01" + SEPARATOR.join(udp),
        b"\x07" + SEPARATOR.join(two),
        b"\x00" + b"$\x00\x00\x04abcd" + request("OPTIONS", "*"),
    ]


class Harness:
    """A camera on its own event loop; ``one_input`` runs one connection to completion."""

    def __init__(self) -> None:
        from truenprobe.camera import EmulatedCamera
        from truenprobe.camera.connections import ConnectionPool

        self.loop = asyncio.new_event_loop()
        self.camera = EmulatedCamera(host=CAMERA)
        self.loop.run_until_complete(self.camera.start())
        self.pool = ConnectionPool(self.camera.config.max_connections)

    def close(self) -> None:
        self.loop.run_until_complete(self.camera.stop())
        self.loop.close()

    def one_input(self, data: bytes) -> None:
        written = self.loop.run_until_complete(self._connection(data))
        check_rtsp(written)

    async def _connection(self, data: bytes) -> bytes:
        from truenprobe.camera.rtsp_conn import RtspConnection

        service = self.camera.service
        if service is None or not data:
            return b""
        mode, stream = data[0], data[1:]
        transport = FakeTransport(self.camera.rtsp_port)
        conn = RtspConnection(service, self.pool, self.camera.config.idle_timeout)
        conn.connection_made(transport)  # type: ignore[arg-type]
        for piece in stream.split(SEPARATOR):
            if SESSION_MARK in piece and conn.info is not None:
                own = [s.session_id for s in service.sessions]
                mine = [
                    s.session_id
                    for s in service.sessions
                    if s.connection_id == conn.info.connection_id
                ]
                piece = piece.replace(SESSION_MARK, (mine or own or ["0"])[-1].encode())
            for chunk in cut(piece, mode):
                if transport.closing:
                    break
                conn.data_received(chunk)
        transport.closing = True
        conn.connection_lost(None)
        await asyncio.sleep(0)  # let the camera's callbacks of this connection run
        return bytes(transport.out)


def cut(piece: bytes, mode: int) -> list[bytes]:
    if not piece:
        return []
    size = len(piece) if mode == 0 else mode
    return [piece[i : i + size] for i in range(0, len(piece), size)]


def check_rtsp(written: bytes) -> list[Any]:
    """What the camera wrote must be RTSP answers and interleaved frames, nothing else;
    returns the answers (``Response``)."""
    from truenprobe.rtsp import CLOSED, NEED_DATA, InterleavedFrame, MessageReader, Response

    reader = MessageReader.for_client()
    if written:
        reader.receive_data(written)
    answers = []
    while True:
        event = reader.next_event()  # raises on anything that is not RTSP
        if event is NEED_DATA or event is CLOSED:
            break
        if isinstance(event, Response):
            answers.append(event)
        elif not isinstance(event, InterleavedFrame):
            raise AssertionError(f"unexpected event {event!r}")
    if len(written) < MAX_OUTPUT and reader.buffered:
        raise AssertionError(f"the camera wrote half a message: {written[-80:]!r}")
    return answers


def main(argv: list[str]) -> int:
    if "--seeds" in argv:
        folder = Path(argv[argv.index("--seeds") + 1])
        folder.mkdir(parents=True, exist_ok=True)
        for i, seed in enumerate(seeds()):
            (folder / f"seed-{i}").write_bytes(seed)
        sys.stdout.write(f"wrote {len(seeds())} seeds to {folder}\n")
        return 0
    try:
        import atheris
    except ImportError:
        sys.stderr.write("atheris is not installed: .venv/bin/pip install atheris\n")
        return 2
    with atheris.instrument_imports(include=["truenprobe"]):
        import truenprobe.camera.rtsp_conn
        import truenprobe.camera.rtsp_service
        import truenprobe.rtsp  # noqa: F401
    harness = Harness()
    fuzz: Any = atheris
    fuzz.Setup(argv, harness.one_input)
    fuzz.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
