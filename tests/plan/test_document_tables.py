"""Every port-forwarding table of Truen's port-usage document, row by row.

The expected forwards below were transcribed from shared/spec/truen-port-usage.txt,
not from the code's output: (router, protocol, first, last, required). Each row of a
table is one (camera side, client side) pair; the document has no row for "both
public", where rule 1 of the issue gives no forwards at all.
"""

from __future__ import annotations

import pytest

from truenprobe.plan import Host, build_scenario, resolve

CAM, CLI = "camera", "client"
PUB, PRIV = "public", "private"

# Section 1: Camera -> Web
WEB = {
    (PUB, PRIV): [],
    (PRIV, PUB): [(CAM, "tcp", 80, 80, True), (CAM, "tcp", 2222, 2222, True)],
    (PRIV, PRIV): [(CAM, "tcp", 80, 80, True), (CAM, "tcp", 2222, 2222, True)],
}
# Section 2 (1): decoder, proprietary protocol; section 3 (SDK) repeats TCP and multicast.
VSNM_TCP = {
    (PUB, PRIV): [],
    (PRIV, PUB): [(CAM, "tcp", 2222, 2222, True)],
    (PRIV, PRIV): [(CAM, "tcp", 2222, 2222, True)],
}
DECODER_VSNM_UDP = {
    (PUB, PRIV): [(CLI, "udp", 4333, 4432, True)],
    (PRIV, PUB): [(CAM, "tcp", 2222, 2222, True)],
    (PRIV, PRIV): [(CAM, "tcp", 2222, 2222, True), (CLI, "udp", 4333, 4432, True)],
}
VSNM_MULTICAST = {
    (PUB, PRIV): [(CLI, "udp", 2238, 2238, True)],
    (PRIV, PUB): [(CAM, "tcp", 2222, 2222, True)],
    (PRIV, PRIV): [(CAM, "tcp", 2222, 2222, True), (CLI, "udp", 2238, 2238, True)],
}
# Section 2 (2): decoder, RTSP/RTP; section 4 (VLC) repeats TCP.
RTSP_TCP = {
    (PUB, PRIV): [],
    (PRIV, PUB): [(CAM, "tcp", 554, 554, True)],
    (PRIV, PRIV): [(CAM, "tcp", 554, 554, True)],
}
DECODER_RTSP_UDP = {
    (PUB, PRIV): [(CLI, "udp", 554, 555, True)],
    (PRIV, PUB): [(CAM, "tcp", 554, 554, True)],
    (PRIV, PRIV): [
        (CAM, "tcp", 554, 554, True),
        (CAM, "udp", 555, 555, True),
        (CLI, "udp", 554, 555, True),
    ],
}


def _decoder_rtsp_multicast(port: int) -> dict:
    return {
        (PUB, PRIV): [(CLI, "udp", port, port, True)],
        (PRIV, PUB): [(CAM, "tcp", 554, 554, True)],
        (PRIV, PRIV): [(CAM, "tcp", 554, 554, True), (CLI, "udp", port, port, True)],
    }


# Section 3: SDK UDP, "4333~": one pair per camera.
def _sdk_udp(cameras: int) -> dict:
    last = 4332 + 2 * cameras
    return {
        (PUB, PRIV): [(CLI, "udp", 4333, last, True)],
        (PRIV, PUB): [(CAM, "tcp", 2222, 2222, True)],
        (PRIV, PRIV): [(CAM, "tcp", 2222, 2222, True), (CLI, "udp", 4333, last, True)],
    }


# Section 4: VLC UDP with xxxx = 5000 (video) and yyyy = 5002 (audio).
VLC_UDP_AV = {
    (PUB, PRIV): [(CLI, "udp", 5000, 5001, True), (CLI, "udp", 5002, 5003, True)],
    (PRIV, PUB): [
        (CAM, "tcp", 554, 554, True),
        (CAM, "udp", 5000, 5001, False),  # "not mandatory"
        (CAM, "udp", 5002, 5003, False),
    ],
    (PRIV, PRIV): [
        (CAM, "tcp", 554, 554, True),
        (CLI, "udp", 5000, 5001, True),
        (CLI, "udp", 5002, 5003, True),
    ],
}


