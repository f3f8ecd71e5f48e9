"""What one ``check`` run found: per account the check's Trace and Outcome (none for a
skipped account) and the unregister that removed our binding afterwards; the counts by
result and the worst exit status. Pure data: building one does no I/O.

The worst exit status is defined once, here (the README's "Checking many accounts"
repeats it): a fault of sipcheck's own outranks every account's outcome, and among
failures the one that got least far wins (no network, no answer, a 6xx, a 5xx, another
3xx/4xx, an authentication failure). In exit statuses, worst first: 1, 2, 8, 7, 6, 5,
4, 3, 0. Skipped accounts do not count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sipcheck.check.model import AccountEntry
from sipcheck.exit_status import ExitStatus
from sipcheck.render.checked import CheckedAccount
from sipcheck.trace import Outcome, Trace

__all__ = ["SEVERITY", "AccountRun", "CheckRun", "Cleanup", "worst_exit_status"]

# Least severe first: the worst status of a run is the one latest in this tuple.
SEVERITY: tuple[ExitStatus, ...] = (
    ExitStatus.SUCCESS,
    ExitStatus.AUTH_FAILED,
    ExitStatus.CLIENT_FAILURE,
    ExitStatus.SERVER_FAILURE,
    ExitStatus.GLOBAL_FAILURE,
    ExitStatus.TIMEOUT,
    ExitStatus.NETWORK,
    ExitStatus.USAGE,
    ExitStatus.INTERNAL_ERROR,
)
_RANK = {int(status): rank for rank, status in enumerate(SEVERITY)}
RESULTS = ("registered", "reachable", "failed", "skipped")


def worst_exit_status(statuses: Iterable[int]) -> int:
    """The worst of ``statuses`` by ``SEVERITY`` (0 when there is none). A status the
    table does not know (none should reach here) ranks as an internal error."""
    top = len(SEVERITY) - 1
    return max(statuses, key=lambda s: _RANK.get(s, top), default=int(ExitStatus.SUCCESS))


@dataclass(frozen=True)
class Cleanup:
    """The unregister (``Expires: 0`` for the Contact we registered) after a check."""

    trace: Trace
    outcome: Outcome

    @property
    def removed(self) -> bool:
        """Whether our binding is gone. Other bindings of the AoR (a phone's) may
        remain: that is ``bindings-remain`` for ``unregister``, and fine here."""
        if self.outcome.result == "unregistered":
            return True
        return any(d.id == "bindings-remain" for d in self.outcome.diagnoses)


@dataclass(frozen=True)
class AccountRun:
    """One account of the file: checked (trace and outcome) or skipped (neither)."""

    account: AccountEntry
    trace: Trace | None = None
    outcome: Outcome | None = None
    cleanup: Cleanup | None = None
    kept: bool = False  # registered, and left registered (--keep)

    @property
    def skipped(self) -> bool:
        return self.outcome is None

    @property
    def result(self) -> str:
        return "skipped" if self.outcome is None else self.outcome.result

    @property
    def exit_status(self) -> int:
        return int(ExitStatus.SUCCESS) if self.outcome is None else self.outcome.exit_status

    @property
    def left_behind(self) -> bool:
        """Registered, not kept, and the unregister did not remove our binding."""
        registered = self.outcome is not None and self.outcome.result == "registered"
        return registered and not self.kept and (self.cleanup is None or not self.cleanup.removed)

    def checked(self) -> CheckedAccount:
        """The account as the Nagios and JUnit renderers read it."""
        return CheckedAccount(
            self.account.name,
            self.account.mode,
            self.trace,
            self.outcome,
            self.account.thresholds,
        )


@dataclass(frozen=True)
class CheckRun:
    """Every selected account, in file order, and the wall time of the whole run."""

    runs: tuple[AccountRun, ...]
    wall_seconds: float

    @property
    def exit_status(self) -> int:
        return worst_exit_status(r.exit_status for r in self.runs if not r.skipped)

    def counts(self) -> dict[str, int]:
        """Accounts per result, every result named (0 when none had it)."""
        counts = dict.fromkeys(RESULTS, 0)
        for run in self.runs:
            counts[run.result] = counts.get(run.result, 0) + 1
        return counts

    def checked(self) -> list[CheckedAccount]:
        return [r.checked() for r in self.runs]
