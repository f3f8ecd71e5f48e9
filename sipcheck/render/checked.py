"""One account of a ``check`` run as the CI renderers (Nagios, JUnit) read it.

A ``CheckedAccount`` is a name, a mode, and the Trace and Outcome of its run; an
account the file disables (``register = false``) has neither and is *skipped*. The
thresholds are the account's own from the file (the Nagios renderer lays them over
the command line's). Pure data: building one does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from sipcheck.exit_status import ExitStatus
from sipcheck.render.nagios_range import NO_THRESHOLDS, Thresholds
from sipcheck.trace import Diagnosis, Outcome, Trace

__all__ = ["CheckedAccount", "first_problem", "one_line", "retransmissions"]

MODES = ("register", "options")
# Results that mean the check passed; anything else ("failed") did not.
PASSED = frozenset({"registered", "unregistered", "queried", "reachable"})
# Exit statuses that say sipcheck could not judge the account (not that it failed).
NOT_JUDGED = frozenset({int(ExitStatus.INTERNAL_ERROR), int(ExitStatus.USAGE)})


@dataclass(frozen=True)
class CheckedAccount:
    name: str
    mode: str = "register"  # "register" | "options"
    trace: Trace | None = None
    outcome: Outcome | None = None
    thresholds: Thresholds = NO_THRESHOLDS

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        if (self.trace is None) != (self.outcome is None):
            raise ValueError("a checked account has both a trace and an outcome, or neither")

    @property
    def skipped(self) -> bool:
        return self.outcome is None

    @property
    def passed(self) -> bool:
        return self.outcome is not None and self.outcome.result in PASSED

    @property
    def judged(self) -> bool:
        """False when the run stopped for a reason of ours (usage, internal error)."""
        return self.outcome is not None and self.outcome.exit_status not in NOT_JUDGED

    @property
    def seconds(self) -> float:
        """How long the account took: first request to final response when known,
        else the span of its trace (a timeout: until sipcheck gave up)."""
        if self.outcome is not None and self.outcome.total_ms is not None:
            return self.outcome.total_ms / 1000
        if self.trace is None:
            return 0.0
        times = [e.time for e in self.trace.entries] + [n.time for n in self.trace.notes]
        return max(times, default=0.0)


def retransmissions(trace: Trace | None) -> int:
    """Requests sent again (RFC 3261 Timer E, or a response re-sent): the outgoing
    trace entries marked as retransmissions."""
    if trace is None:
        return 0
    return sum(1 for e in trace.entries if e.direction == "out" and e.retransmission)


def first_problem(outcome: Outcome) -> Diagnosis | None:
    """The diagnosis that names why the account is not OK: the first error, else the
    first warning, else the first diagnosis of any kind."""
    for severity in ("error", "warning"):
        for d in outcome.diagnoses:
            if d.severity == severity:
                return d
    return outcome.diagnoses[0] if outcome.diagnoses else None


def one_line(text: str) -> str:
    """``text`` on one line: every run of whitespace (newlines too) as one space."""
    return " ".join(text.split())
