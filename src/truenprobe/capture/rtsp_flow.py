"""RTSP read back from a capture: the requests, the answers and the interleaved media.

Each direction of an RTSP connection is fed, in order, to the shared sans-IO reader
(``truenprobe.rtsp.MessageReader``): the client's bytes as a server would read them,
the camera's as a client would. Unlike a live peer, a capture may lack bytes (the
capture dropped them, or began mid-session) or carry something that is not RTSP;
then this reader notes the problem and looks for the next plausible message start
instead of giving up on the connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from truenprobe.capture.media import MediaStats
from truenprobe.capture.tcp import Connection
from truenprobe.rtsp import (
    NEED_DATA,
    InterleavedFrame,
    MessageReader,
    Request,
    Response,
    RtspProtocolError,
)

# Where a message may start after lost bytes: a request line, a status line, or an
# interleaved frame header followed by an RTP/RTCP version-2 byte.
_REQUEST_START = re.compile(rb"[A-Z_]{3,20} (?:rtsp|rtspu|\*)[^\r\n ]* RTSP/1\.0\r?\n")
_RESPONSE_START = re.compile(rb"RTSP/1\.0 \d{3}[^\r\n]*\r?\n")
_FRAME_START = re.compile(rb"\$[\x00-\x0f]..[\x80-\xbf]", re.DOTALL)
_KEEP_WHILE_SEARCHING = 64  # bytes kept between chunks so a start split in two is found
MAX_PROBLEMS = 5
_HEAD_BYTES = 64


@dataclass(frozen=True)
class SeenRequest:
    request: Request
    at: float


@dataclass(frozen=True)
class SeenResponse:
    response: Response
    at: float


@dataclass
class Conversation:
    """Everything read from one RTSP connection."""

    connection: Connection
    requests: list[SeenRequest] = field(default_factory=list)
    responses: list[SeenResponse] = field(default_factory=list)
    # interleaved channel -> media stats, per direction
    from_camera: dict[int, MediaStats] = field(default_factory=dict)
    from_client: dict[int, MediaStats] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lost_bytes: int = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)


class _Direction:
    """One direction's bytes -> messages and frames, resynchronising after a loss."""

    def __init__(self, conversation: Conversation, from_client: bool) -> None:
        self.conversation = conversation
        self.from_client = from_client
        self.frames = conversation.from_client if from_client else conversation.from_camera
        self.reader = self._new_reader()
        self.searching = False
        self.search_buffer = b""
        self.head = b""  # the first bytes this side sent, to name what it is when not RTSP
        self.events = 0

    def _new_reader(self) -> MessageReader:
        # The client's bytes are requests (read as a server would), the camera's answers.
        return MessageReader.for_server() if self.from_client else MessageReader.for_client()

    def data(self, data: bytes, ts: float) -> None:
        if len(self.head) < _HEAD_BYTES:
            self.head += data[: _HEAD_BYTES - len(self.head)]
        if self.searching:
            data = self._search(data)
            if not data:
                return
        self.reader.receive_data(data)
        self._events(ts)

    def gap(self, missing: int, ts: float) -> None:
        self.conversation.lost_bytes += missing
        side = "client" if self.from_client else "camera"
        self.conversation.problem(
            f"{missing} bytes from the {side} are missing from the capture; "
            "RTSP reading resumed at the next message"
        )
        self.searching = True
        self.search_buffer = b""

    def end(self, ts: float) -> None:
        if self.searching:
            return
        self.reader.receive_data(b"")
        self._events(ts, at_end=True)

    def _search(self, data: bytes) -> bytes:
        """Bytes from the next plausible message start on, or b"" while none is found."""
        buffer = self.search_buffer + data
        starts = [_FRAME_START, _REQUEST_START if self.from_client else _RESPONSE_START]
        found = [m.start() for pattern in starts if (m := pattern.search(buffer))]
        if not found:
            self.search_buffer = buffer[-_KEEP_WHILE_SEARCHING:]
            return b""
        self.searching = False
        self.search_buffer = b""
        self.reader = self._new_reader()
        return buffer[min(found) :]

    def _events(self, ts: float, at_end: bool = False) -> None:
        conversation = self.conversation
        side = "client" if self.from_client else "camera"
        while True:
            try:
                event = self.reader.next_event()
            except RtspProtocolError as exc:
                if at_end and (self.events or self._looks_like_rtsp()):
                    conversation.problem(f"the capture ends inside a message from the {side}")
                elif at_end:
                    conversation.problem(f"not RTSP from the {side}: it sent {self._shown()}")
                else:
                    conversation.problem(f"not RTSP from the {side}: {exc}")
                self.searching = True
                self.search_buffer = b""
                return
            if event is NEED_DATA or not isinstance(event, InterleavedFrame | Request | Response):
                return
            self.events += 1
            if isinstance(event, InterleavedFrame):
                stats = self.frames.get(event.channel)
                if stats is None:
                    stats = self.frames[event.channel] = MediaStats()
                data = event.data
                stats.add(ts, data, 0, len(data), len(data), 0)
            elif isinstance(event, Request):
                conversation.requests.append(SeenRequest(event, ts))
            else:
                conversation.responses.append(SeenResponse(event, ts))

    def _looks_like_rtsp(self) -> bool:
        pattern = _REQUEST_START if self.from_client else _RESPONSE_START
        return bool(pattern.match(self.head + b"\n")) or self.head.startswith(b"$")

    def _shown(self) -> str:
        line = self.head.split(b"\n", 1)[0].rstrip(b"\r")
        return repr(line.decode("latin-1")[:60]) if line.isascii() else f"{len(self.head)}+ bytes"


def conversation_sinks(conversation: Conversation) -> tuple[_Direction, _Direction]:
    """(client->camera, camera->client) sinks to hand to the connection's reassemblers."""
    return _Direction(conversation, True), _Direction(conversation, False)
