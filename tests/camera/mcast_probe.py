"""Run inside the client namespace: SETUP multicast, PLAY, and report where RTP arrived.

python mcast_probe.py URL TRACK  ->  prints "<group> <port> <ssrc-ok>" of the first packet
"""

from __future__ import annotations

import asyncio
import socket
import struct
import sys

from truenprobe.rtp.packet import parse_rtp
from truenprobe.rtsp import (
    Headers,
    MessageReader,
    Request,
    Response,
    parse_session,
    parse_transport,
)


async def _ask(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request
) -> Response:
    writer.write(request.to_bytes())
    parser = MessageReader.for_client()
    while True:
        event = parser.next_event()
        if isinstance(event, Response):
            return event
        parser.receive_data(await reader.read(65536))


async def main(url: str, track: int) -> None:
    host, port = url.split("/")[2].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    setup = await _ask(
        reader,
        writer,
        Request(
            "SETUP", f"{url}/trackID={track}", Headers.of(CSeq=1, Transport="RTP/AVP;multicast")
        ),
    )
    transport = parse_transport(setup.headers.get("Transport") or "")
    assert transport.port is not None
    assert transport.destination is not None
    group, rtp_port = transport.destination, transport.port[0]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((group, rtp_port))
    membership = struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0"))
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
    sock.settimeout(10)
    session = parse_session(setup.headers.get("Session") or "").session_id
    await _ask(reader, writer, Request("PLAY", url, Headers.of(CSeq=2, Session=session)))
    data, _ = sock.recvfrom(65536)
    packet = parse_rtp(data)
    print(group, rtp_port, packet.ssrc == transport.ssrc)
    writer.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
