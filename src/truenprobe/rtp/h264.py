"""H.264 over RTP (RFC 6184): Annex B parsing, access units, and the packetizer.

The sender side packetizes in non-interleaved mode (packetization-mode=1): a NAL unit
that fits the payload budget goes as a single NAL unit packet, a larger one is cut
into FU-A fragments. STAP-A aggregation is not used. ``Depacketizer`` reverses it
(single NAL units and FU-A; STAP-A too) so tests and analyzers can check a stream.
Pure: bytes in, bytes out.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

DEFAULT_PAYLOAD_SIZE = 1400  # fits 1500-byte Ethernet with IP, UDP and RTP headers
CLOCK_RATE = 90_000

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
NAL_STAP_A = 24
NAL_FU_A = 28


class H264Error(ValueError):
    """Bytes that are not the H.264 this module handles."""


def nal_type(nal: bytes) -> int:
    return nal[0] & 0x1F


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex B byte stream (start codes 00 00 01 or 00 00 00 01)."""
    nals: list[bytes] = []
    starts: list[int] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        starts.append(i + 3)
        i = data.find(b"\x00\x00\x01", i + 3)
    for n, start in enumerate(starts):
        end = starts[n + 1] - 3 if n + 1 < len(starts) else len(data)
        nal = data[start:end].rstrip(b"\x00")  # trailing zero bytes belong to the next start code
        if nal:
            nals.append(nal)
    return nals


def _is_vcl(kind: int) -> bool:
    return 1 <= kind <= 5


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One picture: its NAL units in decoding order."""

    nals: tuple[bytes, ...]

    @property
    def is_keyframe(self) -> bool:
        return any(nal_type(n) == NAL_IDR for n in self.nals)


def access_units(nals: Iterable[bytes]) -> list[AccessUnit]:
    """Group NAL units into pictures (ITU-T H.264 §7.4.1.2.3, enough for one slice per frame
    or several slices with first_mb_in_slice restarting at 0)."""
    units: list[AccessUnit] = []
    current: list[bytes] = []
    has_vcl = False
    for nal in nals:
        kind = nal_type(nal)
        first_slice = _is_vcl(kind) and len(nal) > 1 and nal[1] & 0x80  # first_mb_in_slice == 0
        starts_new = has_vcl and (kind in (NAL_AUD, NAL_SEI, NAL_SPS, NAL_PPS) or first_slice)
        if starts_new:
            units.append(AccessUnit(tuple(current)))
            current, has_vcl = [], False
        current.append(nal)
        has_vcl = has_vcl or _is_vcl(kind)
    if current and has_vcl:
        units.append(AccessUnit(tuple(current)))
    return units


def packetize_nal(nal: bytes, max_payload: int = DEFAULT_PAYLOAD_SIZE) -> list[bytes]:
    """RTP payloads for one NAL unit: itself, or FU-A fragments (RFC 6184 §5.8)."""
    if not nal:
        raise H264Error("empty NAL unit")
    if max_payload < 3:
        raise H264Error("payload budget too small for FU-A")
    if len(nal) <= max_payload:
        return [nal]
    indicator = (nal[0] & 0xE0) | NAL_FU_A
    kind = nal[0] & 0x1F
    body = memoryview(nal)[1:]
    chunk = max_payload - 2
    out = []
    for offset in range(0, len(body), chunk):
        start = offset == 0
        end = offset + chunk >= len(body)
        header = kind | (0x80 if start else 0) | (0x40 if end else 0)
        out.append(bytes((indicator, header)) + bytes(body[offset : offset + chunk]))
    return out


def packetize_access_unit(unit: AccessUnit, max_payload: int = DEFAULT_PAYLOAD_SIZE) -> list[bytes]:
    """Payloads of one picture; the sender sets the marker bit on the last one (§5.1)."""
    payloads: list[bytes] = []
    for nal in unit.nals:
        if nal_type(nal) == NAL_AUD:
            continue  # access unit delimiters carry nothing RTP needs
        payloads += packetize_nal(nal, max_payload)
    return payloads


@dataclass(frozen=True, slots=True)
class ParameterSets:
    sps: bytes
    pps: bytes

    @property
    def profile_level_id(self) -> str:
        """profile_idc, constraint flags and level_idc as six hex digits (RFC 6184 §8.1)."""
        return self.sps[1:4].hex().upper()

    @property
    def sprop_parameter_sets(self) -> str:
        return ",".join(base64.b64encode(n).decode("ascii") for n in (self.sps, self.pps))


def parameter_sets(nals: Iterable[bytes]) -> ParameterSets:
    """The first SPS and PPS of a stream."""
    sps = pps = None
    for nal in nals:
        kind = nal_type(nal)
        if kind == NAL_SPS and sps is None:
            sps = nal
        elif kind == NAL_PPS and pps is None:
            pps = nal
        if sps is not None and pps is not None:
            if len(sps) < 4:
                raise H264Error("SPS shorter than 4 bytes")
            return ParameterSets(sps, pps)
    raise H264Error("no SPS and PPS in the stream")


class Depacketizer:
    """Turns RTP payloads back into NAL units (single, STAP-A and FU-A)."""

    def __init__(self) -> None:
        self._fragment: bytearray | None = None

    def push(self, payload: bytes) -> Iterator[bytes]:
        if not payload:
            raise H264Error("empty H.264 RTP payload")
        kind = payload[0] & 0x1F
        if kind == NAL_FU_A:
            if len(payload) < 3:
                raise H264Error("FU-A payload too short")
            header = payload[1]
            if header & 0x80:
                self._fragment = bytearray([(payload[0] & 0xE0) | (header & 0x1F)])
            elif self._fragment is None:
                return  # a fragment whose start was lost: drop it
            self._fragment += payload[2:]
            if header & 0x40:
                yield bytes(self._fragment)
                self._fragment = None
        elif kind == NAL_STAP_A:
            offset = 1
            while offset + 2 <= len(payload):
                size = payload[offset] << 8 | payload[offset + 1]
                offset += 2
                if offset + size > len(payload):
                    raise H264Error("STAP-A unit runs past the payload")
                yield payload[offset : offset + size]
                offset += size
        elif 1 <= kind <= 23:
            self._fragment = None
            yield payload
        else:
            raise H264Error(f"unsupported H.264 payload type {kind}")
