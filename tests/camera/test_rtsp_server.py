"""The RTSP server over loopback with a raw client: methods, status codes, media."""

from __future__ import annotations

import asyncio
import itertools
import socket

import pytest

from tests.camera.rtsp_client import RawClient, eventually
from truenprobe.camera import EmulatedCamera
from truenprobe.rtp.packet import (
    ReceiverReport,
    ReportBlock,
    SenderReport,
    build_receiver_report,
    parse_rtcp,
    parse_rtp,
)
from truenprobe.rtsp import (
    authorization_for,
    digest_challenge,
    parse_parameters,
    parse_rtp_info,
    parse_sdp,
    parse_session,
    parse_transport,
)


async def _client(cam: EmulatedCamera) -> RawClient:
    return await RawClient.connect("127.0.0.1", cam.rtsp_port)


def _udp_pair() -> tuple[socket.socket, socket.socket, int]:
    """Two adjacent free UDP ports on loopback (RTP even, RTCP odd)."""
    for _ in range(100):
        rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        rtp.bind(("127.0.0.1", 0))
        port = rtp.getsockname()[1]
        if port % 2 == 0 and port < 65535:
            rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                rtcp.bind(("127.0.0.1", port + 1))
            except OSError:
                rtcp.close()
            else:
                rtp.setblocking(False)
                rtcp.setblocking(False)
                return rtp, rtcp, port
        rtp.close()
    raise RuntimeError("no adjacent UDP ports free")


async def _recv(sock: socket.socket, within: float = 5.0) -> tuple[bytes, tuple[str, int]]:
    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(loop.sock_recvfrom(sock, 65536), within)


async def test_options_and_describe(cam: EmulatedCamera) -> None:
    client = await _client(cam)
    response = await client.request("OPTIONS", cam.url("video1"))
    assert response.status == 200
    assert "DESCRIBE" in (response.headers.get("Public") or "")
    for stream, kinds in [
        ("video1", ["video", "application"]),
        ("video1s+audio1", ["video", "audio", "application"]),
        ("audio1", ["audio", "application"]),
    ]:
        response = await client.request("DESCRIBE", cam.url(stream))
        assert response.status == 200
        assert response.headers.get("Content-Type") == "application/sdp"
        assert response.headers.get("Content-Base") == cam.url(stream) + "/"
        sdp = parse_sdp(response.body.decode())
        assert [m.kind for m in sdp.media] == kinds
        assert [m.control for m in sdp.media] == [f"trackID={i + 1}" for i in range(len(kinds))]
        assert all(m.connection == f"IN IP4 {cam.multicast_group}/16" for m in sdp.media)
    video = parse_sdp((await client.request("DESCRIBE", cam.url("video1"))).body.decode()).media[0]
    assert video.encoding == "H264/90000"
    assert video.port == 64704
    assert "sprop-parameter-sets=" in (video.fmtp or "")
    assert "profile-level-id=42" in (video.fmtp or "")
    await client.close()


@pytest.mark.parametrize(
    ("url_path", "status"),
    [("/nothing", 404), ("/video1/trackID=9", 404), ("/", 404), ("/video2", 404)],
)
async def test_unknown_paths_are_404(cam: EmulatedCamera, url_path: str, status: int) -> None:
    client = await _client(cam)
    url = f"rtsp://127.0.0.1:{cam.rtsp_port}{url_path}"
    assert (await client.request("DESCRIBE", url)).status == status
    await client.close()


