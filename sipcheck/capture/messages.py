"""Frames -> SIP messages: each with the frame that completed it, its time, its
addresses and its transport.

UDP (and HEP, and exported PDUs): one message per datagram, when its first line
is a SIP start line (keep-alives such as CRLF or "hello" are counted, not
messages). TCP: the reassembled octets of each direction are cut into messages
by Content-Length (RFC 3261 §18.3), several per segment or one over several; a
message belongs to the frame of its last octet, as in Wireshark. A direction
whose first octets are a TLS record is counted as an unreadable TLS connection.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sipcheck.capture.decode import Decoder
from sipcheck.capture.files import Frame
from sipcheck.capture.packet import Datagram, Unreachable
from sipcheck.capture.pdu import hep
from sipcheck.capture.tcp import Direction, Reassembler
from sipcheck.sip.wire.framing import CONTENT_LENGTH_RE
from sipcheck.trace import Address

MAX_HEADER = 65536
MAX_BODY = 1 << 22
_START_LINE = re.compile(
    rb"(?im)^(?:SIP/2\.0 [1-6][0-9][0-9]\b|[A-Za-z][A-Za-z0-9.!%*_+`'~-]* [^ \r\n]+ SIP/2\.0\r?$)"
)


def looks_like_sip(data: bytes) -> bool:
    """Whether the octets start with a SIP request or status line."""
    if data[:8].upper() == b"SIP/2.0 ":
        return True
    end = data.find(b"\n", 0, 2048)
    line = data[:end] if end >= 0 else b""
    return line.rstrip(b"\r")[-8:].upper() == b" SIP/2.0" and line[:1].isalpha()


@dataclass(frozen=True, slots=True)
class WireMessage:
    frame: int
    time: float
    src: Address
    dst: Address
    transport: str
    raw: bytes
    error: str | None = None  # a framing problem: ``raw`` is what was there


@dataclass(frozen=True, slots=True)
class Refused:
    """An ICMP port unreachable about the datagram ``src`` sent to ``dst``."""

    frame: int
    time: float
    reporter: str
    src: Address
    dst: Address


class Framer:
    """Content-Length framing of one TCP direction's octets."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, str | None]]:
        out: list[tuple[bytes, str | None]] = []
        if not data:  # the reassembler gave up on lost octets
            if self.buffer.strip(b"\r\n"):
                out.append((bytes(self.buffer), "octets of this message are missing"))
            self.buffer.clear()
            return out
        buf = self.buffer
        buf += data
        while buf:
            skip = 0
            while skip < len(buf) and buf[skip] in (13, 10):
                skip += 1  # CRLF keep-alives (RFC 5626 §3.5.1) between messages
            if skip:
                del buf[:skip]
                continue
            if not looks_like_sip(bytes(buf[:2048])):
                if not self._resync(buf):
                    break
                continue
            head_end = buf.find(b"\r\n\r\n")
            body_start = head_end + 4
            lf = buf.find(b"\n\n")
            if lf >= 0 and (head_end < 0 or lf < head_end):
                head_end, body_start = lf, lf + 2
            if head_end < 0:
                if len(buf) > MAX_HEADER:
                    out.append((bytes(buf[:MAX_HEADER]), "no end of headers within 64 KiB"))
                    del buf[:MAX_HEADER]
                break
            match = CONTENT_LENGTH_RE.search(buf, 0, head_end)
            text = match.group(1).strip() if match else b"0"
            length = int(text) if text.isdigit() and len(text) < 9 else -1
            if length < 0 or length > MAX_BODY:
                shown = text.decode("latin-1")
                out.append((bytes(buf[:body_start]), f"unusable Content-Length {shown!r}"))
                del buf[:body_start]
                continue
            end = body_start + length
            if len(buf) < end:
                break
            out.append((bytes(buf[:end]), None))
            del buf[:end]
        return out

    def _resync(self, buf: bytearray) -> bool:
        """Skip octets that are no message start (a capture that began mid-message)."""
        match = _START_LINE.search(buf)
        if match is None:
            if len(buf) > MAX_HEADER:
                del buf[: len(buf) - 2048]  # keep a tail in case a start line is cut
            return False
        if match.start() == 0:  # a start line too long for looks_like_sip
            return False
        del buf[: match.start()]
        return True


@dataclass
class Counts:
    packets: int = 0
    sip: int = 0
    udp_not_sip: int = 0
    hep: int = 0
    tcp_retransmissions: int = 0
    tls: set[frozenset[Address]] = field(default_factory=set)
    unreachable: int = 0


class Extractor:
    def __init__(self) -> None:
        self.decoder = Decoder()
        self.tcp = Reassembler()
        self.counts = Counts()

    def feed(self, frame: Frame) -> list[WireMessage | Refused]:
        self.counts.packets += 1
        packet = self.decoder.decode(frame.linktype, frame.data)
        if packet is None:
            return []
        if isinstance(packet, Unreachable):
            self.counts.unreachable += 1
            return [Refused(frame.number, frame.time, packet.reporter, packet.src, packet.dst)]
        if isinstance(packet, Datagram):
            return list(self._datagram(frame, packet))
        direction, pieces = self.tcp.feed(packet)
        out: list[WireMessage | Refused] = []
        for piece in pieces:
            out += self._stream(frame, direction, piece)
        self.counts.tcp_retransmissions = self.tcp.retransmissions
        return out

    def _datagram(self, frame: Frame, packet: Datagram) -> list[WireMessage]:
        payload = packet.payload
        if packet.transport == "udp" and payload[:1] in (b"H", b"\x01", b"\x02"):
            inner = hep(payload)
            if inner is not None:
                self.counts.hep += 1
                packet = inner
                payload = inner.payload
        if not looks_like_sip(payload):
            self.counts.udp_not_sip += 1
            return []
        self.counts.sip += 1
        when = frame.time if packet.time is None else packet.time
        return [WireMessage(frame.number, when, packet.src, packet.dst, packet.transport, payload)]

    def _stream(self, frame: Frame, d: Direction, piece: bytes) -> list[WireMessage]:
        if d.kind != "sip" and piece:
            if not d.kind and piece[0] in (0x14, 0x15, 0x16, 0x17) and piece[1:2] == b"\x03":
                d.kind = "tls"
                self.counts.tls.add(frozenset((d.src, d.dst)))
            elif d.kind != "tls":
                # Not SIP so far (another protocol, or a capture that began inside a
                # message): a segment that starts with a start line makes it SIP.
                sip = looks_like_sip(piece) or piece[:1] in (b"\r", b"\n")
                d.kind = "sip" if sip else "other"
        if d.kind != "sip":
            return []
        framer = d.framer
        if not isinstance(framer, Framer):
            framer = d.framer = Framer()
        out = []
        for raw, error in framer.feed(piece):
            self.counts.sip += 1
            out.append(WireMessage(frame.number, frame.time, d.src, d.dst, "tcp", raw, error))
        return out

    def finish(self, last: Frame | None) -> list[WireMessage]:
        """What the open TCP directions still hold when the capture ends."""
        out: list[WireMessage] = []
        number, when = (last.number, last.time) if last is not None else (0, 0.0)
        for d in self.tcp.finish():
            framer = d.framer
            if isinstance(framer, Framer) and framer.buffer.strip(b"\r\n"):
                raw = bytes(framer.buffer)
                if looks_like_sip(raw):
                    error = "the capture ends inside this message"
                    out.append(WireMessage(number, when, d.src, d.dst, "tcp", raw, error))
        return out
