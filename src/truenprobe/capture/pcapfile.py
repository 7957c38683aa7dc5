"""Stream the packets of a pcap or pcapng file (optionally gzip-compressed) without scapy.

The file is read in large chunks and every packet is handed out as a position in the
current chunk (``buf``, ``start``, ``end``) rather than as its own ``bytes``: the
dissectors unpack headers in place and copy only the few payloads that matter. Memory
stays bounded by the chunk size whatever the size of the capture.

A capture that ends in the middle of a record (a copy interrupted, a tcpdump killed)
is read up to its last whole packet and ``truncated`` says where it stopped; bytes that
are not a capture at all raise ``CaptureFormatError``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from truenprobe.errors import InputFileError

CHUNK = 1 << 20  # bytes read at a time
MAX_RECORD = 1 << 24  # a record longer than this means a corrupt file, not a jumbo frame

# pcap magic numbers as read little-endian (a file written on a big-endian host reads swapped)
_PCAP_MAGICS: dict[bytes, tuple[str, float, int]] = {
    # first 4 bytes: (struct byte order, seconds per timestamp fraction unit, record header size)
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6, 16),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6, 16),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9, 16),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9, 16),
    # Alexey Kuznetzov's "modified" pcap: 8 more bytes per record header
    b"\x34\xcd\xb2\xa1": ("<", 1e-6, 24),
    b"\xa1\xb2\xcd\x34": (">", 1e-6, 24),
}
_PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
_GZIP = b"\x1f\x8b"

# pcapng block types
_IDB = 1
_OPB = 2  # obsolete packet block
_SPB = 3
_EPB = 6
_SHB = 0x0A0D0D0A


class CaptureFormatError(InputFileError):
    """The file is not a capture this reader understands."""


@dataclass
class Interface:
    link_type: int
    snaplen: int
    ts_unit: float = 1e-6  # seconds per timestamp unit (if_tsresol)
    ts_offset: float = 0.0  # if_tsoffset, seconds


@dataclass
class ReadStats:
    packets: int = 0
    truncated: str | None = None  # why reading stopped early, when it did
    link_types: set[int] = field(default_factory=set)
    snapped: int = 0  # packets shorter in the file than on the wire (snaplen)
    format: str = "pcap"


# One packet: (timestamp in seconds, link type, buffer, start, end, length on the wire)
PacketRecord = tuple[float, int, bytes, int, int, int]


class CaptureReader:
    """Iterate a capture's packets from a binary stream; see the module docstring."""

    def __init__(self, stream: BinaryIO, name: str) -> None:
        self._stream = stream
        self.name = name
        self.stats = ReadStats()
        self._buf = b""
        self._pos = 0
        self._eof = False

    # --- buffer handling ------------------------------------------------------------

    def _read(self, size: int) -> bytes:
        try:
            return self._stream.read(size)
        except CompressedDataError as exc:
            self._eof = True
            self._stop(str(exc))
            return b""

    def _fill(self, need: int) -> bool:
        """Make ``need`` bytes available from ``_pos``; False at the end of the file."""
        have = len(self._buf) - self._pos
        if have >= need:
            return True
        parts = [self._buf[self._pos :]]
        while have < need and not self._eof:
            data = self._read(max(CHUNK, need - have))
            if not data:
                self._eof = True
                break
            parts.append(data)
            have += len(data)
        self._buf = b"".join(parts)
        self._pos = 0
        return have >= need

    def _stop(self, why: str) -> None:
        if self.stats.truncated is None:
            self.stats.truncated = why

    # --- formats --------------------------------------------------------------------

    def packets(self) -> Iterator[PacketRecord]:
        if not self._fill(4):
            if len(self._buf) == 0:
                raise CaptureFormatError(f"{self.name}: empty file, not a capture")
            raise CaptureFormatError(f"{self.name}: too short to be a capture")
        head = self._buf[:4]
        if head[:2] == _GZIP:
            raise CaptureFormatError(f"{self.name}: gzip data inside gzip data")
        if head in _PCAP_MAGICS:
            self.stats.format = "pcap"
            return self._pcap(*_PCAP_MAGICS[head])
        if head == _PCAPNG_SHB:
            self.stats.format = "pcapng"
            return self._pcapng()
        raise CaptureFormatError(
            f"{self.name}: not a pcap or pcapng capture (starts with {head.hex()})"
        )

    def _pcap(self, order: str, unit: float, record_size: int) -> Iterator[PacketRecord]:
        if not self._fill(24):
            raise CaptureFormatError(f"{self.name}: pcap header cut short")
        _magic, major, _minor, _zone, _sigfigs, snaplen, link = struct.unpack_from(
            order + "IHHiIII", self._buf, 0
        )
        if major != 2:
            raise CaptureFormatError(f"{self.name}: pcap version {major} is not supported")
        link &= 0xFFFF  # the upper bits may carry FCS information
        self.stats.link_types.add(link)
        self._pos = 24
        unpack = struct.Struct(order + "IIII").unpack_from
        limit = min(MAX_RECORD, max(snaplen, 262144)) if snaplen else MAX_RECORD
        stats = self.stats
        buf, pos, size = self._buf, self._pos, len(self._buf)
        count = snapped = 0
        try:
            while True:
                if pos + record_size > size:
                    self._pos = pos
                    if not self._fill(record_size):
                        if len(self._buf) > self._pos:
                            self._stop(
                                f"the file ends inside a record header after {count} packets"
                            )
                        return
                    buf, pos, size = self._buf, self._pos, len(self._buf)
                sec, frac, caplen, wirelen = unpack(buf, pos)
                if caplen > limit:
                    self._stop(f"corrupt record (length {caplen}) after {count} packets")
                    return
                start = pos + record_size
                end = start + caplen
                if end > size:
                    self._pos = pos
                    if not self._fill(record_size + caplen):
                        self._stop(f"the file ends inside packet {count + 1}")
                        return
                    buf, pos, size = self._buf, self._pos, len(self._buf)
                    start = pos + record_size
                    end = start + caplen
                pos = end
                count += 1
                if wirelen > caplen:
                    snapped += 1
                yield sec + frac * unit, link, buf, start, end, wirelen
        finally:
            self._pos = pos
            stats.packets += count
            stats.snapped += snapped

    def _pcapng(self) -> Iterator[PacketRecord]:
        order = "<"
        interfaces: list[Interface] = []
        stats = self.stats
        while True:
            if not self._fill(12):
                if len(self._buf) > self._pos:
                    self._stop(f"the file ends inside a block after {stats.packets} packets")
                return
            buf, pos = self._buf, self._pos
            if buf[pos : pos + 4] == _PCAPNG_SHB:
                bom = buf[pos + 8 : pos + 12]
                if bom == b"\x4d\x3c\x2b\x1a":
                    order = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    order = ">"
                else:
                    self._stop(f"bad section header after {stats.packets} packets")
                    if stats.packets == 0:
                        raise CaptureFormatError(f"{self.name}: pcapng section header is corrupt")
                    return
                interfaces = []  # interface ids restart in every section
            btype, blen = struct.unpack_from(order + "II", buf, pos)
            if blen < 12 or blen % 4 or blen > MAX_RECORD:
                self._stop(f"corrupt block (length {blen}) after {stats.packets} packets")
                if stats.packets == 0 and not interfaces:
                    raise CaptureFormatError(f"{self.name}: pcapng block length {blen} is corrupt")
                return
            if not self._fill(blen):
                self._stop(f"the file ends inside a block after {stats.packets} packets")
                return
            buf, pos = self._buf, self._pos
            self._pos = pos + blen
            body = pos + 8
            body_end = pos + blen - 4
            if btype in (_EPB, _OPB):
                if btype == _EPB:
                    iface_id, ts_hi, ts_lo, caplen, wirelen = struct.unpack_from(
                        order + "IIIII", buf, body
                    )
                else:
                    iface_id, _drops, ts_hi, ts_lo, caplen, wirelen = struct.unpack_from(
                        order + "HHIIII", buf, body
                    )
                start = body + 20
                if iface_id >= len(interfaces) or start + caplen > body_end:
                    self._stop(f"packet block {stats.packets + 1} is inconsistent")
                    continue
                iface = interfaces[iface_id]
                stats.packets += 1
                if wirelen > caplen:
                    stats.snapped += 1
                ts = ((ts_hi << 32) | ts_lo) * iface.ts_unit + iface.ts_offset
                yield ts, iface.link_type, buf, start, start + caplen, wirelen
            elif btype == _SPB:
                if not interfaces:
                    continue
                iface = interfaces[0]
                (wirelen,) = struct.unpack_from(order + "I", buf, body)
                start = body + 4
                caplen = min(wirelen, body_end - start)
                if iface.snaplen:
                    caplen = min(caplen, iface.snaplen)
                stats.packets += 1
                if wirelen > caplen:
                    stats.snapped += 1
                # A simple packet block has no timestamp: it shares the previous one.
                yield float("nan"), iface.link_type, buf, start, start + caplen, wirelen
            elif btype == _IDB:
                link, _reserved, snaplen = struct.unpack_from(order + "HHI", buf, body)
                iface = Interface(link, snaplen)
                _interface_options(iface, buf, body + 8, body_end, order)
                interfaces.append(iface)
                stats.link_types.add(link)
            # other blocks (statistics, name resolution, custom) carry nothing we use


