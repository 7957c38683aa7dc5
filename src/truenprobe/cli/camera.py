"""`truenprobe camera`: run an emulated Truen camera in the foreground."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from truenprobe.camera.config import DEFAULT_MULTICAST_GROUP, CameraConfig, CameraConfigError
from truenprobe.errors import EXIT_INTERRUPTED
from truenprobe.plan.model import Media, Stream


def _multicast_overrides(values: list[str]) -> dict[Stream, dict[Media, int]]:
    out: dict[Stream, dict[Media, int]] = {}
    for value in values:
        target, eq, port = value.partition("=")
        stream_name, _, media_name = target.partition("/")
        try:
            stream = Stream(stream_name)
            media = Media(media_name or "video")
            number = int(port)
        except ValueError:
            raise CameraConfigError(
                f"--multicast-port {value!r}: expected STREAM[/MEDIA]=PORT, "
                "e.g. video1=64710 or video1+audio1/audio=64812"
            ) from None
        if not eq:
            raise CameraConfigError(f"--multicast-port {value!r}: expected STREAM[/MEDIA]=PORT")
        out.setdefault(stream, {})[media] = number
    return out


def _announce(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def camera_command(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "0.0.0.0",
    http_port: Annotated[int, typer.Option("--http-port", help="HTTP port (0: any).")] = 80,
    base_port: Annotated[int, typer.Option("--base-port", help="Base port (0: any).")] = 2222,
    rtsp_port: Annotated[int, typer.Option("--rtsp-port", help="RTSP port R (0: any).")] = 554,
    server_port: Annotated[
        int | None,
        typer.Option(
            "--server-port",
            help="UDP unicast source port for video RTP (RTCP +1, audio +20). Default: R.",
        ),
    ] = None,
    server_audio_port: Annotated[
        int | None,
        typer.Option(
            "--server-audio-port",
            help="UDP unicast source port for audio RTP (RTCP +1). Default: --server-port + 20.",
        ),
    ] = None,
    multicast_group: Annotated[
        str, typer.Option("--multicast-group", help="IPv4 multicast group.")
    ] = DEFAULT_MULTICAST_GROUP,
    multicast_ttl: Annotated[
        int, typer.Option("--multicast-ttl", help="Multicast TTL, 1-255.")
    ] = 16,
    multicast_port: Annotated[
        list[str] | None,
        typer.Option(
            "--multicast-port",
            help="Override a document multicast port: STREAM=PORT or STREAM/MEDIA=PORT "
            "(repeatable; MEDIA video, audio or metadata), e.g. to rehearse a camera that "
            "streams to the wrong port.",
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Require RTSP Digest authentication.")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option("--password", help="Password for --user.", envvar="TRUENPROBE_PASSWORD"),
    ] = None,
    session_timeout: Annotated[
        int, typer.Option("--session-timeout", help="RTSP session timeout, seconds.")
    ] = 60,
    idle_timeout: Annotated[
        float, typer.Option("--idle-timeout", help="Close silent connections after, seconds.")
    ] = 60.0,
    max_connections: Annotated[
        int, typer.Option("--max-connections", help="Connections per port before evicting.")
    ] = 512,
    media_dir: Annotated[
        Path | None,
        typer.Option("--media-dir", help="Serve video1.h264, video1s.h264, audio1.ulaw from here."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request.")] = False,
) -> int:
    """Run an emulated Truen camera: HTTP, base port, RTSP/RTP (unicast, TCP, multicast)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    config = CameraConfig(
        host=host,
        http_port=http_port,
        base_port=base_port,
        rtsp_port=rtsp_port,
        server_ports=(server_port, server_port + 1) if server_port else None,
        server_audio_ports=(server_audio_port, server_audio_port + 1)
        if server_audio_port
        else None,
        multicast_group=multicast_group,
        multicast_ttl=multicast_ttl,
        multicast_ports=_multicast_overrides(multicast_port or []),
        user=user,
        password=password,
        session_timeout=session_timeout,
        idle_timeout=idle_timeout,
        max_connections=max_connections,
        media_dir=media_dir,
    )
    from truenprobe.camera.run import run  # asyncio and the server: only when a camera runs

    stopped_by = run(config, _announce)
    sys.stdout.write("camera stopped\n")
    # Ctrl-C: "interrupted" and 130 like every command; SIGTERM is a service's clean stop.
    return EXIT_INTERRUPTED if stopped_by is signal.SIGINT else 0
