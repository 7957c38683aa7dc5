"""Whatever the bytes, analyze gives Observations or one clear InputFileError, never a crash."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truenprobe.capture.analyze import analyze_capture
from truenprobe.capture.observe import Subject
from truenprobe.errors import InputFileError
from truenprobe.observations import Observations
from truenprobe.plan import build_scenario, resolve

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "captures"
PLAN = resolve(
    build_scenario({"client": "vlc", "transport": "udp", "client_port": 5000, "stream": "video1s"})
)
SUBJECT = Subject(PLAN, ("203.0.113.10",))
SOURCES = sorted(FIXTURES.glob("*.pcap"))


def analyze_bytes(tmp_path: Path, data: bytes) -> Observations | None:
    path = tmp_path / "mutated.pcap"
    path.write_bytes(data)
    message = None
    try:
        return analyze_capture(str(path), SUBJECT)
    except InputFileError as exc:
        message = exc.message
    assert "\n" not in message  # one line for the user
    return None


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    source=st.sampled_from(SOURCES),
    seed=st.integers(0, 2**32 - 1),
    flips=st.integers(1, 40),
    cut=st.floats(0.0, 1.0),
)
def test_corrupted_real_captures(
    tmp_path: Path, source: Path, seed: int, flips: int, cut: float
) -> None:
    rng = random.Random(seed)
    data = bytearray(source.read_bytes())
    for _ in range(flips):
        data[rng.randrange(len(data))] = rng.randrange(256)
    data = data[: max(1, int(len(data) * cut))] if cut < 0.9 else data
    analyze_bytes(tmp_path, bytes(data))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_after_a_valid_header(tmp_path: Path, tail: bytes) -> None:
    header = SOURCES[0].read_bytes()[:24]
    analyze_bytes(tmp_path, header + tail)


def test_every_fixture_cut_at_every_record_boundary_region(tmp_path: Path) -> None:
    data = (FIXTURES / "vlc-udp-wrong-password.pcap").read_bytes()
    for cut in range(0, len(data), 7):
        analyze_bytes(tmp_path, data[:cut])
