"""Non-INVITE client transaction, RFC 3261 §17.1.2 (sans-I/O).

Time comes in as ``now``; ``next_timer()`` says when to call
``handle_timer(now)`` next. Output is a queue of octets to send.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sipcheck.errors import LocalProtocolError
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.message import Response


class TxState(Enum):
    TRYING = "TRYING"
    PROCEEDING = "PROCEEDING"
    COMPLETED = "COMPLETED"
    TERMINATED = "TERMINATED"


@dataclass(frozen=True)
class Timers:
    t1: float = 0.5  # RFC 3261 §17.1.1.1: RTT estimate
    t2: float = 4.0  # maximum retransmit interval for non-INVITE
    t4: float = 5.0  # maximum time a message stays in the network

    @property
    def f(self) -> float:
        return 64 * self.t1  # RFC 3261 §17.1.2.2 Timer F


@dataclass(frozen=True)
class Outgoing:
    data: bytes
    retransmission: bool


@dataclass(frozen=True)
class TxResult:
    """What a received response meant to this transaction."""

    kind: str  # "provisional" | "final" | "absorbed" (a repeat of the final)
    response: Response


class ClientTransaction:
    """One non-INVITE request: retransmits over UDP, times out after Timer F."""

    def __init__(
        self,
        request: bytes,
        *,
        branch: str,
        method: str,
        cseq: int,
        reliable: bool,
        timers: Timers,
        now: float,
    ) -> None:
        self.request = request
        self.branch = branch
        self.method = method
        self.cseq = cseq
        self.reliable = reliable
        self.timers = timers
        self.state = TxState.TRYING
        self.outgoing: list[Outgoing] = [Outgoing(request, False)]
        self.started = now
        self.timed_out = False
        self.final: Response | None = None
        # RFC 3261 §17.1.2.2: Timer E only on unreliable transports.
        self._interval = timers.t1
        self._timer_e: float | None = None if reliable else now + timers.t1
        self._timer_f: float | None = now + timers.f
        self._timer_k: float | None = None

    def take_outgoing(self) -> list[Outgoing]:
        out, self.outgoing = self.outgoing, []
        return out

    def next_timer(self) -> float | None:
        pending = [t for t in (self._timer_e, self._timer_f, self._timer_k) if t is not None]
        return min(pending) if pending else None

    def mismatch(self, response: Response) -> str | None:
        """Why this response does not belong here (RFC 3261 §17.1.3), or None."""
        top = response.headers.values("Via")[:1]
        if not top:
            return "no Via header"
        try:
            via = fields.parse_via(top[0])
            cseq = fields.parse_cseq(response.headers.get("CSeq") or "")
        except Exception as exc:  # SipParseError; any odd header makes it stray
            return f"unreadable Via/CSeq ({exc})"
        if via.branch != self.branch:
            return f"branch {via.branch} is not ours ({self.branch})"
        if cseq.method != self.method:
            return f"CSeq method {cseq.method} is not {self.method}"
        if cseq.number != self.cseq:
            return f"CSeq {cseq.number} is not ours ({self.cseq})"
        return None

    def receive(self, response: Response, now: float) -> TxResult:
        if self.state is TxState.TERMINATED:
            raise LocalProtocolError("response fed to a terminated transaction")
        if self.state is TxState.COMPLETED:
            # RFC 3261 §17.1.2.2: retransmitted finals are absorbed in COMPLETED.
            return TxResult("absorbed", response)
        if response.status < 200:
            self.state = TxState.PROCEEDING
            return TxResult("provisional", response)
        self.final = response
        self._timer_e = None
        self._timer_f = None
        if self.reliable:
            self.state = TxState.TERMINATED  # Timer K is zero on reliable transports
        else:
            self.state = TxState.COMPLETED
            self._timer_k = now + self.timers.t4
        return TxResult("final", response)

    def handle_timer(self, now: float) -> None:
        if self._timer_k is not None and now >= self._timer_k:
            self._timer_k = None
            self.state = TxState.TERMINATED
            return
        if self._timer_f is not None and now >= self._timer_f:
            self._timer_e = self._timer_f = None
            self.timed_out = True
            self.state = TxState.TERMINATED
            return
        if self._timer_e is not None and now >= self._timer_e:
            self.outgoing.append(Outgoing(self.request, True))
            if self.state is TxState.PROCEEDING:
                self._interval = self.timers.t2
            else:
                self._interval = min(2 * self._interval, self.timers.t2)
            self._timer_e = self._timer_e + self._interval

    def terminate(self) -> None:
        self._timer_e = self._timer_f = self._timer_k = None
        self.state = TxState.TERMINATED
