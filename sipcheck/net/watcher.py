"""The watch shell: several registrations kept alive in one process.

One task per account. Its ``Keeper`` (the sans-I/O schedule) says what is due and
when; the binding's ``Registration`` (one Call-ID for its whole life) or its query
core runs over the account's ``AccountLink``; what the request ended with is read
into an ``Exchange`` (``diagnosis.lapse``) and handed back to the keeper. Every event
goes to ``on_event`` as it happens. ``stop()`` (Ctrl-C, SIGTERM, --duration) drops the
requests in flight and removes every binding (Expires: 0), each within
``stop_timeout`` seconds; ``run`` then returns each account's summary.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sipcheck.diagnosis.lapse import read_exchange
from sipcheck.net.client import NetOptions
from sipcheck.net.watch_link import AccountLink, PasswordPrompt, Resolver
from sipcheck.outcome import RunRecord, build_outcome
from sipcheck.sip.client.config import Mode, RegistrationConfig
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.keeper import Exchange, Keeper, State, WatchEvent
from sipcheck.sip.client.refresh import Action, RefreshPolicy, prepare
from sipcheck.sip.client.registration import Phase, Registration
from sipcheck.sip.client.watch_stats import Summary
from sipcheck.trace import Trace

STOP_TIMEOUT = 5.0  # seconds for each unregistration at the end

EventSink = Callable[[WatchEvent], None]


@dataclass(frozen=True)
class Watched:
    """One account to keep registered: its name, its core config, where to send."""

    name: str
    config: RegistrationConfig
    net: NetOptions
    resolve: Resolver


@dataclass(frozen=True)
class Status:
    """One account, now: for the status line."""

    name: str
    state: State
    next_in: float | None  # seconds to its next request
    action: Action | None


class _Account:
    def __init__(
        self, spec: Watched, policy: RefreshPolicy, rng: random.Random, watcher: Watcher
    ) -> None:
        self.spec = spec
        self.watcher = watcher
        self.keeper = Keeper(spec.name, policy, rng=random.Random(rng.getrandbits(64)))
        core_rng = random.Random(rng.getrandbits(128))
        self.reg = Registration(spec.config, rng=core_rng, now=0.0)
        query = replace(spec.config, mode=Mode.QUERY)
        self.query = Registration(query, rng=core_rng, now=0.0)
        self.link = AccountLink(spec.net, spec.resolve, watcher.now, watcher.prompt)

    async def loop(self) -> None:
        keeper = self.keeper
        keeper.start(self.watcher.now())
        self._emit()
        while True:
            due = keeper.next_timer()
            if due is None:  # nothing left to do (cannot happen before stop)
                return
            delay = due - self.watcher.now()
            if delay > 0:
                await asyncio.sleep(delay)
            action = keeper.handle_timer(self.watcher.now())
            if action is None:
                continue
            keeper.exchanged(await self.exchange(action))
            self._emit()

    async def exchange(self, action: Action) -> Exchange:
        reg = self.query if action is Action.QUERY else self.reg
        now = self.watcher.now()
        trace = Trace(wall_start=time.time())
        record = RunRecord(action.value, reg, trace, self.link.resolution, self.link.target)
        if action is not Action.UNREGISTER:
            await self.link.resolve(record)
        _settle(reg, now)
        prepare(reg, action, now)
        try:
            await self.link.run(reg, record)
        finally:  # also what a request cut short by the stop had sent (and received)
            if self.watcher.on_trace is not None:
                self.watcher.on_trace(trace)
        outcome = build_outcome(record)
        return read_exchange(record, outcome, ended=self.watcher.now(), contact=self.contact)

    @property
    def contact(self) -> str | None:
        return self.reg.contact_uri

    async def finish(self, timeout: float) -> None:
        """Drop what is in flight and remove our binding, within ``timeout`` seconds."""
        now = self.watcher.now()
        for reg in (self.reg, self.query):
            _settle(reg, now)
        action = self.keeper.stop(now)
        self._emit()
        if action is Action.UNREGISTER:
            try:
                exchange = await asyncio.wait_for(self.exchange(action), timeout)
            except (TimeoutError, asyncio.TimeoutError):
                _settle(self.reg, self.watcher.now())
                where = self.link.target
                at = "" if where is None else f" from {where.address}:{where.port}"
                exchange = Exchange(
                    started=now,
                    ended=self.watcher.now(),
                    ok=False,
                    cause=Failure.TIMEOUT.value,
                    detail=f"timed out: no answer{at} within {timeout:g} s",
                )
            self.keeper.exchanged(exchange)
            self._emit()
        self.link.close()

    def _emit(self) -> None:
        for event in self.keeper.take_events():
            self.watcher.on_event(event)


def _settle(reg: Registration, now: float) -> None:
    """A core left mid-request (cancelled) is ended, so that it can be prepared again."""
    if reg.phase not in (Phase.IDLE, Phase.DONE):
        reg.abort(reg.result.failure or Failure.TIMEOUT, "stopped", now)
    reg.take_events()


class Watcher:
    def __init__(
        self,
        accounts: Sequence[Watched],
        policy: RefreshPolicy,
        *,
        on_event: EventSink,
        rng: random.Random | None = None,
        prompt: PasswordPrompt | None = None,
        stop_timeout: float = STOP_TIMEOUT,
        on_trace: Callable[[Trace], None] | None = None,
    ) -> None:
        self.policy = policy
        self.on_event = on_event
        self.on_trace = on_trace  # each exchange's Trace when it ends (--pcap)
        self.prompt = prompt
        self.stop_timeout = stop_timeout
        self.wall_start = time.time()
        self._start = time.monotonic()
        self._stopping = asyncio.Event()
        source = rng or random.SystemRandom()
        self.accounts = [_Account(spec, policy, source, self) for spec in accounts]

    def now(self) -> float:
        """Seconds since the watch started (monotonic): the cores' clock."""
        return time.monotonic() - self._start

    def wall(self, t: float) -> float:
        """Epoch seconds of the watch time ``t``."""
        return self.wall_start + t

    def stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def status(self) -> list[Status]:
        now = self.now()
        out = []
        for account in self.accounts:
            keeper = account.keeper
            due = keeper.due
            out.append(
                Status(
                    keeper.account,
                    keeper.state,
                    None if due is None else max(0.0, due[0] - now),
                    None if due is None else due[1],
                )
            )
        return out

    async def run(self) -> list[Summary]:
        """Watch until ``stop()``; then unregister everything and return the summaries.
        An account task that fails (a bug) stops the watch too, and is raised."""
        tasks = [asyncio.ensure_future(a.loop()) for a in self.accounts]
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(a.finish(self.stop_timeout) for a in self.accounts))
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result
        return [a.keeper.tally.summary() for a in self.accounts]
