"""Facts from a capture -> Observations, the records the live prober produces too.

Here the analyzer decides who the camera and the client are in the capture, which
side it was taken on, and so which flows it can decide at all. Whatever it cannot
decide becomes a ``Limitation`` naming the flow, never a silent pass or fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from truenprobe.capture.layers import address_text, is_multicast, pack_address
from truenprobe.capture.media import KIND_OTHER, KIND_RTCP, KIND_RTP, MediaStats
from truenprobe.capture.rtsp_flow import Conversation
from truenprobe.capture.rtsp_records import RtspFacts, rtsp_records
from truenprobe.capture.scan import Facts, UdpKey, relative_ms
from truenprobe.capture.tcp import Connection
from truenprobe.capture.vantage import EndEvidence, Position, decide
from truenprobe.errors import InputFileError
from truenprobe.observations import (
    CameraFeedback,
    Limitation,
    MulticastJoin,
    Observations,
    Record,
    TcpAttempt,
    TcpOutcome,
    UdpArrival,
    UdpSent,
)
from truenprobe.plan.model import Flow, Plan, PortRange, Role

TO_CLIENT_ROLES = (Role.RTP, Role.RTCP, Role.VSNM_MEDIA, Role.MULTICAST)
PROPRIETARY_ROLES = (Role.VSNM_MEDIA,)  # VSNM media is not RTP: its content is not checked
ANSWER_WAIT_S = 3.0  # a SYN with no answer for this long (or retransmitted) was not answered
MAX_ATTEMPTS_PER_PORT = 20


@dataclass(frozen=True)
class Subject:
    """What the user told the analyzer: the site's plan and who is who."""

    plan: Plan
    cameras: tuple[str, ...]  # the camera's addresses; the first is the one the client uses
    client: str | None = None
    name: str = "capture"

    def packed_cameras(self) -> frozenset[bytes]:
        return frozenset(_pack(a, "--camera") for a in self.cameras)

    def packed_client(self) -> bytes | None:
        return _pack(self.client, "--client") if self.client else None


def _pack(address: str, option: str) -> bytes:
    try:
        return pack_address(address)
    except ValueError:
        raise InputFileError(f"{option} {address!r} is not an IP address") from None


def tcp_ports(plan: Plan) -> set[int]:
    return {p for f in plan.flows if f.protocol == "tcp" for p in f.ports}


def udp_ports(plan: Plan) -> set[int]:
    return {p for f in plan.flows if f.protocol == "udp" and f.supported for p in f.ports}


def rtsp_ports(plan: Plan) -> set[int]:
    return {p for f in plan.flows if f.role is Role.RTSP for p in f.ports}


