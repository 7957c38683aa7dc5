from __future__ import annotations

from pathlib import Path

import pytest

from truenprobe.rtp.h264 import (
    NAL_FU_A,
    NAL_IDR,
    AccessUnit,
    Depacketizer,
    H264Error,
    access_units,
    packetize_access_unit,
    packetize_nal,
    parameter_sets,
    split_annexb,
)

CLIP = Path(__file__).resolve().parents[2] / "fixtures" / "media" / "video1.h264"
SPS = bytes.fromhex("6742c01eda0280f6c0")
PPS = bytes.fromhex("68ce3c80")


def test_split_annexb_handles_both_start_codes_and_trailing_zeros() -> None:
    stream = b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + PPS + b"\x00\x00\x00\x01\x65\x88\x00"
    assert split_annexb(stream) == [SPS, PPS, b"\x65\x88"]
    assert split_annexb(b"junk without start codes") == []


def test_small_nal_is_a_single_packet_and_large_one_is_fu_a() -> None:
    assert packetize_nal(b"\x41" + b"x" * 99, 100) == [b"\x41" + b"x" * 99]
    nal = b"\x65" + bytes(range(256)) * 10
    payloads = packetize_nal(nal, 100)
    assert all(len(p) <= 100 for p in payloads)
    assert {p[0] & 0x1F for p in payloads} == {NAL_FU_A}
    assert payloads[0][0] & 0xE0 == 0x65 & 0xE0  # NRI kept in the indicator
    assert payloads[0][1] == 0x80 | NAL_IDR  # start bit
    assert payloads[-1][1] == 0x40 | NAL_IDR  # end bit
    assert all(p[1] & 0xC0 == 0 for p in payloads[1:-1])
    assert list(Depacketizer().push(payloads[0])) == []
    depacketizer = Depacketizer()
    out = [n for p in payloads for n in depacketizer.push(p)]
    assert out == [nal]


def test_lost_fragment_start_is_dropped() -> None:
    payloads = packetize_nal(b"\x65" + bytes(500), 100)
    depacketizer = Depacketizer()
    assert [n for p in payloads[1:] for n in depacketizer.push(p)] == []


def test_bad_inputs() -> None:
    with pytest.raises(H264Error):
        packetize_nal(b"")
    with pytest.raises(H264Error):
        parameter_sets([b"\x41abc"])
    with pytest.raises(H264Error):
        list(Depacketizer().push(b"\x1e\x00"))  # type 30 is not defined


def test_clip_roundtrips_through_the_packetizer() -> None:
    nals = split_annexb(CLIP.read_bytes())
    units = access_units(nals)
    assert len(units) == 60  # 4 s at 15 fps
    assert units[0].is_keyframe
    assert sum(u.is_keyframe for u in units) == 4  # an IDR every second
    params = parameter_sets(nals)
    assert params.profile_level_id.startswith("42")  # baseline
    assert params.sprop_parameter_sets.count(",") == 1
    depacketizer = Depacketizer()
    again = []
    for unit in units:
        payloads = packetize_access_unit(unit, 1200)
        assert all(len(p) <= 1200 for p in payloads)
        again += [n for p in payloads for n in depacketizer.push(p)]
    assert again == [n for n in nals if n[0] & 0x1F != 9]


def test_access_units_split_on_parameter_sets_and_first_slice() -> None:
    idr = b"\x65\x88"
    p_frame = b"\x41\x9a"
    second_slice = b"\x41\x20"  # first_mb_in_slice != 0: same picture
    units = access_units([SPS, PPS, idr, p_frame, second_slice, p_frame])
    assert units == [
        AccessUnit((SPS, PPS, idr)),
        AccessUnit((p_frame, second_slice)),
        AccessUnit((p_frame,)),
    ]
