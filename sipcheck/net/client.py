"""The client driver: runs a ``Registration`` core over real transports.

Receive -> core -> send, re-arm one timer; on a target failure connect the
next target; fill the Trace as octets cross the wire (and, as notes, the timers
and transport events ``-vvv`` shows). A ``progress`` observer hears what the run
is doing while it waits (``sipcheck.net.progress``); a ``ConnectionPool`` keeps
connections open from one run to the next (``--count``).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sipcheck.errors import SipcheckError, TransportError
from sipcheck.net import progress, recording
from sipcheck.net.transports import Connection, Failed, Received, TlsOptions, open_connection
from sipcheck.outcome import RunRecord
from sipcheck.sip.client.events import Event, PasswordNeeded, TargetFailed
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.locate.targets import Resolution, Target
from sipcheck.sip.wire.message import Response
from sipcheck.sip.wire.uri import SipUri
from sipcheck.trace import Address, Trace

PasswordPrompt = Callable[[str, str], Awaitable[str | None]]
Resolver = Callable[[SipUri], Awaitable[Resolution]]


@dataclass(frozen=True)
class NetOptions:
    bind: tuple[str, int] | None = None
    tls: TlsOptions = field(default_factory=TlsOptions)
    server_name: str | None = None  # RFC 5922: the SIP domain, for SNI and verification
    connect_timeout: float = 5.0


class ConnectionPool:
    """Connections kept open from one run to the next (``--count``): every run then
    sends from the same address and Contact, as a refresh does (RFC 3261 §10.2.4)."""

    def __init__(self) -> None:
        self._open: dict[tuple[str, str, int], Connection] = {}

    def take(self, target: Target) -> Connection | None:
        """The connection kept for ``target``, unless it failed since (then closed)."""
        conn = self._open.pop(_pool_key(target), None)
        if conn is None:
            return None
        # What came between two runs belongs to neither; a failure ends the connection.
        if any(isinstance(item, Failed) for item in conn.drain()):
            conn.close()
            return None
        return conn

    def keep(self, target: Target, conn: Connection) -> None:
        old = self._open.pop(_pool_key(target), None)
        if old is not None and old is not conn:
            old.close()
        self._open[_pool_key(target)] = conn

    def close(self) -> None:
        for conn in self._open.values():
            conn.close()
        self._open.clear()


def _pool_key(target: Target) -> tuple[str, str, int]:
    return (target.transport, target.address, target.port)


async def run_client(
    registration: Registration,
    resolution: Resolution,
    options: NetOptions,
    *,
    command: str,
    prompt: PasswordPrompt | None = None,
    resolver: Resolver | None = None,
    progress: progress.ProgressObserver | None = None,
    pool: ConnectionPool | None = None,
) -> RunRecord:
    driver = _Driver(registration, resolution, options, prompt, resolver, command)
    driver.observer = progress
    driver.pool = pool
    try:
        await driver.run()
    finally:
        driver.close()
    return driver.result


class _Driver:
    def __init__(
        self,
        registration: Registration,
        resolution: Resolution,
        options: NetOptions,
        prompt: PasswordPrompt | None,
        resolver: Resolver | None,
        command: str,
    ) -> None:
        self.reg = registration
        self.options = options
        self.prompt = prompt
        self.resolver = resolver
        self.t0 = time.monotonic()  # the clock of asyncio's loop.time()
        trace = Trace(wall_start=time.time())
        self.result = RunRecord(command, registration, trace, resolution, None)
        self.pending = list(resolution.targets)
        self.conn: Connection | None = None
        self.conn_target: Target | None = None
        self.conn_broken = False  # a transport error: never kept for the next run
        self.observer: progress.ProgressObserver | None = None
        self.pool: ConnectionPool | None = None
        self.retransmissions = 0  # of the request under way

    def now(self) -> float:
        return time.monotonic() - self.t0

    def tell(self, event: progress.ProgressEvent) -> None:
        if self.observer is not None:
            self.observer(event)

    def close(self, *, keep: bool = True) -> None:
        conn, target = self.conn, self.conn_target
        if conn is None:
            return
        self.conn = None
        if keep and self.pool is not None and target is not None and not self.conn_broken:
            self.pool.keep(target, conn)
            return
        conn.close()
        what = f"closed {conn.transport_name.upper()} {conn.local} -> {conn.remote}"
        self.result.trace.note(self.now(), "transport", what)

    async def run(self) -> None:
        reg = self.reg
        if not await self._connect_next():
            self._abort_no_target()
            return
        reg.start(self.now())
        while True:
            self._flush()
            await self._handle_events(reg.take_events())
            if reg.done:
                self._flush()
                return
            assert self.conn is not None
            timer = reg.next_timer()
            wait = None if timer is None else max(0.0, timer - self.now())
            item = await self.conn.receive(wait)
            if item is None:  # the timer is due
                self._on_timer()
                continue
            if isinstance(item, Received):
                now = self.now()
                reg.receive(item.data, now)
                events = reg.take_events()
                entry = recording.received(self.result, now, self.conn, item, events)
                if self.observer is not None:
                    message = entry.message
                    status = message.status if isinstance(message, Response) else None
                    self.tell(progress.Received(entry.time, entry.start_line, item.source, status))
                await self._handle_events(events)
            elif isinstance(item, Failed):
                self.conn_broken = True
                recording.transport_failed(self.result, self.now(), item)
                reg.transport_error(item.detail, self.now())

    def _on_timer(self) -> None:
        """A timer is due: the core handles it; the trace notes which one (for -vvv)."""
        reg, now = self.reg, self.now()
        tx = reg.transaction
        due = {name: when for name, when in (tx.armed() if tx is not None else []) if when <= now}
        fired = next((name for name in ("K", "F", "E") if name in due), None)
        reg.handle_timer(now)
        if fired is None:
            if now >= reg.deadline and reg.done:
                self._timer_note("deadline", f"--timeout {reg.config.timeout:g} s reached")
            return
        if fired == "E":
            detail = f"Timer E fired: retransmission {self.retransmissions + 1}"
            upcoming = dict(tx.armed()) if tx is not None else {}
            if "E" in upcoming:
                detail += f", next Timer E in {upcoming['E'] - due['E']:.3f}s"
        elif fired == "F":
            detail = f"Timer F fired: no final response in {reg.config.timers.f:g} s"
        else:
            detail = "Timer K fired: the transaction is over"
        self._timer_note(fired, detail)

    def _timer_note(self, timer: str, detail: str) -> None:
        now = self.now()
        self.result.trace.note(now, "timer", detail)
        self.tell(progress.TimerFired(now, timer, detail))

    def _armed_note(self) -> None:
        """A new request: which timers now run (RFC 3261 §17.1.2.2)."""
        tx, now = self.reg.transaction, self.now()
        if tx is None:
            return
        timers = [f"Timer {name} in {when - tx.started:.3f}s" for name, when in tx.armed()]
        if tx.reliable:
            timers.append("no Timer E (a reliable transport)")
        self.result.trace.note(now, "timer", ", ".join(timers))

    def _limit(self) -> float | None:
        """Seconds until the transaction under way gives up: Timer F or --timeout."""
        tx, now = self.reg.transaction, self.now()
        ends = [self.reg.deadline]
        if tx is not None:
            ends += [when for name, when in tx.armed() if name == "F"]
        return max(0.0, min(ends) - now)

    def _flush(self) -> None:
        if self.conn is None:
            return
        for out in self.reg.take_outgoing():
            self.conn.send(out.data)
            entry = recording.sent(self.result, self.now(), self.conn, out)
            self.retransmissions = self.retransmissions + 1 if out.retransmission else 0
            if not out.retransmission:
                self._armed_note()
            if self.observer is not None:
                sent = progress.Sent(
                    entry.time,
                    entry.start_line,
                    self.conn.remote,
                    self.conn.transport_name,
                    self.retransmissions,
                    self._limit(),
                )
                self.tell(sent)

    async def _handle_events(self, events: list[Event]) -> None:
        reg = self.reg
        for event in events:
            if isinstance(event, TargetFailed):
                await self._on_target_failed(event)
            elif isinstance(event, PasswordNeeded):
                password = None
                if self.prompt is not None:
                    password = await self.prompt(event.realm, event.auth_user)
                reg.provide_password(event.realm, password, self.now())
                self._flush()

    async def _on_target_failed(self, event: TargetFailed) -> None:
        recording.target_failed(self.result, self.now(), event)
        self.close(keep=False)
        if event.redirect_to is not None and self.resolver is not None:
            uri = event.redirect_to
            self.result.trace.note(self.now(), "resolve", f"redirected to {uri}")
            try:
                resolution = await self.resolver(uri)
            except SipcheckError as exc:  # ResolutionError, ConfigError: unusable redirect
                self.result.trace.note(self.now(), "error", f"cannot resolve {uri}: {exc}")
                self.reg.give_up(self.now())
                return
            self.pending = list(resolution.targets)
        if await self._connect_next():
            self.reg.resume(self.now())
            self._flush()  # the next request goes out now, not at the next timer
        else:
            self.reg.give_up(self.now())

    async def _connect_next(self) -> bool:
        while self.pending:
            target = self.pending.pop(0)
            self.result.target = target
            remote = Address(target.address, target.port)
            kept = self.pool.take(target) if self.pool is not None else None
            if kept is not None:
                self._use(target, kept, reused=True)
                return True
            self.tell(progress.Connecting(self.now(), remote, target.transport))
            try:
                conn = await open_connection(
                    target.transport,
                    target.address,
                    target.port,
                    bind=self.options.bind,
                    timeout=self.options.connect_timeout,
                    tls=self.options.tls,
                    server_name=self.options.server_name or target.host,
                )
            except TransportError as exc:
                detail = recording.connect_failed(self.result, self.now(), target, exc)
                self.tell(progress.ConnectFailed(self.now(), remote, target.transport, detail))
                continue
            self._use(target, conn, reused=False)
            return True
        return False

    def _use(self, target: Target, conn: Connection, *, reused: bool) -> None:
        self.conn, self.conn_target, self.conn_broken = conn, target, False
        recording.connected(self.result, self.now(), target, conn, reused=reused)
        self.reg.connect(conn.local.host, conn.local.port, target.transport)
        self.tell(progress.Connected(self.now(), conn.local, conn.remote, target.transport, reused))

    def _abort_no_target(self) -> None:
        last = self.result.failures[-1] if self.result.failures else None
        failure = last.failure if last is not None else Failure.UNREACHABLE
        self.reg.abort(failure, last.detail if last is not None else "no target to try", self.now())
