"""One watched account's connection, kept between requests, and one request over it.

A phone keeps its socket: the registrar saw our Contact at one address, and a refresh
from another port would be another binding. So the connection stays open between the
refreshes (over TCP and TLS the registrar also sends calls down it); it is opened
again only when it broke, when DNS no longer lists its target, or to fail over, and
then from the same local address when the system allows, so the Contact stays.

``AccountLink.run`` drives one ``Registration`` run as ``sipcheck.net.client`` does
(receive -> core -> send, one timer, the next target after a TargetFailed) and fills
the run's ``RunRecord``; times in the Trace count from the request's start.
"""

from __future__ import annotations

import errno
from collections.abc import Awaitable, Callable

from sipcheck.diagnosis.facts import STEP_DNS
from sipcheck.errors import ResolutionError, TransportError
from sipcheck.net import recording
from sipcheck.net.client import NetOptions
from sipcheck.net.transports import Connection, Failed, Received, open_connection
from sipcheck.outcome import RunRecord
from sipcheck.sip.client.events import PasswordNeeded, TargetFailed
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.locate.targets import Resolution, Target
from sipcheck.sip.wire.uri import SipUri

Resolver = Callable[[SipUri | None], Awaitable[Resolution]]  # None: the account's own
PasswordPrompt = Callable[[str, str], Awaitable[str | None]]
Clock = Callable[[], float]


