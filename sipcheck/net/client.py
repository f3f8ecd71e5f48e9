"""The client driver: runs a ``Registration`` core over real transports.

Receive -> core -> send, re-arm one timer; on a target failure connect the
next target; fill the Trace as octets cross the wire.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sipcheck.diagnosis.facts import STEP_CONNECT, STEP_SEND, STEP_TLS
from sipcheck.errors import (
    ConnectTimeout,
    HandshakeTimeout,
    SipcheckError,
    TLSFailure,
    TransportError,
)
from sipcheck.net.transports import Connection, Failed, Received, TlsOptions, open_connection
from sipcheck.outcome import FailureRecord, RunRecord
from sipcheck.sip.client.events import Event, PasswordNeeded, StrayIgnored, TargetFailed
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.locate.targets import Resolution, Target
from sipcheck.sip.wire.uri import SipUri
from sipcheck.trace import Trace, TraceEntry

PasswordPrompt = Callable[[str, str], Awaitable[str | None]]
Resolver = Callable[[SipUri], Awaitable[Resolution]]


@dataclass(frozen=True)
class NetOptions:
    bind: tuple[str, int] | None = None
    tls: TlsOptions = field(default_factory=TlsOptions)
    server_name: str | None = None  # RFC 5922: the SIP domain, for SNI and verification
    connect_timeout: float = 5.0


async def run_client(
    registration: Registration,
    resolution: Resolution,
    options: NetOptions,
    *,
    command: str,
    prompt: PasswordPrompt | None = None,
    resolver: Resolver | None = None,
) -> RunRecord:
    driver = _Driver(registration, resolution, options, prompt, resolver, command)
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
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        trace = Trace(wall_start=time.time())
        self.result = RunRecord(command, registration, trace, resolution, None)
        self.pending = list(resolution.targets)
        self.conn: Connection | None = None

    def now(self) -> float:
        return self.loop.time() - self.t0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

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
            try:
                item = await asyncio.wait_for(self.conn.queue.get(), wait)
            except (TimeoutError, asyncio.TimeoutError):
                reg.handle_timer(self.now())
                continue
            if isinstance(item, Received):
                entry = self.result.trace.add(
                    TraceEntry(
                        "in",
                        self.now(),
                        self.conn.local,
                        item.source,
                        self.conn.transport_name,
                        item.data,
                    )
                )
                reg.receive(item.data, self.now())
                events = reg.take_events()
                for event in events:
                    if isinstance(event, StrayIgnored) and event.raw is item.data:
                        entry.note = f"ignored: {event.reason}"
                await self._handle_events(events)
            elif isinstance(item, Failed):
                self.result.trace.note(self.now(), "error", item.detail, STEP_SEND)
                reg.transport_error(item.detail, self.now())

    def _flush(self) -> None:
        if self.conn is None:
            return
        for out in self.reg.take_outgoing():
            self.conn.send(out.data)
            self.result.trace.add(
                TraceEntry(
                    "out",
                    self.now(),
                    self.conn.local,
                    self.conn.remote,
                    self.conn.transport_name,
                    out.data,
                    out.retransmission,
                )
            )

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
        target = self.result.target
        if target is not None:
            self.result.failures.append(FailureRecord(target, event.reason, event.detail))
            if event.reason is Failure.TIMEOUT:
                self.result.trace.note(self.now(), "timeout", event.detail, STEP_SEND)
        self.close()
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
            except HandshakeTimeout as exc:
                self._record_failure(target, Failure.TLS_HANDSHAKE_TIMEOUT, exc, STEP_TLS)
                continue
            except TLSFailure as exc:
                self._record_failure(target, Failure.TLS_FAILED, exc, STEP_TLS)
                continue
            except ConnectTimeout as exc:
                self._record_failure(target, Failure.CONNECT_TIMEOUT, exc, STEP_CONNECT)
                continue
            except TransportError as exc:
                self._record_failure(target, Failure.UNREACHABLE, exc, STEP_CONNECT)
                continue
            self.conn = conn
            what = f"{target.transport.upper()} {conn.local} -> {conn.remote}"
            self.result.trace.note(self.now(), "connect", what)
            if conn.tls is not None:
                self.result.trace.tls = conn.tls
            self.reg.connect(conn.local.host, conn.local.port, target.transport)
            return True
        return False

    def _record_failure(
        self, target: Target, failure: Failure, exc: TransportError, step: str
    ) -> None:
        detail = exc.message + (f" ({exc.hint})" if exc.hint else "")
        self.result.failures.append(FailureRecord(target, failure, exc.message))
        timed_out = failure in (Failure.CONNECT_TIMEOUT, Failure.TLS_HANDSHAKE_TIMEOUT)
        self.result.trace.note(self.now(), "timeout" if timed_out else "error", detail, step)

    def _abort_no_target(self) -> None:
        last = self.result.failures[-1] if self.result.failures else None
        failure = last.failure if last is not None else Failure.UNREACHABLE
        self.reg.abort(failure, last.detail if last is not None else "no target to try", self.now())
