"""Hypothesis strategies for what a hostile RTSP client sends: byte streams built from a
request grammar (valid, nearly valid, and absurd parts), mutated, and cut anywhere.

Requests are written by hand, not with ``Request.to_bytes()``: the point is to send what
the codec would refuse to write (bare LF, NUL, lines without a colon, wrong lengths).
Every strategy is built once, at import: building them inside composites made drawing
ten times slower than the camera's work on each example.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from hypothesis import strategies as st

STREAMS = ["video1", "video1s", "video1+audio1", "audio1", "video1s+audio1", "nope", ""]
METHODS = [
    "OPTIONS", "DESCRIBE", "SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER",
    "SET_PARAMETER", "RECORD", "ANNOUNCE", "REDIRECT", "GET", "POST", "options", "X" * 40,
]  # fmt: skip
VERSIONS = ["RTSP/1.0", "RTSP/1.0", "RTSP/1.0", "RTSP/2.0", "RTSP/1.1", "HTTP/1.1", "RTSP/", ""]
TRANSPORTS = [
    "RTP/AVP;unicast;client_port=21000-21001",
    "RTP/AVP/TCP;unicast;interleaved=0-1",
    "RTP/AVP/TCP;interleaved=254-255",
    "RTP/AVP/TCP;interleaved=255-256",
    "RTP/AVP;unicast;client_port=80-81",
    "RTP/AVP;unicast;client_port=0-1",
    "RTP/AVP;unicast;client_port=65535",
    "RTP/AVP;unicast;destination=127.0.11.99;client_port=21000-21001",
    "RTP/AVP;unicast;destination=198.51.100.7;client_port=21000-21001",
    "RTP/AVP;unicast;client_port=21000-21001;mode=record",
    "RTP/SAVP;unicast;client_port=21000-21001",
    "RTP/AVP;unicast;client_port=21000-21001;ssrc=zz;ttl=999",
    "RTP/AVP;unicast;client_port=21000-21001, RTP/AVP/TCP;interleaved=0-1",
    "RAW/RAW/UDP;unicast", ";;;", ",", "",
]  # fmt: skip
GOOD_TRANSPORTS = TRANSPORTS[:3]
# Replaced, as each request is sent, by the id of the connection's latest session.
SESSION_MARK = "@SESSION@"
SESSIONS = [SESSION_MARK] * 6 + [
    "0", "1", "ABCDEF0123456789", "", ";", "x;timeout=abc", "x;timeout=99999999999999",
    f"{SESSION_MARK};timeout=1", f"{SESSION_MARK}0",
]  # fmt: skip
EXTRA_HEADERS = [
    "CSeq", "Content-Length", "Authorization", "Require", "Accept", "Range", "Content-Type",
    "User-Agent", "X-" + "y" * 100, "Bad Name", "", "Session",
]  # fmt: skip
AUTHORIZATIONS = [
    'Digest username="admin", realm="x", nonce="n", uri="*", response="r"',
    "Basic YWRtaW46UzNjcmV0", "Digest", "Digest ,,,", "Bearer x",
]  # fmt: skip
LENGTHS = ["0", "5", "100000", "-3", "x", "99999999999999999999"]
BODIES = [b"", b"x-truen-rtcp-received\r\n", b"\xff\x00junk"]
SESSION_STEPS = [
    ("OPTIONS", ""),
    ("DESCRIBE", ""),
    ("SETUP", "/trackID=1"),
    ("SETUP", "/trackID=2"),
    ("PLAY", ""),
    ("PAUSE", ""),
    ("GET_PARAMETER", ""),
    ("SET_PARAMETER", ""),
    ("TEARDOWN", ""),
]
BYTEWISE_MAX = 600  # longer pieces are cut in a few places instead (time, not coverage)


def _uri(stream: str, track: str, userinfo: str) -> str:
    return f"rtsp://{userinfo}127.0.11.1:554/{stream}{track}"


BOOL = st.booleans()
ANY_URI = st.one_of(
    st.builds(
        _uri,
        st.sampled_from(STREAMS),
        st.sampled_from(["", "/", "/trackID=1", "/trackID=2", "/trackID=3", "/trackID=0",
                         "/trackID=99999999999999999999", "/trackID=x", "/../../etc/passwd"]),
        st.sampled_from(["", "admin:S3cret@", "a@b@", "%zz@"]),
    ),
    st.sampled_from(["*", "/video1", "rtsp://", "rtsp://[::1", "rtsp://h:99999/video1"]),
    st.text(min_size=1, max_size=60).map(lambda t: t.replace(" ", "%20")),
)  # fmt: skip
GOOD_URI = st.builds(
    _uri,
    st.sampled_from(STREAMS[:5]),
    st.sampled_from(["", "/trackID=1", "/trackID=2"]),
    st.just(""),
)
ANY_TRANSPORT = st.sampled_from(TRANSPORTS) | st.text(max_size=60)
GOOD_TRANSPORT = st.sampled_from(GOOD_TRANSPORTS)
ANY_CSEQ = st.sampled_from(["0", "-1", "x", "", "99999999999999999999", None])
GOOD_CSEQ = st.sampled_from(["1", "7", "42"])
ANY_SESSION = st.sampled_from(SESSIONS)
HEADER_VALUE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\t", "\x00", "\u00e9", "a" * 9000]),
)
EXTRA = st.tuples(
    st.sampled_from(EXTRA_HEADERS),
    HEADER_VALUE,
    st.sampled_from(AUTHORIZATIONS) | st.text(max_size=60),
    st.sampled_from(LENGTHS),
)
ANY_METHOD = st.sampled_from(METHODS)
GOOD_METHOD = st.sampled_from(METHODS[:9])
ANY_VERSION = st.sampled_from(VERSIONS)
ANY_EOL = st.sampled_from(["\r\n", "\r\n", "\r\n", "\n", "\r"])
ANY_BODY = st.sampled_from(BODIES)
STEP = st.sampled_from(SESSION_STEPS)
GOOD_STREAM = st.sampled_from(STREAMS[:5])
SMALL = st.integers(0, 9)
FRACTION = st.floats(0, 1)
BIT = st.integers(0, 7)
MUTATION = st.sampled_from(["flip", "drop", "repeat", "insert"])
SHORT_BINARY = st.binary(min_size=1, max_size=8)


@st.composite
def request_bytes(draw: st.DrawFn) -> bytes:
    """A request: well-formed a third of the time, otherwise broken somewhere."""
    broken = draw(SMALL) > 2
    method = draw(ANY_METHOD if broken else GOOD_METHOD)
    uri = draw(ANY_URI if broken else GOOD_URI)
    version = draw(ANY_VERSION) if broken else "RTSP/1.0"
    eol = draw(ANY_EOL) if broken else "\r\n"
    items: list[tuple[str, str]] = []
    cseq = draw(ANY_CSEQ if broken else GOOD_CSEQ)
    if cseq is not None:
        items.append(("CSeq", cseq))
    if draw(BOOL):
        items.append(("Transport", draw(ANY_TRANSPORT if broken else GOOD_TRANSPORT)))
    if draw(BOOL):
        items.append(("Session", draw(ANY_SESSION) if broken else SESSION_MARK))
    for _ in range(draw(SMALL) % 4 if broken else 0):
        name, value, authorization, length = draw(EXTRA)
        if name == "Authorization":
            value = authorization
        elif name == "Content-Length":
            value = length
        items.append((name, value))
    body = draw(ANY_BODY)
    body = body if method in ("GET_PARAMETER", "SET_PARAMETER") or draw(BOOL) else b""
    if body and draw(BOOL):
        items.append(("Content-Length", str(len(body))))
    lines = [f"{method} {uri} {version}".rstrip()]
    lines += [f"{name}: {value}" if name else value for name, value in items]
    if broken and draw(SMALL) == 0:
        lines.insert(1, " folded continuation")
    head = eol.join(lines) + eol + eol
    return head.encode("utf-8", errors="surrogatepass") + body


@st.composite
def session_request(draw: st.DrawFn) -> bytes:
    """A well-formed step of a session, on the connection's own session id."""
    method, track = draw(STEP)
    lines = [f"{method} {_uri(draw(GOOD_STREAM), track, '')} RTSP/1.0", f"CSeq: {draw(SMALL)}"]
    if method == "SETUP":
        lines.append(f"Transport: {draw(GOOD_TRANSPORT)}")
    if method != "OPTIONS" and draw(SMALL) > 2:
        lines.append(f"Session: {SESSION_MARK}")
    body = b"x-truen-rtcp-received\r\n" if method == "GET_PARAMETER" else b""
    if body:
        lines += ["Content-Type: text/parameters", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def interleaved(channel: int, data: bytes) -> bytes:
    return b"$" + bytes([channel]) + len(data).to_bytes(2, "big") + data


REQUEST = request_bytes()
PIECE = st.one_of(
    REQUEST,
    REQUEST,
    REQUEST,
    st.builds(interleaved, st.integers(0, 255), st.binary(max_size=64)),
    st.binary(min_size=1, max_size=64),
    st.sampled_from([b"$", b"$\x00\xff\xff", b"\r\n\r\n", b"\x00" * 16, b"GET / HTTP/1.1\r\n\r\n"]),
)
SESSION_PREFIX = st.lists(session_request(), max_size=5)  # a client that plays along...


@st.composite
def mutated_piece(draw: st.DrawFn) -> bytes:
    """...then pieces of anything, a quarter of them with bytes flipped, dropped, repeated or
    inserted."""
    data = bytearray(draw(PIECE))
    for _ in range(draw(SMALL) % 4 if draw(SMALL) < 3 else 0):
        if not data:
            break
        at = min(len(data) - 1, int(draw(FRACTION) * len(data)))
        action = draw(MUTATION)
        if action == "flip":
            data[at] ^= 1 << draw(BIT)
        elif action == "drop":
            del data[at]
        elif action == "repeat":
            data[at:at] = data[at : at + 1 + draw(SMALL)]
        else:
            data[at:at] = draw(SHORT_BINARY)
    return bytes(data)


PIECES = st.lists(mutated_piece(), min_size=1, max_size=5)
MODE = st.sampled_from(["whole", "whole", "bytes", "cuts"])
FRACTIONS = st.lists(FRACTION, max_size=6)


@dataclass(frozen=True)
class HostileStream:
    """Pieces sent one after another (a piece may hold SESSION_MARK), and how the network
    cuts each: whole, byte by byte, or at these fractions of its length."""

    pieces: tuple[bytes, ...]
    mode: str
    fractions: tuple[float, ...] = ()

    def chunks(self, piece: bytes) -> list[bytes]:
        if self.mode == "whole" or len(piece) < 2:
            return [piece]
        if self.mode == "bytes" and len(piece) <= BYTEWISE_MAX:
            return [piece[i : i + 1] for i in range(len(piece))]
        fractions = self.fractions or (0.5,)
        points = sorted({min(len(piece) - 1, max(1, int(f * len(piece)))) for f in fractions})
        edges = [0, *points, len(piece)]
        return [piece[a:b] for a, b in itertools.pairwise(edges) if b > a]


@st.composite
def hostile_stream(draw: st.DrawFn) -> HostileStream:
    pieces = draw(SESSION_PREFIX) + draw(PIECES)
    mode = draw(MODE)
    fractions = draw(FRACTIONS) if mode == "cuts" else []
    return HostileStream(tuple(pieces), mode, tuple(fractions))


HOSTILE_STREAM = hostile_stream()
