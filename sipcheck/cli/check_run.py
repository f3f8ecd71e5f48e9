"""Run every planned account at once, bounded: the register (or OPTIONS) flow of
``client_run.execute``, then the unregister of our binding.

Each account is one asyncio task with its own transport and Call-ID (``execute`` makes
a fresh ``Registration`` and connection per run); a semaphore holds at most
``concurrency`` of them on the wire. An account that times out holds its own slot
only, so the whole run takes about one timeout, not their sum. Nobody is asked for a
password: an account that is challenged without one fails as ``no-password``.

An unexpected exception in one account does not stop the others: that account is an
internal error (exit status 1, ``internal-error``), the traceback shown with --debug.
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from sipcheck.check.results import AccountRun, CheckRun, Cleanup
from sipcheck.cli.check_settings import AccountPlan
from sipcheck.cli.client_run import execute
from sipcheck.exit_status import ExitStatus
from sipcheck.trace import Diagnosis, Outcome, Trace

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["DEFAULT_CONCURRENCY", "CheckProgress", "Progress", "run_plans"]

DEFAULT_CONCURRENCY = 20


class Progress(Protocol):
    """Told as accounts start and finish (the rich display, or nothing)."""

    def started(self, plan: AccountPlan) -> None: ...

    def finished(self, run: AccountRun) -> None: ...


class _Silent:
    def started(self, plan: AccountPlan) -> None:
        pass

    def finished(self, run: AccountRun) -> None:
        pass


class CheckProgress:
    """On a terminal: a rich progress bar (on ``console``, stderr), the accounts done,
    the last one finished and how many failed; gone when ``stop`` is called."""

    def __init__(self, console: Console, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as Bar

        self._bar = Bar(
            TextColumn("checking"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[last]}", markup=False),
            console=console,
            transient=True,
        )
        self._task = self._bar.add_task("check", total=total, last="")
        self._failed = 0
        self._bar.start()

    def started(self, plan: AccountPlan) -> None:
        pass

    def finished(self, run: AccountRun) -> None:
        if run.skipped:
            return
        self._failed += run.result == "failed"
        failing = f", {self._failed} failed" if self._failed else ""
        self._bar.update(self._task, advance=1, last=f"{run.account.name}: {run.result}{failing}")

    def stop(self) -> None:
        self._bar.stop()


def run_plans(
    plans: Sequence[AccountPlan],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    keep: bool = False,
    progress: Progress | None = None,
    debug: bool = False,
) -> CheckRun:
    """Check every plan (skipped ones are not run) and say what each one found."""
    return asyncio.run(
        _run_all(plans, concurrency, keep, progress or _Silent(), debug),
    )


async def _run_all(
    plans: Sequence[AccountPlan],
    concurrency: int,
    keep: bool,
    progress: Progress,
    debug: bool,
) -> CheckRun:
    started = time.monotonic()
    slots = asyncio.Semaphore(max(1, concurrency))

    async def one(plan: AccountPlan) -> AccountRun:
        if plan.settings is None:
            run = AccountRun(plan.account)
        else:
            async with slots:
                progress.started(plan)
                run = await _guarded(plan, keep, debug)
        progress.finished(run)
        return run

    runs = await asyncio.gather(*(one(plan) for plan in plans))
    return CheckRun(tuple(runs), time.monotonic() - started)


async def _guarded(plan: AccountPlan, keep: bool, debug: bool) -> AccountRun:
    try:
        return await _check(plan, keep)
    except Exception as exc:  # one account's bug must not hide the others' results
        if debug:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        return _internal_error(plan, exc)


async def _check(plan: AccountPlan, keep: bool) -> AccountRun:
    assert plan.settings is not None
    trace, outcome = await execute(plan.settings, prompt=None)
    registered = outcome.result == "registered"
    if not registered or keep or outcome.contact_sent is None:
        return AccountRun(plan.account, trace, outcome, kept=registered and keep)
    # Call-ID independent: Expires 0 for exactly the Contact we registered
    # (RFC 3261 §10.3 step 6 removes a binding whatever its Call-ID).
    cleanup = await execute(plan.unregister(outcome.contact_sent), prompt=None)
    return AccountRun(plan.account, trace, outcome, Cleanup(*cleanup))


def _internal_error(plan: AccountPlan, exc: Exception) -> AccountRun:
    command = "options" if plan.account.mode == "options" else "register"
    outcome = Outcome(
        command=command,
        aor=plan.account.aor,
        result="failed",
        exit_status=int(ExitStatus.INTERNAL_ERROR),
        diagnoses=[
            Diagnosis(
                "internal-error",
                "error",
                f"internal error: {type(exc).__name__}: {exc}",
                advice=("run again with --debug for the traceback, and report it",),
            )
        ],
    )
    trace = Trace(wall_start=time.time())
    trace.note(0.0, "error", f"internal error: {type(exc).__name__}: {exc}")
    return AccountRun(plan.account, trace, outcome)
