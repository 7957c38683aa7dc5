"""Truen's port-usage document (shared/spec/truen-port-usage.txt) as data.

Each (client, protocol, transport) the document describes maps to the flows it
needs. A flow rule says where its ports come from (the camera's configuration,
the document's fixed numbers, or the client's own ports), when it is required,
and on which IP sharer the document puts a forward for it. ``resolve()`` only
evaluates these tables; there is no per-scenario code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from truenprobe.plan.model import Client, Host, Media, Protocol, Role, Stream, Transport


class Anchor(StrEnum):
    """Where a flow's first port comes from."""

    HTTP = "http"  # the camera's HTTP port
    BASE = "base"  # the camera's base port B
    RTSP = "rtsp"  # the camera's RTSP port R
    FIXED = "fixed"  # a number fixed in the client (offset is the port)
    CLIENT_PORT = "client_port"  # the VLC-type client's video RTP port
    CLIENT_AUDIO_PORT = "client_audio_port"  # ... and its audio RTP port
    STREAM_MULTICAST = "stream_multicast"  # per-stream multicast port, by the rule's media


class Span(StrEnum):
    """A port count that depends on the scenario."""

    SDK_PAIRS = "sdk_pairs"  # two ports for each camera the SDK client connects to


class When(StrEnum):
    """A condition on the camera's and the client's sides."""

    ALWAYS = "always"
    NEVER = "never"
    DESTINATION_PRIVATE = "destination-private"  # the usual rule: the receiver's sharer forwards
    BOTH_PRIVATE = "both-private"
    CAMERA_PRIVATE_CLIENT_PUBLIC = "camera-private-client-public"


@dataclass(frozen=True)
class PortSpec:
    anchor: Anchor
    offset: int = 0
    span: int | Span = 1


@dataclass(frozen=True)
class FlowRule:
    name: str
    protocol: str
    source: Host
    role: Role
    ports: PortSpec
    purpose: str
    media: Media | None = None  # the flow exists only when the stream carries this media
    multicast: bool = False
    supported: bool = True
    required: When = When.ALWAYS
    forward: When = When.DESTINATION_PRIVATE
    forward_required: bool = True
    # Flows of one group on the same IP sharer share one forward (e.g. RTP+RTCP 554-555).
    forward_group: str | None = None

    @property
    def destination(self) -> Host:
        return self.source.other


@dataclass(frozen=True)
class NoteRule:
    when: When
    text: str  # str.format fields: see resolve._port_fields()


@dataclass(frozen=True)
class Section:
    """What the document says about one (client, protocol, transport)."""

    flows: tuple[FlowRule, ...]
    notes: tuple[NoteRule, ...] = ()


CLIENT, CAMERA = Host.CLIENT, Host.CAMERA

# --- flows shared by several sections -------------------------------------------------

HTTP = FlowRule(
    "http", "tcp", CLIENT, Role.HTTP, PortSpec(Anchor.HTTP), "HTTP: the camera's web pages"
)
BASE = FlowRule(
    "base-control",
    "tcp",
    CLIENT,
    Role.BASE,
    PortSpec(Anchor.BASE),
    "proprietary protocol (VSNM) on the base port: control, and media in TCP mode",
)
RTSP_CONTROL = FlowRule(
    "rtsp-control",
    "tcp",
    CLIENT,
    Role.RTSP,
    PortSpec(Anchor.RTSP),
    "RTSP control, and interleaved RTP in TCP mode",
)
VSNM_MULTICAST = FlowRule(
    "vsnm-multicast",
    "udp",
    CAMERA,
    Role.MULTICAST,
    PortSpec(Anchor.BASE, offset=16),
    "proprietary protocol multicast audio/video (base port + 16)",
    multicast=True,
)


def _vsnm_udp_media(span: int | Span, purpose: str) -> FlowRule:
    return FlowRule(
        "vsnm-media",
        "udp",
        CAMERA,
        Role.VSNM_MEDIA,
        PortSpec(Anchor.FIXED, offset=4333, span=span),
        purpose,
    )


def _stream_multicast(media: Media) -> FlowRule:
    return FlowRule(
        f"multicast-{media.value}",
        "udp",
        CAMERA,
        Role.MULTICAST,
        PortSpec(Anchor.STREAM_MULTICAST),
        f"RTP multicast {media.value}; the port depends on the stream's URL",
        media=media,
        multicast=True,
    )


