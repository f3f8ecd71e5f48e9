"""SIP that arrives wrapped: Wireshark's exported PDUs and HEP (Homer's capture
protocol, as heplify and the SIP servers' HEP modules send it).

Exported PDU (LINKTYPE_WIRESHARK_UPPER_PDU): tags of a 2-octet type and a
2-octet length (big-endian) up to tag 0; tag 12 names the dissector, 20-23 the
IPv4/IPv6 addresses, 24 the port type (2 TCP, 3 UDP), 25/26 the ports (32 bits).

HEP version 3: "HEP3", a 2-octet total length, then chunks of vendor (2), type
(2), length (2, header included) and value; vendor 0 types 1 family, 2 protocol,
3/4 IPv4 addresses, 5/6 IPv6, 7/8 ports, 9/10 seconds and microseconds, 11 the
payload's protocol (1 = SIP), 15 the payload. HEP versions 1 and 2: version,
header length, family, protocol, two ports, two addresses, and (version 2)
seconds, microseconds and the capture id, then the payload.
"""

from __future__ import annotations

import socket
import struct

from sipcheck.capture.packet import Datagram
from sipcheck.trace import Address

_TAG = struct.Struct("!HH")
_CHUNK = struct.Struct("!HHH")
HEP_SIP = 1


def _ntop(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def exported_pdu(data: bytes) -> Datagram | None:
    at, name = 0, b""
    src = dst = b""
    sport = dport = 0
    port_type = 0
    while at + 4 <= len(data):
        kind, length = _TAG.unpack_from(data, at)
        value = data[at + 4 : at + 4 + length]
        at += 4 + length
        if kind == 0:
            break
        if kind == 12:
            name = value.rstrip(b"\0")
        elif kind in (20, 21, 22, 23) and len(value) in (4, 16):
            if kind in (20, 22):
                src = value
            else:
                dst = value
        elif kind in (24, 25, 26) and len(value) == 4:
            number = struct.unpack("!I", value)[0]
            if kind == 24:
                port_type = number
            elif kind == 25:
                sport = number & 0xFFFF
            else:
                dport = number & 0xFFFF
    if name.lower() not in (b"sip", b"sip.tcp") or not src or not dst:
        return None
    # A stream's PDUs in a capture are decrypted TLS as often as not: what Wireshark
    # exports from a TLS session, and how sipcheck writes its own TLS messages.
    transport = "udp" if port_type == 3 else "tls"
    return Datagram(Address(_ntop(src), sport), Address(_ntop(dst), dport), data[at:], transport)


def hep(payload: bytes) -> Datagram | None:
    """The SIP message a HEP packet carries, with its addresses and time; None if it
    is not HEP (or carries something else, like RTCP or logs)."""
    try:
        if payload[:4] == b"HEP3":
            return _hep3(payload)
        if payload[:1] in (b"\x01", b"\x02") and len(payload) > 16:
            return _hep12(payload)
    except (struct.error, ValueError, OSError):
        return None
    return None


def _hep3(payload: bytes) -> Datagram | None:
    total = struct.unpack_from("!H", payload, 4)[0]
    at, end = 6, min(total, len(payload))
    fields: dict[int, bytes] = {}
    while at + 6 <= end:
        vendor, kind, length = _CHUNK.unpack_from(payload, at)
        if length < 6:
            return None
        if vendor == 0:
            fields[kind] = payload[at + 6 : at + length]
        at += length
    if fields.get(11, b"\x01")[:1] != bytes([HEP_SIP]) or 15 not in fields:
        return None
    src, dst = fields.get(3) or fields.get(5), fields.get(4) or fields.get(6)
    if src is None or dst is None or len(src) not in (4, 16) or len(dst) not in (4, 16):
        return None
    sport = struct.unpack("!H", fields[7])[0] if len(fields.get(7, b"")) == 2 else 0
    dport = struct.unpack("!H", fields[8])[0] if len(fields.get(8, b"")) == 2 else 0
    proto = fields.get(2, b"\x11")[:1]
    when = None
    if len(fields.get(9, b"")) == 4:
        seconds = struct.unpack("!I", fields[9])[0]
        micros = struct.unpack("!I", fields[10])[0] if len(fields.get(10, b"")) == 4 else 0
        when = seconds + micros / 1e6
    transport = "tcp" if proto == b"\x06" else "udp"
    return Datagram(
        Address(_ntop(src), sport), Address(_ntop(dst), dport), fields[15], transport, when
    )


def _hep12(payload: bytes) -> Datagram | None:
    version, length, family, proto, sport, dport = struct.unpack_from("!BBBBHH", payload)
    size = 16 if family == socket.AF_INET else 40 if family in (10, 24, 28, 30) else 0
    want = size + (12 if version == 2 else 0)
    if not size or proto not in (6, 17) or length != want or len(payload) <= length:
        return None
    half = (size - 8) // 2
    src, dst = payload[8 : 8 + half], payload[8 + half : size]
    when = None
    if version == 2:
        seconds, micros = struct.unpack_from("!II", payload, size)
        when = seconds + micros / 1e6
    transport = "tcp" if proto == 6 else "udp"
    return Datagram(
        Address(_ntop(src), sport), Address(_ntop(dst), dport), payload[length:], transport, when
    )