class _Builder:
    def __init__(self, facts: Facts, subject: Subject, conversations: list[Conversation]) -> None:
        self.facts = facts
        self.subject = subject
        self.plan = subject.plan
        self.conversations = conversations
        self.records: list[Record] = []
        self.notes: list[str] = []
        self.cameras, self.renamed = self._find_camera()
        self.outer_clients = self._translated()
        self.clients = self._find_clients()
        self.position = self._position()

    # --- who is who -----------------------------------------------------------------

    def _find_camera(self) -> tuple[frozenset[bytes], bool]:
        given = self.subject.packed_cameras()
        facts = self.facts
        if any(c.server in given or c.client in given for c in facts.connections.values()) or any(
            k[0] in given or k[2] in given for k in facts.udp
        ):
            return given, False
        planned = tcp_ports(self.plan)
        servers = sorted(
            {
                c.server
                for c in facts.connections.values()
                if c.server_port in planned and not _loopback(c.server)
            }
        )
        shown = ", ".join(self.subject.cameras)
        if len(servers) == 1:
            (server,) = servers
            ttl = max(c.server_ttl for c in facts.connections.values() if c.server == server)
            if EndEvidence(ttl).fresh:  # captured on that host's own segment: its LAN address
                self.notes.append(
                    f"{shown} never appears in the capture; {address_text(server)} is the only "
                    "host reached on the camera's TCP ports and the capture was taken next to "
                    "it, so it is read as the camera's LAN address behind its IP sharer; give "
                    f"--camera {address_text(server)} too if that is right"
                )
                return frozenset({server}), True
            self.notes.append(
                f"no packet to or from the camera ({shown}) is in the capture; the only host "
                f"reached on the camera's TCP ports is {address_text(server)}: if that is the "
                f"camera, give --camera {address_text(server)}"
            )
            return given, False
        if servers:
            listed = ", ".join(address_text(s) for s in servers[:8])
            self.notes.append(
                f"{shown} never appears in the capture; hosts reached on the camera's TCP ports: "
                f"{listed}: give the camera's address as it appears in the capture with --camera"
            )
        else:
            busiest = host_summary(facts)
            seen = f"; the busiest hosts in it: {busiest}" if busiest else ""
            self.notes.append(f"no packet to or from the camera ({shown}) is in the capture{seen}")
        return given, False

    def _translated(self) -> set[bytes]:
        """Addresses seen on the far side of an IP sharer the capture was taken on.

        A capture on an IP sharer shows each connection twice, before and after address
        translation. NAT keeps the TCP initial sequence number, so the two copies pair up:
        the camera's other address joins ``cameras``, and the client's outer address (the
        copy farther from the client, by TTL) is returned so it is not taken for a client.
        """
        copies: dict[tuple[int, int], list[Connection]] = {}
        for conn in self.facts.connections.values():
            if conn.syn_seq is not None and conn.syn_times:
                # the same sequence number within the same second: one connection, two copies
                copies.setdefault((conn.syn_seq, int(conn.syn_times[0])), []).append(conn)
        outer: set[bytes] = set()
        cameras = set(self.cameras)
        for same in copies.values():
            if len(same) < 2 or not any(c.server in self.cameras for c in same):
                continue
            for server in {c.server for c in same} - cameras:
                cameras.add(server)
                known = ", ".join(address_text(a) for a in sorted(self.cameras))
                self.notes.append(
                    f"the capture shows the camera both as {known} and as "
                    f"{address_text(server)} (the same TCP connections before and after "
                    "address translation): it was taken on the camera's IP sharer"
                )
            ttl = {c.client: c.client_ttl for c in same}
            if len(ttl) > 1:
                inner = max(ttl, key=lambda a: ttl[a])
                for address in sorted(set(ttl) - {inner} - outer):
                    outer.add(address)
                    self.notes.append(
                        f"the capture shows the client both as {address_text(inner)} and as "
                        f"{address_text(address)} (the same TCP connections before and after "
                        f"address translation): it was taken on the client's IP sharer; "
                        f"{address_text(inner)} is judged as the client"
                    )
        self.cameras = frozenset(cameras)
        return outer

    def _find_clients(self) -> frozenset[bytes] | None:
        """The client's addresses; None: anyone talking to the camera."""
        wanted = self.subject.packed_client()
        talking = self._peers() - self.outer_clients
        if wanted is not None:
            if wanted not in talking:
                heard = ", ".join(address_text(a) for a in sorted(talking)[:8]) or "nobody"
                self.notes.append(
                    f"the client {self.subject.client} does not talk to the camera in this "
                    f"capture (the camera talks with: {heard})"
                )
            return frozenset({wanted})
        if len(talking) > 1:
            listed = ", ".join(address_text(a) for a in sorted(talking)[:8])
            self.notes.append(
                f"several hosts talk to the camera ({listed}); their evidence is combined: give "
                "--client-address ADDRESS to judge one of them"
            )
        if self.outer_clients:
            return frozenset(talking)
        return None

    def _peers(self) -> set[bytes]:
        cams = self.cameras
        peers = {c.client for c in self.facts.connections.values() if c.server in cams}
        for src, _sport, dst, _dport in self.facts.udp:
            if src in cams and not is_multicast(dst):
                peers.add(dst)
            elif dst in cams:
                peers.add(src)
        return peers - cams

    def is_client(self, address: bytes) -> bool:
        return address not in self.cameras and (self.clients is None or address in self.clients)

    def camera_connections(self) -> list[Connection]:
        conns = [
            c
            for c in self.facts.connections.values()
            if c.server in self.cameras and self.is_client(c.client)
        ]
        return sorted(conns, key=lambda c: c.first)

    def _position(self) -> Position:
        client_ttl = camera_ttl = 0
        for conn in self.camera_connections():
            client_ttl = max(client_ttl, conn.client_ttl)
            camera_ttl = max(camera_ttl, conn.server_ttl)
        for (src, _sp, dst, _dp), stats in self.facts.udp.items():
            if is_multicast(dst):
                continue  # multicast TTLs are set per application, not by the OS
            if src in self.cameras and self.is_client(dst):
                camera_ttl = max(camera_ttl, stats.max_ttl)
            elif dst in self.cameras and self.is_client(src):
                client_ttl = max(client_ttl, stats.max_ttl)
        position = decide(
            EndEvidence(client_ttl), EndEvidence(camera_ttl), camera_renamed=self.renamed
        )
        self.notes.insert(0, position.explanation[0].upper() + position.explanation[1:] + ".")
        return position

    # --- records --------------------------------------------------------------------

    def ms(self, ts: float | None) -> float | None:
        return relative_ms(self.facts, ts)

    def build(self) -> Observations:
        rtsp = self._rtsp()
        self._tcp()
        self._udp(rtsp)
        self._joins()
        self._limitations()
        self._reading_notes()
        facts = self.facts
        client = self.subject.client
        if client is None and self.clients is None:
            peers = self._peers()
            if len(peers) == 1:
                client = address_text(next(iter(peers)))
        return Observations(
            camera=self.subject.cameras[0],
            vantage=self.position.vantage,
            client=client,
            records=tuple(self.records),
            duration_ms=round(facts.duration * 1000.0, 3),
            source=f"capture:{self.subject.name}",
            notes=tuple(self.notes),
        )

    def _rtsp(self) -> RtspFacts:
        ours = {id(c) for c in self.camera_connections()}
        mine = [c for c in self.conversations if id(c.connection) in ours]
        rtsp = rtsp_records(mine, self.ms, self.facts.last)
        self.records.extend(rtsp.records)
        self.notes.extend(rtsp.notes)
        return rtsp

    def _tcp(self) -> None:
        end = self.facts.last or 0.0
        per_port: dict[tuple[int, TcpOutcome], int] = {}
        for conn in self.camera_connections():
            record = self._attempt(conn, end)
            if isinstance(record, TcpAttempt):
                key = (record.port, record.outcome)
                per_port[key] = per_port.get(key, 0) + 1
                if per_port[key] > MAX_ATTEMPTS_PER_PORT:
                    continue
            self.records.append(record)
        planned = tcp_ports(self.plan)
        elsewhere = sorted({c.server_port for c in self.camera_connections()} - planned)
        if elsewhere:
            listed = ", ".join(str(p) for p in elsewhere[:10])
            self.notes.append(
                f"the client also connected to the camera's TCP {listed}, which the plan does not "
                "list (a camera port configured differently? see --http-port, --base-port, "
                "--rtsp-port)"
            )
        for (port, outcome), count in sorted(per_port.items()):
            if count > MAX_ATTEMPTS_PER_PORT:
                self.notes.append(
                    f"{count} connections to TCP {port} ended {outcome.value}; the first "
                    f"{MAX_ATTEMPTS_PER_PORT} are listed"
                )

    def _attempt(self, conn: Connection, end: float) -> TcpAttempt | Limitation:
        port = conn.server_port
        greeting = _greeting(conn.greeting)
        first_syn = conn.syn_times[0] if conn.syn_times else None
        if not conn.syn_times:
            # Already open when the capture started: its data proves the path works.
            return TcpAttempt(port, TcpOutcome.OPEN, greeting=greeting)
        syns = len(conn.syn_times)
        if conn.synack_time is not None:
            connect_ms = round((conn.synack_time - first_syn) * 1000.0, 3) if first_syn else None
            if conn.established or self.position.sees_client_receive:
                return TcpAttempt(port, TcpOutcome.OPEN, connect_ms=connect_ms, greeting=greeting)
            waited = end - conn.synack_time
            if syns > 1 or conn.synack_count > 1 or waited >= ANSWER_WAIT_S:
                return TcpAttempt(
                    port,
                    TcpOutcome.TIMEOUT,
                    detail=(
                        f"the camera answered with SYN-ACK ({conn.synack_count} times) but the "
                        "client never completed the handshake: the answers do not reach it — is "
                        "the IP sharer the camera's default gateway?"
                    ),
                )
            return self._too_short(port, waited)
        icmp = self.facts.icmp.get((6, conn.client, conn.client_port, conn.server, port))
        if icmp is not None:
            reporter = ""
            if icmp.reporter != conn.server:
                reporter = f" (ICMP from {address_text(icmp.reporter)})"
            return TcpAttempt(port, TcpOutcome.UNREACHABLE, detail=icmp.text + reporter)
        if conn.rst_from_server is not None:
            refused = f"SYN sent {syns} times, each answered with RST" if syns > 1 else None
            if self.position.sees_camera_receive:
                # on the camera's own segment the RST can only come from the camera
                refused = "the camera itself answered RST: nothing listens on this port"
            return TcpAttempt(port, TcpOutcome.REFUSED, detail=refused)
        waited = end - (first_syn or end)
        if syns > 1 or waited >= ANSWER_WAIT_S:
            span = conn.syn_times[-1] - conn.syn_times[0]
            detail = (
                f"SYN sent {syns} times over {span:.1f} s, no answer"
                if syns > 1
                else f"SYN sent once, no answer in the {waited:.1f} s the capture shows after it"
            )
            if self.position.sees_camera_receive:
                detail += " (the SYN reached the camera, which did not answer)"
            return TcpAttempt(port, TcpOutcome.TIMEOUT, detail=detail)
        return self._too_short(port, waited)

    def _too_short(self, port: int, waited: float) -> Limitation:
        return Limitation(
            PortRange.single(port),
            "tcp",
            f"the capture ends {waited:.1f} s after the handshake to TCP {port} began, before "
            "its outcome could be seen",
        )

    # --- UDP ------------------------------------------------------------------------

    def _udp(self, rtsp: RtspFacts) -> None:
        plan_udp = {p for f in self.plan.flows if f.role in TO_CLIENT_ROLES for p in f.ports}
        proprietary = {p for f in self.plan.flows if f.role in PROPRIETARY_ROLES for p in f.ports}
        proprietary |= {
            p
            for f in self.plan.flows
            if f.role is Role.MULTICAST and f.name == "vsnm-multicast"
            for p in f.ports
        }
        sees_client = self.position.sees_client_receive
        sees_camera = self.position.sees_camera_receive
        for key, stats in sorted(self.facts.udp.items(), key=lambda kv: kv[1].first):
            src, _sport, dst, dport = key
            multicast = is_multicast(dst)
            if src in self.cameras or (multicast and self._session_group(dst, dport, rtsp)):
                if (multicast or self.is_client(dst)) and sees_client:
                    self.records.append(
                        self._arrival(key, stats, rtsp, dport in proprietary, multicast)
                    )
            elif dst in self.cameras and self.is_client(src):
                if sees_camera:
                    self.records.append(
                        CameraFeedback(
                            dport,
                            "rtcp-rr" if stats.receiver_reports else "udp",
                            stats.packets,
                            address_text(src),
                        )
                    )
                if self.position.vantage.value == "client":
                    self.records.append(self._sent(key, stats))
            elif sees_client and dport in plan_udp and self.is_client(dst):
                self.records.append(self._foreign(key, stats))

    def _session_group(self, group: bytes, port: int, rtsp: RtspFacts) -> bool:
        """Multicast keeps the camera's LAN source address: match it by the session's group."""
        text = address_text(group)
        return any(g == text and (p is None or port in p) for g, p in rtsp.groups)

    def _arrival(
        self, key: UdpKey, stats: MediaStats, rtsp: RtspFacts, proprietary: bool, multicast: bool
    ) -> UdpArrival:
        src, sport, dst, dport = key
        kind = stats.kind()
        ssrc, _payload_type = _stream_ssrc(stats, kind)
        belongs = kind in (KIND_RTP, KIND_RTCP)
        notes: list[str] = []
        if proprietary and kind == KIND_OTHER:
            belongs = True
            notes.append("the proprietary protocol's media: its content is not checked")
        elif kind == KIND_OTHER:
            notes.append(stats.describe_other())
        if belongs and rtsp.ssrcs and ssrc is not None and ssrc not in rtsp.ssrcs:
            belongs = False
            announced = ", ".join(f"0x{s:08x}" for s in sorted(rtsp.ssrcs))
            notes.append(f"SSRC 0x{ssrc:08x} was not announced by the session ({announced})")
        if belongs and not multicast and rtsp.server_ports and sport not in rtsp.server_ports:
            announced = ", ".join(str(p) for p in sorted(rtsp.server_ports))
            notes.append(
                f"it comes from port {sport}, not the server_port ({announced}) the camera's SETUP "
                "answer announced: an IP sharer on the way rewrote it"
            )
        if multicast and src not in self.cameras:
            notes.append(
                f"sent from {address_text(src)}: multicast keeps the camera's own address "
                "through IP sharers"
            )
        icmp = self.facts.icmp.get((17, src, sport, dst, dport))
        if icmp is not None:
            notes.append(
                f"{address_text(icmp.reporter)} answered {icmp.count} of them with ICMP "
                f"{icmp.text}: nothing listened on UDP {dport} there"
            )
        group = address_text(dst) if multicast else None
        return self._arrival_record(key, stats, belongs, "; ".join(notes) or None, group)

    def _foreign(self, key: UdpKey, stats: MediaStats) -> UdpArrival:
        note = f"not from the camera ({address_text(key[0])} sent it)"
        return self._arrival_record(key, stats, False, note, None)

    def _arrival_record(
        self, key: UdpKey, stats: MediaStats, belongs: bool, note: str | None, group: str | None
    ) -> UdpArrival:
        src, sport, _dst, dport = key
        kind = stats.kind()
        ssrc, payload_type = _stream_ssrc(stats, kind)
        return UdpArrival(
            port=dport,
            source=address_text(src),
            source_port=sport,
            kind=kind,
            packets=stats.packets,
            bytes=stats.bytes,
            first_ms=self.ms(stats.first),
            last_ms=self.ms(stats.last),
            group=group,
            ssrc=ssrc,
            payload_type=payload_type,
            sequence_gaps=stats.gaps if kind == KIND_RTP else 0,
            sender_reports=stats.sender_reports,
            belongs=belongs,
            note=note,
        )

    def _sent(self, key: UdpKey, stats: MediaStats) -> UdpSent:
        src, sport, dst, dport = key
        kind = stats.kind()
        icmp = self.facts.icmp.get((17, src, sport, dst, dport))
        return UdpSent(
            port=dport,
            source_port=sport,
            kind=kind,
            packets=stats.packets,
            first_ms=self.ms(stats.first),
            destination=address_text(dst),
            error=f"ICMP {icmp.text} from {address_text(icmp.reporter)}" if icmp else None,
        )

    def _joins(self) -> None:
        for m in self.facts.memberships:
            if m.join and (self.clients is None or m.source in self.clients):
                self.records.append(
                    MulticastJoin(address_text(m.group), self.ms(m.at), address_text(m.source))
                )

    # --- what this capture cannot decide -----------------------------------------------

    def _limitations(self) -> None:
        attempted = {r.port for r in self.records if isinstance(r, TcpAttempt)}
        attempted |= {  # a handshake the capture ended too early to judge
            r.ports.first
            for r in self.records
            if isinstance(r, Limitation) and r.protocol == "tcp" and r.ports is not None
        }
        for flow in self.plan.flows:
            if not flow.supported:
                continue
            if flow.protocol == "tcp" and not any(p in attempted for p in flow.ports):
                self.records.append(self._no_connection(flow))
            elif flow.role in TO_CLIENT_ROLES and not self.position.sees_client_receive:
                self.records.append(self._unseen_arrival(flow))
            elif flow.role in TO_CLIENT_ROLES and (punched := self._punched(flow)) is not None:
                self.records.append(punched)
            elif flow.role is Role.RTCP_RETURN and not self.position.sees_camera_receive:
                counted = any(
                    isinstance(r, CameraFeedback) and r.port in flow.ports for r in self.records
                )
                if not counted:  # unless the camera itself said what it received
                    self.records.append(self._unseen_return(flow))

    def _punched(self, flow: Flow) -> Limitation | None:
        """Media that arrived only after the client itself sent from that port.

        Many clients (ffmpeg, VLC) send a few datagrams from their RTP/RTCP ports to the
        camera before PLAY, to open their own NAT. Media arriving afterwards may have come
        through that pinhole rather than through the client-side forward, so the capture
        cannot show whether the forward exists. (When nothing arrived at all, neither
        worked: compare() then reports the flow failed.)
        """
        arrivals = [
            r
            for r in self.records
            if isinstance(r, UdpArrival) and r.belongs and r.port in flow.ports
        ]
        if not arrivals:
            return None
        sent_first: dict[int, tuple[float, str]] = {}
        for (src, sport, dst, dport), stats in self.facts.udp.items():
            if sport in flow.ports and dst in self.cameras and self.is_client(src):
                at = self.ms(stats.first)
                if at is not None and (sport not in sent_first or at < sent_first[sport][0]):
                    sent_first[sport] = (at, f"{address_text(dst)}:{dport}")
        clean = [
            a
            for a in arrivals
            if a.port not in sent_first or (a.first_ms or 0.0) < sent_first[a.port][0]
        ]
        if clean:
            return None
        port = arrivals[0].port
        at, target = sent_first[port]
        return Limitation(
            flow.ports,
            "udp",
            f"the client sent from UDP {port} to {target} ({at / 1000:.2f} s into the "
            "capture) before the camera's media arrived there, as clients that open their own "
            "NAT do: the media may have come through that opening, so this capture cannot "
            "show whether the client-side forward exists (a client that sends nothing first, "
            "or `truenprobe check`, can)",
            flow=flow.name,
        )

    def _no_connection(self, flow: Flow) -> Limitation:
        port = flow.ports.first
        if self.position.vantage.value == "camera":
            reason = (
                f"no connection to TCP {port} reached the camera during the capture (taken on the "
                "camera's side): either the client did not try, or the camera-side IP sharer "
                "does not forward it"
            )
        else:
            reason = f"the capture shows no connection to the camera's TCP {port}"
        return Limitation(flow.ports, "tcp", reason, flow=flow.name)

    def _unseen_arrival(self, flow: Flow) -> Limitation:
        sent = [
            (key, stats)
            for key, stats in self.facts.udp.items()
            if key[0] in self.cameras and key[3] in flow.ports
        ]
        where = {
            "camera": "on the camera's side",
            "unknown": "where it cannot see the client",
        }.get(self.position.vantage.value, "where it cannot see the client")
        if sent:
            packets = sum(s.packets for _k, s in sent)
            (_src, _sp, dst, dport), _stats = sent[0]
            shown = f"{address_text(dst)}:{dport}"
            reason = (
                f"the capture was taken {where}: it shows the camera sending {packets} "
                f"packet(s) to {shown}, not whether they reach the client"
            )
        else:
            reason = (
                f"the capture was taken {where}: it cannot show what reaches the client on "
                f"UDP {flow.ports} (and shows the camera sending nothing there)"
            )
        return Limitation(flow.ports, "udp", reason, flow=flow.name)

    def _unseen_return(self, flow: Flow) -> Limitation:
        sent = sum(
            stats.packets
            for (src, _sp, dst, dport), stats in self.facts.udp.items()
            if dst in self.cameras and dport in flow.ports and self.is_client(src)
        )
        where = {
            "client": "taken on the client's side",
            "unknown": "taken where it cannot see the camera",
        }.get(self.position.vantage.value, "taken where it cannot see the camera")
        if sent:
            what = (
                f"shows the client sending {sent} packet(s) toward the camera's UDP {flow.ports} "
                "but cannot show whether they arrive"
            )
        else:
            what = f"shows nothing sent toward the camera's UDP {flow.ports}"
        return Limitation(flow.ports, "udp", f"the capture, {where}, {what}", flow=flow.name)

    def _reading_notes(self) -> None:
        facts, read = self.facts, self.facts.read
        if read.truncated:
            self.notes.append(
                f"the capture is cut short ({read.truncated}): it was read up to its last whole "
                "packet"
            )
        if read.snapped:
            self.notes.append(
                f"{read.snapped} packet(s) were cut by the capture's snap length; TCP payloads "
                "past the cut could not be read"
            )
        unsupported = facts.unsupported_links()
        if unsupported:
            names = ", ".join(str(n) for n in unsupported)
            self.notes.append(f"packets of link type {names} could not be read (not supported)")
        if facts.dropped_flows:
            self.notes.append(
                f"{facts.dropped_flows} packets of unrelated flows were skipped beyond the "
                "analyzer's flow limit"
            )
        if facts.fragments:
            self.notes.append(
                f"{facts.fragments} IP fragments were counted with their first fragment only"
            )


