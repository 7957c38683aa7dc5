"""Properties of the reader: any split gives the same events; any bytes give events or a
clean RtspProtocolError, never another exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from truenprobe.rtsp import (
    CLOSED,
    NEED_DATA,
    Headers,
    InterleavedFrame,
    MessageReader,
    Request,
    RtspProtocolError,
)

TOKENS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ_", min_size=1, max_size=12)
VALUES = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)

requests = st.builds(
    lambda method, uri, headers, body: Request(method, uri, Headers(tuple(headers)), body),
    TOKENS,
    st.text(alphabet="abc/:.0123456789", min_size=1, max_size=30),
    st.lists(st.tuples(TOKENS, VALUES.map(str.strip)), max_size=5),
    st.binary(max_size=200),
)
frames = st.builds(InterleavedFrame, st.integers(0, 255), st.binary(max_size=300))


def _all(reader: MessageReader) -> list[object]:
    out = []
    while (event := reader.next_event()) is not NEED_DATA and event is not CLOSED:
        out.append(event)
    return out


@given(st.lists(st.one_of(requests, frames), min_size=1, max_size=6), st.data())
def test_any_split_gives_the_same_events(messages: list[object], data: st.DataObject) -> None:
    wire = b"".join(m.to_bytes() for m in messages)  # type: ignore[attr-defined]
    whole = MessageReader.for_server()
    whole.receive_data(wire)
    expected = _all(whole)
    assert [e.to_bytes() for e in expected] == [m.to_bytes() for m in messages]  # type: ignore[attr-defined]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=10)))
    reader = MessageReader.for_server()
    got: list[object] = []
    start = 0
    for cut in [*cuts, len(wire)]:
        if cut > start:
            reader.receive_data(wire[start:cut])
            got += _all(reader)
            start = cut
    assert got == expected


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash_the_reader(data: bytes) -> None:
    for reader in (MessageReader.for_server(), MessageReader.for_client()):
        reader.receive_data(data)
        reader.receive_data(b"")
        status = None
        try:
            _all(reader)
        except RtspProtocolError as exc:
            status = exc.status
        assert status in (None, 400, 413, 505)
