"""The streaming reader: pcap in every byte order and resolution, pcapng, gzip, bad files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import pytest

from tests.capture import synth
from truenprobe.capture.pcapfile import CHUNK, CaptureFormatError, CaptureReader, open_stream
from truenprobe.errors import InputFileError


def read_all(path: Path) -> tuple[list[tuple[float, int, bytes, int]], CaptureReader]:
    stream, name = open_stream(str(path))
    with stream:
        reader = CaptureReader(stream, name)
        out = [
            (ts, link, bytes(buf[start:end]), wire)
            for ts, link, buf, start, end, wire in reader.packets()
        ]
    return out, reader


def three_frames() -> list[synth.Frame]:
    return synth.timed(
        [
            synth.udp(synth.CAMERA_PUBLIC, 554, synth.CLIENT_LAN, 5000, synth.rtp(i))
            for i in range(3)
        ],
        step=0.25,
    )


@pytest.mark.parametrize(
    ("options", "link"),
    [
        ({}, 1),
        ({"nano": True}, 1),
        ({"endianness": ">"}, 1),
        ({"link": "sll2"}, 276),
        ({"link": "sll"}, 113),
        ({"link": "raw"}, 101),
        ({"pcapng": True}, 1),
    ],
)
def test_reads_every_format(tmp_path: Path, options: dict[str, object], link: int) -> None:
    frames = three_frames()
    path = synth.write(tmp_path / "c.cap", frames, **options)  # type: ignore[arg-type]
    packets, reader = read_all(path)
    assert [p[1] for p in packets] == [link] * 3
    assert [round(p[0] - packets[0][0], 6) for p in packets] == [0.0, 0.25, 0.5]
    assert packets[0][0] == pytest.approx(frames[0][0], abs=1e-6)
    assert all(len(p[2]) == p[3] for p in packets)
    assert reader.stats.packets == 3
    assert reader.stats.truncated is None
    assert reader.stats.format == ("pcapng" if options.get("pcapng") else "pcap")


def test_gzip_is_undone(tmp_path: Path) -> None:
    path = synth.write(tmp_path / "c.pcap", three_frames())
    zipped = tmp_path / "c.pcap.gz"
    zipped.write_bytes(gzip.compress(path.read_bytes()))
    plain, _ = read_all(path)
    packed, reader = read_all(zipped)
    assert plain == packed
    assert reader.stats.truncated is None


def test_truncated_gzip_keeps_what_was_there(tmp_path: Path) -> None:
    path = synth.write(tmp_path / "c.pcap", three_frames())
    data = gzip.compress(path.read_bytes())
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(data[: len(data) - 20])
    packets, reader = read_all(cut)
    assert len(packets) <= 3
    assert reader.stats.truncated is not None


@pytest.mark.parametrize("pcapng", [False, True])
def test_truncated_file_reads_up_to_the_last_whole_packet(tmp_path: Path, pcapng: bool) -> None:
    path = synth.write(tmp_path / "c.cap", three_frames(), pcapng=pcapng)
    data = path.read_bytes()
    path.write_bytes(data[:-30])
    packets, reader = read_all(path)
    assert len(packets) == 2
    assert reader.stats.truncated is not None
    assert "after 2 packets" in reader.stats.truncated or "packet 3" in reader.stats.truncated


def test_truncated_inside_a_record_header(tmp_path: Path) -> None:
    path = synth.write(tmp_path / "c.pcap", three_frames())
    one = len(read_all(path)[0][0][2]) + 16
    path.write_bytes(path.read_bytes()[: 24 + one + 5])
    packets, reader = read_all(path)
    assert len(packets) == 1
    assert reader.stats.truncated == "the file ends inside a record header after 1 packets"


def test_header_only_capture_has_no_packets(tmp_path: Path) -> None:
    path = synth.write(tmp_path / "c.pcap", [])
    packets, reader = read_all(path)
    assert packets == []
    assert reader.stats.truncated is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file, not a capture"),
        (b"ab", "too short to be a capture"),
        (b"GET / HTTP/1.1\r\n\r\n", "not a pcap or pcapng capture (starts with 47455420)"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "pcap header cut short"),
        (struct.pack("<IHHiIII", 0xA1B2C3D4, 1, 0, 0, 0, 65535, 1), "pcap version 1"),
        (b"\x0a\x0d\x0d\x0a" + b"\x1c\0\0\0" + b"XXXX" + bytes(16), "section header is corrupt"),
    ],
)
def test_not_a_capture(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad"
    path.write_bytes(content)
    with pytest.raises(CaptureFormatError, match="bad: ") as info:
        read_all(path)
    assert message in str(info.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no such file"):
        open_stream(str(tmp_path / "nope.pcap"))
    with pytest.raises(InputFileError, match="is a directory"):
        open_stream(str(tmp_path))


def test_corrupt_record_length_stops_reading(tmp_path: Path) -> None:
    path = synth.write(tmp_path / "c.pcap", three_frames())
    data = bytearray(path.read_bytes())
    first = struct.unpack_from("<I", data, 24 + 8)[0]
    second = 24 + 16 + first
    struct.pack_into("<I", data, second + 8, 0x7FFFFFFF)
    path.write_bytes(bytes(data))
    packets, reader = read_all(path)
    assert len(packets) == 1
    assert reader.stats.truncated is not None
    assert "corrupt record" in reader.stats.truncated


def test_packets_across_chunk_boundaries(tmp_path: Path) -> None:
    """Records straddling the reader's chunk edges come out whole and in order."""
    payload = bytes(range(256)) * 6
    frames = synth.timed(
        [
            synth.udp(synth.CAMERA_PUBLIC, 554, synth.CLIENT_LAN, 5000, payload[: 700 + i % 800])
            for i in range(3 * CHUNK // 1000)
        ]
    )
    path = synth.write(tmp_path / "big.pcap", frames)
    packets, reader = read_all(path)
    assert len(packets) == len(frames)
    assert [len(p[2]) for p in packets] == [len(bytes(f[1])) + 14 for f in frames]
    assert reader.stats.truncated is None


def test_modified_pcap_and_snapped_packets(tmp_path: Path) -> None:
    """Kuznetzov's modified pcap has 24-byte record headers; snaplen cuts are counted."""
    frame = bytes(60)
    data = struct.pack("<IHHiIII", 0xA1B2CD34, 2, 4, 0, 0, 65535, 1)
    data += struct.pack("<IIII", 10, 5, len(frame), 100) + bytes(8) + frame
    path = tmp_path / "m.pcap"
    path.write_bytes(data)
    packets, reader = read_all(path)
    assert packets == [(10.000005, 1, frame, 100)]
    assert reader.stats.snapped == 1


def test_pcapng_interface_resolution_and_simple_blocks(tmp_path: Path) -> None:
    def block(kind: int, body: bytes) -> bytes:
        body += bytes(-len(body) % 4)
        return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    # if_tsresol = 9 (nanoseconds), then opt_endofopt
    idb = block(1, struct.pack("<HHI", 276, 0, 0) + struct.pack("<HHB3x", 9, 1, 9) + bytes(4))
    frame = bytes(40)
    ts = 1_700_000_000_123_456_789
    epb = block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, 40, 40) + frame)
    spb = block(3, struct.pack("<I", 40) + frame)
    stats_block = block(5, bytes(16))
    path = tmp_path / "n.pcapng"
    path.write_bytes(shb + idb + epb + stats_block + spb)
    packets, reader = read_all(path)
    assert len(packets) == 2
    assert packets[0][0] == pytest.approx(1_700_000_000.123456789)
    assert packets[0][1] == 276
    assert packets[1][0] != packets[1][0]  # a simple packet block has no time of its own
    assert reader.stats.link_types == {276}
