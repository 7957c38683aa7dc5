from __future__ import annotations

import pytest

from truenprobe.rtsp import (
    TransportError,
    TransportSpec,
    format_transport,
    parse_transport,
    parse_transports,
)

CASES = [
    (
        "RTP/AVP;unicast;client_port=5000-5001",
        TransportSpec(client_port=(5000, 5001)),
    ),
    (
        "RTP/AVP/TCP;unicast;interleaved=0-1",
        TransportSpec(lower="TCP", interleaved=(0, 1)),
    ),
    (
        "RTP/AVP;multicast;destination=239.0.0.1;port=64704-64705;ttl=16",
        TransportSpec(multicast=True, destination="239.0.0.1", port=(64704, 64705), ttl=16),
    ),
    (
        'RTP/AVP;unicast;client_port=5000-5001;server_port=554-555;ssrc=0000BEEF;mode="PLAY"',
        TransportSpec(client_port=(5000, 5001), server_port=(554, 555), ssrc=0xBEEF, mode="PLAY"),
    ),
]


@pytest.mark.parametrize(("text", "spec"), CASES)
def test_parse_and_format_roundtrip(text: str, spec: TransportSpec) -> None:
    assert parse_transport(text) == spec
    assert format_transport(spec) == text
    assert parse_transport(spec.to_header()) == spec


def test_alternatives_lowercase_single_ports_and_unknown_params() -> None:
    specs = parse_transports(
        "RTP/AVP/UDP;unicast;client_port=6970, rtp/avp/tcp;interleaved=2;x-foo=bar;x-flag"
    )
    assert specs[0].client_port == (6970, 6971)
    assert specs[0].lower == "UDP"
    assert specs[1].is_tcp
    assert specs[1].interleaved == (2, 3)
    assert specs[1].extra == (("x-foo", "bar"), ("x-flag", None))
    assert not specs[0].multicast


@pytest.mark.parametrize(
    "text",
    [
        "",
        "RTP/AVP;client_port=0-1",
        "RTP/AVP;client_port=65535",
        "RTP/AVP;client_port=70000-70001",
        "RTP/AVP;client_port=abc",
        "RTP/AVP;client_port=5001-5000",
        "RTP/AVP/TCP;interleaved=255",
        "RTP/AVP;ttl=300",
        "RTP/AVP;ssrc=xyz",
        "RTP/AVP;ssrc=123456789",
        "RAW/RAW/UDP;unicast",
        "RTP/AVP/SCTP;unicast",
    ],
)
def test_bad_transports_raise(text: str) -> None:
    with pytest.raises(TransportError):
        parse_transports(text)
