"""analyze_capture(path, subject) -> Observations: the whole offline pipeline in one call.

Stream the capture once (pcapfile -> layers -> scan, with RTSP conversations read
from the reassembled connections on the plan's RTSP port), then turn the facts into
the prober's records (observe). The caller hands them to ``verdict.compare``.
"""

from __future__ import annotations

from truenprobe.capture.observe import (
    Subject,
    observations_from_facts,
    rtsp_ports,
    tcp_ports,
    udp_ports,
)
from truenprobe.capture.pcapfile import CaptureReader, open_stream
from truenprobe.capture.rtsp_flow import Conversation, conversation_sinks
from truenprobe.capture.scan import Facts, Scanner
from truenprobe.capture.tcp import Connection, StreamSink
from truenprobe.observations import Observations


def scan_capture(path: str, subject: Subject) -> tuple[Facts, list[Conversation]]:
    plan = subject.plan
    rtsp = rtsp_ports(plan)
    conversations: list[Conversation] = []

    def read_rtsp(conn: Connection) -> tuple[StreamSink, StreamSink] | None:
        if conn.server_port not in rtsp:
            return None
        conversation = Conversation(conn)
        conversations.append(conversation)
        return conversation_sinks(conversation)

    scanner = Scanner(
        camera=subject.packed_cameras(),
        tcp_ports=tcp_ports(plan),
        udp_ports=udp_ports(plan),
        stream_factory=read_rtsp,
        text_ports=tcp_ports(plan),
    )
    stream, name = open_stream(path)
    with stream:
        facts = scanner.scan(CaptureReader(stream, name))
    return facts, conversations


def analyze_capture(path: str, subject: Subject) -> Observations:
    facts, conversations = scan_capture(path, subject)
    return observations_from_facts(facts, subject, conversations)
