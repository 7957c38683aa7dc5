"""Binding the camera's ports, with one clear line when a port cannot be had.

``bind_rtsp_and_server_ports`` finds an RTSP port R whose UDP companions (R, R+1 for
video and metadata; R+20, R+21 for audio unless audio has its own pair) are free too
when asked for "any port", so the camera's unicast source ports never collide with
another program's.
"""

from __future__ import annotations

import errno
import socket

from truenprobe.camera.config import AUDIO_PORT_OFFSET
from truenprobe.errors import BindError

ATTEMPTS = 200


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _explain(exc: OSError, proto: str, host: str, port: int, what: str, option: str) -> BindError:
    where = f"{proto} {host}:{port} ({what})"
    if exc.errno in (errno.EACCES, errno.EPERM):
        text = f"cannot use {where}: ports below 1024 need root; choose another with {option}"
    elif exc.errno == errno.EADDRINUSE:
        text = f"cannot use {where}: the port is already in use; choose another with {option}"
    elif exc.errno == errno.EADDRNOTAVAIL:
        text = f"cannot use {where}: {host} is not an address of this machine; change --host"
    else:
        text = f"cannot use {where}: {exc.strerror}; change {option} or --host"
    return BindError(text)


def bind_tcp(host: str, port: int, what: str, option: str) -> socket.socket:
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise _explain(exc, "TCP", host, port, what, option) from None
    sock.setblocking(False)
    return sock


def bind_udp(host: str, port: int, what: str, option: str, *, share: bool = False) -> socket.socket:
    """A UDP socket; ``share`` lets this process add per-session senders on the same port."""
    sock = socket.socket(_family(host), socket.SOCK_DGRAM)
    try:
        if share:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise _explain(exc, "UDP", host, port, what, option) from None
    sock.setblocking(False)
    # Room for a burst of frames to many sessions before the kernel drops.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * 1024 * 1024)
    return sock


def connected_sender(host: str, port: int, remote: tuple[str, int]) -> socket.socket | None:
    """A socket sending from ``host:port`` to one client only, or None if the OS refuses.

    A connected socket skips the per-packet address parsing and route lookup of
    ``sendto``, which is most of a session's cost. It shares the server port with the
    camera's own socket (SO_REUSEPORT, same user only); the camera never reads from it,
    so its receive buffer is kept minimal.
    """
    sock = socket.socket(_family(host), socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1024 * 1024)
        sock.bind((host, port))
        sock.connect(remote)
    except OSError:
        sock.close()
        return None
    sock.setblocking(False)
    return sock


def _server_udp(
    host: str, first: int, option: str, audio_first: int | None = None
) -> list[socket.socket]:
    audio = first + AUDIO_PORT_OFFSET if audio_first is None else audio_first
    ports = [
        (first, "video RTP", option),
        (first + 1, "video RTCP", option),
        (audio, "audio RTP", option if audio_first is None else "--server-audio-port"),
        (audio + 1, "audio RTCP", option if audio_first is None else "--server-audio-port"),
    ]
    bound: list[socket.socket] = []
    try:
        for port, what, which in ports:
            bound.append(bind_udp(host, port, what, which, share="RTP" in what))
    except BindError:
        for sock in bound:
            sock.close()
        raise
    return bound


def bind_rtsp_and_server_ports(
    host: str, rtsp_port: int, server_port: int | None, audio_port: int | None = None
) -> tuple[socket.socket, list[socket.socket]]:
    """The RTSP listener and the four UDP server sockets (RTP, RTCP, audio RTP, audio RTCP).

    Audio's pair is the video pair + 20 unless ``audio_port`` gives its own.
    """
    if rtsp_port or server_port:
        rtsp = bind_tcp(host, rtsp_port, "RTSP", "--rtsp-port")
        first = server_port or rtsp.getsockname()[1]
        option = "--server-port" if server_port else "--rtsp-port (or --server-port)"
        try:
            return rtsp, _server_udp(host, first, option, audio_port)
        except BindError:
            rtsp.close()
            raise
    for _ in range(ATTEMPTS):
        rtsp = bind_tcp(host, 0, "RTSP", "--rtsp-port")
        first = rtsp.getsockname()[1]
        if first + AUDIO_PORT_OFFSET + 1 <= 65535 and (
            audio_port is None or abs(audio_port - first) >= 2
        ):
            try:
                return rtsp, _server_udp(host, first, "--server-port", audio_port)
            except BindError:
                if audio_port is not None:
                    # The audio pair was asked for by number: if it is taken, say so.
                    _audio_pair_free(host, audio_port)
        rtsp.close()
    raise BindError("found no free RTSP port whose UDP companions are free too; set --rtsp-port")


def _audio_pair_free(host: str, audio_port: int) -> None:
    """Raise the audio pair's own bind error, if that is what failed."""
    for port, what in ((audio_port, "audio RTP"), (audio_port + 1, "audio RTCP")):
        bind_udp(host, port, what, "--server-audio-port").close()