def _loopback(address: bytes) -> bool:
    """A host talking to itself is never the camera as a client reaches it."""
    return address[0] == 127 if len(address) == 4 else address == bytes(15) + b"\x01"


def _stream_ssrc(stats: MediaStats, kind: str) -> tuple[int | None, int | None]:
    if kind == KIND_RTP:
        dominant = stats.dominant_ssrc()
        if dominant is not None:
            return dominant[0], dominant[1][1]
    if kind == KIND_RTCP and stats.rtcp_ssrcs:
        return max(stats.rtcp_ssrcs, key=lambda s: stats.rtcp_ssrcs[s]), None
    return None, None


def _greeting(data: bytes) -> str | None:
    """The first line of the server's first data, as the prober's greeting."""
    if not data:
        return None
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    if line and all(32 <= b < 127 or b == 9 for b in line):
        return line.decode("ascii")[:200]
    return f"{len(data)}+ bytes of binary data"


def observations_from_facts(
    facts: Facts, subject: Subject, conversations: Iterable[Conversation] = ()
) -> Observations:
    return _Builder(facts, subject, list(conversations)).build()


def host_summary(facts: Facts, limit: int = 6) -> str:
    """The busiest hosts in a capture, for a message when the camera is not among them."""
    count: dict[bytes, int] = {}
    for (src, _sp, dst, _dp), stats in facts.udp.items():
        count[src] = count.get(src, 0) + stats.packets
        count[dst] = count.get(dst, 0) + stats.packets
    for conn in facts.connections.values():
        count[conn.client] = count.get(conn.client, 0) + 1
        count[conn.server] = count.get(conn.server, 0) + 1
    top = sorted(count, key=lambda a: -count[a])[:limit]
    return ", ".join(address_text(a) for a in top)
