"""Link layer -> IP -> UDP/TCP, the thin way: only the fields a SIP flow needs.

Link types (tcpdump.org's LINKTYPE_ values): Ethernet with 802.1Q/802.1ad tags,
Linux cooked v1 and v2, raw IP (and the IPv4/IPv6-only raw types), BSD
loopback (NULL, LOOP) and Wireshark's exported PDUs. IPv4 (RFC 791) and IPv6
(RFC 8200, extension headers skipped), IP-in-IP (protocols 4 and 41), fragments
reassembled by ``Fragments``. A packet that is not what its headers say is
skipped, never an exception: a capture holds whatever crossed the wire.
"""

from __future__ import annotations

import socket
import struct

from sipcheck.capture.ipfrag import Fragments
from sipcheck.capture.packet import Datagram, Decoded, Segment, Unreachable
from sipcheck.capture.pdu import exported_pdu
from sipcheck.trace import Address

LINK_NULL, LINK_ETHERNET, LINK_LOOP = 0, 1, 108
LINK_RAW, LINK_RAW_BSD, LINK_RAW_OPENBSD, LINK_IPV4, LINK_IPV6 = 101, 12, 14, 228, 229
LINK_SLL, LINK_SLL2, LINK_UPPER_PDU = 113, 276, 252
ETH_IPV4, ETH_IPV6 = 0x0800, 0x86DD
_VLAN_TAGS = frozenset({0x8100, 0x88A8, 0x9100})
_BSD_INET6 = frozenset({24, 28, 30})
PROTO_ICMP, PROTO_IPIP, PROTO_TCP, PROTO_UDP, PROTO_IPV6, PROTO_ICMPV6 = 1, 4, 6, 17, 41, 58
_V6_EXTENSIONS = frozenset({0, 43, 60})
_IP_DEPTH = 3  # IP-in-IP nesting followed at most


_U16 = struct.Struct("!H")
_TCP = struct.Struct("!HHIIBB")
_UDP = struct.Struct("!HHH")


