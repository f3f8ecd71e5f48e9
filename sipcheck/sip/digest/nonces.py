"""Self-validating digest nonces for the registrar, and nonce-count replay tracking.

A nonce is ``base64url(timestamp ‖ serial ‖ HMAC-SHA256(secret, timestamp ‖ serial ‖
realm)[:18])`` (30 octets, 40 characters, no padding). The registrar keeps no table of
issued nonces: any nonce whose MAC verifies was issued by it, and its age is in it
(RFC 7616 §3.3 suggests exactly this "time-stamp ‖ H(time-stamp ‖ secret)" shape). The
serial makes two nonces issued in the same millisecond differ, so two clients never share
a nonce and with it a nonce-count sequence. Binding the realm means a nonce issued for
one realm does not verify for another.

What must be remembered is the highest nonce count seen per nonce (RFC 7616 §3.4: a
count that does not increase is a replay). An answer without qop has no count: then
the nonce is bound to the Call-ID it was first answered with, and to the highest CSeq
answered with it, so a captured request replayed with another Call-ID (or with a CSeq
not higher) is refused. (A replay with the same Call-ID and a higher CSeq cannot be
told from the client's own refresh: only qop stops that.) Only nonces that were
answered correctly are remembered, and only for ``lifetime`` after their first use:
after that the nonce is stale anyway, so forgetting it cannot let a replay through.
When ``max_tracked`` forces an earlier eviction, nonces as old as the evicted one are
reported stale, so memory stays bounded without ever accepting a replay.

Time is the caller's ``now`` (a monotonic clock, in seconds); nothing here reads a clock.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
from collections import deque
from typing import Literal

NonceStatus = Literal["ok", "stale", "invalid", "replay", "reused"]

_PACK = struct.Struct(">qI")  # milliseconds, serial
_MAC_LEN = 18
_RAW_LEN = _PACK.size + _MAC_LEN  # 30 octets -> 40 base64 characters, no padding
NONCE_LENGTH = _RAW_LEN * 4 // 3
# A nonce from (slightly) in the future cannot be ours unless the caller's clock went
# backwards; a little slack covers rounding to milliseconds.
_FUTURE_SLACK_MS = 1000


class NonceManager:
    """Issue and check nonces; track nonce counts.

    ``check`` only reads; ``use`` records a count after the digest response verified,
    so a forged request that carries a sniffed nonce and a high count cannot lock the
    real client out.
    """

    __slots__ = ("_counts", "_floor_ms", "_lifetime", "_mac", "_max", "_order", "_serial")

    def __init__(self, secret: bytes, lifetime: float, *, max_tracked: int = 100_000) -> None:
        if not secret:
            raise ValueError("the nonce secret must not be empty")
        if lifetime <= 0:
            raise ValueError("the nonce lifetime must be positive")
        # Copying a keyed HMAC is about twice as fast as keying a new one per nonce.
        self._mac = hmac.new(secret, digestmod="sha256")
        self._lifetime = lifetime
        self._max = max_tracked
        self._serial = 0
        # nonce -> (highest nonce count seen or -1, issue time in ms, the Call-ID of its
        # first answer without qop or None, the highest CSeq answered without qop)
        self._counts: dict[str, tuple[int, int, str | None, int]] = {}
        # (first use, nonce) in first-use order, for purging from the old end
        self._order: deque[tuple[float, str]] = deque()
        self._floor_ms = -(2**63)  # nonces issued at or before this are stale

    @property
    def lifetime(self) -> float:
        return self._lifetime

    def issue(self, now: float, realm: str = "") -> str:
        self._serial = (self._serial + 1) & 0xFFFFFFFF
        head = _PACK.pack(int(now * 1000), self._serial)
        return base64.urlsafe_b64encode(head + self._sign(head, realm)).decode("ascii")

    def _sign(self, head: bytes, realm: str) -> bytes:
        """HMAC-SHA256(secret, head ‖ realm), truncated."""
        mac = self._mac.copy()
        mac.update(head + realm.encode())
        return mac.digest()[:_MAC_LEN]

    def _issued_ms(self, nonce: str, realm: str) -> int | None:
        """The issue time of one of our nonces, or None if it is not ours."""
        if len(nonce) != NONCE_LENGTH:
            return None
        try:
            raw = base64.urlsafe_b64decode(nonce)
        except (binascii.Error, ValueError):
            return None
        head = raw[: _PACK.size]
        if not hmac.compare_digest(self._sign(head, realm), raw[_PACK.size :]):
            return None
        ms: int = _PACK.unpack(head)[0]
        return ms

    def check(
        self,
        nonce: str,
        now: float,
        *,
        realm: str = "",
        nc: int | None = None,
        call_id: str | None = None,
        cseq: int = 0,
    ) -> NonceStatus:
        """``ok``, ``stale`` (ours but too old), ``invalid`` (not ours, or altered),
        ``replay`` (``nc`` is not higher than a count already used with this nonce), or
        ``reused`` (an answer without qop, ``nc`` None: the nonce was answered with
        another Call-ID, or with this one and a CSeq as high)."""
        issued = self._issued_ms(nonce, realm)
        now_ms = now * 1000
        if issued is None or issued > now_ms + _FUTURE_SLACK_MS:
            return "invalid"
        if now_ms - issued > self._lifetime * 1000 or issued <= self._floor_ms:
            return "stale"
        seen = self._counts.get(nonce)
        if seen is not None:
            if nc is not None:
                if nc <= seen[0]:
                    return "replay"
            elif (
                call_id is not None
                and seen[2] is not None
                and (call_id != seen[2] or cseq <= seen[3])
            ):
                return "reused"
        return "ok"

    def use(
        self, nonce: str, nc: int | None, now: float, *, call_id: str | None = None, cseq: int = 0
    ) -> None:
        """Record that ``nonce`` was answered (after ``check`` said ``ok``): with count
        ``nc``, or without qop (``nc`` None) in ``call_id`` with ``cseq``."""
        self.purge(now)
        counts = self._counts
        seen = counts.get(nonce)
        if seen is not None:
            count, ms, first, high = seen
            if nc is not None:
                count = max(count, nc)
            elif call_id is not None:
                if first is None:
                    first, high = call_id, cseq
                elif first == call_id:
                    high = max(high, cseq)
            counts[nonce] = (count, ms, first, high)
            return
        raw = base64.urlsafe_b64decode(nonce)
        issued: int = _PACK.unpack(raw[: _PACK.size])[0]
        if nc is not None:
            counts[nonce] = (nc, issued, None, 0)
        else:
            counts[nonce] = (-1, issued, call_id, cseq)
        self._order.append((now, nonce))
        while len(counts) > self._max:
            _, old = self._order.popleft()
            entry = counts.pop(old, None)
            if entry is not None:
                self._floor_ms = max(self._floor_ms, entry[1])

    def purge(self, now: float) -> None:
        """Forget counts of nonces first used more than ``lifetime`` ago."""
        order = self._order
        limit = now - self._lifetime
        while order and order[0][0] < limit:
            _, old = order.popleft()
            self._counts.pop(old, None)

    def __len__(self) -> int:
        return len(self._counts)