async def test_status_codes(cam: EmulatedCamera) -> None:
    client = await _client(cam)
    url = cam.url("video1")
    udp = {"Transport": "RTP/AVP;unicast;client_port=50000-50001"}
    # no CSeq
    await client.send_raw(b"OPTIONS * RTSP/1.0\r\n\r\n")
    assert (await client.response()).status == 400
    assert (await client.request("FLY", url)).status == 501
    assert (await client.request("RECORD", url)).status == 405
    assert (await client.request("PLAY", url)).status == 454  # no session
    assert (await client.request("PLAY", url, {"Session": "DEADBEEF"})).status == 454
    assert (await client.request("SETUP", url, udp)).status == 459  # aggregate URL, 2 tracks
    assert (await client.request("SETUP", url + "/trackID=1")).status == 400  # no Transport
    bad_port = {"Transport": "RTP/AVP;unicast;client_port=70000-70001"}
    assert (await client.request("SETUP", url + "/trackID=1", bad_port)).status == 461
    garbled = {"Transport": "RTP/AVP;unicast;client_port=abc"}
    assert (await client.request("SETUP", url + "/trackID=1", garbled)).status == 461
    record = {"Transport": "RTP/AVP;unicast;client_port=50000-50001;mode=record"}
    assert (await client.request("SETUP", url + "/trackID=1", record)).status == 461
    ok = await client.request("SETUP", url + "/trackID=1", udp)
    assert ok.status == 200
    session = {"Session": parse_session(ok.headers.get("Session") or "").session_id}
    other = cam.url("video1s") + "/trackID=1"
    assert (await client.request("SETUP", other, {**udp, **session})).status == 459
    play = await client.request("PLAY", url + "/", session)
    assert play.status == 200
    metadata = {**udp, **session, "Transport": "RTP/AVP;unicast;client_port=50002-50003"}
    assert (await client.request("SETUP", url + "/trackID=2", metadata)).status == 455
    assert (await client.request("GET_PARAMETER", url, session, b"bogus\r\n")).status == 451
    assert (await client.request("TEARDOWN", url, session)).status == 200
    assert (await client.request("TEARDOWN", url, session)).status == 454
    await client.close()


async def test_destination_other_than_the_client_is_refused(cam: EmulatedCamera) -> None:
    client = await _client(cam)
    rtp, rtcp, port = _udp_pair()
    try:
        transport = f"RTP/AVP;unicast;destination=198.51.100.7;client_port={port}-{port + 1}"
        response = await client.request(
            "SETUP", cam.url("video1") + "/trackID=1", {"Transport": transport}
        )
        assert response.status == 461
        assert b"198.51.100.7" in response.body
        assert cam.sessions == []  # nothing set up, so nothing can ever be sent there
        # Naming its own address is fine.
        own = f"RTP/AVP;unicast;destination=127.0.0.1;client_port={port}-{port + 1}"
        response = await client.request(
            "SETUP", cam.url("video1") + "/trackID=1", {"Transport": own}
        )
        assert response.status == 200
    finally:
        rtp.close()
        rtcp.close()
        await client.close()


async def test_udp_unicast_play_rtp_rtcp_and_the_rtcp_counter(cam: EmulatedCamera) -> None:
    client = await _client(cam)
    rtp, rtcp, port = _udp_pair()
    try:
        setup = await client.request(
            "SETUP",
            cam.url("video1") + "/trackID=1",
            {"Transport": f"RTP/AVP;unicast;client_port={port}-{port + 1}"},
        )
        assert setup.status == 200
        session_field = parse_session(setup.headers.get("Session") or "")
        assert session_field.timeout == 60
        assert len(session_field.session_id) == 16
        transport = parse_transport(setup.headers.get("Transport") or "")
        assert transport.server_port == cam.server_ports
        assert transport.client_port == (port, port + 1)
        session = {"Session": session_field.session_id}
        play = await client.request("PLAY", cam.url("video1"), session)
        assert play.status == 200
        (info,) = parse_rtp_info(play.headers.get("RTP-Info") or "")
        assert info.url == cam.url("video1") + "/trackID=1"
        data, source = await _recv(rtp)
        assert source == ("127.0.0.1", cam.server_ports[0])  # sent from R
        packet = parse_rtp(data)
        assert packet.ssrc == transport.ssrc
        assert packet.sequence == info.seq
        assert packet.payload_type == 96
        assert packet.timestamp == info.rtptime or packet.timestamp - (info.rtptime or 0) < 90000
        report, source = await _recv(rtcp, 3.0)  # a sender report within about a second
        assert source == ("127.0.0.1", cam.server_ports[1])
        sr = parse_rtcp(report)[0]
        assert isinstance(sr, SenderReport)
        assert sr.ssrc == transport.ssrc
        assert sr.packet_count > 0

        # The decoder's RTCP toward camera:R+1 is counted and reported on request.
        ask = {**session, "Content-Type": "text/parameters"}
        body = b"x-truen-rtcp-received\r\n"
        before = await client.request("GET_PARAMETER", cam.url("video1"), ask, body)
        assert before.status == 200
        assert before.headers.get("Content-Type") == "text/parameters"
        assert parse_parameters(before.body) == {"x-truen-rtcp-received": "0"}
        receiver_report = build_receiver_report(
            ReceiverReport(0x1234, (ReportBlock(transport.ssrc or 0, 0, 0, 0, 0, 0, 0),))
        )
        for _ in range(3):
            rtcp.sendto(receiver_report, ("127.0.0.1", cam.server_ports[1]))
        rtcp.sendto(b"not rtcp", ("127.0.0.1", cam.server_ports[1]))
        session_obj = cam.sessions[0]
        await eventually(lambda: session_obj.rtcp_received == 3)
        after = await client.request("GET_PARAMETER", cam.url("video1"), ask, body)
        assert parse_parameters(after.body) == {"x-truen-rtcp-received": "3"}
        keepalive = await client.request("GET_PARAMETER", cam.url("video1"), session)
        assert keepalive.status == 200
        assert (await client.request("PAUSE", cam.url("video1"), session)).status == 200
        assert (await client.request("TEARDOWN", cam.url("video1"), session)).status == 200
        assert cam.sessions == []
    finally:
        rtp.close()
        rtcp.close()
        await client.close()


