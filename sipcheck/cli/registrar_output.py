"""What ``sipcheck registrar`` prints: each attempt, counted lines, the summary.

Printing an attempt (a ladder, or a JSON line) costs a thousand times what answering a
request does. Done on the receive path it starves the sockets under a flood: requests
wait in the kernel, are dropped, OPTIONS go unanswered. So the server only queues the
attempts that ended (``Reporter.attempt``), and a line for an attempt left waiting for
its client (``Reporter.waiting``, only while few items wait); they are printed off the
receive path, in
slices of ``RENDER_SLICE`` seconds that take at most ``RENDER_SHARE`` of the time
while attempts wait, and at most ``RENDER_QUEUE`` wait (``RENDER_QUEUE_OCTETS`` of
messages): more are dropped, counted.

What is only counted (unparseable messages past the first in each second, attempts
not shown, connections refused or closed, inputs that met a bug) is printed once a
second at most, one line per kind, on stderr (stdout keeps the attempts, and with
``--json`` nothing else).
"""

from __future__ import annotations

import asyncio
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from sipcheck.sip.registrar.attempts import AttemptLog, attempt_outcome
from sipcheck.trace import Address

if TYPE_CHECKING:
    from sipcheck.net.server import RegistrarServer
    from sipcheck.sip.registrar.core import RegistrarConfig

RENDER_QUEUE = 1000  # ended attempts waiting to be printed; more are dropped, counted
RENDER_QUEUE_OCTETS = 32 * 1024 * 1024  # and the octets of their messages
RENDER_SLICE = 0.02  # seconds of printing at a time
RENDER_SHARE = 0.1  # of the time at most, while attempts wait
WAITING_QUEUE = 10  # a waiting line is queued only while fewer items wait
TICK = 1.0  # seconds between counted lines (of one kind) at most


@dataclass(frozen=True)
class Listening:
    transport: str
    address: Address


class Printer:
    """Renders one attempt (ladder and verdict, or a JSON line); the banner, summary."""

    def __init__(self, kw: Mapping[str, Any]) -> None:
        self.json = bool(kw.get("json_output"))
        self.quiet = bool(kw.get("quiet"))
        self.verbose = int(kw.get("verbose") or 0)
        self.no_color = bool(kw.get("no_color"))
        self.attempts = {"ok": 0, "failed": 0}
        self._stdout: Any = None
        self.capture: Any = None  # --pcap FILE: each attempt's Trace is written there
        if kw.get("pcap"):
            from sipcheck.capture.writer import TraceWriter, open_pcap

            self.capture = TraceWriter(open_pcap(kw["pcap"]))
        # --quiet --pcap still records attempts: for the capture, not to print them
        self.wants_attempts = not self.quiet or self.capture is not None
        # a line as an attempt is left waiting (ladders only: --json lines are per attempt)
        self.shows_waiting = not self.quiet and not self.json

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.capture is not None:
            self.capture.close()

    def console(self) -> Any:
        if self._stdout is None:  # built when first needed, from the options given
            from sipcheck.cli.options import make_console

            self._stdout = make_console(self.no_color)
        return self._stdout

    def started(self, lines: list[str]) -> None:
        # In --json mode stdout carries only JSON lines: this goes to stderr.
        out = sys.stderr if self.json else sys.stdout
        for line in lines:
            click.echo(line, file=out)
        out.flush()

    def attempt(self, log: AttemptLog) -> None:
        if self.capture is not None:
            self.capture.write(log.trace)
        outcome = attempt_outcome(log)
        self.attempts["ok" if outcome.result != "failed" else "failed"] += 1
        if self.quiet:
            return  # recorded for --pcap only
        if self.json:
            from sipcheck.cli.options import emit_json
            from sipcheck.render.json_out import outcome_to_json

            emit_json(outcome_to_json(log.trace, outcome), line=True)
            return
        from sipcheck.render.ladder import render_ladder
        from sipcheck.render.verdict import render_verdict

        console = self.console()
        console.print(render_ladder(log.trace, outcome, verbose=self.verbose, width=console.width))
        console.print(render_verdict(outcome))

    def waiting(self, line: str) -> None:
        # One line whatever the width: the terminal wraps it, rich does not break it.
        self.console().print(line, style="dim", markup=False, highlight=False, soft_wrap=True)

    def note(self, text: str) -> None:
        click.echo(text, err=True)