class Decoder:
    """Frames in, UDP datagrams and TCP segments out; keeps the fragment table."""

    def __init__(self) -> None:
        self.fragments = Fragments()
        self.other = 0  # frames that carried no UDP or TCP (ARP, ICMP, unknown links)

    def decode(self, linktype: int, data: bytes) -> Decoded | None:
        try:
            out = self._link(linktype, data)
        except (struct.error, IndexError, ValueError, OSError):
            out = None  # a header cut short or lying about its length
        if out is None:
            self.other += 1
        return out

    def _link(self, linktype: int, data: bytes) -> Decoded | None:
        if linktype == LINK_ETHERNET:
            kind = _U16.unpack_from(data, 12)[0]
            at = 14
            while kind in _VLAN_TAGS:
                kind = _U16.unpack_from(data, at + 2)[0]
                at += 4
            return self._ethertype(kind, data[at:])
        if linktype in (LINK_RAW, LINK_RAW_BSD, LINK_RAW_OPENBSD, LINK_IPV4, LINK_IPV6):
            return self._ip(data, 0)
        if linktype == LINK_SLL:
            return self._ethertype(_U16.unpack_from(data, 14)[0], data[16:])
        if linktype == LINK_SLL2:
            return self._ethertype(_U16.unpack_from(data, 0)[0], data[20:])
        if linktype in (LINK_NULL, LINK_LOOP):
            family = struct.unpack_from("!I" if linktype == LINK_LOOP else "=I", data)[0]
            if family > 0xFFFF:  # written on a machine of the other byte order
                family = int.from_bytes(data[:4], "little" if family >> 24 else "big")
            if family == socket.AF_INET or family == 2 or family in _BSD_INET6:
                return self._ip(data[4:], 0)
            return None
        if linktype == LINK_UPPER_PDU:
            return exported_pdu(data)
        return None

    def _ethertype(self, kind: int, data: bytes) -> Decoded | None:
        if kind in (ETH_IPV4, ETH_IPV6):
            return self._ip(data, 0)
        return None

    def _ip(self, data: bytes, depth: int) -> Decoded | None:
        version = data[0] >> 4
        if version == 4:
            return self._ipv4(data, depth)
        if version == 6:
            return self._ipv6(data, depth)
        return None

    def _ipv4(self, data: bytes, depth: int) -> Decoded | None:
        ihl = (data[0] & 0x0F) * 4
        total = _U16.unpack_from(data, 2)[0]
        if ihl < 20 or total < ihl:
            return None
        ident, frag = struct.unpack_from("!HH", data, 4)
        proto = data[9]
        src, dst = data[12:16], data[16:20]
        payload = data[ihl:total]  # Ethernet pads short frames: trust the IP length
        if frag & 0x3FFF:  # more fragments, or an offset: RFC 791 reassembly
            whole = self.fragments.add(
                (src, dst, proto, ident), (frag & 0x1FFF) * 8, bool(frag & 0x2000), payload
            )
            if whole is None:
                return None
            payload = whole
        return self._transport(proto, socket.inet_ntop(socket.AF_INET, src),
                               socket.inet_ntop(socket.AF_INET, dst), payload, depth)  # fmt: skip

    def _ipv6(self, data: bytes, depth: int) -> Decoded | None:
        length = _U16.unpack_from(data, 4)[0]
        proto = data[6]
        src, dst = data[8:24], data[24:40]
        rest = data[40 : 40 + length]
        while proto in _V6_EXTENSIONS or proto == 44:
            if proto == 44:  # Fragment header (RFC 8200 §4.5)
                offset_flags = _U16.unpack_from(rest, 2)[0]
                ident = struct.unpack_from("!I", rest, 4)[0]
                proto = rest[0]
                whole = self.fragments.add(
                    (src, dst, proto, ident),
                    offset_flags & 0xFFF8,
                    bool(offset_flags & 1),
                    rest[8:],
                )
                if whole is None:
                    return None
                rest = whole
                continue
            proto, size = rest[0], (rest[1] + 1) * 8
            rest = rest[size:]
        return self._transport(proto, socket.inet_ntop(socket.AF_INET6, src),
                               socket.inet_ntop(socket.AF_INET6, dst), rest, depth)  # fmt: skip

    def _transport(self, proto: int, src: str, dst: str, data: bytes, depth: int) -> Decoded | None:
        if proto == PROTO_UDP:
            sport, dport, length = _UDP.unpack_from(data)
            payload = data[8:length] if length >= 8 else data[8:]
            return Datagram(Address(src, sport), Address(dst, dport), payload)
        if proto == PROTO_TCP:
            sport, dport, seq, _ack, offset, flags = _TCP.unpack_from(data)
            return Segment(Address(src, sport), Address(dst, dport), seq, flags,
                           data[(offset >> 4) * 4 :])  # fmt: skip
        if proto in (PROTO_IPIP, PROTO_IPV6) and depth < _IP_DEPTH:
            return self._ip(data, depth + 1)
        if (proto, data[:2]) in ((PROTO_ICMP, b"\x03\x03"), (PROTO_ICMPV6, b"\x01\x04")):
            return _unreachable(src, data[8:])
        return None


def _unreachable(reporter: str, quoted: bytes) -> Unreachable | None:
    """RFC 792 / RFC 4443 §3.1: the message quotes the IP header and at least the
    first 8 octets of the datagram that could not be delivered."""
    version = quoted[0] >> 4
    if version == 4:
        ihl = (quoted[0] & 0x0F) * 4
        proto, family, size, at = quoted[9], socket.AF_INET, 4, 12
    elif version == 6:
        ihl, proto, family, size, at = 40, quoted[6], socket.AF_INET6, 16, 8
    else:
        return None
    if proto != PROTO_UDP or len(quoted) < ihl + 4:
        return None
    src = socket.inet_ntop(family, quoted[at : at + size])
    dst = socket.inet_ntop(family, quoted[at + size : at + 2 * size])
    sport, dport = struct.unpack_from("!HH", quoted, ihl)
    return Unreachable(reporter, Address(src, sport), Address(dst, dport))
