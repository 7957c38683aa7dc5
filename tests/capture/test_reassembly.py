"""TCP byte streams put back in order: retransmissions, overlaps, holes, wraparound, snaplen."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truenprobe.capture import tcp
from truenprobe.capture.tcp import Reassembler


class Sink:
    def __init__(self) -> None:
        self.parts: list[bytes | int] = []  # bytes delivered, ints for gaps
        self.ended = False

    def data(self, data: bytes, ts: float) -> None:
        if self.parts and isinstance(self.parts[-1], bytes):
            self.parts[-1] += data
        else:
            self.parts.append(data)

    def gap(self, missing: int, ts: float) -> None:
        self.parts.append(missing)

    def end(self, ts: float) -> None:
        self.ended = True


def stream(isn: int = 1000) -> tuple[Reassembler, Sink]:
    sink = Sink()
    r = Reassembler(sink)
    r.syn(isn)
    return r, sink


def test_in_order() -> None:
    r, sink = stream()
    r.segment(1001, b"abc", 3, 0)
    r.segment(1004, b"def", 3, 0)
    r.finish(0)
    assert sink.parts == [b"abcdef"]
    assert sink.ended


def test_out_of_order_and_retransmitted_overlaps() -> None:
    r, sink = stream()
    r.segment(1004, b"def", 3, 0)  # early
    r.segment(1001, b"abc", 3, 0)
    r.segment(1001, b"abcd", 4, 0)  # retransmission covering delivered bytes
    r.segment(1006, b"fgh", 3, 0)  # overlaps by one
    r.segment(1010, b"j", 1, 0)
    r.segment(1008, b"hi", 2, 0)
    r.finish(0)
    assert sink.parts == [b"abcdefghij"]


def test_stored_segment_that_becomes_an_overlap() -> None:
    r, sink = stream()
    r.segment(1003, b"cdef", 4, 0)
    r.segment(1001, b"abcde", 5, 0)  # delivers up to e; the stored one now overlaps by 3
    r.finish(0)
    assert sink.parts == [b"abcdef"]


def test_hole_is_reported_at_the_end() -> None:
    r, sink = stream()
    r.segment(1001, b"ab", 2, 0)
    r.segment(1010, b"xy", 2, 0)
    r.finish(0)
    assert sink.parts == [b"ab", 7, b"xy"]


def test_too_much_waiting_behind_a_hole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tcp, "MAX_PENDING", 10)
    r, sink = stream()
    r.segment(1005, b"efgh", 4, 0)
    r.segment(1009, b"ijklmnop", 8, 0)  # now 12 bytes wait behind 4 missing ones
    assert sink.parts == [4, b"efghijklmnop"]


def test_snapped_segment_becomes_a_gap() -> None:
    r, sink = stream()
    r.segment(1001, b"abc", 10, 0)  # 10 bytes sent, the capture kept 3
    r.segment(1011, b"z", 1, 0)
    r.finish(0)
    assert sink.parts == [b"abc", 7, b"z"]


def test_sequence_wraps() -> None:
    r, sink = stream(isn=2**32 - 3)
    r.segment(2**32 - 2, b"ab", 2, 0)
    r.segment(0, b"cd", 2, 0)
    r.finish(0)
    assert sink.parts == [b"abcd"]


def test_capture_starting_mid_connection() -> None:
    sink = Sink()
    r = Reassembler(sink)
    r.segment(500, b"RTSP", 4, 0)
    r.segment(504, b"/1.0", 4, 0)
    r.finish(0)
    assert sink.parts == [b"RTSP/1.0"]


@given(st.binary(min_size=1, max_size=300), st.integers(0, 2**32 - 1), st.randoms())
def test_any_segmentation_in_any_order_with_duplicates(
    data: bytes, isn: int, rng: random.Random
) -> None:
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 8))))
    bounds = [0, *cuts, len(data)]
    segments = [(bounds[i], data[bounds[i] : bounds[i + 1]]) for i in range(len(bounds) - 1)]
    segments += rng.sample(segments, min(len(segments), 3))  # retransmissions
    rng.shuffle(segments)
    r, sink = stream(isn)
    for offset, part in segments:
        r.segment((isn + 1 + offset) % 2**32, part, len(part), 0)
    r.finish(0)
    assert sink.parts == [data]