# Section 4: VLC multicast, vvvv/aaaa/mmmm from the per-URL list.
def _vlc_multicast(*ports: int) -> dict:
    client = [(CLI, "udp", p, p, True) for p in ports]
    return {
        (PUB, PRIV): client,
        (PRIV, PUB): [(CAM, "tcp", 554, 554, True)],
        (PRIV, PRIV): [(CAM, "tcp", 554, 554, True), *client],
    }


VLC_MULTICAST_PORTS = {
    "video1": (64704, 64904),
    "video1s": (64706, 64906),
    "video1+audio1": (64702, 64802, 64902),
    "audio1": (64808, 64908),
    "video1s+audio1": (64718, 64818, 64918),
}

CASES: list[tuple[dict, dict]] = [
    ({"client": "web"}, WEB),
    ({"client": "decoder", "protocol": "vsnm", "transport": "tcp"}, VSNM_TCP),
    ({"client": "decoder", "protocol": "vsnm", "transport": "udp"}, DECODER_VSNM_UDP),
    ({"client": "decoder", "protocol": "vsnm", "transport": "multicast"}, VSNM_MULTICAST),
    ({"client": "decoder", "protocol": "rtsp", "transport": "tcp"}, RTSP_TCP),
    ({"client": "decoder", "protocol": "rtsp", "transport": "udp"}, DECODER_RTSP_UDP),
    (
        {"client": "decoder", "protocol": "rtsp", "transport": "multicast", "stream": "video1"},
        _decoder_rtsp_multicast(64704),
    ),
    (
        {"client": "decoder", "protocol": "rtsp", "transport": "multicast", "stream": "video1s"},
        _decoder_rtsp_multicast(64706),
    ),
    ({"client": "sdk", "transport": "tcp"}, VSNM_TCP),
    ({"client": "sdk", "transport": "udp"}, _sdk_udp(1)),
    ({"client": "sdk", "transport": "udp", "sdk_cameras": 2}, _sdk_udp(2)),
    ({"client": "sdk", "transport": "udp", "sdk_cameras": 50}, _sdk_udp(50)),
    ({"client": "sdk", "transport": "multicast"}, VSNM_MULTICAST),
    ({"client": "vlc", "transport": "tcp"}, RTSP_TCP),
    (
        {
            "client": "vlc",
            "transport": "udp",
            "stream": "video1+audio1",
            "client_port": 5000,
            "client_audio_port": 5002,
        },
        VLC_UDP_AV,
    ),
    *(
        ({"client": "vlc", "transport": "multicast", "stream": s}, _vlc_multicast(*ports))
        for s, ports in VLC_MULTICAST_PORTS.items()
    ),
]


def _forwards(options: dict) -> list[tuple]:
    plan = resolve(build_scenario(options))
    return [
        (f.router.value, f.protocol, f.ports.first, f.ports.last, f.required) for f in plan.forwards
    ]


def _case_id(options: dict) -> str:
    return "-".join(str(v) for v in options.values())


@pytest.mark.parametrize(("options", "table"), CASES, ids=[_case_id(c[0]) for c in CASES])
@pytest.mark.parametrize("sides", [(PUB, PRIV), (PRIV, PUB), (PRIV, PRIV), (PUB, PUB)])
def test_forwards_match_the_document(options, table, sides):
    camera_side, client_side = sides
    expected = table.get(sides, [])  # both public: no row in the document, no forwards
    got = _forwards({**options, "camera_side": camera_side, "client_side": client_side})
    assert got == expected


@pytest.mark.parametrize(("options", "_table"), CASES, ids=[_case_id(c[0]) for c in CASES])
def test_every_forward_points_at_the_host_behind_its_sharer(options, _table):
    plan = resolve(build_scenario(options))
    for fw in plan.forwards:
        assert fw.to is fw.router
        assert fw.to_ports == fw.ports
        assert fw.serves, "a forward must say which flows it carries"
        for name in fw.serves:
            flow = plan.flow(name)
            assert flow.destination is fw.router
            assert flow.protocol == fw.protocol
            assert fw.ports.overlaps(flow.ports)


def _flows(options: dict) -> dict[str, tuple]:
    plan = resolve(build_scenario(options))
    return {
        f.name: (f.protocol, f.source.value, f.ports.first, f.ports.last, f.required, f.supported)
        for f in plan.flows
    }