class AccountLink:
    def __init__(
        self,
        options: NetOptions,
        resolver: Resolver,
        clock: Clock,
        prompt: PasswordPrompt | None = None,
    ) -> None:
        self.options = options
        self.resolver = resolver
        self.clock = clock
        self.prompt = prompt
        self.conn: Connection | None = None
        self.target: Target | None = None
        self.resolution: Resolution | None = None
        self._local: tuple[str, int] | None = None  # where our Contact says we are
        self._dns_error: str | None = None
        self._t0 = 0.0

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def now(self) -> float:
        return self.clock() - self._t0

    async def resolve(self, record: RunRecord) -> None:
        """Look the targets up again (RFC 3263); DNS failing keeps a working connection."""
        try:
            resolution = await self.resolver(None)
        except ResolutionError as exc:
            detail = exc.message + (f" ({exc.hint})" if exc.hint else "")
            if self.conn is None:
                record.trace.note(self.now(), "error", detail, STEP_DNS)
                self._dns_error = detail
            else:
                record.trace.note(self.now(), "info", f"{detail}; keeping {self.conn.remote}")
            return
        self._dns_error = None
        self.resolution = record.resolution = resolution
        if self.target is not None and self.target not in resolution.targets:
            record.trace.note(self.now(), "resolve", f"{self.target.address} is no longer listed")
            self.close()
            self.target = None

    async def run(self, reg: Registration, record: RunRecord) -> None:
        """Send ``reg``'s request (``prepare``d and IDLE) and run it to its end."""
        self._t0 = self.clock()
        self._drain(record)
        if self.conn is None and not await self._connect(record, self._candidates()):
            last = record.failures[-1] if record.failures else None
            if last is None:
                detail = self._dns_error or "no target to try (DNS gave none)"
                if self._dns_error is None:
                    record.trace.note(self.now(), "error", detail, STEP_DNS)
                reg.abort(Failure.DNS_FAILED, detail, self.clock())
            else:
                reg.abort(last.failure, last.detail, self.clock())
            return
        assert self.conn is not None
        record.target = self.target
        reg.connect(self.conn.local.host, self.conn.local.port, self.conn.transport_name)
        reg.start(self.clock())
        while True:
            self._flush(reg, record)
            await self._handle_events(reg, record)
            if reg.done or self.conn is None:
                return
            timer = reg.next_timer()
            wait = None if timer is None else max(0.0, timer - self.clock())
            item = await self.conn.receive(wait)
            if item is None:  # the timer is due
                reg.handle_timer(self.clock())
                continue
            if isinstance(item, Received):
                now = self.now()
                reg.receive(item.data, self.clock())
                recording.received(record, now, self.conn, item, reg.events)
            else:
                recording.transport_failed(record, self.now(), item)
                reg.transport_error(item.detail, self.clock())

    # ------------------------------------------------------------ internals

    def _candidates(self) -> list[Target]:
        return list(self.resolution.targets) if self.resolution is not None else []

    def _drain(self, record: RunRecord) -> None:
        """What came while nobody waited: late answers (stray now), or a broken stream."""
        if self.conn is None:
            return
        for item in self.conn.drain():
            if isinstance(item, Failed) and self.conn.transport_name != "udp":
                record.trace.note(self.now(), "info", f"{item.detail}; connecting again")
                self.close()
                return

    def _flush(self, reg: Registration, record: RunRecord) -> None:
        if self.conn is None:
            return
        for out in reg.take_outgoing():
            self.conn.send(out.data)
            recording.sent(record, self.now(), self.conn, out)

    async def _handle_events(self, reg: Registration, record: RunRecord) -> None:
        for event in reg.take_events():
            if isinstance(event, TargetFailed):
                await self._failover(reg, record, event)
            elif isinstance(event, PasswordNeeded):
                password = None
                if self.prompt is not None:
                    password = await self.prompt(event.realm, event.auth_user)
                reg.provide_password(event.realm, password, self.clock())
                self._flush(reg, record)

    async def _failover(self, reg: Registration, record: RunRecord, event: TargetFailed) -> None:
        target = self.target
        recording.target_failed(record, self.now(), event)
        candidates = self._candidates()
        later = candidates[candidates.index(target) + 1 :] if target in candidates else []
        if event.redirect_to is not None:
            later = await self._redirected(record, event.redirect_to)
        if not later:
            if self.conn is not None and self.conn.transport_name != "udp":
                self.close()  # a UDP socket stays good (and keeps our Contact's port)
            reg.give_up(self.clock())
            return
        self.close()
        if await self._connect(record, later):
            assert self.conn is not None
            record.target = self.target
            reg.connect(self.conn.local.host, self.conn.local.port, self.conn.transport_name)
            reg.resume(self.clock())
            self._flush(reg, record)
        else:
            reg.give_up(self.clock())

    async def _redirected(self, record: RunRecord, uri: SipUri) -> list[Target]:
        """The targets of a 3xx's Contact (this request only: a refresh starts over)."""
        record.trace.note(self.now(), "resolve", f"redirected to {uri}")
        try:
            return list((await self.resolver(uri)).targets)
        except ResolutionError as exc:
            record.trace.note(self.now(), "error", f"cannot resolve {uri}: {exc}")
            return []

    async def _connect(self, record: RunRecord, targets: list[Target]) -> bool:
        for target in targets:
            self.target = record.target = target
            conn = await self._open(record, target)
            if conn is None:
                continue
            self.conn = conn
            self._local = (conn.local.host, conn.local.port)
            recording.connected(record, self.now(), target, conn)
            return True
        return False

    async def _open(self, record: RunRecord, target: Target) -> Connection | None:
        """A connection to ``target``, from our last local address when it can be had."""
        binds = [self._local, self.options.bind] if self._local else [self.options.bind]
        for i, bind in enumerate(binds):
            try:
                return await open_connection(
                    target.transport, target.address, target.port, bind=bind,
                    timeout=self.options.connect_timeout, tls=self.options.tls,
                    server_name=self.options.server_name or target.host,
                )  # fmt: skip
            except TransportError as exc:
                if i + 1 < len(binds) and _address_gone(exc):
                    continue  # our old port is gone: a new Contact, a new binding
                recording.connect_failed(record, self.now(), target, exc)
                return None
        return None


def _address_gone(exc: TransportError) -> bool:
    """Our old local address cannot be bound again (taken meanwhile, or no more ours)."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and cause.errno in (errno.EADDRINUSE, errno.EADDRNOTAVAIL)