def _vlc_unicast(media: Media, anchor: Anchor) -> tuple[FlowRule, ...]:
    label = media.value
    return (
        FlowRule(
            f"rtp-{label}",
            "udp",
            CAMERA,
            Role.RTP,
            PortSpec(anchor),
            f"RTP {label} to the player's port (chosen by the player)",
            media=media,
            forward_group=label,
        ),
        FlowRule(
            f"rtcp-{label}",
            "udp",
            CAMERA,
            Role.RTCP,
            PortSpec(anchor, offset=1),
            f"RTCP sender reports for {label} (player's port + 1)",
            media=media,
            forward_group=label,
        ),
        FlowRule(
            f"{label}-return",
            "udp",
            CLIENT,
            Role.RTCP_RETURN,
            PortSpec(anchor, span=2),
            f"player's {label} ports toward the camera (the document: not mandatory)",
            media=media,
            required=When.NEVER,
            forward=When.CAMERA_PRIVATE_CLIENT_PUBLIC,
            forward_required=False,
        ),
    )


MULTICAST_ROUTING_NOTE = NoteRule(
    When.ALWAYS,
    "Multicast does not cross routers by itself: unless camera and client share a LAN, every "
    "router between them (each IP sharer included) must route multicast (IGMP proxy or "
    "multicast routing) besides the forwards the document lists.",
)

# --- the document, section by section -------------------------------------------------

SECTIONS: dict[tuple[Client, Protocol | None, Transport], Section] = {
    # 1. Camera -> Web
    (Client.WEB, None, Transport.TCP): Section(
        (
            HTTP,
            FlowRule(
                "base-control",
                "tcp",
                CLIENT,
                Role.BASE,
                PortSpec(Anchor.BASE),
                "proprietary protocol on the base port, used for web viewing",
            ),
        )
    ),
    # 2. Camera -> Decoder, (1) proprietary protocol
    (Client.DECODER, Protocol.VSNM, Transport.TCP): Section((BASE,)),
    (Client.DECODER, Protocol.VSNM, Transport.UDP): Section(
        (
            BASE,
            _vsnm_udp_media(100, "proprietary protocol media; 4333-4432 are fixed in the decoder"),
        )
    ),
    (Client.DECODER, Protocol.VSNM, Transport.MULTICAST): Section(
        (BASE, VSNM_MULTICAST), (MULTICAST_ROUTING_NOTE,)
    ),
    # 2. Camera -> Decoder, (2) RTSP/RTP
    (Client.DECODER, Protocol.RTSP, Transport.TCP): Section((RTSP_CONTROL,)),
    (Client.DECODER, Protocol.RTSP, Transport.UDP): Section(
        (
            RTSP_CONTROL,
            FlowRule(
                "rtp-video",
                "udp",
                CAMERA,
                Role.RTP,
                PortSpec(Anchor.RTSP),
                "RTP video (the RTSP port)",
                forward_group="video",
            ),
            FlowRule(
                "rtcp-video",
                "udp",
                CAMERA,
                Role.RTCP,
                PortSpec(Anchor.RTSP, offset=1),
                "RTCP for video (the RTSP port + 1)",
                forward_group="video",
            ),
            FlowRule(
                "rtcp-return",
                "udp",
                CLIENT,
                Role.RTCP_RETURN,
                PortSpec(Anchor.RTSP, offset=1),
                "RTCP receiver reports from the decoder to the camera (RTSP port + 1)",
                required=When.BOTH_PRIVATE,
                forward=When.BOTH_PRIVATE,
            ),
            FlowRule(
                "rtp-audio",
                "udp",
                CAMERA,
                Role.RTP,
                PortSpec(Anchor.RTSP, offset=20, span=2),
                "RTP/RTCP audio (RTSP port + 20): not supported now",
                supported=False,
                required=When.NEVER,
                forward=When.NEVER,
            ),
        ),
        (
            NoteRule(
                When.ALWAYS,
                "Only video is supported over RTSP/UDP now; audio ports {rtsp20}-{rtsp21} are "
                "listed for completeness and need no forward.",
            ),
            NoteRule(
                When.CAMERA_PRIVATE_CLIENT_PUBLIC,
                "The document lists only TCP {rtsp} on the camera-side IP sharer here; if the "
                "decoder's RTCP receiver reports must reach the camera, forward UDP {rtsp1} to "
                "the camera as well.",
            ),
        ),
    ),
    (Client.DECODER, Protocol.RTSP, Transport.MULTICAST): Section(
        (RTSP_CONTROL, _stream_multicast(Media.VIDEO)),
        (
            NoteRule(When.ALWAYS, "Only video is supported over RTSP multicast now."),
            MULTICAST_ROUTING_NOTE,
        ),
    ),
    # 3. Camera -> Truen SDK (including TVMS)
    (Client.SDK, Protocol.VSNM, Transport.TCP): Section((BASE,)),
    (Client.SDK, Protocol.VSNM, Transport.UDP): Section(
        (
            BASE,
            _vsnm_udp_media(
                Span.SDK_PAIRS,
                "proprietary protocol media: a pair from 4333 for each camera the client views",
            ),
        ),
        (
            NoteRule(
                When.ALWAYS,
                "The SDK uses 4333/4334 for its first camera, 4335/4336 for the second and so "
                "on: {sdk_cameras} camera(s) need 4333-{sdk_last}.",
            ),
        ),
    ),
    (Client.SDK, Protocol.VSNM, Transport.MULTICAST): Section(
        (BASE, VSNM_MULTICAST), (MULTICAST_ROUTING_NOTE,)
    ),
    # 4. Camera -> VLC player (or other RTSP client)
    (Client.VLC, Protocol.RTSP, Transport.TCP): Section((RTSP_CONTROL,)),
    (Client.VLC, Protocol.RTSP, Transport.UDP): Section(
        (
            RTSP_CONTROL,
            *_vlc_unicast(Media.VIDEO, Anchor.CLIENT_PORT),
            *_vlc_unicast(Media.AUDIO, Anchor.CLIENT_AUDIO_PORT),
        ),
        (
            NoteRule(
                When.ALWAYS,
                "VLC picks its RTP ports itself: fix them (VLC option --rtp-client-port) so the "
                "forwards below stay valid.",
            ),
            NoteRule(
                When.CAMERA_PRIVATE_CLIENT_PUBLIC,
                "The camera-side forwards of the player's ports are 'not mandatory' in the "
                "document; they are listed with required: false.",
            ),
        ),
    ),
    (Client.VLC, Protocol.RTSP, Transport.MULTICAST): Section(
        (
            RTSP_CONTROL,
            _stream_multicast(Media.VIDEO),
            _stream_multicast(Media.AUDIO),
            _stream_multicast(Media.METADATA),
        ),
        (MULTICAST_ROUTING_NOTE,),
    ),
}

