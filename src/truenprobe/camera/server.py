"""``EmulatedCamera``: the HTTP page, the base port, RTSP and the media, on real sockets.

    async with EmulatedCamera(host="127.0.0.1") as cam:   # free ports everywhere
        url = cam.url("video1")                            # rtsp://127.0.0.1:PORT/video1

Everything it binds is released when the block ends, even on errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from truenprobe.camera.base_port import BaseConnection
from truenprobe.camera.config import CameraConfig
from truenprobe.camera.connections import ConnectionPool
from truenprobe.camera.http import HttpConnection, status_page
from truenprobe.camera.media import load_clips, start_feeds
from truenprobe.camera.ports import bind_rtsp_and_server_ports, bind_tcp
from truenprobe.camera.rtsp_conn import RtspConnection
from truenprobe.camera.rtsp_service import RtspService
from truenprobe.camera.session import Session, State
from truenprobe.camera.sinks import UdpSender
from truenprobe.camera.transports import UdpPair
from truenprobe.plan.model import Media, Stream

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 10.0
SENDER_REPORT_INTERVAL = 1.0


class EmulatedCamera:
    """An emulated Truen camera. Ports of 0 pick free ones; read them back after start."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        http_port: int = 0,
        base_port: int = 0,
        rtsp_port: int = 0,
        *,
        server_ports: tuple[int, int] | None = None,
        server_audio_ports: tuple[int, int] | None = None,
        multicast_group: str | None = None,
        multicast_ttl: int = 16,
        multicast_ports: Mapping[Stream | str, Mapping[Media | str, int]] | None = None,
        user: str | None = None,
        password: str | None = None,
        session_timeout: int = 60,
        idle_timeout: float = 60.0,
        max_connections: int = 512,
        max_sessions: int = 256,
        media_dir: Path | None = None,
        config: CameraConfig | None = None,
    ) -> None:
        if config is None:
            overrides = {
                Stream(s): {Media(m): int(p) for m, p in ports.items()}
                for s, ports in (multicast_ports or {}).items()
            }
            extra: dict[str, Any] = {}
            if multicast_group is not None:
                extra["multicast_group"] = multicast_group
            config = CameraConfig(
                host=host,
                http_port=http_port,
                base_port=base_port,
                rtsp_port=rtsp_port,
                server_ports=server_ports,
                server_audio_ports=server_audio_ports,
                multicast_ttl=multicast_ttl,
                multicast_ports=overrides,
                user=user,
                password=password,
                session_timeout=session_timeout,
                idle_timeout=idle_timeout,
                max_connections=max_connections,
                max_sessions=max_sessions,
                media_dir=media_dir,
                **extra,
            )
        self.config = config
        self.service: RtspService | None = None
        self._servers: list[asyncio.Server] = []
        self._sockets: list[socket.socket] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._pools: list[ConnectionPool] = []
        self._bound: dict[str, int] = {}

    # -- what it serves ----------------------------------------------------------------
    @property
    def host(self) -> str:
        return self.config.host

    @property
    def http_port(self) -> int:
        return self._bound["http"]

    @property
    def base_port(self) -> int:
        return self._bound["base"]

    @property
    def rtsp_port(self) -> int:
        return self._bound["rtsp"]

    @property
    def server_ports(self) -> tuple[int, int]:
        """UDP source ports of unicast video (RTP, RTCP)."""
        return self._bound["server"], self._bound["server"] + 1

    @property
    def audio_server_ports(self) -> tuple[int, int]:
        """UDP source ports of unicast audio (RTP, RTCP): the video ones + 20 by default."""
        return self._bound["audio"], self._bound["audio"] + 1

    @property
    def multicast_group(self) -> str:
        return self.config.multicast_group

    def _url_host(self) -> str:
        if self.host in ("0.0.0.0", "::"):
            return "127.0.0.1" if self.host == "0.0.0.0" else "[::1]"
        return f"[{self.host}]" if ":" in self.host else self.host

    def url(self, stream: Stream | str = "video1", *, host: str | None = None) -> str:
        """The RTSP URL of a stream, e.g. ``rtsp://127.0.0.1:8554/video1``."""
        name = Stream(stream.lstrip("/") if isinstance(stream, str) else stream).value
        return f"rtsp://{host or self._url_host()}:{self.rtsp_port}/{name}"

    @property
    def urls(self) -> list[str]:
        return [self.url(s) for s in Stream]

    @property
    def http_url(self) -> str:
        return f"http://{self._url_host()}:{self.http_port}/"

    def multicast_port(self, stream: Stream | str, media: Media | str = Media.VIDEO) -> int:
        service = self._require_service()
        for track in service.tracks(Stream(stream)):
            if track.media is Media(media):
                return track.multicast_port
        raise KeyError(f"{stream} has no {media} track")

    @property
    def sessions(self) -> list[Session]:
        return list(self._require_service().sessions)

    def _require_service(self) -> RtspService:
        if self.service is None:
            raise RuntimeError("the camera is not started")
        return self.service

    # -- lifecycle ---------------------------------------------------------------------
    async def __aenter__(self) -> EmulatedCamera:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        cfg = self.config
        loop = asyncio.get_running_loop()
        clips = await asyncio.to_thread(load_clips, cfg.media_dir, cfg.frame_rate)
        server_first = cfg.server_ports[0] if cfg.server_ports else None
        audio_first = cfg.server_audio_ports[0] if cfg.server_audio_ports else None
        rtsp_sock, udp = bind_rtsp_and_server_ports(
            cfg.host, cfg.rtsp_port, server_first, audio_first
        )
        self._sockets += [rtsp_sock, *udp]
        http_sock = bind_tcp(cfg.host, cfg.http_port, "HTTP", "--http-port")
        self._sockets.append(http_sock)
        base_sock = bind_tcp(cfg.host, cfg.base_port, "base port", "--base-port")
        self._sockets.append(base_sock)
        multicast = self._multicast_socket()
        self._sockets.append(multicast)
        video = UdpPair(udp[0], udp[1], (udp[0].getsockname()[1], udp[1].getsockname()[1]))
        audio = UdpPair(udp[2], udp[3], (udp[2].getsockname()[1], udp[3].getsockname()[1]))
        self._bound = {
            "rtsp": rtsp_sock.getsockname()[1],
            "server": video.ports[0],
            "audio": audio.ports[0],
            "http": http_sock.getsockname()[1],
            "base": base_sock.getsockname()[1],
        }
        feeds = start_feeds(clips.values(), loop)
        service = RtspService(cfg, clips, feeds, video, audio, multicast, loop.time)
        self.service = service
        for sock, is_rtcp in ((udp[0], False), (udp[1], True), (udp[2], False), (udp[3], True)):
            port = int(sock.getsockname()[1])
            loop.add_reader(sock.fileno(), self._read_udp, sock, is_rtcp, port)
        rtsp_pool, http_pool, base_pool = (ConnectionPool(cfg.max_connections) for _ in range(3))
        self._pools += [rtsp_pool, http_pool, base_pool]
        self._servers.append(
            await loop.create_server(
                RtspConnection.factory(service, rtsp_pool, cfg.idle_timeout), sock=rtsp_sock
            )
        )
        self._servers.append(
            await loop.create_server(
                lambda: HttpConnection(self._page, http_pool, HTTP_TIMEOUT), sock=http_sock
            )
        )
        self._servers.append(
            await loop.create_server(
                lambda: BaseConnection(base_pool, cfg.idle_timeout), sock=base_sock
            )
        )
        for feed in feeds.values():
            self._tasks.append(asyncio.create_task(feed.run(), name=f"feed {feed.clip.name}"))
        self._tasks.append(asyncio.create_task(self._housekeeping(), name="camera housekeeping"))
        log.info("camera serving RTSP on %s:%d", cfg.host, self.rtsp_port)

    def _multicast_socket(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, self.config.multicast_ttl)
        if self.config.host not in ("0.0.0.0", "::") and ":" not in self.config.host:
            sock.setsockopt(
                socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(self.config.host)
            )
        return sock

    def _read_udp(self, sock: socket.socket, is_rtcp: bool, port: int) -> None:
        """Drain a server port; RTCP on an RTCP port is credited to its session."""
        service = self.service
        for _ in range(64):
            try:
                data, source = sock.recvfrom(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # ICMP errors surface here on Linux; nothing to do
                continue
            if is_rtcp and service is not None:
                service.sessions.note_rtcp(data, source[:2], service.clock(), port)

    async def _housekeeping(self) -> None:
        service = self._require_service()
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(SENDER_REPORT_INTERVAL)
            now = loop.time()
            for session_id in service.sessions.expire(now):
                log.info("session %s timed out", session_id)
            self._send_reports(service, now)

    @staticmethod
    def _send_reports(service: RtspService, now: float) -> None:
        senders = [
            t.sender
            for s in service.sessions
            if s.state is State.PLAYING
            for t in s.tracks.values()
            if t.sender is not None
        ]
        senders += [g.sender for g in service.transports.groups.values() if g.listeners]
        for sender in senders:
            if isinstance(sender, UdpSender) and sender.fanout is not None:
                continue  # its fan-out sends all its members' reports at once, below
            report = sender.sender_report(now)
            if report is not None:
                sender.send_rtcp(report)
        for fanout in service.transports.fanouts.values():
            fanout.send_reports(now)

    async def stop(self) -> None:
        """Close every connection and socket; idempotent."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        if self.service is not None:
            self.service.sessions.close_all()
        for server in self._servers:
            server.close()
        for pool in self._pools:
            pool.close_all()
        for server in self._servers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        self._servers.clear()
        self._pools.clear()
        loop = asyncio.get_running_loop()
        for sock in self._sockets:
            if sock.fileno() >= 0:
                loop.remove_reader(sock.fileno())
                sock.close()
        self._sockets.clear()

    async def serve_forever(self) -> None:
        await asyncio.Event().wait()

    # -- the status page -----------------------------------------------------------
    def _page(self, reached: str) -> str:
        """The status page, with URLs on the address the browser reached."""
        service = self._require_service()
        rows = [
            (s.session_id, s.stream.value, s.client_ip, s.state.value) for s in service.sessions
        ]
        host = f"[{reached}]" if ":" in reached else reached
        urls = [self.url(stream, host=host) for stream in Stream]
        return status_page(self.config.model, urls, rows, self.port_facts())

    def port_facts(self) -> list[tuple[str, str]]:
        """The ports an installer has to forward, as (what, where) pairs."""
        rtp, rtcp = self.server_ports
        audio_rtp, audio_rtcp = self.audio_server_ports
        facts = [
            ("HTTP", f"TCP {self.http_port}"),
            ("base port", f"TCP {self.base_port}"),
            ("RTSP", f"TCP {self.rtsp_port}"),
            (
                "UDP unicast from",
                f"video {rtp}-{rtcp}, audio {audio_rtp}-{audio_rtcp}",
            ),
            ("multicast group", f"{self.multicast_group} (ttl {self.config.multicast_ttl})"),
        ]
        service = self._require_service()
        for stream in Stream:
            ports = ", ".join(f"{t.media.value} {t.multicast_port}" for t in service.tracks(stream))
            facts.append((f"multicast {stream.path}", ports))
        return facts