async def test_tcp_interleaved_play(cam: EmulatedCamera) -> None:
    client = await _client(cam)
    url = cam.url("video1+audio1")
    session: dict[str, str] = {}
    channels = []
    for track in (1, 2, 3):
        response = await client.request(
            "SETUP",
            f"{url}/trackID={track}",
            {"Transport": "RTP/AVP/TCP;unicast;interleaved=0-1", **session},
        )
        assert response.status == 200
        session = {"Session": parse_session(response.headers.get("Session") or "").session_id}
        channels.append(parse_transport(response.headers.get("Transport") or "").interleaved)
    assert channels == [(0, 1), (2, 3), (4, 5)]  # taken channels are not handed out twice
    assert (await client.request("PLAY", url + "/trackID=1", session)).status == 460
    assert (await client.request("PLAY", url, session)).status == 200
    frames = await client.read_frames(150)  # video starts at the next keyframe (<= 1 s)
    video = [parse_rtp(f.data) for f in frames if f.channel == 0]
    audio = [parse_rtp(f.data) for f in frames if f.channel == 2]
    assert video
    assert audio
    assert {p.payload_type for p in audio} == {0}
    sequences = [p.sequence for p in video]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(sequences))
    await client.close()
    await eventually(lambda: not cam.sessions)  # interleaved sessions end with the connection


async def test_multicast_setup_answers_the_document_ports(cam: EmulatedCamera) -> None:
    client = await _client(cam)
    expected = {
        "video1": [64704, 64904],
        "video1s": [64706, 64906],
        "video1+audio1": [64702, 64802, 64902],
        "audio1": [64808, 64908],
        "video1s+audio1": [64718, 64818, 64918],
    }
    for stream, ports in expected.items():
        got = []
        for track in range(1, len(ports) + 1):
            response = await client.request(
                "SETUP",
                f"{cam.url(stream)}/trackID={track}",
                {"Transport": "RTP/AVP;multicast;destination=232.1.1.1;port=5000-5001"},
            )
            assert response.status == 200
            transport = parse_transport(response.headers.get("Transport") or "")
            assert transport.multicast
            assert transport.destination == cam.multicast_group  # never the client's choice
            assert transport.ttl == 16
            got.append(transport.port[0] if transport.port else None)
        assert got == ports, stream
    await client.close()


async def test_multicast_port_override() -> None:
    async with EmulatedCamera(multicast_ports={"video1": {"video": 64710}}) as cam:
        assert cam.multicast_port("video1") == 64710
        assert cam.multicast_port("video1", "metadata") == 64904
        client = await _client(cam)
        response = await client.request(
            "SETUP", cam.url("video1") + "/trackID=1", {"Transport": "RTP/AVP;multicast"}
        )
        assert parse_transport(response.headers.get("Transport") or "").port == (64710, 64711)
        await client.close()


