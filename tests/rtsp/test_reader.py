"""The reader against a table of messages, each fed whole, byte by byte and with trailing data."""

from __future__ import annotations

import pytest

from truenprobe.rtsp import (
    CLOSED,
    NEED_DATA,
    Headers,
    InterleavedFrame,
    MessageReader,
    Request,
    Response,
    RtspProtocolError,
)

REQUESTS = [
    Request("OPTIONS", "rtsp://192.0.2.1/video1", Headers.of(CSeq=1)),
    Request(
        "SETUP",
        "rtsp://192.0.2.1:554/video1/trackID=1",
        Headers.of(
            [("CSeq", "3"), ("Transport", "RTP/AVP;unicast;client_port=5000-5001")],
            User_Agent="test",
        ),
    ),
    Request(
        "GET_PARAMETER",
        "rtsp://192.0.2.1/video1",
        Headers.of(CSeq=9, Session="abc", Content_Type="text/parameters"),
        b"x-truen-rtcp-received\r\n",
    ),
]

RESPONSES = [
    Response(200, Headers.of(CSeq=1, Public="OPTIONS, DESCRIBE")),
    Response(404, Headers.of(CSeq=2)),
    Response(200, Headers.of(CSeq=3, Content_Type="application/sdp"), b"v=0\r\n" * 40),
    Response(401, Headers.of(CSeq=4), reason="Who are you"),
]


def _events(reader: MessageReader) -> list[object]:
    out = []
    while (event := reader.next_event()) is not NEED_DATA and event is not CLOSED:
        out.append(event)
    return out


def _feed(reader: MessageReader, data: bytes, step: int) -> list[object]:
    events: list[object] = []
    for i in range(0, len(data), step):
        reader.receive_data(data[i : i + step])
        events += _events(reader)
    return events


@pytest.mark.parametrize("step", [1, 3, 10_000])
def test_requests_roundtrip_whole_split_and_pipelined(step: int) -> None:
    wire = b"".join(r.to_bytes() for r in REQUESTS)
    events = _feed(MessageReader.for_server(), wire, step)
    assert [e.to_bytes() for e in events] == [r.to_bytes() for r in REQUESTS]  # type: ignore[attr-defined]
    assert events[2].body == REQUESTS[2].body  # type: ignore[attr-defined]


@pytest.mark.parametrize("step", [1, 7, 10_000])
def test_responses_roundtrip(step: int) -> None:
    wire = b"".join(r.to_bytes() for r in RESPONSES)
    events = _feed(MessageReader.for_client(), wire, step)
    assert [e.to_bytes() for e in events] == [r.to_bytes() for r in RESPONSES]  # type: ignore[attr-defined]
    assert events[3].reason_phrase == "Who are you"  # type: ignore[attr-defined]
    assert events[1].reason_phrase == "Not Found"  # type: ignore[attr-defined]


def test_trailing_partial_message_waits_for_more() -> None:
    reader = MessageReader.for_server()
    wire = REQUESTS[0].to_bytes()
    reader.receive_data(wire + REQUESTS[2].to_bytes()[:-5])
    assert reader.next_event() == REQUESTS[0]  # no body, so no Content-Length either
    assert reader.next_event() is NEED_DATA
    assert reader.buffered > 0


def test_interleaved_frames_between_messages() -> None:
    frame = InterleavedFrame(1, b"\x81\xc9" + bytes(30))
    wire = frame.to_bytes() + RESPONSES[0].to_bytes() + InterleavedFrame(0, b"").to_bytes()
    for step in (1, len(wire)):
        assert _feed(MessageReader.for_client(), wire, step) == [
            frame,
            Response(200, RESPONSES[0].headers, reason="OK"),
            InterleavedFrame(0, b""),
        ]


def test_stray_line_breaks_between_messages_are_skipped() -> None:
    wire = b"\r\n" + REQUESTS[0].to_bytes() + b"\r\n\r\n" + REQUESTS[1].to_bytes()
    assert _feed(MessageReader.for_server(), wire, 1) == REQUESTS[:2]


def test_bare_lf_and_folded_headers_are_accepted() -> None:
    reader = MessageReader.for_server()
    reader.receive_data(b"OPTIONS * RTSP/1.0\nCSeq: 5\nX-Long: one\n  two\n\n")
    event = reader.next_event()
    assert isinstance(event, Request)
    assert event.cseq == 5
    assert event.headers.get("x-long") == "one two"


