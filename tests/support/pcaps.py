"""Small captures made for a test: SIP messages, packets built with scapy (an
independent encoder), and the pcap/pcapng containers written with struct here,
not with sipcheck's writer."""

from __future__ import annotations

import gzip
import struct
from collections.abc import Sequence
from pathlib import Path

AOR = "sip:alice@example.com"


def sip(
    start: str, cseq: int, *, call_id: str = "c1", auth: str | None = None,
    expires: int = 3600, body: bytes = b"", extra: str = "",
) -> bytes:  # fmt: skip
    lines = [
        start,
        "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK-" + str(cseq),
        f"From: <{AOR}>;tag=f1",
        f"To: <{AOR}>",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        "Contact: <sip:alice@10.0.0.1:5060>",
        f"Expires: {expires}",
    ]
    if auth:
        lines.append(auth)
    if extra:
        lines.append(extra)
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


CHALLENGE = 'WWW-Authenticate: Digest realm="example.com", nonce="n1", algorithm=MD5'
ANSWER = (
    'Authorization: Digest username="alice", realm="example.com", nonce="n1", '
    'uri="sip:example.com", response="00000000000000000000000000000000", algorithm=MD5'
)


def flow(call_id: str = "c1") -> list[tuple[bool, bytes]]:
    """(from the client?, message): REGISTER, 401, REGISTER with credentials, 200."""
    return [
        (True, sip("REGISTER sip:example.com SIP/2.0", 1, call_id=call_id)),
        (False, sip("SIP/2.0 401 Unauthorized", 1, call_id=call_id, extra=CHALLENGE)),
        (True, sip("REGISTER sip:example.com SIP/2.0", 2, call_id=call_id, auth=ANSWER)),
        (False, sip("SIP/2.0 200 OK", 2, call_id=call_id)),
    ]


def pcap(
    path: Path,
    packets: Sequence[bytes],
    *,
    linktype: int = 1,
    order: str = "<",
    nano: bool = False,
    start: float = 1_600_000_000.0,
    step: float = 0.01,
    compress: bool = False,
) -> Path:
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)]
    for i, data in enumerate(packets):
        when = start + i * step
        seconds = int(when)
        fraction = round((when - seconds) * (1e9 if nano else 1e6))
        out.append(struct.pack(order + "IIII", seconds, fraction, len(data), len(data)) + data)
    blob = b"".join(out)
    path.write_bytes(gzip.compress(blob) if compress else blob)
    return path


def _block(kind: int, body: bytes, order: str = "<") -> bytes:
    body += b"\0" * (-len(body) % 4)
    return (
        struct.pack(order + "II", kind, len(body) + 12)
        + body
        + struct.pack(order + "I", len(body) + 12)
    )


def pcapng(
    path: Path,
    packets: Sequence[bytes],
    *,
    linktype: int = 1,
    order: str = "<",
    tsresol: int | None = None,
    tsoffset: int = 0,
    start: float = 1_600_000_000.0,
    step: float = 0.01,
) -> Path:
    """Section header, an interface (with if_tsresol/if_tsoffset), a name resolution
    block to skip, then Enhanced Packet Blocks (the first one a Simple Packet Block)."""
    shb = _block(0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1), order)
    options = b""
    if tsresol is not None:
        options += struct.pack(order + "HH", 9, 1) + bytes([tsresol]) + b"\0\0\0"
    if tsoffset:
        options += struct.pack(order + "HHq", 14, 8, tsoffset)
    if options:
        options += struct.pack(order + "HH", 0, 0)
    idb = _block(1, struct.pack(order + "HHI", linktype, 0, 0) + options, order)
    nrb = _block(4, struct.pack(order + "HH", 0, 0), order)
    unit = 10.0 ** -(tsresol if tsresol is not None else 6)
    blocks = [shb, idb, nrb]
    for i, data in enumerate(packets):
        ticks = round((start + i * step - tsoffset) / unit)
        body = struct.pack(
            order + "IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)
        )
        blocks.append(_block(6, body + data, order))
    path.write_bytes(b"".join(blocks))
    return path
