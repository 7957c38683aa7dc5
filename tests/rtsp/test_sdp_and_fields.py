from __future__ import annotations

import pytest

from truenprobe.rtsp import (
    FieldError,
    RtpInfo,
    SdpMedia,
    SessionDescription,
    SessionField,
    format_parameters,
    format_rtp_info,
    h264_fmtp,
    parse_parameter_names,
    parse_parameters,
    parse_rtp_info,
    parse_sdp,
    parse_session,
    resolve_control,
)

SPS = bytes.fromhex("6742c01e") + b"\x00" * 4
PPS = bytes.fromhex("68ce3c80")


def test_h264_fmtp() -> None:
    fmtp = h264_fmtp(SPS, PPS)
    assert "profile-level-id=42C01E" in fmtp
    assert "sprop-parameter-sets=Z0LAHgAAAAA=,aM48gA==" in fmtp
    assert fmtp.startswith("packetization-mode=1;")


def test_sdp_roundtrip() -> None:
    sdp = SessionDescription(
        media=(
            SdpMedia("video", 96, "H264/90000", control="trackID=1", fmtp=h264_fmtp(SPS, PPS)),
            SdpMedia(
                "audio",
                0,
                "PCMU/8000",
                control="trackID=2",
                port=64802,
                connection="IN IP4 239.1.1.1/16",
            ),
        ),
        origin_address="192.0.2.1",
        session_id=7,
        session_name="Truen",
    )
    text = sdp.to_text()
    assert "m=video 0 RTP/AVP 96\r\n" in text
    assert "c=IN IP4 239.1.1.1/16" in text
    assert parse_sdp(text) == sdp
    assert sdp.media[0].clock_rate == 90000


def test_resolve_control() -> None:
    assert resolve_control("rtsp://h/video1/", "trackID=1") == "rtsp://h/video1/trackID=1"
    assert resolve_control("rtsp://h/video1", "rtsp://x/y") == "rtsp://x/y"
    assert resolve_control("rtsp://h/video1", "*") == "rtsp://h/video1"


def test_session_field() -> None:
    assert parse_session("12AB;timeout=60") == SessionField("12AB", 60)
    assert parse_session(" 12AB ") == SessionField("12AB")
    assert SessionField("x", 30).to_header() == "x;timeout=30"
    for bad in ("", ";timeout=1", "a b", "ab;timeout=x"):
        with pytest.raises(FieldError):
            parse_session(bad)


def test_rtp_info_roundtrip() -> None:
    entries = (RtpInfo("rtsp://h/v/trackID=1", 5, 1234), RtpInfo("rtsp://h/v/trackID=2", 7, 9))
    assert parse_rtp_info(format_rtp_info(entries)) == entries
    with pytest.raises(FieldError):
        parse_rtp_info("url=x;seq=abc")


def test_parameters() -> None:
    assert parse_parameter_names(b"x-truen-rtcp-received\r\n\r\nother\n") == (
        "x-truen-rtcp-received",
        "other",
    )
    body = format_parameters({"x-truen-rtcp-received": 3})
    assert body == b"x-truen-rtcp-received: 3\r\n"
    assert parse_parameters(body) == {"x-truen-rtcp-received": "3"}