def test_eof_between_messages_is_closed_and_inside_one_is_an_error() -> None:
    reader = MessageReader.for_server()
    reader.receive_data(REQUESTS[0].to_bytes())
    reader.receive_data(b"")
    assert reader.next_event() == REQUESTS[0]
    assert reader.next_event() is CLOSED

    reader = MessageReader.for_server()
    reader.receive_data(b"OPTIONS * RTSP/1.0\r\nCSe")
    reader.receive_data(b"")
    with pytest.raises(RtspProtocolError):
        reader.next_event()


BAD = [
    (b"OPTIONS\r\n\r\n", 400),
    (b"OPTIONS * HTTP/1.1\r\nCSeq: 1\r\n\r\n", 400),
    (b"OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n\r\n", 505),
    (b"OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n", 400),
    (b"OPTIONS * RTSP/1.0\r\nBad Name: x\r\n\r\n", 400),
    (b"OPTIONS * RTSP/1.0\r\nContent-Length: -1\r\n\r\n", 400),
    (b"OPTIONS * RTSP/1.0\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", 400),
    (b"OPTIONS * RTSP/1.0\r\nContent-Length: 65537\r\n\r\n", 413),
    (b"OPTIONS * RTSP/1.0\r\nX: \xff\xfe\r\n\r\n", 400),
    (b"OPTIONS * RTSP/1.0\r\nX: a\x00b\r\n\r\n", 400),
    (b" continuation\r\n\r\n", 400),
]


@pytest.mark.parametrize(("wire", "status"), BAD)
@pytest.mark.parametrize("step", [1, 10_000])
def test_malformed_requests_raise_with_the_status_to_answer(
    wire: bytes, status: int, step: int
) -> None:
    reader = MessageReader.for_server()
    with pytest.raises(RtspProtocolError) as info:
        _feed(reader, wire, step)
    assert info.value.status == status
    with pytest.raises(RtspProtocolError):  # the reader stays broken
        reader.next_event()


def test_header_block_over_8k_is_refused_even_without_an_end() -> None:
    reader = MessageReader.for_server()
    reader.receive_data(b"OPTIONS * RTSP/1.0\r\n")
    for _ in range(80):  # 8,640 bytes without the blank line that ends the block
        reader.receive_data(b"X-Pad: " + b"a" * 99 + b"\r\n")
    with pytest.raises(RtspProtocolError) as info:
        reader.next_event()
    assert info.value.status == 400


def test_body_at_the_limit_is_accepted() -> None:
    request = Request("SET_PARAMETER", "*", Headers.of(CSeq=1), b"x" * 65536)
    (event,) = _feed(MessageReader.for_server(), request.to_bytes(), 4096)
    assert event.body == request.body  # type: ignore[attr-defined]


def test_malformed_status_line() -> None:
    reader = MessageReader.for_client()
    reader.receive_data(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
    with pytest.raises(RtspProtocolError):
        reader.next_event()


def test_serialising_refuses_header_injection() -> None:
    with pytest.raises(ValueError, match="one line"):
        Request("OPTIONS", "*", Headers.of(X="a\r\nEvil: 1")).to_bytes()
    with pytest.raises(ValueError, match="no spaces"):
        Request("OPTIONS", "a b").to_bytes()


def test_content_length_is_derived_from_the_body() -> None:
    wire = Response(200, Headers.of(Content_Length=99), b"abc").to_bytes()
    assert b"Content-Length: 3\r\n" in wire
    assert b"99" not in wire


def test_headers_helpers() -> None:
    headers = Headers.of(CSeq=1, Session="a").with_("cseq", 2).without("SESSION")
    assert headers.get("CSEQ") == "2"
    assert "Session" not in headers
    assert len(headers) == 1


def test_recover_skips_to_the_next_message_for_a_stream_joined_midway() -> None:
    reader = MessageReader.for_client()
    middle = b"ength: 5\r\n\r\nhello" + RESPONSES[0].to_bytes() + RESPONSES[1].to_bytes()
    reader.receive_data(middle)
    with pytest.raises(RtspProtocolError):
        reader.next_event()
    assert reader.recover() == len(b"hello")  # the malformed head was consumed by the error
    assert reader.next_event().to_bytes() == RESPONSES[0].to_bytes()  # type: ignore[union-attr]
    assert reader.next_event().to_bytes() == RESPONSES[1].to_bytes()  # type: ignore[union-attr]

    requests = MessageReader.for_server()
    requests.receive_data(b"x" * 500 + b"\r\n" + REQUESTS[0].to_bytes())
    with pytest.raises(RtspProtocolError):
        requests.next_event()
    requests.recover()
    assert requests.next_event() == REQUESTS[0]