def test_web_flows():
    assert _flows({"client": "web"}) == {
        "http": ("tcp", "client", 80, 80, True, True),
        "base-control": ("tcp", "client", 2222, 2222, True, True),
    }


def test_decoder_rtsp_udp_flows_audio_is_listed_but_not_supported():
    flows = _flows({"client": "decoder", "protocol": "rtsp", "transport": "udp"})
    assert flows == {
        "rtsp-control": ("tcp", "client", 554, 554, True, True),
        "rtp-video": ("udp", "camera", 554, 554, True, True),
        "rtcp-video": ("udp", "camera", 555, 555, True, True),
        "rtcp-return": ("udp", "client", 555, 555, True, True),  # both private: forwarded
        "rtp-audio": ("udp", "camera", 574, 575, False, False),  # 574 = 554 + 20
    }


def test_decoder_rtsp_udp_camera_private_only_notes_rtcp():
    plan = resolve(
        build_scenario(
            {
                "client": "decoder",
                "protocol": "rtsp",
                "transport": "udp",
                "camera_side": "private",
                "client_side": "public",
            }
        )
    )
    assert not plan.flow("rtcp-return").required
    assert any("UDP 555" in n and "camera" in n for n in plan.notes)


def test_vsnm_multicast_flow_is_base_plus_16():
    flows = _flows({"client": "decoder", "protocol": "vsnm", "transport": "multicast"})
    assert flows["vsnm-multicast"] == ("udp", "camera", 2238, 2238, True, True)


@pytest.mark.parametrize(("stream", "ports"), VLC_MULTICAST_PORTS.items())
def test_vlc_multicast_flows_per_stream(stream, ports):
    flows = _flows({"client": "vlc", "transport": "multicast", "stream": stream})
    udp = sorted(v[2] for v in flows.values() if v[0] == "udp")
    assert udp == sorted(ports)


def test_vlc_udp_video_only_needs_no_audio_port():
    flows = _flows({"client": "vlc", "transport": "udp", "client_port": 6970})
    assert flows["rtp-video"][2:4] == (6970, 6970)
    assert flows["rtcp-video"][2:4] == (6971, 6971)
    assert "rtp-audio" not in flows


def test_vlc_udp_audio_only_needs_no_video_port():
    flows = _flows(
        {"client": "vlc", "transport": "udp", "stream": "audio1", "client_audio_port": 7000}
    )
    assert "rtp-video" not in flows
    assert flows["rtp-audio"][2:4] == (7000, 7000)


# --- the camera's configured ports move the plan -------------------------------------


def test_rtsp_port_600_gives_udp_600_601():
    got = _forwards({"client": "decoder", "protocol": "rtsp", "transport": "udp", "rtsp_port": 600})
    assert got == [
        ("camera", "tcp", 600, 600, True),
        ("camera", "udp", 601, 601, True),
        ("client", "udp", 600, 601, True),
    ]
    flows = _flows({"client": "decoder", "protocol": "rtsp", "transport": "udp", "rtsp_port": 600})
    assert flows["rtp-audio"][2:4] == (620, 621)


def test_base_port_3000_gives_multicast_3016():
    got = _forwards(
        {"client": "sdk", "transport": "multicast", "base_port": 3000, "camera_side": "public"}
    )
    assert got == [("client", "udp", 3016, 3016, True)]


def test_http_port_8080_moves_the_web_forward():
    got = _forwards({"client": "web", "http_port": 8080, "client_side": "public"})
    assert got == [("camera", "tcp", 8080, 8080, True), ("camera", "tcp", 2222, 2222, True)]


def test_rtsp_port_moves_vlc_and_multicast_control():
    got = _forwards({"client": "vlc", "transport": "multicast", "rtsp_port": 8554})
    assert got[0] == ("camera", "tcp", 8554, 8554, True)


def test_fixed_decoder_range_ignores_the_base_port():
    got = _forwards(
        {"client": "decoder", "protocol": "vsnm", "transport": "udp", "base_port": 3000}
    )
    assert got == [("camera", "tcp", 3000, 3000, True), ("client", "udp", 4333, 4432, True)]


def test_forward_order_is_camera_side_first():
    plan = resolve(build_scenario({"client": "decoder", "protocol": "rtsp", "transport": "udp"}))
    routers = [f.router for f in plan.forwards]
    assert routers == sorted(routers, key=lambda h: h is not Host.CAMERA)
