"""Packets built from scratch: IPv4/IPv6 headers, UDP, TCP segments, exported PDUs.

Checksums are computed (RFC 791, RFC 768, RFC 793 with the pseudo-header; RFC 8200
§8.1 for IPv6), so Wireshark's validation, when switched on, finds nothing wrong.
"""

from __future__ import annotations

import ipaddress
import struct

from sipcheck.trace import Address

PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6 = 1, 6, 17, 58

# TCP flags (RFC 793 §3.1)
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

# LINKTYPE_WIRESHARK_UPPER_PDU tags (Wireshark's exported-PDU format): a 2-octet
# type, a 2-octet length, the value; the list ends with tag 0 of length 0.
TAG_END = 0
TAG_DISSECTOR_NAME = 12
TAG_IPV4_SRC, TAG_IPV4_DST, TAG_IPV6_SRC, TAG_IPV6_DST = 20, 21, 22, 23
TAG_PORT_TYPE, TAG_SRC_PORT, TAG_DST_PORT = 24, 25, 26
PORT_TYPE_TCP, PORT_TYPE_UDP = 2, 3


def packed_ip(host: str) -> bytes:
    """The address octets of a numeric host (4 for IPv4, 16 for IPv6).

    A host that is not numeric (which a Trace should never hold) becomes 0.0.0.0, so
    writing a capture never fails on it.
    """
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0]).packed
    except ValueError:
        return bytes(4)


def checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071): one's complement of the one's complement sum."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _pseudo_header(src: bytes, dst: bytes, proto: int, length: int) -> bytes:
    if len(src) == 4:
        return src + dst + struct.pack("!BBH", 0, proto, length)
    return src + dst + struct.pack("!IxxxB", length, proto)


def ip_packet(src: bytes, dst: bytes, proto: int, payload: bytes, ident: int = 0) -> bytes:
    """An IPv4 or IPv6 packet (by the length of the addresses) around ``payload``."""
    if len(src) == 16 or len(dst) == 16:
        src, dst = _as_v6(src), _as_v6(dst)
        return struct.pack("!IHBB", 6 << 28, len(payload), proto, 64) + src + dst + payload
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0, src, dst
    )  # DF set: a written segment is never a fragment
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def _as_v6(packed: bytes) -> bytes:
    return packed if len(packed) == 16 else b"\0" * 10 + b"\xff\xff" + packed


def udp_datagram(src: Address, dst: Address, payload: bytes, ident: int = 0) -> bytes:
    """A UDP datagram in an IP packet; a payload too big for one IP packet is cut."""
    s, d = packed_ip(src.host), packed_ip(dst.host)
    payload = payload[: 65507 if len(s) == 4 and len(d) == 4 else 65527]
    length = 8 + len(payload)
    header = struct.pack("!HHHH", src.port, dst.port, length, 0)
    if len(s) == 16 or len(d) == 16:
        s, d = _as_v6(s), _as_v6(d)
    total = checksum(_pseudo_header(s, d, PROTO_UDP, length) + header + payload)
    header = header[:6] + struct.pack("!H", total or 0xFFFF)  # RFC 768: 0 means "none"
    return ip_packet(s, d, PROTO_UDP, header + payload, ident)


def tcp_segment(
    src: Address, dst: Address, seq: int, ack: int, flags: int, payload: bytes = b"", ident: int = 0
) -> bytes:
    """A TCP segment (no options, window 65535) in an IP packet."""
    s, d = packed_ip(src.host), packed_ip(dst.host)
    if len(s) == 16 or len(d) == 16:
        s, d = _as_v6(s), _as_v6(d)
    ack_field = ack & 0xFFFFFFFF if flags & ACK else 0
    header = struct.pack(
        "!HHIIBBHHH", src.port, dst.port, seq & 0xFFFFFFFF, ack_field, 5 << 4, flags, 65535, 0, 0
    )
    total = checksum(_pseudo_header(s, d, PROTO_TCP, 20 + len(payload)) + header + payload)
    header = header[:16] + struct.pack("!H", total) + header[18:]
    return ip_packet(s, d, PROTO_TCP, header + payload, ident)


def port_unreachable(reporter: Address, undelivered: bytes) -> bytes:
    """ICMP destination unreachable, port unreachable (RFC 792; ICMPv6: RFC 4443 §3.1),
    quoting the undelivered packet as far as the minimum MTU allows."""
    v6 = undelivered[:1] and undelivered[0] >> 4 == 6
    src = packed_ip(reporter.host)
    if v6:
        dst = _as_v6(undelivered[8:24])
        quoted = undelivered[: 1280 - 48]
        message = struct.pack("!BBHI", 1, 4, 0, 0) + quoted
        total = checksum(_pseudo_header(_as_v6(src), dst, PROTO_ICMPV6, len(message)) + message)
        message = message[:2] + struct.pack("!H", total) + message[4:]
        return ip_packet(_as_v6(src), dst, PROTO_ICMPV6, message)
    dst = undelivered[12:16]
    message = struct.pack("!BBHI", 3, 3, 0, 0) + undelivered[: 576 - 28]
    message = message[:2] + struct.pack("!H", checksum(message)) + message[4:]
    return ip_packet(src, dst, PROTO_ICMP, message)


def _tag(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value


def exported_pdu(src: Address, dst: Address, payload: bytes, *, tcp: bool = True) -> bytes:
    """A SIP message as Wireshark's exported PDU: dissector "sip", addresses, ports."""
    s, d = packed_ip(src.host), packed_ip(dst.host)
    if len(s) != len(d):
        s, d = _as_v6(s), _as_v6(d)
    v6 = len(s) == 16
    tags = [
        _tag(TAG_DISSECTOR_NAME, b"sip\0"),  # padded to 4 octets, as Wireshark writes it
        _tag(TAG_IPV6_SRC if v6 else TAG_IPV4_SRC, s),
        _tag(TAG_IPV6_DST if v6 else TAG_IPV4_DST, d),
        _tag(TAG_PORT_TYPE, struct.pack("!I", PORT_TYPE_TCP if tcp else PORT_TYPE_UDP)),
        _tag(TAG_SRC_PORT, struct.pack("!I", src.port)),
        _tag(TAG_DST_PORT, struct.pack("!I", dst.port)),
        _tag(TAG_END, b""),
    ]
    return b"".join(tags) + payload
