"""The live status line on stderr while a client run waits (a rich ``Live``).

Only on a terminal: ``live_status`` gives nothing to observe with ``--json``,
when stdout or stderr is not a terminal (a pipe, a file, a CI log) or with
TERM=dumb. NO_COLOR takes the colour away, not the status line. The line is
transient: it is gone when the run ends and the ladder is printed. With ``-v``
each retransmission also gets a line of its own that stays (and with ``-vvv``
each timer and transport event), printed above the status line as it happens.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sipcheck.net import progress as p

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.spinner import Spinner

    from sipcheck.cli.options import OutputOptions

REFRESH_PER_SECOND = 8
VERBOSE_EVENTS = 3  # -vvv: timer and transport events too


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):
        return False


def wants_status(output: OutputOptions) -> bool:
    """A status line only for a person at a terminal: not --json, not piped, not TERM=dumb."""
    return person_watching(json=output.json)


def person_watching(*, json: bool) -> bool:
    """``wants_status`` for a command without OutputOptions."""
    if json or os.environ.get("TERM", "") == "dumb":
        return False
    return _isatty(sys.stdout) and _isatty(sys.stderr)


class CountLine:
    """One plain line of counts on stderr, rewritten in place at most every ``every``
    seconds (a long read or a live capture): ``show`` it, then ``clear`` it or
    ``keep`` it. No colour, no thread: the caller shows it as it goes."""

    def __init__(self, every: float = 0.25) -> None:
        self.every = every
        self._last = -every
        self._width = 0

    def show(self, text: str, *, now: bool = False) -> None:
        clock = time.monotonic()
        if not now and clock - self._last < self.every:
            return
        self._last = clock
        pad = " " * max(0, self._width - len(text))
        self._width = len(text)
        sys.stderr.write(f"\r{text}{pad}")
        sys.stderr.flush()

    def clear(self) -> None:
        if self._width:
            sys.stderr.write("\r" + " " * self._width + "\r")
            sys.stderr.flush()
            self._width = 0

    def keep(self) -> None:
        if self._width:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._width = 0


class LiveStatus:
    """A ``ProgressObserver`` drawing one status line; use it as a context manager."""

    def __init__(self, console: Console, *, verbose: int = 0, label: str = "") -> None:
        self.console = console
        self.verbose = verbose
        self.label = label  # e.g. "run 3 of 10: "
        self._live: Live | None = None
        self._spinner: Spinner | None = None
        self._doing = "starting"
        self._waiting = ""
        self._since = time.monotonic()
        self._limit: float | None = None
        self._retransmissions = 0

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> LiveStatus:
        from rich.live import Live
        from rich.spinner import Spinner

        self._spinner = Spinner("dots")
        self._live = Live(
            console=self.console,
            get_renderable=self._render,
            refresh_per_second=REFRESH_PER_SECOND,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Stop drawing while something else uses the terminal (the password prompt)."""
        live = self._live
        if live is not None:
            live.stop()
        try:
            yield
        finally:
            if live is not None:
                live.start()

    # ------------------------------------------------------------ events

    def __call__(self, event: p.ProgressEvent) -> None:
        now = time.monotonic()
        if isinstance(event, p.Resolving):
            self._set(f"resolving {event.host}", "", now, None)
        elif isinstance(event, p.Connecting):
            self._set(f"connecting to {event.remote} over {event.transport.upper()}", "", now)
        elif isinstance(event, p.Connected):
            self._event_line(event.time, f"connected {event.local} -> {event.remote}")
        elif isinstance(event, p.ConnectFailed):
            self._event_line(event.time, f"connect failed: {event.detail}")
        elif isinstance(event, p.Sent):
            self._sent(event, now)
        elif isinstance(event, p.Received):
            self._received(event)
        elif isinstance(event, p.TimerFired):
            self._event_line(event.time, event.detail)

    def _set(self, doing: str, waiting: str, since: float, limit: float | None = None) -> None:
        self._doing, self._waiting, self._since, self._limit = doing, waiting, since, limit

    def _sent(self, event: p.Sent, now: float) -> None:
        what = event.start_line.split(" ", 1)[0]
        where = f"{event.remote}/{event.transport.upper()}"
        if event.retransmission == 0:
            self._retransmissions = 0
            self._set(f"{what} sent to {where}", "waiting for the answer", now, event.limit)
            return
        self._retransmissions = event.retransmission
        times = "once" if event.retransmission == 1 else f"{event.retransmission} times"
        self._doing = f"{what} sent to {where}, retransmitted {times}"
        if self.verbose >= 1:
            self._print(
                f"{_clock(event.time)}  -> {event.start_line} "
                f"(retransmission {event.retransmission}, no answer yet)"
            )

    def _received(self, event: p.Received) -> None:
        status = event.status
        if status is None:
            return
        reason = event.start_line.split(" ", 2)[-1] if " " in event.start_line else ""
        if status < 200:
            self._doing = f"{status} {reason} received"
            self._waiting = "waiting for the final answer"
        elif status in (401, 407):
            self._doing, self._waiting = f"{status} {reason}: answering the challenge", ""
        else:
            self._doing, self._waiting = f"{status} {reason} received", ""

    def _event_line(self, at: float, text: str) -> None:
        if self.verbose >= VERBOSE_EVENTS:
            self._print(f"{_clock(at)}  · {text}")

    def _print(self, text: str) -> None:
        from rich.text import Text

        if self._live is not None:
            self._live.console.print(Text(text, style="dim"))

    # ------------------------------------------------------------ drawing

    def status_text(self, now: float | None = None) -> str:
        """The line as it reads at ``now`` (monotonic seconds)."""
        elapsed = (time.monotonic() if now is None else now) - self._since
        clock = f"t+{elapsed:.0f} s"
        if self._limit is not None:
            clock += f" of {self._limit:.0f}"
        parts = [self.label + self._doing]
        if self._waiting:
            parts.append(self._waiting)
        parts.append(clock)
        return " · ".join(parts)

    def _render(self) -> RenderableType:
        from rich.text import Text

        assert self._spinner is not None
        # One line, whatever the width: a wrapped status line would leave debris behind.
        self._spinner.update(text=Text(self.status_text(), no_wrap=True, overflow="ellipsis"))
        return self._spinner


def _clock(seconds: float) -> str:
    return f"+{seconds:.3f}s"


def live_status(output: OutputOptions, *, label: str = "") -> LiveStatus | None:
    """A status line for this run, or None when it is not wanted (see ``wants_status``)."""
    if not wants_status(output):
        return None
    return LiveStatus(output.err_console(), verbose=output.verbose, label=label)
