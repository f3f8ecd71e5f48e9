"""The summary of a ``check`` run for people: one table row per account (name, AoR or
target, result, final code, RRD in ms, the first diagnosis and its one-line message),
a line of counts, and with ``-v`` the ladder and verdict of every failed account.
Pure: a function of the ``CheckRun``.

The ms column is the RFC 6076 registration request delay for a register check and the
round trip (first request to final response) for an OPTIONS trunk: the value the
Nagios thresholds judge.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from sipcheck.check.results import AccountRun, CheckRun
from sipcheck.render.checked import first_problem, one_line
from sipcheck.render.ladder import render_ladder
from sipcheck.render.verdict import render_verdict

__all__ = ["account_row", "render_check"]

_STYLE = {"registered": "green", "reachable": "green", "failed": "bold red", "skipped": "dim"}


def _ms(run: AccountRun) -> str:
    outcome = run.outcome
    if outcome is None:
        return ""
    value = outcome.total_ms if run.account.mode == "options" else outcome.rrd_ms
    return "" if value is None else f"{value:.1f}"


def _diagnosis(run: AccountRun) -> str:
    if run.outcome is None:
        return "register = false"
    problem = first_problem(run.outcome)
    text = "" if problem is None else f"{problem.id}: {one_line(problem.message)}"
    if run.left_behind:
        cleanup = None if run.cleanup is None else first_problem(run.cleanup.outcome)
        why = "" if cleanup is None else f" ({cleanup.id})"
        text = f"not unregistered{why}" + (f"; {text}" if text else "")
    return text


def account_row(run: AccountRun) -> tuple[str, str, str, str, str, str]:
    """The cells of one account's row, as plain text."""
    outcome = run.outcome
    code = "" if outcome is None or outcome.final_status is None else str(outcome.final_status)
    return (
        run.account.name,
        run.account.aor,
        run.result,
        code,
        _ms(run),
        _diagnosis(run),
    )


def _summary(run: CheckRun) -> Text:
    counts = run.counts()
    parts = [f"{n} {result}" for result, n in counts.items() if n]
    text = Text(f"{len(run.runs)} accounts: " + ", ".join(parts))
    text.append(f" in {run.wall_seconds:.2f} s; exit status {run.exit_status}")
    return text


def _table(run: CheckRun) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("name", overflow="fold")
    table.add_column("AoR / target", overflow="fold")
    table.add_column("result", no_wrap=True)
    table.add_column("code", justify="right", no_wrap=True)
    table.add_column("RRD ms", justify="right", no_wrap=True)
    table.add_column("diagnosis", overflow="fold", ratio=1)
    for account in run.runs:
        name, aor, result, code, ms, diagnosis = account_row(account)
        table.add_row(
            Text(name),
            Text(aor),
            Text(result, style=_STYLE.get(result, "")),
            Text(code),
            Text(ms),
            Text(diagnosis),
        )
    return table


def render_check(run: CheckRun, *, verbose: int = 0, width: int = 100) -> RenderableType:
    """The table, the counts and (``verbose``) the ladder of each failed account."""
    parts: list[RenderableType] = [_table(run), _summary(run)]
    if verbose:
        for account in run.runs:
            if account.result != "failed" or account.trace is None or account.outcome is None:
                continue
            parts.append(Rule(Text(account.account.name), style="red"))
            ladder = render_ladder(account.trace, account.outcome, verbose=verbose - 1, width=width)
            parts += [ladder, render_verdict(account.outcome)]
    return Group(*parts)