# The document's multicast ports per RTSP URL (VLC table; the decoder table agrees).
STREAM_MULTICAST_PORTS: dict[Stream, dict[Media, int]] = {
    Stream.VIDEO1: {Media.VIDEO: 64704, Media.METADATA: 64904},
    Stream.VIDEO1S: {Media.VIDEO: 64706, Media.METADATA: 64906},
    Stream.VIDEO1_AUDIO1: {Media.VIDEO: 64702, Media.AUDIO: 64802, Media.METADATA: 64902},
    Stream.AUDIO1: {Media.AUDIO: 64808, Media.METADATA: 64908},
    Stream.VIDEO1S_AUDIO1: {Media.VIDEO: 64718, Media.AUDIO: 64818, Media.METADATA: 64918},
}

# What the document allows beyond the sections' keys.
PROTOCOL_DEFAULT: dict[Client, Protocol | None] = {
    Client.WEB: None,
    Client.SDK: Protocol.VSNM,
    Client.VLC: Protocol.RTSP,
    Client.DECODER: None,  # required
}
TRANSPORT_DEFAULT: dict[Client, Transport | None] = {
    Client.WEB: Transport.TCP,
    Client.SDK: None,
    Client.VLC: None,
    Client.DECODER: None,
}
STREAMS_ALLOWED: dict[Client, tuple[Stream, ...]] = {
    Client.DECODER: (Stream.VIDEO1, Stream.VIDEO1S),
    Client.WEB: tuple(Stream),
    Client.SDK: tuple(Stream),
    Client.VLC: tuple(Stream),
}

SDK_FIRST_PORT = 4333


def media_of(stream: Stream) -> frozenset[Media]:
    """The media a stream carries, metadata included: the multicast table's keys."""
    return frozenset(STREAM_MULTICAST_PORTS[stream])
