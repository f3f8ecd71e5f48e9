"""Where the watch's events go: lines (or JSON lines) on stdout, notes on stderr, and
on a terminal a status line kept at the bottom (rich's Live, transient: it leaves no
trace in a scrollback or a log). Piped, stdout carries nothing but the events."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

from sipcheck.cli.options import OutputOptions, emit_json
from sipcheck.render import watch_events as render
from sipcheck.sip.client.keeper import State, WatchEvent
from sipcheck.sip.client.refresh import Action
from sipcheck.sip.client.watch_stats import Summary

if TYPE_CHECKING:
    from rich.console import Console
    from rich.live import Live

StatusRows = Sequence[tuple[str, State, float | None, Action | None]]


class WatchOutput:
    def __init__(self, output: OutputOptions, wall: Callable[[float], float]) -> None:
        self.json = output.json
        self.wall = wall
        self._console: Console | None = None
        self._live: Live | None = None
        if not self.json:
            self._console = output.console()

    @property
    def interactive(self) -> bool:
        """A status line makes sense: human output to a terminal."""
        return self._console is not None and self._console.is_terminal and _isatty()

    def start_status(self, rows: StatusRows) -> None:
        if not self.interactive:
            return
        from rich.live import Live
        from rich.text import Text

        assert self._console is not None
        self._live = Live(
            Text(render.status_line(rows), style="dim"),
            console=self._console,
            transient=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()

    def update_status(self, rows: StatusRows) -> None:
        if self._live is None:
            return
        from rich.text import Text

        self._live.update(Text(render.status_line(rows), style="dim"), refresh=True)

    def stop_status(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def event(self, event: WatchEvent) -> None:
        wall = self.wall(event.time)
        if self.json:
            emit_json(render.event_json(event, wall), line=True)
            return
        assert self._console is not None
        self._console.print(render.event_line(event, wall), style=_style(event), markup=False,
                            soft_wrap=True)  # fmt: skip

    def note(self, text: str) -> None:
        """A warning or note: stderr in every mode, above the status line."""
        if self._live is not None:  # a terminal: above the status line, not through it
            self._live.console.print(text, markup=False, style="yellow", soft_wrap=True)
            return
        click.echo(text, err=True)

    def summary(self, summaries: Sequence[Summary], wall: float, exit_status: int) -> None:
        if self.json:
            emit_json(render.summary_json(summaries, wall, exit_status), line=True)
            return
        assert self._console is not None
        self._console.print("summary", style="bold")
        for item in summaries:
            self._console.print(render.summary_line(item), markup=False, soft_wrap=True)


def _style(event: WatchEvent) -> str | None:
    styles: dict[Any, str] = {State.OK: "green", State.FAILED: "red", State.CLEARED: "cyan"}
    if event.kind == "change":
        return "yellow"
    if event.kind == "refresh":
        return None
    return styles.get(event.state)


def _isatty() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError, OSError):
        return False
