"""The table of live sessions: lookup, limits, expiry, and whose RTCP arrived.

RTCP from a client reaches the camera's RTCP server port (R+1), possibly through
NAT that rewrote its source port, so a packet is credited to the session whose SSRC
its report blocks name, else to the session that announced that exact source, else
to the newest UDP session of that source address.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from truenprobe.camera.session import Mode, Session
from truenprobe.rtp.packet import PacketError, ReceiverReport, SenderReport, parse_rtcp


class SessionTable:
    def __init__(self, max_sessions: int) -> None:
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self.rtcp_by_address: Counter[str] = Counter()  # valid RTCP per source address
        self.foreign_datagrams = 0  # non-RTCP datagrams on the RTCP ports

    def __len__(self) -> int:
        return len(self._sessions)

    def __iter__(self) -> Iterator[Session]:
        return iter(tuple(self._sessions.values()))

    @property
    def full(self) -> bool:
        return len(self._sessions) >= self.max_sessions

    @property
    def per_client(self) -> int:
        """Sessions one client address may hold: half, so no one client (or a client that
        sets sessions up and walks away) locks the others out until they expire."""
        return max(1, self.max_sessions // 2)

    def count_from(self, address: str) -> int:
        return sum(1 for s in self._sessions.values() if s.client_ip == address)

    def add(self, session: Session) -> None:
        self._sessions[session.session_id] = session

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def close(self, session_id: str) -> None:
        session = self._sessions.pop(session_id, None)
        if session is not None:
            session.close()

    def close_connection(self, connection_id: int) -> None:
        """A TCP connection ended: its interleaved sessions end with it."""
        for session in self:
            if session.connection_id == connection_id and session.is_tcp:
                self.close(session.session_id)

    def expire(self, now: float) -> list[str]:
        gone = [s.session_id for s in self if s.expired(now)]
        for session_id in gone:
            self.close(session_id)
        return gone

    def close_all(self) -> None:
        for session in self:
            self.close(session.session_id)

    def note_rtcp(
        self, data: bytes, source: tuple[str, int], now: float, server_port: int | None = None
    ) -> Session | None:
        """Credit one datagram received on an RTCP server port (``server_port``, when known,
        is also counted per port); None if no session fits."""
        try:
            packets = parse_rtcp(data)
        except PacketError:
            self.foreign_datagrams += 1
            return None
        self.rtcp_by_address[source[0]] += 1
        named = {
            block.ssrc
            for packet in packets
            if isinstance(packet, ReceiverReport | SenderReport)
            for block in packet.reports
        }
        session = self._match(named, source)
        if session is not None:
            session.rtcp_received += 1
            if server_port is not None:
                session.rtcp_by_port[server_port] += 1
            session.touch(now)  # receiver reports keep a UDP session alive (like live555)
        return session

    def _match(self, ssrcs: set[int], source: tuple[str, int]) -> Session | None:
        udp = [s for s in self if any(t.mode is Mode.UDP for t in s.tracks.values())]
        for session in udp:
            if any(session.owns_ssrc(ssrc) for ssrc in ssrcs):
                return session
        for session in udp:
            if any(t.client_rtcp == source for t in session.tracks.values()):
                return session
        same_address = [s for s in udp if s.client_ip == source[0]]
        return same_address[-1] if same_address else None