def _interface_options(iface: Interface, buf: bytes, pos: int, end: int, order: str) -> None:
    while pos + 4 <= end:
        code, length = struct.unpack_from(order + "HH", buf, pos)
        value = pos + 4
        if code == 0:  # opt_endofopt
            return
        if code == 9 and length >= 1:  # if_tsresol
            resol = buf[value]
            iface.ts_unit = 2.0 ** -(resol & 0x7F) if resol & 0x80 else 10.0**-resol
        elif code == 14 and length >= 8:  # if_tsoffset, seconds
            (iface.ts_offset,) = struct.unpack_from(order + "q", buf, value)
        pos = value + ((length + 3) & ~3)


class CompressedDataError(Exception):
    """A gzip-compressed capture that is cut short or corrupt (reading stops there)."""


class GunzipStream:
    """Decompress a gzip stream as it is read, keeping every byte before a cut or corruption.

    ``gzip.GzipFile`` discards a whole read when the stream turns out to be cut short;
    a ticket's capture is often exactly that (an attachment size limit), so this reader
    hands out whatever decompressed before the problem and then raises.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(wbits=31)
        self._ready = b""
        self._error: str | None = None
        self._done = False

    def read(self, size: int) -> bytes:
        while len(self._ready) < size and not self._done:
            self._step(size)
        if not self._ready and self._error:
            raise CompressedDataError(self._error)
        out, self._ready = self._ready[:size], self._ready[size:]
        return out

    def _step(self, size: int) -> None:
        data = self._raw.read(max(size // 4, 1 << 16))
        if not data:
            if not self._inflate.eof:
                self._error = "the compressed capture is cut short"
            self._done = True
            return
        try:
            self._ready += self._inflate.decompress(data)
            while self._inflate.eof and self._inflate.unused_data:
                rest = self._inflate.unused_data  # another gzip member follows
                self._inflate = zlib.decompressobj(wbits=31)
                self._ready += self._inflate.decompress(rest)
        except zlib.error as exc:
            self._error = f"the compressed capture is corrupt ({exc})"
            self._done = True

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> GunzipStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_stream(path: str) -> tuple[BinaryIO, str]:
    """Open a capture file (or ``-`` for stdin); gzip is undone transparently."""
    import sys

    if path == "-":
        return sys.stdin.buffer, "stdin"
    try:
        raw: BinaryIO = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise InputFileError(f"capture {path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"capture {path}: is a directory") from None
    except PermissionError:
        raise InputFileError(f"capture {path}: permission denied") from None
    except OSError as exc:
        raise InputFileError(f"capture {path}: {exc.strerror or exc}") from None
    head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if head == _GZIP:
        return GunzipStream(raw), path  # type: ignore[return-value]
    return raw, path
