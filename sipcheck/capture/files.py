"""pcap and pcapng files (plain or gzip-compressed), read one packet at a time.

Formats as their specifications define them: pcap (the libpcap file format,
draft-ietf-opsawg-pcap: a 24-octet header, then a 16-octet record header per
packet, micro- or nanosecond magic, either byte order) and pcapng
(draft-ietf-opsawg-pcapng: blocks; Section Header, Interface Description with
if_tsresol/if_tsoffset, Enhanced, Simple and the obsolete Packet Block). Nothing
is read ahead beyond one packet, so memory does not grow with the file. A file
cut short ends the packets and sets ``truncated``; a file that is not a capture
is a ``CaptureFileError`` (exit 2).
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

from sipcheck.errors import ConfigError

GZIP_MAGIC = b"\x1f\x8b"
PCAPNG_SHB = 0x0A0D0D0A
_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
MAX_PACKET = 1 << 24  # a record claiming more is a damaged file, not a packet


class CaptureFileError(ConfigError):
    """The file is not a capture sipcheck can read (or cannot be opened)."""


@dataclass(frozen=True, slots=True)
class Frame:
    number: int  # 1-based, as Wireshark counts
    time: float  # epoch seconds
    linktype: int
    data: bytes


@dataclass
class _Interface:
    linktype: int
    unit: float = 1e-6
    offset: float = 0.0


class CaptureReader:
    """``for frame in CaptureReader(stream)``: every packet of a pcap or pcapng stream."""

    def __init__(
        self, stream: BinaryIO, name: str = "capture", *, file: BinaryIO | None = None
    ) -> None:
        """``file``: the file under ``stream`` when that decompresses it, for ``done``."""
        self._stream = stream
        self.name = name
        self.truncated = False
        self.error: str | None = None
        self.format = ""
        self.compressed = False
        self.packets = 0
        self._file = file or stream
        try:
            self.size = os.fstat(self._file.fileno()).st_size  # compressed, for gzip
        except (OSError, ValueError, AttributeError):  # not a file (a test's BytesIO)
            self.size = 0

    @property
    def done(self) -> float:
        """How much of the file has been read, 0.0 to 1.0 (0.0 when unknown)."""
        if not self.size:
            return 0.0
        try:
            return min(1.0, self._file.tell() / self.size)
        except (OSError, ValueError):
            return 0.0

    def __iter__(self) -> Iterator[Frame]:
        head = self._read(4)
        if head is None:
            why = f" ({self.error})" if self.error else ""
            raise CaptureFileError(f"{self.name}: empty or too short to be a capture{why}")
        if head in _PCAP_MAGICS:
            self.format = "pcap"
            yield from self._pcap(head)
        elif struct.unpack("<I", head)[0] == PCAPNG_SHB:
            self.format = "pcapng"
            yield from self._pcapng(head)
        else:
            raise CaptureFileError(
                f"{self.name}: not a pcap or pcapng file (it starts with {head.hex()})"
            )

    def _read(self, size: int) -> bytes | None:
        try:
            data = self._stream.read(size)
        except (OSError, EOFError, zlib.error) as exc:  # a damaged or cut gzip stream
            self.truncated = True
            self.error = str(exc) or type(exc).__name__
            return None
        if len(data) < size:
            if data:
                self.truncated = True
            return None
        return data

    def _next(self, linktype: int, when: float, data: bytes) -> Frame:
        self.packets += 1
        return Frame(self.packets, when, linktype, data)

    def _pcap(self, magic: bytes) -> Iterator[Frame]:
        order, unit = _PCAP_MAGICS[magic]
        header = self._read(20)
        if header is None:
            raise CaptureFileError(f"{self.name}: the pcap header is cut short")
        _major, _minor, _zone, _sigfigs, _snap, link = struct.unpack(order + "HHiIII", header)
        linktype = link & 0x0FFFFFFF  # the upper bits are FCS information
        record = struct.Struct(order + "IIII")
        while True:
            head = self._read(16)
            if head is None:
                return
            seconds, fraction, caplen, _length = record.unpack(head)
            if caplen > MAX_PACKET:
                self.truncated = True
                return
            data = self._read(caplen)
            if data is None:
                self.truncated = True
                return
            yield self._next(linktype, seconds + fraction * unit, data)

    def _pcapng(self, first: bytes) -> Iterator[Frame]:
        order = "<"
        interfaces: list[_Interface] = []
        kind_bytes = first
        while True:
            rest = self._read(8)
            if rest is None:
                return
            if struct.unpack("<I", kind_bytes)[0] == PCAPNG_SHB:
                magic = rest[4:8]
                order = "<" if magic == b"\x4d\x3c\x2b\x1a" else ">"
                interfaces = []
            kind, length = struct.unpack(order + "II", kind_bytes + rest[:4])
            if length < 12 or length > MAX_PACKET or length % 4:
                self.truncated = True
                return
            body = self._read(length - 12)
            if body is None:
                self.truncated = True
                return
            body = rest[4:] + body[:-4]  # without the trailing length
            frame = self._block(order, kind, body, interfaces)
            if frame is not None:
                yield frame
            next_kind = self._read(4)
            if next_kind is None:
                return
            kind_bytes = next_kind

    def _block(
        self, order: str, kind: int, body: bytes, interfaces: list[_Interface]
    ) -> Frame | None:
        if kind == 1 and len(body) >= 8:  # Interface Description Block
            linktype = struct.unpack(order + "H", body[:2])[0]
            interfaces.append(_interface(order, linktype, body[8:]))
            return None
        if kind in (6, 2) and len(body) >= 20:  # Enhanced / obsolete Packet Block
            if kind == 6:
                iface, high, low, caplen, _length = struct.unpack(order + "IIIII", body[:20])
            else:
                iface, _drops, high, low, caplen, _length = struct.unpack(
                    order + "HHIIII", body[:20]
                )
            if iface >= len(interfaces):
                return None
            interface = interfaces[iface]
            stamp = ((high << 32) | low) * interface.unit + interface.offset
            return self._next(interface.linktype, stamp, body[20 : 20 + caplen])
        if kind == 3 and len(body) >= 4 and interfaces:  # Simple Packet Block
            (length,) = struct.unpack(order + "I", body[:4])
            return self._next(interfaces[0].linktype, 0.0, body[4 : 4 + length])
        return None  # name resolution, statistics, custom blocks: not packets


def _interface(order: str, linktype: int, options: bytes) -> _Interface:
    interface = _Interface(linktype)
    at = 0
    while at + 4 <= len(options):
        code, size = struct.unpack(order + "HH", options[at : at + 4])
        value = options[at + 4 : at + 4 + size]
        if code == 0:
            break
        if code == 9 and size >= 1:  # if_tsresol: 10^-n, or 2^-n with the top bit set
            exponent = value[0] & 0x7F
            interface.unit = 2.0**-exponent if value[0] & 0x80 else 10.0**-exponent
        elif code == 14 and size == 8:  # if_tsoffset: seconds to add
            interface.offset = float(struct.unpack(order + "q", value)[0])
        at += 4 + size + (-size % 4)
    return interface


STDIN = "-"


@contextmanager
def open_capture(path: str) -> Iterator[CaptureReader]:
    """A reader of the file (``-``: stdin, a pipe such as ``tcpdump -w -``),
    decompressed on the fly when it is gzip (whatever its name)."""
    if path == STDIN:
        if sys.stdin is None or sys.stdin.isatty():
            raise CaptureFileError("FILE -: stdin is a terminal; pipe a capture in")
        raw = sys.stdin.buffer
        if not hasattr(raw, "peek"):  # a test's stdin: bytes in memory
            raw = io.BufferedReader(raw)
        path = "stdin"
    else:
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CaptureFileError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        magic = raw.peek(2)[:2]
        stream: BinaryIO = raw
        if magic == GZIP_MAGIC:
            stream = gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[assignment]
        reader = CaptureReader(stream, path, file=raw)
        reader.compressed = magic == GZIP_MAGIC
        yield reader
    except OSError as exc:
        raise CaptureFileError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    finally:
        if raw is not getattr(sys.stdin, "buffer", None):
            raw.close()
