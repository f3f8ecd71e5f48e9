"""The registrar's record of each client's registration attempt, and its verdict.

An attempt groups the requests of one Call-ID with the responses the registrar sent,
as a Trace whose local lane is the registrar (``AttemptBook``). It ends when the
registrar answers something other than a challenge or a 423, when the client's answer
was wrong (it rarely recovers), when a challenge stays unanswered for
``NO_ANSWER_SECONDS``, or after ``IDLE_SECONDS`` of silence. ``attempt_outcome`` says
what the client did wrong, from that record alone.

What the book holds is bounded (``Limits``): at most ``max_open`` attempts (a new
Call-ID past that ends the oldest open attempt) holding ``max_octets`` of messages in
all (past that the oldest end), ``max_messages`` messages per attempt and
``max_age`` seconds per attempt (then it ends, and the Call-ID's next request starts
a new one). Each of those early ends counts in ``cut_short``.

Pure: time is the caller's ``now``; ``next_timer`` says when ``expire`` is due.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from sipcheck.errors import SipParseError
from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.sip.wire.auth import parse_challenges
from sipcheck.sip.wire.message import Response
from sipcheck.trace import Address, Diagnosis, Outcome, Trace, TraceEntry

IDLE_SECONDS = 32.0  # an attempt left waiting this long is over (Timer F: 64*T1)
# A client answers a challenge at once (it has the password, or it gives up): a few
# seconds of silence after a 401/407 already say it will not, and a person testing a
# phone wants to hear so then, not after Timer F.
NO_ANSWER_SECONDS = 4.0
_CHALLENGES = (401, 407)


@dataclass
class AttemptLog:
    """One client's registration attempt as the embedded registrar saw it."""

    call_id: str
    trace: Trace
    requests: list[Attempt] = field(default_factory=list)
    started: float = 0.0  # the server's clock when the first request came
    last_seen: float = 0.0
    ended: float | None = None  # the server's clock when the attempt was handed over
    octets: int = 0  # of the messages recorded


# Registrar-side ids that describe normal protocol, not a client mistake.
_NOT_MISTAKES = frozenset({"no-credentials", "retransmission"})


def attempt_outcome(log: AttemptLog) -> Outcome:
    """The registrar's verdict on a client's attempt: what the client did wrong."""
    last = log.requests[-1]
    aor = next((a.aor for a in reversed(log.requests) if a.aor), None) or "?"
    outcome = Outcome(command="registrar", aor=aor, result="failed")
    outcome.final_status = last.status or None
    outcome.final_reason = last.reason or None
    if 200 <= last.status < 300:
        outcome.result = "registered" if last.method == "REGISTER" else "answered"
    seen: set[tuple[str, str]] = set()
    for request in log.requests:
        for m in request.mistakes:
            if m.id in _NOT_MISTAKES or (m.id, m.message) in seen:
                continue
            seen.add((m.id, m.message))
            outcome.diagnoses.append(Diagnosis(m.id, m.severity, m.message))
    if (
        outcome.result == "failed"
        and last.status in _CHALLENGES
        and not any(d.severity == "error" for d in outcome.diagnoses)
    ):
        outcome.diagnoses.append(_no_answer(log, last.status))
    first = log.trace.entries[0] if log.trace.entries else None
    if first is not None:
        outcome.target = {"client": str(first.remote), "transport": first.transport}
    users = sorted({a.auth_user for a in log.requests if a.auth_user})
    if users:
        outcome.info["auth_users"] = users
    return outcome


def _no_answer(log: AttemptLog, status: int) -> Diagnosis:
    """A challenge the client never answered: what it was offered, and what to try."""
    algorithms, qops = _offered(log, status)
    waited = "" if log.ended is None else f" in {log.ended - log.last_seen:.0f} s"
    offer = f"algorithm {', '.join(algorithms) or '?'}, qop {', '.join(qops) or 'none'}"
    causes: list[str] = []
    advice: list[str] = []
    others = [a for a in algorithms if a.upper() != "MD5"]
    if others:
        causes.append(
            f"the client cannot answer {', '.join(others)} (many answer only MD5, and "
            "some give up at the first challenge they cannot answer)"
        )
        advice.append("offer only MD5: drop --algorithm (MD5 is the default) or --algorithm MD5")
    if any(q != "auth" for q in qops):
        causes.append("the client cannot answer qop auth-int")
        advice.append("offer qop auth: --qop auth (the default)")
    causes.append("no password is configured for this account in the client")
    advice.append("check the client's account settings and its log")
    return Diagnosis(
        "no-answer",
        "error",
        f"the client was challenged ({status}, {offer}) and sent no answer{waited}",
        causes=tuple(causes),
        advice=tuple(advice),
    )


def _offered(log: AttemptLog, status: int) -> tuple[list[str], list[str]]:
    """The algorithms and qop values of the last challenge sent, read from the trace."""
    header = "Proxy-Authenticate" if status == 407 else "WWW-Authenticate"
    for entry in reversed(log.trace.entries):
        message = entry.message
        if entry.direction != "out" or not isinstance(message, Response):
            continue
        algorithms: list[str] = []
        qops: list[str] = []
        for value in message.headers.get_all(header):
            try:
                challenges = parse_challenges(value, proxy=status == 407)
            except SipParseError:
                continue
            for challenge in challenges:
                algorithms.append(challenge.algorithm or "MD5")
                qops.extend(q for q in challenge.qop_options if q not in qops)
        return algorithms, qops
    return [], []


