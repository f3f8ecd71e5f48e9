"""``--count N``: one line per run and the statistics at the end, as ping prints them.

Pure functions of the runs' Outcomes. The time of a run is its RFC 6076
Registration Request Delay for ``register`` (first REGISTER to its 2xx), and
first request to final response for the other commands; only successful runs
count towards min/avg/max/p95 (p95 by the nearest-rank method).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group
from rich.text import Text

from sipcheck.render.annotate import printable
from sipcheck.trace import Outcome

__all__ = [
    "RepeatStats",
    "Spread",
    "percentile",
    "render_run_line",
    "render_summary",
    "repeat_to_json",
    "summarize",
    "timing_key",
]


@dataclass(frozen=True)
class Spread:
    """min/avg/max/p95 in milliseconds."""

    min: float
    avg: float
    max: float
    p95: float


@dataclass(frozen=True)
class RepeatStats:
    runs: int
    succeeded: int
    failed: int
    spread: Spread | None  # None: no run succeeded
    failures: tuple[tuple[int, Outcome], ...]  # (1-based run number, its outcome)


def timing_key(command: str) -> str:
    return "rrd_ms" if command == "register" else "response_ms"


def run_time_ms(outcome: Outcome) -> float | None:
    """The figure a run contributes: RRD for register, else the response time."""
    if outcome.result == "failed":
        return None
    return outcome.rrd_ms if outcome.command == "register" else outcome.total_ms


def percentile(values: Sequence[float], percent: float) -> float:
    """Nearest-rank percentile: the smallest value with ``percent`` % at or below it."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(outcomes: Sequence[Outcome]) -> RepeatStats:
    times = [t for t in (run_time_ms(o) for o in outcomes) if t is not None]
    failures = tuple((i, o) for i, o in enumerate(outcomes, start=1) if o.result == "failed")
    spread = None
    if times:
        spread = Spread(
            min=round(min(times), 3),
            avg=round(sum(times) / len(times), 3),
            max=round(max(times), 3),
            p95=round(percentile(times, 95), 3),
        )
    succeeded = len(outcomes) - len(failures)
    return RepeatStats(len(outcomes), succeeded, len(failures), spread, failures)


def _first_error(outcome: Outcome) -> str:
    for diagnosis in outcome.diagnoses:
        if diagnosis.severity == "error":
            return f"{diagnosis.id}: {diagnosis.message}"
    return "failed"


def render_run_line(number: int, outcome: Outcome) -> Text:
    """``run 3: registered, 200 OK, RRD 1.234 ms`` or what failed."""
    line = Text(f"run {number}: ", style="bold")
    if outcome.result == "failed":
        status = f"{outcome.final_status} {outcome.final_reason}, " if outcome.final_status else ""
        line.append(f"failed, {status}", style="red")
        line.append(printable(_first_error(outcome)), style="red")
        return line
    line.append(outcome.result, style="green")
    if outcome.final_status is not None:
        line.append(f", {outcome.final_status} {printable(outcome.final_reason or '')}")
    figure = run_time_ms(outcome)
    if figure is not None:
        name = "RRD" if outcome.command == "register" else "time"
        line.append(f", {name} {figure:.3f} ms")
    return line


def render_summary(
    command: str, aor: str, stats: RepeatStats, *, interrupted: bool = False
) -> Group:
    """The ping-style statistics block."""
    head = Text(f"--- {printable(aor)} {command} statistics ---", style="bold")
    share = 100.0 * stats.failed / stats.runs if stats.runs else 0.0
    counts = Text(f"{stats.runs} runs, {stats.succeeded} succeeded, {stats.failed} failed")
    counts.append(f" ({share:.0f}% failed)", style="red" if stats.failed else "")
    if interrupted:
        counts.append(", interrupted", style="yellow")
    lines = [head, counts]
    name = "RRD" if command == "register" else "response time"
    if stats.spread is not None:
        s = stats.spread
        lines.append(
            Text(f"{name} min/avg/max/p95 = {s.min:.3f}/{s.avg:.3f}/{s.max:.3f}/{s.p95:.3f} ms")
        )
    else:
        lines.append(Text(f"{name}: no successful run", style="dim"))
    return Group(*lines)


def repeat_to_json(
    runs: Sequence[dict[str, object]],
    outcomes: Sequence[Outcome],
    *,
    command: str,
    aor: str,
    count: int,
    interval: float,
    exit_status: int,
    interrupted: bool = False,
) -> dict[str, object]:
    """One document: the stats first, then every run's own document (``outcome_to_json``)."""
    stats = summarize(outcomes)
    spread = stats.spread
    return {
        "schema_version": 1,
        "command": command,
        "aor": aor,
        "count": count,
        "interval_s": interval,
        "interrupted": interrupted,
        "exit_status": exit_status,
        "stats": {
            "runs": stats.runs,
            "succeeded": stats.succeeded,
            "failed": stats.failed,
            timing_key(command): None
            if spread is None
            else {"min": spread.min, "avg": spread.avg, "max": spread.max, "p95": spread.p95},
            "failures": [
                {
                    "run": number,
                    "exit_status": outcome.exit_status,
                    "final_status": outcome.final_status,
                    "diagnosis": [d.id for d in outcome.diagnoses if d.severity == "error"],
                }
                for number, outcome in stats.failures
            ],
        },
        "runs": list(runs),
    }
