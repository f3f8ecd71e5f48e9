"""Non-INVITE client transaction, RFC 3261 §17.1.2 (sans-I/O).

Time comes in as ``now``; ``next_timer()`` says when to call
``handle_timer(now)`` next. Output is a queue of octets to send.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sipcheck.errors import LocalProtocolError, SipParseError
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


class TxInput(Enum):
    PROVISIONAL = "1xx"
    FINAL = "final"
    TIMER_E = "Timer E"
    TIMER_F = "Timer F"
    TIMER_K = "Timer K"
    TERMINATE = "terminate"  # the transaction user gives up (transport error, deadline)


class TxAction(Enum):
    REPORT_PROVISIONAL = "report-provisional"
    REPORT_FINAL = "report-final"
    ABSORB = "absorb"
    RETRANSMIT = "retransmit"
    TIME_OUT = "time-out"
    STOP = "stop"


_S, _I, _A = TxState, TxInput, TxAction
# RFC 3261 §17.1.2.2, figure 6: (state, input) -> (action, next state). A pair
# that is not here is a LocalProtocolError: the caller did something illegal.
TRANSITIONS: dict[tuple[TxState, TxInput], tuple[TxAction, TxState]] = {
    (_S.TRYING, _I.PROVISIONAL): (_A.REPORT_PROVISIONAL, _S.PROCEEDING),
    (_S.TRYING, _I.FINAL): (_A.REPORT_FINAL, _S.COMPLETED),
    (_S.TRYING, _I.TIMER_E): (_A.RETRANSMIT, _S.TRYING),
    (_S.TRYING, _I.TIMER_F): (_A.TIME_OUT, _S.TERMINATED),
    (_S.TRYING, _I.TERMINATE): (_A.STOP, _S.TERMINATED),
    (_S.PROCEEDING, _I.PROVISIONAL): (_A.REPORT_PROVISIONAL, _S.PROCEEDING),
    (_S.PROCEEDING, _I.FINAL): (_A.REPORT_FINAL, _S.COMPLETED),
    (_S.PROCEEDING, _I.TIMER_E): (_A.RETRANSMIT, _S.PROCEEDING),
    (_S.PROCEEDING, _I.TIMER_F): (_A.TIME_OUT, _S.TERMINATED),
    (_S.PROCEEDING, _I.TERMINATE): (_A.STOP, _S.TERMINATED),
    # Completed absorbs retransmitted responses until Timer K.
    (_S.COMPLETED, _I.PROVISIONAL): (_A.ABSORB, _S.COMPLETED),
    (_S.COMPLETED, _I.FINAL): (_A.ABSORB, _S.COMPLETED),
    (_S.COMPLETED, _I.TIMER_K): (_A.STOP, _S.TERMINATED),
    (_S.COMPLETED, _I.TERMINATE): (_A.STOP, _S.TERMINATED),
    (_S.TERMINATED, _I.TERMINATE): (_A.STOP, _S.TERMINATED),
}


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

    def armed(self) -> list[tuple[str, float]]:
        """The running timers by their RFC 3261 letters, soonest first: ("E", when), ..."""
        named = (("E", self._timer_e), ("F", self._timer_f), ("K", self._timer_k))
        return sorted(((n, t) for n, t in named if t is not None), key=lambda item: item[1])

    def mismatch(self, response: Response) -> str | None:
        """Why this response does not belong here (RFC 3261 §17.1.3), or None."""
        top = response.headers.values("Via")[:1]
        if not top:
            return "no Via header"
        try:
            via = fields.parse_via(top[0])
            cseq = fields.parse_cseq(response.headers.get("CSeq") or "")
        except SipParseError as exc:  # any odd header makes it stray
            return f"unreadable Via/CSeq ({exc})"
        if via.branch != self.branch:
            return f"branch {via.branch} is not ours ({self.branch})"
        if cseq.method != self.method:
            return f"CSeq method {cseq.method} is not {self.method}"
        if cseq.number != self.cseq:
            return f"CSeq {cseq.number} is not ours ({self.cseq})"
        return None

    def step(self, event: TxInput, now: float) -> TxAction:
        """Apply one input through the table; the action is carried out here."""
        if event is TxInput.TIMER_E and self.reliable:
            raise LocalProtocolError("Timer E on a reliable transport")  # RFC 3261 §17.1.2.2
        try:
            action, self.state = TRANSITIONS[(self.state, event)]
        except KeyError:
            raise LocalProtocolError(f"{event.value} in state {self.state.value}") from None
        if action is TxAction.RETRANSMIT:
            assert self._timer_e is not None  # armed in TRYING/PROCEEDING over UDP
            self.outgoing.append(Outgoing(self.request, True))
            if self.state is TxState.PROCEEDING:
                self._interval = self.timers.t2
            else:
                self._interval = min(2 * self._interval, self.timers.t2)
            self._timer_e += self._interval
        elif action is TxAction.REPORT_FINAL:
            self._timer_e = self._timer_f = None
            self._timer_k = now + (0.0 if self.reliable else self.timers.t4)
            if self.reliable:  # Timer K is zero on reliable transports
                self.step(TxInput.TIMER_K, now)
        elif action is TxAction.TIME_OUT:
            self.timed_out = True
            self._timer_e = self._timer_f = None
        elif action is TxAction.STOP:
            self._timer_e = self._timer_f = self._timer_k = None
        return action

    def receive(self, response: Response, now: float) -> TxResult:
        final = response.status >= 200
        action = self.step(TxInput.FINAL if final else TxInput.PROVISIONAL, now)
        if action is TxAction.ABSORB:
            # RFC 3261 §17.1.2.2: retransmitted finals are absorbed in COMPLETED.
            return TxResult("absorbed", response)
        if final:
            self.final = response
            return TxResult("final", response)
        return TxResult("provisional", response)

    def handle_timer(self, now: float) -> None:
        if self._timer_k is not None and now >= self._timer_k:
            self.step(TxInput.TIMER_K, now)
        elif self._timer_f is not None and now >= self._timer_f:
            self.step(TxInput.TIMER_F, now)
        elif self._timer_e is not None and now >= self._timer_e:
            self.step(TxInput.TIMER_E, now)

    def terminate(self) -> None:
        self.step(TxInput.TERMINATE, 0.0)
