"""The pcapng container, written block by block (the pcapng specification,
draft-ietf-opsawg-pcapng): a Section Header Block, one Interface Description
Block per link type, when first needed, and Enhanced Packet Blocks.

pcapng and not pcap because one file may hold two link types: raw IP for UDP and
TCP, and Wireshark's exported PDUs for SIP that went over TLS (decrypted).
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from sipcheck import __version__

BYTE_ORDER_MAGIC = 0x1A2B3C4D
SHB, IDB, EPB = 0x0A0D0D0A, 0x00000001, 0x00000006
OPT_END, OPT_COMMENT = 0, 1
SHB_USERAPPL = 4
IF_NAME, IF_TSRESOL = 2, 9

LINKTYPE_RAW = 101  # an IPv4 or IPv6 packet, no link-layer header
LINKTYPE_WIRESHARK_UPPER_PDU = 252


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _options(items: list[tuple[int, bytes]]) -> bytes:
    if not items:
        return b""
    out = b"".join(struct.pack("<HH", code, len(value)) + _pad(value) for code, value in items)
    return out + struct.pack("<HH", OPT_END, 0)


def _block(kind: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


class PcapngWriter:
    """Writes packets to ``stream`` (opened in binary mode) as one pcapng section.

    Times are epoch seconds, kept to the microsecond (the default resolution).
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._interfaces: dict[int, int] = {}  # link type -> interface id
        user = f"sipcheck {__version__}".encode()
        body = struct.pack("<IHHq", BYTE_ORDER_MAGIC, 1, 0, -1)  # version 1.0, length unknown
        self._stream.write(_block(SHB, body + _options([(SHB_USERAPPL, user)])))
        self.packets = 0

    def _interface(self, linktype: int) -> int:
        known = self._interfaces.get(linktype)
        if known is not None:
            return known
        name = b"sipcheck" if linktype == LINKTYPE_RAW else b"sipcheck-tls-decrypted"
        body = struct.pack("<HHI", linktype, 0, 0)  # snaplen 0: no limit
        self._stream.write(_block(IDB, body + _options([(IF_NAME, name), (IF_TSRESOL, b"\x06")])))
        self._interfaces[linktype] = len(self._interfaces)
        return self._interfaces[linktype]

    def packet(self, linktype: int, when: float, data: bytes, comment: str | None = None) -> None:
        interface = self._interface(linktype)
        micros = max(0, round(when * 1_000_000))
        body = struct.pack(
            "<IIIII", interface, micros >> 32, micros & 0xFFFFFFFF, len(data), len(data)
        )
        options = [(OPT_COMMENT, comment.encode("utf-8", "replace"))] if comment else []
        self._stream.write(_block(EPB, body + _pad(data) + _options(options)))
        self.packets += 1

    def flush(self) -> None:
        self._stream.flush()
