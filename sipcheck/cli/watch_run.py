"""``sipcheck watch``: settings -> the watcher -> events, hooks, summary -> exit status.

The exit status: with --exit-on-failure, the first lapse's (its cause's status, as
``register`` would exit with it). Otherwise the watch ends when asked (Ctrl-C,
SIGTERM, --duration): 0 when every account was Ok at that moment, else the status of
the last cause of the first account that was not. A second Ctrl-C stops at once,
without unregistering (130).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.client_settings import ClientSettings
from sipcheck.cli.passwords import ask_password, can_prompt
from sipcheck.cli.watch_accounts import WatchedSettings
from sipcheck.cli.watch_output import StatusRows, WatchOutput
from sipcheck.diagnosis.exit import cause_exit_status
from sipcheck.exit_status import ExitStatus
from sipcheck.net.on_change import HOOK_TIMEOUT, Change, ChangeHook
from sipcheck.net.watch_link import Resolver
from sipcheck.net.watcher import Watched, Watcher
from sipcheck.render.watch_events import message
from sipcheck.sip.client.keeper import State, WatchEvent
from sipcheck.sip.client.refresh import RefreshPolicy
from sipcheck.sip.client.watch_stats import Summary
from sipcheck.sip.locate.targets import Resolution
from sipcheck.sip.wire.uri import SipUri
from sipcheck.trace import Trace

STATUS_EVERY = 1.0  # seconds between redraws of the terminal's status line


@dataclass(frozen=True)
class WatchRequest:
    accounts: list[WatchedSettings]
    options: ClientOptions
    policy: RefreshPolicy
    duration: float | None = None
    exit_on_failure: bool = False
    on_change: tuple[str, ...] | None = None
    prompt: bool = False  # ask for a password at a challenge (one AOR, a terminal)
    pcap: str | None = None  # --pcap FILE: each exchange written as it ends


@dataclass
class _Run:
    first_lapse: str | None = None
    last_cause: dict[str, str] = field(default_factory=dict)


def run_watch(request: WatchRequest) -> int:
    capture = None
    if request.pcap is not None:  # opened (or refused, exit 2) before anything is sent
        from sipcheck.capture.writer import TraceWriter, open_pcap

        capture = TraceWriter(open_pcap(request.pcap))
    try:
        return asyncio.run(_main(request, None if capture is None else capture.write))
    finally:
        if capture is not None:
            capture.close()


def _resolver(settings: ClientSettings) -> Resolver:
    async def resolve(uri: SipUri | None) -> Resolution:
        from sipcheck.net.dns import resolve as dns_resolve

        if uri is None:
            return await dns_resolve(
                settings.resolve_host, settings.resolve_port, settings.transport,
                secure=settings.secure,
            )  # fmt: skip
        transport = uri.transport or settings.transport
        return await dns_resolve(uri.host_unbracketed, uri.port, transport, secure=uri.secure)

    return resolve


async def _prompt(realm: str, auth_user: str) -> str | None:
    return ask_password(realm, auth_user) if can_prompt() else None


async def _main(request: WatchRequest, on_trace: Callable[[Trace], None] | None) -> int:
    loop = asyncio.get_running_loop()
    run = _Run()
    specs = [
        Watched(w.name, w.settings.config, w.settings.net, _resolver(w.settings))
        for w in request.accounts
    ]
    sink: list[Callable[[WatchEvent], None]] = []
    watcher = Watcher(
        specs,
        request.policy,
        on_event=lambda event: sink[0](event),
        prompt=_prompt if request.prompt else None,
        on_trace=on_trace,
    )
    out = WatchOutput(request.options.output, watcher.wall)
    hook = ChangeHook(request.on_change, out.note) if request.on_change else None

    def rows() -> StatusRows:
        return [(s.name, s.state, s.next_in, s.action) for s in watcher.status()]

    def on_event(event: WatchEvent) -> None:
        if watcher.stopping:
            out.stop_status()  # the unregistrations and the summary need no status line
        out.event(event)
        if event.kind == "retry" and event.cause:
            run.last_cause[event.account] = event.cause
        if event.kind != "state":
            return
        if hook is not None:
            change = Change(
                event.account, event.previous.value, event.state.value, event.cause,
                message(event),
            )  # fmt: skip
            hook.submit(change)
        if event.state is State.FAILED and event.cause:
            run.last_cause[event.account] = event.cause
            if request.exit_on_failure and run.first_lapse is None and not watcher.stopping:
                run.first_lapse = event.cause
                watcher.stop()
        if event.state in (State.OK, State.FAILED) and not watcher.stopping:
            out.start_status(rows())

    sink.append(on_event)
    main = asyncio.current_task()
    aborted: list[bool] = []

    def abort() -> None:
        aborted.append(True)
        if main is not None:
            main.cancel()

    installed = _on_signals(loop, watcher.stop, abort)
    timer = loop.call_later(request.duration, watcher.stop) if request.duration else None
    ticker = asyncio.ensure_future(_tick(out, rows, watcher)) if out.interactive else None
    try:
        summaries = await watcher.run()
    except asyncio.CancelledError:
        if not aborted:
            raise
        out.stop_status()
        out.note("interrupted again: stopped without removing every binding")
        return int(ExitStatus.INTERRUPTED)
    finally:
        if timer is not None:
            timer.cancel()
        if ticker is not None:
            ticker.cancel()
        out.stop_status()
        for sig in installed:
            loop.remove_signal_handler(sig)
    status = _exit_status(run, summaries)
    if hook is not None:
        await hook.close(HOOK_TIMEOUT)
    out.summary(summaries, time.time(), status)
    return status


async def _tick(out: WatchOutput, rows: Callable[[], StatusRows], watcher: Watcher) -> None:
    while not watcher.stopping:
        await asyncio.sleep(STATUS_EVERY)
        out.update_status(rows())
    out.stop_status()


def _on_signals(
    loop: asyncio.AbstractEventLoop, stop: Callable[[], None], abort: Callable[[], None]
) -> list[int]:
    """SIGINT and SIGTERM stop the watch (unregistering); a second one aborts that."""
    installed: list[int] = []
    seen: list[int] = []

    def handler(sig: int) -> None:
        seen.append(sig)
        (stop if len(seen) == 1 else abort)()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, handler, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        installed.append(sig)
    return installed


def _exit_status(run: _Run, summaries: list[Summary]) -> int:
    if run.first_lapse is not None:
        return int(cause_exit_status(run.first_lapse))
    for summary in summaries:
        if summary.state == State.OK.value:
            continue
        cause = run.last_cause.get(summary.account)
        return int(cause_exit_status(cause)) if cause else int(ExitStatus.TIMEOUT)
    return int(ExitStatus.SUCCESS)