async def test_digest_authentication(auth_cam: EmulatedCamera) -> None:
    cam = auth_cam
    client = await _client(cam)
    url = cam.url("video1")
    assert (await client.request("OPTIONS", url)).status == 200
    first = await client.request("DESCRIBE", url)
    assert first.status == 401
    challenge = digest_challenge(first.headers.get("WWW-Authenticate") or "")
    assert challenge is not None
    again = await client.request("DESCRIBE", url)
    other = digest_challenge(again.headers.get("WWW-Authenticate") or "")
    assert other is not None
    assert other.nonce != challenge.nonce  # fresh random nonces
    wrong = authorization_for(
        challenge, username="admin", password="guess", method="DESCRIBE", uri=url
    )
    assert (await client.request("DESCRIBE", url, {"Authorization": wrong})).status == 401
    right = authorization_for(
        challenge, username="admin", password="s3cret!", method="DESCRIBE", uri=url
    )
    assert (await client.request("DESCRIBE", url, {"Authorization": right})).status == 200
    forged = right.replace(challenge.nonce, "0" * 32)
    assert (await client.request("DESCRIBE", url, {"Authorization": forged})).status == 401
    await client.close()


async def test_malformed_request_gets_400_and_the_camera_keeps_serving(
    cam: EmulatedCamera,
) -> None:
    client = await _client(cam)
    await client.send_raw(b"GARBAGE\r\n\r\n")
    assert (await client.response()).status == 400
    assert await client.closed()
    big = await _client(cam)
    await big.send_raw(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nContent-Length: 70000\r\n\r\n")
    assert (await big.response()).status == 413
    assert await big.closed()
    huge = await _client(cam)
    await huge.send_raw(b"OPTIONS * RTSP/1.0\r\n" + b"X-Pad: aaaaaaaaaa\r\n" * 600)
    assert (await huge.response()).status == 400
    assert await huge.closed()
    fresh = await _client(cam)
    assert (await fresh.request("OPTIONS", cam.url("video1"))).status == 200
    for c in (client, big, huge, fresh):
        await c.close()


async def test_pipelined_and_byte_by_byte_requests(cam: EmulatedCamera) -> None:
    client = await _client(cam)
    url = cam.url("video1")
    wire = b"".join(f"OPTIONS {url} RTSP/1.0\r\nCSeq: {n}\r\n\r\n".encode() for n in range(1, 4))
    await client.send_raw(wire)
    assert [(await client.response()).cseq for _ in range(3)] == [1, 2, 3]
    describe = f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 4\r\n\r\n".encode()
    for i in range(len(describe)):
        await client.send_raw(describe[i : i + 1])
    response = await client.response()
    assert response.cseq == 4
    assert response.status == 200
    await client.close()


async def test_session_expires_without_keepalive() -> None:
    async with EmulatedCamera(session_timeout=1) as cam:
        client = await _client(cam)
        response = await client.request(
            "SETUP",
            cam.url("video1") + "/trackID=1",
            {"Transport": "RTP/AVP;unicast;client_port=50000-50001"},
        )
        assert parse_session(response.headers.get("Session") or "").timeout == 1
        assert len(cam.sessions) == 1
        await eventually(lambda: not cam.sessions, within=5)
        await client.close()


async def test_require_is_answered_551(cam: EmulatedCamera) -> None:
    client = await _client(cam)
    response = await client.request("OPTIONS", cam.url("video1"), {"Require": "funky-feature"})
    assert response.status == 551
    assert response.headers.get("Unsupported") == "funky-feature"
    await client.close()


async def test_pause_stops_media_and_play_resumes_it(cam: EmulatedCamera) -> None:
    client = await _client(cam)
    url = cam.url("audio1")
    setup = await client.request(
        "SETUP", url + "/trackID=1", {"Transport": "RTP/AVP/TCP;interleaved=0-1"}
    )
    session = {"Session": parse_session(setup.headers.get("Session") or "").session_id}
    assert (await client.request("PLAY", url, session)).status == 200
    await client.read_frames(5)
    pause = await client.request("PAUSE", url, session)
    assert pause.status == 200
    assert cam.sessions[0].state.value == "ready"
    client.frames.clear()
    assert (await client.request("GET_PARAMETER", url, session)).status == 200
    # TCP keeps order: nothing may follow the PAUSE answer on the connection.
    assert [f for f in client.frames if f.channel == 0] == []
    play = await client.request("PLAY", url, session)
    assert play.status == 200
    (info,) = parse_rtp_info(play.headers.get("RTP-Info") or "")
    client.frames.clear()
    frames = await client.read_frames(3)
    first = next(parse_rtp(f.data) for f in frames if f.channel == 0)
    assert first.sequence == info.seq  # sequence numbers continue where they stopped
    await client.close()


async def test_audio_from_its_own_pair_and_rtcp_from_any_port_credited_by_ssrc() -> None:
    """A VLC-type player's camera-side forwards have the camera use the player's audio port
    numbers; RTCP reaching the audio RTCP port from a port the camera never sent to (the
    prober's return-flow check) is credited to the session by the SSRC it reports on."""
    held, _spare, audio = _udp_pair()  # a free pair for the camera's audio
    held.close()
    _spare.close()
    async with EmulatedCamera(host="127.0.0.1", server_audio_ports=(audio, audio + 1)) as cam:
        assert cam.audio_server_ports == (audio, audio + 1)
        client = await _client(cam)
        rtp, rtcp, port = _udp_pair()
        fresh = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        fresh.bind(("127.0.0.1", 0))
        try:
            setup = await client.request(
                "SETUP",
                cam.url("audio1") + "/trackID=1",
                {"Transport": f"RTP/AVP;unicast;client_port={port}-{port + 1}"},
            )
            assert setup.status == 200
            transport = parse_transport(setup.headers.get("Transport") or "")
            assert transport.server_port == (audio, audio + 1)
            session = {"Session": parse_session(setup.headers.get("Session") or "").session_id}
            assert (await client.request("PLAY", cam.url("audio1"), session)).status == 200
            _data, source = await _recv(rtp)
            assert source == ("127.0.0.1", audio)
            report = build_receiver_report(
                ReceiverReport(0x4321, (ReportBlock(transport.ssrc or 0, 0, 0, 0, 0, 0, 0),))
            )
            fresh.sendto(report, ("127.0.0.1", audio + 1))
            await eventually(lambda: cam.sessions[0].rtcp_received == 1)
            ask = {**session, "Content-Type": "text/parameters"}
            body = b"x-truen-rtcp-received\r\n"
            track = cam.url("audio1") + "/trackID=1"
            answer = await client.request("GET_PARAMETER", track, ask, body)
            assert parse_parameters(answer.body) == {"x-truen-rtcp-received": "1"}
            await client.request("TEARDOWN", cam.url("audio1"), session)
        finally:
            for sock in (rtp, rtcp, fresh):
                sock.close()
            await client.close()


async def test_rtcp_asked_on_a_track_url_counts_that_tracks_port_only() -> None:
    """Video's receiver reports must not prove audio's return flow: each track's RTCP port
    may need its own forward."""
    async with EmulatedCamera(host="127.0.0.1") as cam:
        client = await _client(cam)
        pairs = [_udp_pair(), _udp_pair()]
        url = cam.url("video1+audio1")
        session: dict[str, str] = {}
        servers = []
        try:
            for number, (_rtp, _rtcp, port) in enumerate(pairs, start=1):
                setup = await client.request(
                    "SETUP",
                    f"{url}/trackID={number}",
                    {"Transport": f"RTP/AVP;unicast;client_port={port}-{port + 1}", **session},
                )
                assert setup.status == 200
                sid = parse_session(setup.headers.get("Session") or "").session_id
                session = {"Session": sid}
                servers.append(parse_transport(setup.headers.get("Transport") or ""))
            video = servers[0]
            report = build_receiver_report(
                ReceiverReport(0x99, (ReportBlock(video.ssrc or 0, 0, 0, 0, 0, 0, 0),))
            )
            assert video.server_port is not None
            pairs[0][1].sendto(report, ("127.0.0.1", video.server_port[1]))
            await eventually(lambda: cam.sessions[0].rtcp_received == 1)
            ask = {**session, "Content-Type": "text/parameters"}
            body = b"x-truen-rtcp-received\r\n"
            counts = []
            for target in (f"{url}/trackID=1", f"{url}/trackID=2", url):
                answer = await client.request("GET_PARAMETER", target, ask, body)
                counts.append(parse_parameters(answer.body)["x-truen-rtcp-received"])
            assert counts == ["1", "0", "1"]  # video's port, audio's port, the session
            await client.request("TEARDOWN", url, session)
        finally:
            for rtp, rtcp, _port in pairs:
                rtp.close()
                rtcp.close()
            await client.close()
