"""Build a Scenario from options: apply the document's defaults, refuse what it does not allow.

Every refusal is a ``ScenarioError`` whose message is one line naming the allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from enum import StrEnum
from typing import Any, TypeVar

from truenprobe.errors import ScenarioError
from truenprobe.plan.model import Client, Media, Protocol, Scenario, Side, Stream, Transport
from truenprobe.plan.rules import (
    PROTOCOL_DEFAULT,
    SDK_FIRST_PORT,
    SECTIONS,
    STREAMS_ALLOWED,
    TRANSPORT_DEFAULT,
    media_of,
)

SCENARIO_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Scenario))

E = TypeVar("E", bound=StrEnum)


def _choice(enum: type[E], value: object, option: str) -> E:
    if isinstance(value, enum):
        return value
    try:
        return enum(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise ScenarioError(f"--{option}: {value!r} is not one of: {allowed}") from None


def _port(value: object, option: str, *, span: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ScenarioError(f"--{option}: {value!r} is not a port number")
    try:
        port = int(value)
    except ValueError:
        raise ScenarioError(f"--{option}: {value!r} is not a port number") from None
    top = 65535 - (span - 1)
    if not 1 <= port <= top:
        raise ScenarioError(f"--{option}: {port} is out of range (1-{top})")
    return port


def _names(values: Sequence[StrEnum]) -> str:
    return ", ".join(v.value for v in values)


def build_scenario(options: Mapping[str, Any]) -> Scenario:
    """A validated Scenario from option values; keys are Scenario's field names.

    Missing or None values take the document's defaults where it has one.
    """
    unknown = sorted(set(options) - set(SCENARIO_KEYS))
    if unknown:
        raise ScenarioError(
            f"unknown scenario key(s) {', '.join(unknown)}; known: {', '.join(SCENARIO_KEYS)}"
        )
    opt = {k: v for k, v in options.items() if v is not None}

    if "client" not in opt:
        raise ScenarioError(f"--client is required: one of {_names(list(Client))}")
    client = _choice(Client, opt["client"], "client")

    protocol = _protocol(client, opt.get("protocol"))
    transport = _transport(client, opt.get("transport"))
    if (client, protocol, transport) not in SECTIONS:  # pragma: no cover - tables agree
        raise ScenarioError(f"the document has no section for {client} {protocol} {transport}")

    stream = _choice(Stream, opt.get("stream", Stream.VIDEO1), "stream")
    if stream not in STREAMS_ALLOWED[client]:
        raise ScenarioError(
            f"--stream {stream.value} is not available to the {client.value} client; "
            f"allowed: {_names(STREAMS_ALLOWED[client])}"
        )

    http_port = _port(opt.get("http_port", 80), "http-port")
    base_port = _port(opt.get("base_port", 2222), "base-port")
    rtsp_port = _port(opt.get("rtsp_port", 554), "rtsp-port")
    _check_camera_ports(protocol, transport, http_port, base_port, rtsp_port)

    sdk_cameras = _sdk_cameras(opt.get("sdk_cameras", 1))
    client_port, client_audio_port = _client_ports(client, transport, stream, opt)

    return Scenario(
        client=client,
        protocol=protocol,
        transport=transport,
        camera_side=_choice(Side, opt.get("camera_side", Side.PRIVATE), "camera-side"),
        client_side=_choice(Side, opt.get("client_side", Side.PRIVATE), "client-side"),
        http_port=http_port,
        base_port=base_port,
        rtsp_port=rtsp_port,
        stream=stream,
        sdk_cameras=sdk_cameras,
        client_port=client_port,
        client_audio_port=client_audio_port,
    )


def _protocol(client: Client, value: object) -> Protocol | None:
    allowed = sorted(
        {p for (c, p, _t) in SECTIONS if c is client and p is not None}, key=list(Protocol).index
    )
    if value is None:
        if client is Client.WEB:
            return None
        default = PROTOCOL_DEFAULT[client]
        if default is None:
            raise ScenarioError(
                f"--protocol is required for the {client.value} client: one of {_names(allowed)}"
            )
        return default
    protocol = _choice(Protocol, value, "protocol")
    if client is Client.WEB:
        raise ScenarioError(
            "--protocol does not apply to the web client (it uses HTTP and the base port)"
        )
    if protocol not in allowed:
        raise ScenarioError(
            f"the {client.value} client does not use {protocol.value}; allowed: {_names(allowed)}"
        )
    return protocol


def _transport(client: Client, value: object) -> Transport:
    allowed = sorted({t for (c, _p, t) in SECTIONS if c is client}, key=list(Transport).index)
    if value is None:
        default = TRANSPORT_DEFAULT[client]
        if default is None:
            raise ScenarioError(
                f"--transport is required for the {client.value} client: one of {_names(allowed)}"
            )
        return default
    transport = _choice(Transport, value, "transport")
    if transport not in allowed:
        raise ScenarioError(
            f"the {client.value} client does not use {transport.value}; allowed: {_names(allowed)}"
        )
    return transport


def _check_camera_ports(
    protocol: Protocol | None, transport: Transport, http: int, base: int, rtsp: int
) -> None:
    if len({http, base, rtsp}) < 3:
        raise ScenarioError(
            f"the camera's HTTP ({http}), base ({base}) and RTSP ({rtsp}) ports must differ"
        )
    if protocol is Protocol.VSNM and transport is Transport.MULTICAST and base + 16 > 65535:
        raise ScenarioError(f"--base-port: {base} + 16 (its multicast port) is above 65535")
    if protocol is Protocol.RTSP and transport is Transport.UDP and rtsp + 21 > 65535:
        raise ScenarioError(
            f"--rtsp-port: {rtsp} leaves no room for its UDP ports {rtsp}-{rtsp + 21} (max 65514)"
        )


def _sdk_cameras(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ScenarioError(f"--sdk-cameras: {value!r} is not a whole number")
    try:
        count = int(value)
    except ValueError:
        raise ScenarioError(f"--sdk-cameras: {value!r} is not a whole number") from None
    most = (65535 - SDK_FIRST_PORT + 1) // 2
    if not 1 <= count <= most:
        raise ScenarioError(f"--sdk-cameras: {count} is out of range (1-{most})")
    return count


VLC_PORT_HINT = (
    "VLC chooses its RTP port itself: fix it with VLC's --rtp-client-port option "
    "(Tools > Preferences > All > Input/Codecs > Demuxers > RTP/RTSP > Client port) "
    "and give the same number here"
)


def _client_ports(
    client: Client, transport: Transport, stream: Stream, opt: Mapping[str, Any]
) -> tuple[int | None, int | None]:
    video = opt.get("client_port")
    audio = opt.get("client_audio_port")
    if client is not Client.VLC or transport is not Transport.UDP:
        # Meaningless elsewhere; keep them out of the plan rather than fail a site file.
        return None, None
    media = media_of(stream)
    if Media.VIDEO in media:
        if video is None:
            raise ScenarioError(f"vlc with udp needs --client-port (video RTP). {VLC_PORT_HINT}")
        video = _port(video, "client-port", span=2)
    else:
        video = None
    if Media.AUDIO in media:
        if audio is None:
            raise ScenarioError(
                f"vlc with udp and stream {stream.value} needs --client-audio-port (audio RTP; "
                f"VLC usually takes the video port + 2). {VLC_PORT_HINT}"
            )
        audio = _port(audio, "client-audio-port", span=2)
    else:
        audio = None
    if video is not None and audio is not None and abs(video - audio) < 2:
        raise ScenarioError(
            f"--client-port {video} and --client-audio-port {audio} overlap: each uses two ports"
        )
    return video, audio


def scenario_to_dict(scenario: Scenario) -> dict[str, Any]:
    """The scenario as JSON-ready values, in field order (the JSON contract's order)."""
    out: dict[str, Any] = {}
    for name in SCENARIO_KEYS:
        value = getattr(scenario, name)
        out[name] = value.value if isinstance(value, StrEnum) else value
    return out
