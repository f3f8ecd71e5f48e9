"""``--count N --interval S``: the same command N times, then ping-style statistics.

DNS is asked once; the connection (and so our address and Contact) is kept from
one run to the next, and every run after the first keeps the Call-ID and raises
the CSeq, as a refresh does (RFC 3261 §10.2.4), so a registrar sees one binding
refreshed N times, not N bindings. A password typed at the prompt is asked
once. Ctrl-C stops the runs and prints the statistics of those done (exit 130).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace

from sipcheck.cli.client_options import Repeat
from sipcheck.cli.client_run import execute_record, remembering_prompt, show
from sipcheck.cli.client_settings import ClientSettings
from sipcheck.cli.progress import live_status
from sipcheck.exit_status import ExitStatus
from sipcheck.net.client import ConnectionPool
from sipcheck.outcome import RunRecord, build_outcome
from sipcheck.sip.locate.targets import Resolution
from sipcheck.trace import Outcome, Trace


class _Runs:
    """The runs done so far, and what the next one keeps from them."""

    def __init__(self, settings: ClientSettings, repeat: Repeat) -> None:
        self.settings = settings
        self.repeat = repeat
        self.done: list[tuple[Trace, Outcome]] = []
        self.resolution: Resolution | None = None
        self.call_id: str | None = None
        self.next_cseq = 1
        self.pool = ConnectionPool()
        self.prompt = remembering_prompt()

    def plan(self) -> ClientSettings:
        if self.call_id is None:
            return self.settings
        config = replace(self.settings.config, call_id=self.call_id, first_cseq=self.next_cseq)
        return replace(self.settings, config=config)

    async def one(self) -> RunRecord:
        number = len(self.done) + 1
        status = live_status(self.settings.output, label=f"run {number} of {self.repeat.count}: ")
        with status or contextlib.nullcontext():
            record = await execute_record(
                self.plan(),
                progress=status,
                pool=self.pool,
                resolution=self.resolution,
                prompt=self.prompt,
            )
        self.resolution = record.resolution
        self.call_id = record.registration.call_id
        self.next_cseq = record.registration.cseq + 1
        return record


def run_repeated(settings: ClientSettings, repeat: Repeat) -> int:
    runs = _Runs(settings, repeat)
    loop = asyncio.new_event_loop()
    interrupted = False
    try:  # a Ctrl-C anywhere in here stops the runs; the statistics still follow
        for index in range(repeat.count):
            started = loop.time()
            record = loop.run_until_complete(runs.one())
            outcome = build_outcome(record)
            runs.done.append((record.trace, outcome))
            _show_run(settings, index + 1, record.trace, outcome)
            if record.resolution is None:
                break  # DNS failed: the next run would only fail the same way
            if index + 1 < repeat.count:
                pause = max(0.0, started + repeat.interval - loop.time())
                loop.run_until_complete(asyncio.sleep(pause))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        runs.pool.close()
        _close(loop)
    return _finish(runs, interrupted)


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """As asyncio.run ends: cancel what an interrupt left running, then close."""
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        with contextlib.suppress(BaseException):
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(asyncio.sleep(0))  # let closed transports say goodbye
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def _show_run(settings: ClientSettings, number: int, trace: Trace, outcome: Outcome) -> None:
    output = settings.output
    if output.json:
        return  # one document at the end
    if output.verbose:
        show(settings, trace, outcome)
    from sipcheck.render.repeat import render_run_line

    output.console().print(render_run_line(number, outcome))


def _exit_status(outcomes: list[Outcome], interrupted: bool) -> int:
    if interrupted:
        return ExitStatus.INTERRUPTED
    failed = [o.exit_status for o in outcomes if o.exit_status != ExitStatus.SUCCESS]
    return failed[-1] if failed else ExitStatus.SUCCESS


def _finish(runs: _Runs, interrupted: bool) -> int:
    from sipcheck.render.repeat import render_summary, repeat_to_json, summarize

    settings, repeat = runs.settings, runs.repeat
    outcomes = [outcome for _, outcome in runs.done]
    status = _exit_status(outcomes, interrupted)
    command = settings.config.mode.value.split("-")[0]
    aor = str(settings.config.aor)
    if settings.output.json:
        from sipcheck.cli.options import emit_json
        from sipcheck.render.json_out import outcome_to_json

        documents: list[dict[str, object]] = [
            dict(outcome_to_json(trace, outcome)) for trace, outcome in runs.done
        ]
        emit_json(
            repeat_to_json(
                documents,
                outcomes,
                command=command,
                aor=aor,
                count=repeat.count,
                interval=repeat.interval,
                exit_status=int(status),
                interrupted=interrupted,
            )
        )
        return status
    console = settings.output.console()
    console.print()
    console.print(render_summary(command, aor, summarize(outcomes), interrupted=interrupted))
    return status