class AttemptBook:
    """The attempts in progress, by Call-ID, and the ones that just ended."""

    def __init__(
        self,
        wall_start: float,
        *,
        no_answer: float = NO_ANSWER_SECONDS,
        idle: float = IDLE_SECONDS,
        max_open: int = 2_000,
        max_messages: int = 64,
        max_age: float = 120.0,
        max_octets: int = 32 * 1024 * 1024,
    ) -> None:
        self.wall_start = wall_start  # the wall-clock time of now == 0
        self.no_answer = no_answer
        self.idle = idle
        self.max_open = max_open
        self.max_messages = max_messages
        self.max_age = max_age
        self.max_octets = max_octets
        self.octets = 0  # recorded by the open attempts
        self.cut_short = 0
        # by Call-ID, in the order the attempts began (the first is the oldest)
        self._open: dict[str, AttemptLog] = {}
        # (deadline, serial, call_id); an entry is stale once its attempt moved on.
        self._deadlines: list[tuple[float, int, str]] = []
        self._serial = 0

    def __len__(self) -> int:
        return len(self._open)

    def record(
        self,
        data: bytes,
        out: bytes,
        call_id: str | None,
        attempt: Attempt,
        source: Address,
        local: Address,
        transport: str,
        now: float,
        delay: float = 0.0,
    ) -> tuple[AttemptLog, ...]:
        """Add a request and its response; the attempts this ended (this one, and the
        oldest open one when this one is new and ``max_open`` are open)."""
        key = _key(call_id, source)
        log = self._open.get(key)
        ended: list[AttemptLog] = []
        if log is None:
            if len(self._open) >= self.max_open:
                self.cut_short += 1
                ended.append(self._end(next(iter(self._open)), now))
            log = AttemptLog(key, Trace(wall_start=self.wall_start + now), started=now)
            self._open[key] = log
        at = now - log.started
        retrans = attempt.retransmission
        entries = log.trace.entries
        entries.append(TraceEntry("in", at, local, source, transport, data, retrans))
        entries.append(TraceEntry("out", at + delay, local, source, transport, out, retrans))
        log.requests.append(attempt)
        log.last_seen = now
        size = len(data) + len(out)
        log.octets += size
        self.octets += size
        # A challenge or a 423 is normally followed by a better request; a mistake in
        # the client's answer ends the attempt (it rarely recovers).
        finished = attempt.status not in (401, 407, 423) or any(
            m.severity == "error" and m.id != "interval-too-brief" for m in attempt.mistakes
        )
        if not finished and (len(entries) >= self.max_messages or at >= self.max_age):
            self.cut_short += 1
            finished = True
        if finished:
            ended.append(self._end(key, now))
        else:
            self._serial += 1
            deadlines = self._deadlines
            heapq.heappush(deadlines, (self._deadline(log), self._serial, key))
            if len(deadlines) > 4 * self.max_open + 64:
                # Stale entries (attempts that moved on) leave lazily; a busy book rebuilds.
                self._deadlines = [(self._deadline(v), 0, k) for k, v in self._open.items()]
                heapq.heapify(self._deadlines)
        while self.octets > self.max_octets and self._open:
            self.cut_short += 1  # the oldest first (this one too, when it is alone)
            ended.append(self._end(next(iter(self._open)), now))
        return tuple(ended)

    def waiting(self, call_id: str | None, source: Address) -> AttemptLog | None:
        """The attempt of this Call-ID when it is still open: its client was challenged
        (or told 423) and the registrar waits for the next request."""
        return self._open.get(_key(call_id, source))

    def single(
        self,
        data: bytes,
        out: bytes,
        note: str,
        attempt: Attempt,
        source: Address,
        local: Address,
        transport: str,
        now: float,
    ) -> AttemptLog:
        """A message that ends its attempt at once (unparseable, too large): an attempt
        of its own, with the response sent (``out``, or b"" for none)."""
        log = AttemptLog(f"?{source}", Trace(wall_start=self.wall_start + now), started=now)
        log.trace.add(TraceEntry("in", 0.0, local, source, transport, data, note=note))
        if out:
            log.trace.add(TraceEntry("out", 0.0, local, source, transport, out))
        log.requests.append(attempt)
        log.last_seen = log.ended = now
        log.octets = len(data) + len(out)
        return log

    def next_timer(self) -> float | None:
        """When ``expire`` should next be called; None while no attempt waits."""
        deadlines = self._deadlines
        while deadlines:
            deadline, _, key = deadlines[0]
            log = self._open.get(key)
            if log is not None and self._deadline(log) == deadline:
                return deadline
            heapq.heappop(deadlines)  # that attempt ended or moved on
        return None

    def expire(self, now: float) -> list[AttemptLog]:
        """End the attempts whose client stayed silent too long."""
        ended: list[AttemptLog] = []
        while True:
            deadline = self.next_timer()
            if deadline is None or deadline > now:
                return ended
            _, _, key = heapq.heappop(self._deadlines)
            ended.append(self._end(key, now))

    def close(self, now: float) -> list[AttemptLog]:
        """End every attempt (the registrar stops)."""
        self._deadlines.clear()
        return [self._end(key, now) for key in list(self._open)]

    def _deadline(self, log: AttemptLog) -> float:
        wait = self.no_answer if log.requests[-1].status in _CHALLENGES else self.idle
        return log.last_seen + wait

    def _end(self, key: str, now: float) -> AttemptLog:
        log = self._open.pop(key)
        log.ended = now
        self.octets -= log.octets
        return log


def _key(call_id: str | None, source: Address) -> str:
    """An attempt's key in the book: its Call-ID, or its source for a request without."""
    return call_id or f"?{source}"
