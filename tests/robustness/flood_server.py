"""A camera that accepts PLAY and sends nothing, while another host floods the client's port
with RTP carrying the very SSRC the camera announced (and RTCP sender reports too).

Run in the camera's network namespace: ``python -m tests.robustness.flood_server CAMERA
FOREIGN``; it prints ``READY <rtsp port>`` and serves until stdin closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys

from tests.robustness.hostile_servers import (
    SSRC,
    Conversation,
    Peer,
    Track,
    conversation,
    hostile_server,
    rtp_packets,
    sender_report,
)

FLOOD_PACKETS = 3000


def flood_from(foreign: str):  # type: ignore[no-untyped-def]
    async def flood(conv: Conversation, peer: Peer, track: Track) -> None:
        if track.client_ports is None:
            return
        loop = asyncio.get_running_loop()
        rtp_port, rtcp_port = track.client_ports
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.bind((foreign, 0))
            packets = rtp_packets(FLOOD_PACKETS, ssrc=SSRC)
            for i, packet in enumerate(packets):
                with contextlib.suppress(OSError):
                    await loop.sock_sendto(sock, packet, (peer.address, rtp_port))
                    if i % 100 == 0:
                        await loop.sock_sendto(sock, sender_report(SSRC), (peer.address, rtcp_port))
                if i % 100 == 0:
                    await asyncio.sleep(0.005)

    return flood


async def main(camera: str, foreign: str) -> None:
    async with hostile_server(camera, conversation(media=flood_from(foreign))) as server:
        sys.stdout.write(f"READY {server.port}\n")
        sys.stdout.flush()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
