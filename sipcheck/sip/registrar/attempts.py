"""The registrar's record of one client's registration attempt, and its verdict.

An attempt groups the requests of one Call-ID with the responses the registrar sent,
as a Trace whose local lane is the registrar. ``attempt_outcome`` says what the client
did wrong, from that record alone. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.trace import Diagnosis, Outcome, Trace


@dataclass
class AttemptLog:
    """One client's registration attempt as the embedded registrar saw it."""

    call_id: str
    trace: Trace
    requests: list[Attempt] = field(default_factory=list)
    started: float = 0.0  # the server's clock when the first request came
    last_seen: float = 0.0


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
    if outcome.result == "failed" and not outcome.diagnoses and last.status in (401, 407):
        outcome.diagnoses.append(
            Diagnosis(
                "no-answer",
                "error",
                "the client was challenged and never answered (no password configured, "
                "or it does not support the offered algorithm)",
            )
        )
    first = log.trace.entries[0] if log.trace.entries else None
    if first is not None:
        outcome.target = {"client": str(first.remote), "transport": first.transport}
    users = sorted({a.auth_user for a in log.requests if a.auth_user})
    if users:
        outcome.info["auth_users"] = users
    return outcome
