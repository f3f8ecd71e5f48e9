"""The progress of a ``check`` run on a terminal: a rich progress bar on stderr, gone
when the run ends (the table follows). Never used when stderr is not a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sipcheck.check.results import AccountRun
from sipcheck.cli.check_settings import AccountPlan

__all__ = ["CheckProgress"]


class CheckProgress:
    """Counts accounts done, shows the last one finished and how many are failing."""

    def __init__(self, console: Console, total: int) -> None:
        self._progress = Progress(
            TextColumn("checking"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[last]}", markup=False),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("check", total=total, last="")
        self._running = 0
        self._failed = 0
        self._progress.start()

    def started(self, plan: AccountPlan) -> None:
        self._running += 1

    def finished(self, run: AccountRun) -> None:
        if run.skipped:
            return
        self._running -= 1
        self._failed += run.result == "failed"
        failing = f", {self._failed} failed" if self._failed else ""
        last = f"{run.account.name}: {run.result}{failing}"
        self._progress.update(self._task, advance=1, last=last)

    def stop(self) -> None:
        self._progress.stop()