def waiting_line(log: AttemptLog) -> str:
    """One line as an attempt is left open: what came, what we answered, what we wait for.

    Its ladder follows when it ends (answered, or NO_ANSWER_SECONDS of silence)."""
    import datetime

    attempt = log.requests[-1]
    wall = log.trace.wall_start + (log.trace.entries[-1].time if log.trace.entries else 0.0)
    clock = datetime.datetime.fromtimestamp(wall).strftime("%H:%M:%S.%f")[:-3]
    where = Address(*attempt.source)
    status = f"{attempt.status} {attempt.reason}".rstrip()
    wanted = (
        "its credentials"
        if attempt.status in (401, 407)
        else "a longer Expires"
        if attempt.status == 423
        else "its next request"
    )
    aor = attempt.aor or "?"
    return (
        f"{clock}  {attempt.method} {aor} from {where}/{attempt.transport.upper()}: "
        f"{status}, waiting for {wanted}..."
    )


def banner(
    bound: list[Listening], config: RegistrarConfig, versions: tuple[str, str], server: Any
) -> list[str]:
    low, high = versions
    tls = f" (TLS {low} only)" if low == high else f" (TLS {low} to {high})"
    lines = [
        f"listening on {b.transport.upper()} {b.address}" + (tls if b.transport == "tls" else "")
        for b in bound
    ]
    accounts = ", ".join(sorted(config.accounts or {}))
    lines.append(
        f"accounts: {accounts}; challenge {401 if config.challenge == 'www' else 407}, "
        f"algorithms {', '.join(config.algorithms)}, qop {config.qop or 'none'}"
    )
    limits, core = server.limits, config.limits
    capped = ""
    if server.max_connections < limits.max_connections:
        capped = f" (half the open-file limit {server.descriptors}: ulimit -n)"
    lines.append(
        f"limits: {server.max_connections} TCP/TLS connections{capped}, closed after "
        f"{limits.idle_timeout:g} s idle; messages on TCP/TLS up to {core.max_header_octets} "
        f"octets of header and {core.max_body_octets} of body"
    )
    lines.append("Ctrl-C stops")
    return lines


def summary(printer: Printer, server: RegistrarServer, reporter: Reporter) -> str:
    stats, shell = server.stats, server.server_stats
    by_status = ", ".join(f"{k}: {v}" for k, v in sorted(stats.responses.items()))
    text = (
        f"stopped: {stats.requests} requests ({by_status or 'no responses'}); "
        f"attempts: {printer.attempts['ok']} succeeded, {printer.attempts['failed']} failed"
    )
    counted = [
        (stats.dropped, "dropped on purpose"),
        (stats.unparseable, "unparseable"),
        (stats.too_large, "too large"),
        (reporter.not_shown, "attempts not shown (output could not keep up)"),
        (server.core.attempts_cut_short, "attempts ended early by a limit"),
        (shell.refused, "connections refused (--max-connections)"),
        (shell.idle_closed, "idle connections closed"),
        (shell.slow_readers_closed, "connections closed (the peer did not read)"),
        (shell.handshake_failures, "TLS handshakes failed"),
        (stats.internal_errors + shell.loop_errors + reporter.render_errors, "errors"),
    ]
    return text + "".join(f"; {n} {what}" for n, what in counted if n)


