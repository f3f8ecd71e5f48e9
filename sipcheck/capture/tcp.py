"""TCP reassembly per direction, as tshark does it: octets in sequence order, once.

A segment whose octets all came before is a retransmission and adds nothing (the
heplify capture's second 200 OK is one); one that overlaps what came adds only
its new tail; one that arrives early waits until the gap before it is filled. A
gap that never fills (a segment the capture lost) is given up on after
``MAX_WAITING`` octets wait behind it: the stream resumes at the next segment,
and the framer drops the message it was in. Sequence numbers compare modulo
2**32 (RFC 793 §3.3). SYN resets a direction, FIN and RST end it; at most
``MAX_STREAMS`` directions are followed at a time (the least recently used goes).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from sipcheck.capture.packet import Segment
from sipcheck.trace import Address

FIN, SYN, RST = 0x01, 0x02, 0x04
MAX_WAITING = 1 << 18
MAX_STREAMS = 20_000
_HALF = 1 << 31
_MASK = 0xFFFFFFFF


def _after(a: int, b: int) -> int:
    """How far sequence number ``a`` is after ``b`` (negative: before)."""
    d = (a - b) & _MASK
    return d - (1 << 32) if d >= _HALF else d


@dataclass
class Direction:
    """One direction of one connection: where it is, and what waits."""

    src: Address
    dst: Address
    next_seq: int | None = None
    waiting: dict[int, bytes] = field(default_factory=dict)
    waiting_octets: int = 0
    closed: bool = False
    kind: str = ""  # "" until the first octets: "sip", "tls", "other"
    framer: object = None  # the SIP framer the extractor keeps for this direction


class Reassembler:
    def __init__(self) -> None:
        self._directions: OrderedDict[tuple[Address, Address], Direction] = OrderedDict()
        self.retransmissions = 0
        self.gaps = 0

    def feed(self, segment: Segment) -> tuple[Direction, list[bytes]]:
        """The direction the segment belongs to, and the octets it makes contiguous
        (in order; several when it fills a gap)."""
        key = (segment.src, segment.dst)
        direction = self._directions.get(key)
        if direction is None or segment.flags & SYN:
            direction = Direction(segment.src, segment.dst)
            self._directions[key] = direction
            if len(self._directions) > MAX_STREAMS:
                self._directions.popitem(last=False)
        else:
            self._directions.move_to_end(key)
        out: list[bytes] = []
        seq, data = segment.seq, segment.payload
        if segment.flags & SYN:
            direction.next_seq = (seq + 1) & _MASK
        elif direction.next_seq is None:
            direction.next_seq = seq  # joined mid-stream: start where the capture does
        if data:
            self._add(direction, seq + (1 if segment.flags & SYN else 0), data, out)
        if segment.flags & (FIN | RST):
            direction.closed = True
            self._directions.pop(key, None)
        return direction, out

    def _add(self, d: Direction, seq: int, data: bytes, out: list[bytes]) -> None:
        assert d.next_seq is not None
        ahead = _after(seq, d.next_seq)
        if ahead > 0:  # early: wait for the gap to fill
            if len(data) > len(d.waiting.get(seq & _MASK, b"")):
                d.waiting_octets += len(data) - len(d.waiting.get(seq & _MASK, b""))
                d.waiting[seq & _MASK] = data
            if d.waiting_octets > MAX_WAITING:
                self._skip_gap(d, out)
            return
        if ahead + len(data) <= 0:
            self.retransmissions += 1
            return
        data = data[-ahead:] if ahead < 0 else data
        out.append(data)
        d.next_seq = (d.next_seq + len(data)) & _MASK
        self._drain(d, out)

    def _drain(self, d: Direction, out: list[bytes]) -> None:
        while d.waiting:
            assert d.next_seq is not None
            ready = [s for s in d.waiting if _after(s, d.next_seq) <= 0]
            if not ready:
                return
            for start in ready:
                data = d.waiting.pop(start)
                d.waiting_octets -= len(data)
                ahead = _after(start, d.next_seq)
                if ahead + len(data) > 0:
                    tail = data[-ahead:] if ahead < 0 else data
                    out.append(tail)
                    d.next_seq = (d.next_seq + len(tail)) & _MASK

    def _skip_gap(self, d: Direction, out: list[bytes]) -> None:
        """Give up on the missing octets: resume at the earliest waiting segment."""
        assert d.next_seq is not None
        base = d.next_seq
        first = min(d.waiting, key=lambda s: _after(s, base))
        d.next_seq = first
        self.gaps += 1
        out.append(b"")  # an empty piece marks the gap for the framer
        self._drain(d, out)

    def finish(self) -> list[Direction]:
        """The directions still open when the capture ended."""
        return list(self._directions.values())
