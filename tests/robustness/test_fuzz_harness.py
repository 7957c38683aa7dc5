"""The atheris harness (scripts/fuzz_camera_atheris.py) runs without atheris on its seeds and
on mutations of them, so the long local fuzz never rots between runs."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from scripts.fuzz_camera_atheris import Harness, check_rtsp, seeds

MUTATIONS = 300


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    h = Harness()
    try:
        yield h
    finally:
        h.close()


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(out))
        choice = rng.randrange(4)
        if choice == 0:
            out[at] = rng.randrange(256)
        elif choice == 1:
            del out[at]
        elif choice == 2:
            out[at:at] = out[at : at + rng.randint(1, 40)]
        else:
            out[at:at] = rng.choice([b"\r", b"\n", b"\r\n\r\n", b"$", b"\xff\xfe", b"@SESSION@"])
    return bytes(out)


def test_seeds_play_along(harness: Harness) -> None:
    for seed in seeds():
        harness.one_input(seed)
    assert harness.camera.service is not None


def test_mutated_seeds_are_survived(harness: Harness) -> None:
    rng = random.Random(8)  # fixed: CI repeats the same inputs; atheris explores
    for _ in range(MUTATIONS):
        harness.one_input(mutate(rng.choice(seeds()), rng))


def test_the_check_rejects_what_is_not_rtsp() -> None:
    """The harness's oracle is not vacuous."""
    check_rtsp(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n$\x00\x00\x01x")
    with pytest.raises(ValueError, match=r"status line|RTSP version"):
        check_rtsp(b"HTTP/1.1 200 OK\r\n\r\n")
    with pytest.raises(AssertionError, match="half a message"):
        check_rtsp(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n")
