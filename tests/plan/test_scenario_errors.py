"""What the document does not allow, and values out of range: exit 2 and one line."""

from __future__ import annotations

import pytest

from truenprobe.errors import ScenarioError
from truenprobe.plan import build_scenario

BAD = [
    # (options, words the one-line message must contain)
    ({"client": "vlc", "protocol": "vsnm", "transport": "tcp"}, ["vlc", "allowed: rtsp"]),
    ({"client": "sdk", "protocol": "rtsp", "transport": "tcp"}, ["sdk", "allowed: vsnm"]),
    ({"client": "web", "transport": "udp"}, ["web", "allowed: tcp"]),
    ({"client": "web", "transport": "multicast"}, ["web", "allowed: tcp"]),
    ({"client": "web", "protocol": "rtsp"}, ["--protocol", "web"]),
    ({"client": "decoder", "transport": "udp"}, ["--protocol is required", "vsnm, rtsp"]),
    ({"client": "decoder", "protocol": "rtsp"}, ["--transport is required", "tcp, udp, multicast"]),
    ({"client": "vlc"}, ["--transport is required"]),
    (
        {"client": "decoder", "protocol": "rtsp", "transport": "tcp", "stream": "video1+audio1"},
        ["video1+audio1", "allowed: video1, video1s"],
    ),
    (
        {"client": "decoder", "protocol": "rtsp", "transport": "tcp", "stream": "video9"},
        ["--stream"],
    ),
    ({}, ["--client is required"]),
    ({"client": "camera"}, ["--client", "web, decoder, sdk, vlc"]),
    ({"client": "web", "http_port": 0}, ["--http-port", "out of range"]),
    ({"client": "web", "http_port": 70000}, ["--http-port", "out of range"]),
    ({"client": "web", "base_port": -1}, ["--base-port", "out of range"]),
    ({"client": "web", "http_port": "eighty"}, ["--http-port", "not a port"]),
    ({"client": "web", "http_port": 554}, ["must differ"]),
    ({"client": "sdk", "transport": "udp", "sdk_cameras": -2}, ["--sdk-cameras", "out of range"]),
    ({"client": "sdk", "transport": "udp", "sdk_cameras": 0}, ["--sdk-cameras", "out of range"]),
    ({"client": "sdk", "transport": "udp", "sdk_cameras": "two"}, ["--sdk-cameras"]),
    ({"client": "vlc", "transport": "udp"}, ["--client-port", "--rtp-client-port"]),
    (
        {"client": "vlc", "transport": "udp", "stream": "video1+audio1", "client_port": 5000},
        ["--client-audio-port", "--rtp-client-port"],
    ),
    ({"client": "vlc", "transport": "udp", "client_port": 65535}, ["--client-port", "1-65534"]),
    (
        {
            "client": "vlc",
            "transport": "udp",
            "stream": "video1+audio1",
            "client_port": 5000,
            "client_audio_port": 5001,
        },
        ["overlap"],
    ),
    ({"client": "decoder", "protocol": "rtsp", "transport": "udp", "rtsp_port": 65530}, ["65514"]),
    ({"client": "sdk", "transport": "multicast", "base_port": 65530}, ["+ 16"]),
    ({"client": "web", "colour": "red"}, ["unknown scenario key", "colour"]),
]


@pytest.mark.parametrize(("options", "words"), BAD)
def test_refused_with_a_clear_line(options, words):
    with pytest.raises(ScenarioError) as caught:
        build_scenario(options)
    message = caught.value.message
    assert "\n" not in message
    for word in words:
        assert word in message


def test_defaults_follow_the_document():
    web = build_scenario({"client": "web"})
    assert (web.protocol, web.transport.value) == (None, "tcp")
    assert build_scenario({"client": "sdk", "transport": "udp"}).protocol.value == "vsnm"
    vlc = build_scenario({"client": "vlc", "transport": "tcp"})
    assert vlc.protocol.value == "rtsp"
    assert (vlc.camera_side.value, vlc.client_side.value) == ("private", "private")
    assert (vlc.http_port, vlc.base_port, vlc.rtsp_port, vlc.stream.value) == (
        80,
        2222,
        554,
        "video1",
    )


def test_values_are_case_insensitive():
    s = build_scenario({"client": "Decoder", "protocol": "RTSP", "transport": "UDP"})
    assert (s.client.value, s.protocol.value, s.transport.value) == ("decoder", "rtsp", "udp")


def test_client_ports_outside_vlc_udp_are_dropped():
    s = build_scenario({"client": "vlc", "transport": "tcp", "client_port": 5000})
    assert s.client_port is None


# The same refusals through the real CLI: one line on stderr, exit 2, never a traceback.
CLI_BAD = [
    ["--client", "vlc", "--protocol", "vsnm", "--transport", "tcp"],
    ["--client", "decoder", "--protocol", "rtsp", "--transport", "udp", "--rtsp-port", "0"],
    ["--client", "decoder", "--protocol", "rtsp", "--transport", "udp", "--rtsp-port", "70000"],
    ["--client", "vlc", "--transport", "multicast", "--stream", "video2"],
    ["--client", "sdk", "--transport", "udp", "--sdk-cameras", "-3"],
    ["--client", "sdk", "--transport", "udp", "--sdk-cameras", "x"],
    ["--client", "web", "--transport", "udp"],
    ["--client", "decoder", "--protocol", "rtsp", "--transport", "tcp", "--stream", "audio1"],
    ["--client", "vlc", "--transport", "udp"],
    ["--client", "toaster"],
    ["--transport", "udp"],
    ["--client", "web", "--format", "yaml"],
]


@pytest.mark.parametrize("args", CLI_BAD, ids=[" ".join(a) for a in CLI_BAD])
def test_cli_refusals_are_one_line_exit_2(cli, args):
    result = cli("plan", *args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("truenprobe: error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
