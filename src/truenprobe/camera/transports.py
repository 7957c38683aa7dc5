"""Choosing how a track's RTP travels: UDP unicast, TCP interleaved or multicast.

The first transport a client offers that the camera can honour wins. UDP unicast only
ever goes to the address the request came from: ``destination=`` naming any other is
refused, so the camera cannot be used to reflect traffic at a third party.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field

from truenprobe.camera.catalog import Track
from truenprobe.camera.config import AUDIO_PORT_OFFSET, CameraConfig
from truenprobe.camera.fanout import UnicastFanout
from truenprobe.camera.media import Clip, Feed
from truenprobe.camera.ports import connected_sender
from truenprobe.camera.session import Mode, MulticastGroup, SessionTrack
from truenprobe.camera.sinks import TcpSender, UdpSender
from truenprobe.plan.model import Media, Stream
from truenprobe.rtsp.transport import TransportSpec


@dataclass
class ConnectionInfo:
    """What the service needs to know about the connection a request came on."""

    connection_id: int
    peer_ip: str
    local_ip: str
    transport: asyncio.WriteTransport | None = None  # for interleaved RTP
    channels: set[int] = field(default_factory=set)
    local_port: int = 0  # the RTSP port R the request came to (0: unknown)


@dataclass
class UdpPair:
    """A pair of the camera's UDP server sockets (RTP, RTCP) and their ports."""

    rtp: socket.socket
    rtcp: socket.socket
    ports: tuple[int, int]


class Refusal(Exception):
    """Answer the request with this status (and a one-line reason in the body)."""

    def __init__(self, status: int, reason: str = "") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class TransportChooser:
    """Builds a session's track (and its sender) from the transports a SETUP offers."""

    def __init__(
        self,
        config: CameraConfig,
        clips: Mapping[str, Clip],
        feeds: dict[str, Feed],
        video_pair: UdpPair,
        audio_pair: UdpPair,
        multicast_socket: socket.socket,
        cname: str,
    ) -> None:
        self.config = config
        self.clips = clips
        self.feeds = feeds
        self.video_pair = video_pair
        self.audio_pair = audio_pair
        self.multicast_socket = multicast_socket
        self.cname = cname
        self.groups: dict[tuple[Stream, Media], MulticastGroup] = {}
        self.fanouts: dict[tuple[str, int], UnicastFanout] = {}

    def choose(
        self,
        offers: tuple[TransportSpec, ...],
        stream: Stream,
        track: Track,
        conn: ConnectionInfo,
    ) -> SessionTrack:
        reasons = []
        feed = self.feeds[track.feed]
        clip = self.clips[track.feed]
        for offer in offers:
            if offer.profile != "RTP/AVP":
                reasons.append(f"profile {offer.profile} is not offered")
            elif offer.mode not in (None, "PLAY"):
                reasons.append(f"mode {offer.mode} is not offered (the camera only plays)")
            elif offer.multicast:
                return self._multicast_track(stream, track, feed, clip)
            elif offer.is_tcp:
                if conn.transport is None:
                    reasons.append("interleaved transport needs the RTSP connection")
                    continue
                channels = self._channels(offer.interleaved, conn)
                sender = TcpSender(clip, self.cname, conn.transport, channels[0])
                reply = TransportSpec(
                    lower="TCP", interleaved=channels, ssrc=sender.ssrc, mode="PLAY"
                )
                return SessionTrack(track, Mode.TCP, reply, feed, sender=sender)
            elif offer.client_port is None:
                reasons.append("UDP unicast needs client_port=")
            elif not _allowed_client_ports(offer.client_port, conn.local_port):
                # Found by tests/robustness: media was sent to any port of the requester,
                # e.g. 80 or 1; a client of a camera never receives below 1024.
                reasons.append(
                    f"client_port={offer.client_port[0]}-{offer.client_port[1]} is below 1024"
                )
            elif offer.destination not in (None, conn.peer_ip):
                # Never send media where the requester is not: no traffic reflection.
                reasons.append(
                    f"destination={offer.destination} is not your address {conn.peer_ip}"
                )
            else:
                return self._unicast_track(offer, track, feed, clip, conn)
        raise Refusal(461, "; ".join(reasons) or "no transport offered")

    def _unicast_track(
        self, offer: TransportSpec, track: Track, feed: Feed, clip: Clip, conn: ConnectionInfo
    ) -> SessionTrack:
        pair = self.audio_pair if track.media is Media.AUDIO else self.video_pair
        client = offer.client_port or (0, 0)
        rtp_addr, rtcp_addr = (conn.peer_ip, client[0]), (conn.peer_ip, client[1])
        fanout = self._fanout(track.feed, feed, clip, pair)
        own = None
        if fanout is None:  # sends alone: from a socket of its own on the server port
            own = connected_sender(self.config.host, pair.ports[0], rtp_addr)
        sender = UdpSender(clip, self.cname, pair.rtp, pair.rtcp, rtp_addr, rtcp_addr, own, fanout)
        reply = TransportSpec(
            client_port=client, server_port=pair.ports, ssrc=sender.ssrc, mode="PLAY"
        )
        return SessionTrack(track, Mode.UDP, reply, feed, sender=sender, client_rtcp=rtcp_addr)

    def _fanout(self, name: str, feed: Feed, clip: Clip, pair: UdpPair) -> UnicastFanout | None:
        """The feed's fan-out from this server port, where one can send (Linux, IPv4)."""
        if not UnicastFanout.usable(pair.rtp):
            return None
        key = (name, pair.ports[0])
        fanout = self.fanouts.get(key)
        if fanout is None:
            fanout = self.fanouts[key] = UnicastFanout(pair.rtp, pair.rtcp, clip, feed)
        return fanout

    def _multicast_track(
        self, stream: Stream, track: Track, feed: Feed, clip: Clip
    ) -> SessionTrack:
        # A client-chosen group or port is ignored: the camera answers with its own.
        key = (stream, track.media)
        group = self.groups.get(key)
        if group is None:
            destination = (self.config.multicast_group, track.multicast_port)
            rtcp = (self.config.multicast_group, track.multicast_port + 1)
            sender = UdpSender(
                clip, self.cname, self.multicast_socket, self.multicast_socket, destination, rtcp
            )
            group = MulticastGroup(sender, feed, destination)
            self.groups[key] = group
        reply = TransportSpec(
            multicast=True,
            destination=self.config.multicast_group,
            port=(track.multicast_port, track.multicast_port + 1),
            ttl=self.config.multicast_ttl,
            ssrc=group.sender.ssrc,
            mode="PLAY",
        )
        return SessionTrack(track, Mode.MULTICAST, reply, feed, group=group)

    @staticmethod
    def _channels(asked: tuple[int, int] | None, conn: ConnectionInfo) -> tuple[int, int]:
        if asked is not None and not ({asked[0], asked[1]} & conn.channels):
            chosen = asked
        else:
            first = next(c for c in range(0, 255, 2) if not {c, c + 1} & conn.channels)
            chosen = (first, first + 1)
        conn.channels.update(chosen)
        return chosen


def _allowed_client_ports(ports: tuple[int, int], rtsp_port: int) -> bool:
    """Unprivileged ports only, except where the document has Truen's decoder receive:
    the camera's RTSP port R..R+1 (video) and R+20..R+21 (audio), e.g. 554-555."""
    documented = (
        {rtsp_port, rtsp_port + 1, rtsp_port + AUDIO_PORT_OFFSET, rtsp_port + AUDIO_PORT_OFFSET + 1}
        if rtsp_port > 0
        else set()
    )
    return all(port >= 1024 or port in documented for port in ports)