class Reporter:
    """Queues ended attempts and prints them off the receive path; prints the counted
    lines once a second at most."""

    def __init__(
        self,
        printer: Printer,
        *,
        debug: bool = False,
        queue_limit: int = RENDER_QUEUE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.printer = printer
        self.debug = debug
        self.queue_limit = queue_limit
        self.clock = clock
        self.not_shown = 0
        self.render_errors = 0
        self._queue: deque[AttemptLog | str] = deque()  # attempts, and waiting lines
        self._queued_octets = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._draining = False
        self._server: RegistrarServer | None = None
        self._seen: dict[str, int] = {}
        self._errors: list[Exception] = []  # since the last tick
        self._ticker: asyncio.TimerHandle | None = None

    def start(self, server: RegistrarServer) -> None:
        self._server = server
        self._loop = server.loop
        self._seen = self._counts()
        self._ticker = self._loop.call_later(TICK, self._tick)

    # ------------------------------------------------------------ attempts

    def attempt(self, log: AttemptLog) -> None:
        if (
            len(self._queue) >= self.queue_limit
            or self._queued_octets + log.octets > RENDER_QUEUE_OCTETS
        ):
            self.not_shown += 1
            return
        self._queue.append(log)
        self._queued_octets += log.octets
        self._schedule()

    def waiting(self, log: AttemptLog) -> None:
        """An attempt left open: its first lines now, printed off the receive path like
        the attempts; only while few wait (a busy registrar prints the ladders only)."""
        if len(self._queue) >= WAITING_QUEUE:
            return
        self._queue.append(waiting_line(log))
        self._schedule()

    def _schedule(self) -> None:
        if not self._draining and self._loop is not None:
            self._draining = True
            self._loop.call_soon(self._drain)

    def _drain(self) -> None:
        started = self.clock()
        queue = self._queue
        while queue and self.clock() - started < RENDER_SLICE:
            self._render(queue.popleft())
        if not queue or self._loop is None:
            self._draining = False
            return
        # Printing took ``spent``; the sockets get three times that before the next slice.
        spent = self.clock() - started
        self._loop.call_later(spent * (1 / RENDER_SHARE - 1), self._drain)

    def _render(self, log: AttemptLog | str) -> None:
        try:
            if isinstance(log, str):
                self.printer.waiting(log)
                return
            self._queued_octets -= log.octets
            self.printer.attempt(log)
        except (BrokenPipeError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug in a renderer: count it, keep serving
            self.render_errors += 1
            self.error(exc)

    def finish(self) -> None:
        """Print what still waits, and the last counted lines (the registrar stopped)."""
        if self._ticker is not None:
            self._ticker.cancel()
        while self._queue:
            self._render(self._queue.popleft())
        self._draining = False
        self._tick(final=True)

    # ------------------------------------------------------------ counted lines

    def error(self, exc: Exception) -> None:
        if len(self._errors) < 100:
            self._errors.append(exc)

    def _counts(self) -> dict[str, int]:
        server = self._server
        if server is None:
            return {}
        stats, shell = server.stats, server.server_stats
        unparseable = stats.unparseable if self.printer.quiet else stats.unparseable_unrecorded
        return {
            "unparseable": unparseable,
            "not_shown": self.not_shown,
            "cut_short": server.core.attempts_cut_short,
            "refused": shell.refused,
            "idle": shell.idle_closed,
            "slow": shell.slow_readers_closed,
            "handshake": shell.handshake_failures,
            "accept": shell.accept_errors,
            "errors": stats.internal_errors + shell.loop_errors + self.render_errors,
        }

    def _tick(self, final: bool = False) -> None:
        self._ticker = None
        server = self._server
        if server is None:
            return
        now = self._counts()
        new = {k: now[k] - self._seen.get(k, 0) for k in now}
        self._seen = now
        for line in self._lines(new, server):
            self.printer.note(line)
        if self.debug:
            for exc in self._errors[:3]:
                self.printer.note("".join(traceback.format_exception(exc)).rstrip())
        self._errors.clear()
        if not final and self._loop is not None:
            self._ticker = self._loop.call_later(TICK, self._tick)

    def _lines(self, new: dict[str, int], server: RegistrarServer) -> list[str]:
        limits, core = server.limits, server.core.limits
        lines: list[str] = []
        if new["unparseable"]:
            shown = "" if self.printer.quiet else " (the first in each second is shown)"
            lines.append(f"{new['unparseable']} unparseable messages, not answered{shown}")
        if new["not_shown"]:
            lines.append(
                f"{new['not_shown']} attempts not shown: the output could not keep up "
                f"({self.queue_limit} wait to be printed at most)"
            )
        if new["cut_short"]:
            lines.append(
                f"{new['cut_short']} attempts ended early by a limit ({core.max_open_attempts} "
                f"open, {core.max_attempt_messages} messages or {core.max_attempt_seconds:g} s "
                "each)"
            )
        if new["refused"]:
            lines.append(
                f"{new['refused']} TCP/TLS connections refused: {server.max_connections} are "
                "open, the limit (--max-connections)"
            )
        if new["idle"] and self.printer.verbose:
            lines.append(
                f"{new['idle']} idle TCP/TLS connections closed (nothing for "
                f"{limits.idle_timeout:g} s, --idle-timeout)"
            )
        if new["slow"]:
            lines.append(
                f"{new['slow']} TCP/TLS connections closed: the peer did not read its "
                f"responses ({limits.max_write_buffer} octets waiting)"
            )
        if new["handshake"]:
            lines.append(f"{new['handshake']} TLS handshakes failed or timed out")
        if new["accept"]:
            lines.append(
                f"accept() failed {new['accept']} times: out of file descriptors "
                f"(ulimit -n {server.descriptors}); accepting again in a second"
            )
        if new["errors"]:
            last = self._errors[-1] if self._errors else server.last_error
            what = f" ({type(last).__name__}: {last})" if last is not None else ""
            hint = "" if self.debug else "; run with --debug for the traceback"
            lines.append(
                f"{new['errors']} inputs met a bug in sipcheck and were dropped{what}{hint}"
            )
        return lines
