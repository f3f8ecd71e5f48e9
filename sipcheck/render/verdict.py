"""The verdict panel: what the registration attempt came to, and why.

A pure function of the Outcome. Success shows the result word in green with the
granted expiry, the bindings and the Contacts removed, the server and the timings;
failure shows FAILED in red with the final status and each diagnosis with its
likely causes and what to try. Warnings (realm-differs, nat-detected, ...) show
in yellow either way.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sipcheck.render.annotate import printable
from sipcheck.trace import Diagnosis, Outcome

__all__ = ["render_verdict", "result_word"]

_WORDS = {
    "registered": "REGISTERED",
    "unregistered": "UNREGISTERED",
    "queried": "QUERIED",
    "reachable": "REACHABLE",
    "failed": "FAILED",
}
_SEVERITY = {"error": ("✗", "bold red"), "warning": ("!", "yellow"), "info": ("i", "blue")}
_INDENT = (0, 0, 0, 4)


def result_word(outcome: Outcome) -> str:
    return _WORDS.get(outcome.result, outcome.result.upper())


def _succeeded(outcome: Outcome) -> bool:
    return outcome.result != "failed"


def _duration(ms: float) -> str:
    return f"{ms:.1f} ms" if ms < 1000 else f"{ms / 1000:.2f} s"


def _status_line(outcome: Outcome) -> Text:
    word = result_word(outcome)
    ok = _succeeded(outcome)
    line = Text(word, style="bold green" if ok else "bold red")
    if outcome.final_status is not None:
        reason = f" {printable(outcome.final_reason)}" if outcome.final_reason else ""
        line.append(f"  {outcome.final_status}{reason}")
    elif not ok:
        line.append("  no final response")
    if ok and outcome.granted_expires is not None:
        line.append(f"  expires in {outcome.granted_expires} s", style="green")
    return line


def _bindings(outcome: Outcome) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAD, expand=False, pad_edge=False, show_edge=False)
    table.add_column("Contact", overflow="fold")
    table.add_column("Expires", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for b in outcome.bindings:
        expires = "-" if b.expires is None else f"{b.expires} s"
        table.add_row(
            printable(b.contact), expires, Text("← ours", style="green") if b.ours else ""
        )
    return table


def _facts(outcome: Outcome) -> list[Text]:
    out: list[Text] = []
    if outcome.server:
        out.append(Text.assemble(("server   ", "bold"), printable(outcome.server)))
    timings: list[str] = []
    if outcome.total_ms is not None:
        timings.append(f"total {_duration(outcome.total_ms)}")
    if outcome.rrd_ms is not None:
        timings.append(f"registration request delay (RRD) {_duration(outcome.rrd_ms)}")
    if timings:
        out.append(Text.assemble(("timings  ", "bold"), ", ".join(timings)))
    return out


def _numbered(title: str, items: tuple[str, ...], bullet: bool = False) -> list[RenderableType]:
    if not items:
        return []
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column()
    for number, item in enumerate(items, start=1):
        grid.add_row("-" if bullet else f"{number}.", printable(item))
    return [Text(title, style="bold"), Padding(grid, (0, 0, 0, 2))]


def _diagnosis(d: Diagnosis) -> list[RenderableType]:
    mark, style = _SEVERITY.get(d.severity, ("-", ""))
    head = Text(f"{mark} ", style=style)
    head.append(f"[{d.severity}] {d.id}", style=style)
    head.append(f": {printable(d.message)}")
    parts: list[RenderableType] = [head]
    body = _numbered("Most likely causes:", d.causes)
    body += _numbered("What to try:", d.advice, bullet=True)
    if body:
        parts.append(Padding(Group(*body), _INDENT))
    return parts


def render_verdict(outcome: Outcome) -> RenderableType:
    """A panel: result word, status, bindings, server, timings, NAT hint, diagnoses."""
    ok = _succeeded(outcome)
    parts: list[RenderableType] = [_status_line(outcome)]
    if outcome.bindings:
        parts.append(_bindings(outcome))
    for contact in outcome.removed:
        parts.append(Text.assemble(("removed  ", "bold"), printable(contact)))
    parts += _facts(outcome)
    # Errors first, then warnings, then info; the order within a severity is kept.
    rank = {"error": 0, "warning": 1, "info": 2}
    for d in sorted(outcome.diagnoses, key=lambda d: rank.get(d.severity, 3)):
        parts.append(Text(""))
        parts += _diagnosis(d)
    return Panel(
        Group(*parts),
        title=Text(printable(f"{outcome.command} {outcome.aor}"), style="bold"),
        title_align="left",
        border_style="green" if ok else "red",
        expand=False,
    )
