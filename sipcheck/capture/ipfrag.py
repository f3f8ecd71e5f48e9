"""IP fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5), bounded.

Fragments are kept per (source, destination, protocol, identification) until
every octet from 0 to the end of the last fragment is there; overlapping pieces
keep the first copy. At most ``MAX_PENDING`` datagrams wait at a time and each
may grow to 64 KiB plus a little: a capture full of lost fragments cannot make
memory grow without bound (the oldest waiting datagram is dropped).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

MAX_PENDING = 256
MAX_DATAGRAM = 65535 + 1500


@dataclass
class _Pending:
    pieces: dict[int, bytes] = field(default_factory=dict)
    end: int | None = None  # known once the last fragment (no "more fragments") came
    size: int = 0


class Fragments:
    def __init__(self) -> None:
        self._pending: OrderedDict[tuple[bytes, bytes, int, int], _Pending] = OrderedDict()
        self.reassembled = 0
        self.dropped = 0

    def add(
        self, key: tuple[bytes, bytes, int, int], offset: int, more: bool, data: bytes
    ) -> bytes | None:
        """Add one fragment; the whole payload once it is complete, else None."""
        pending = self._pending.get(key)
        if pending is None:
            if len(self._pending) >= MAX_PENDING:
                self._pending.popitem(last=False)
                self.dropped += 1
            pending = self._pending[key] = _Pending()
        if offset in pending.pieces or offset + len(data) > MAX_DATAGRAM:
            return None  # a duplicate, or beyond any datagram
        pending.pieces[offset] = data
        pending.size += len(data)
        if not more:
            pending.end = offset + len(data)
        if pending.end is None or pending.size < pending.end:
            return None
        whole = bytearray()
        for start in sorted(pending.pieces):
            piece = pending.pieces[start]
            if start > len(whole):
                return None  # a hole (overlaps made size look complete): wait for more
            whole += piece[len(whole) - start :]
        if len(whole) < pending.end:
            return None
        del self._pending[key]
        self.reassembled += 1
        return bytes(whole[: pending.end])
