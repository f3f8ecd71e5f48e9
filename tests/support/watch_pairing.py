"""The watch core (``Keeper``) and its registrations against scripted peers, in memory.

As ``pairing.run_pair`` runs one client run, ``WatchPair`` runs one watched binding as
``sipcheck.net.watcher`` does: the keeper says which action is due and when, the
binding's ``Registration`` (one Call-ID throughout) and a query core carry it out over
the ``Link`` to ``peers[i]`` at ``peer_address(i)``, each request's outcome is read into
an ``Exchange`` by the same ``read_exchange`` the shell uses. Everything runs on a
``FakeClock``: ``run_until(t)`` processes every datagram and timer due by ``t``.

Tests change the world between calls: replace ``peers[i]`` (a silent peer, another
registrar core, ``UNREACHABLE``), ``targets`` (a DNS change: the next request goes to
the first target listed when ours is no longer listed), or ``nat_port`` (the source
port the peers see: a NAT rebinding).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Any

from sipcheck.diagnosis.lapse import read_exchange
from sipcheck.outcome import FailureRecord, build_outcome
from sipcheck.sip.client.config import Credential, Mode, RegistrationConfig, parse_aor
from sipcheck.sip.client.events import PasswordNeeded, StrayIgnored, TargetFailed
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.keeper import Keeper, WatchEvent
from sipcheck.sip.client.refresh import Action, RefreshPolicy, prepare
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.client.transaction import Timers
from sipcheck.sip.locate.targets import Resolution, Target
from sipcheck.sip.registrar.config import RegistrarConfig
from sipcheck.trace import Address, Trace, TraceEntry
from tests.support.pairing import (
    CLIENT_HOST,
    CLIENT_PORT,
    DOWN,
    PEER_PORT,
    UP,
    Datagram,
    FakeClock,
    Link,
    PairRecord,
    Peer,
    RegistrarPeer,
    ScriptedPeer,
    Unreachable,
    peer_address,
)


def client(expires: int = 60, t1: float = 0.05) -> RegistrationConfig:
    """alice@127.0.0.1 with password "secret"; Timer F = 64 * t1 (3.2 s by default)."""
    return RegistrationConfig(
        aor=parse_aor("alice@127.0.0.1"),
        expires=expires,
        accounts=(Credential("alice", "secret"),),
        timers=Timers(t1=t1, t2=4.0, t4=5.0),
        timeout=32.0,
    )


def registrar(**options: Any) -> RegistrarConfig:
    """The registrar core with alice's account; any expiry from 1 s accepted."""
    values: dict[str, Any] = {"accounts": {"alice": "secret"}, "min_expires": 1}
    values.update(options)
    return RegistrarConfig(**values)


SILENT = ScriptedPeer(lambda request: None)  # a registrar that has gone away


class ScriptedRandom(random.Random):
    """``random()`` returns the scripted draws in turn (then 0.0): exact jitter."""

    def __init__(self, draws: list[float] | None = None) -> None:
        super().__init__(0)
        self.draws = list(draws or [])

    def random(self) -> float:
        return self.draws.pop(0) if self.draws else 0.0


@dataclass
class Done:
    """One finished request of the watch: its action, record and what it meant."""

    action: Action
    record: PairRecord


class WatchPair:
    def __init__(
        self,
        config: RegistrationConfig,
        peers: list[Peer | Unreachable | RegistrarConfig],
        *,
        policy: RefreshPolicy | None = None,
        jitter: random.Random | None = None,
        seed: int = 7,
        link: Link | None = None,
        account: str = "alice",
    ) -> None:
        self.clock = FakeClock()
        self.link = link or Link()
        self.peers: list[Peer | Unreachable] = [
            RegistrarPeer(p) if isinstance(p, RegistrarConfig) else p for p in peers
        ]
        self.targets = [Target(a.host, a.host, a.port, "udp") for a in map(peer_address, [0])]
        rng = random.Random(seed)
        self.keeper = Keeper(account, policy or RefreshPolicy(), rng=jitter or ScriptedRandom())
        self.reg = Registration(config, rng=rng, now=0.0)
        self.query = Registration(replace(config, mode=Mode.QUERY), rng=rng, now=0.0)
        self.events: list[WatchEvent] = []
        self.done: list[Done] = []
        self.nat_port: int | None = None  # the source port peers see, when set
        self.local = Address(CLIENT_HOST, CLIENT_PORT)
        self.remote: Address | None = None
        self._current: tuple[Action, Registration, PairRecord] | None = None

    # --------------------------------------------------------------- control

    def start(self) -> None:
        self.keeper.start(self.clock.now)
        self._collect()

    def run_until(self, until: float, max_steps: int = 100_000) -> None:
        for _ in range(max_steps):
            due = self._next()
            if due is None or due > until:
                self.clock.advance_to(max(self.clock.now, until))
                return
            self.clock.advance_to(max(self.clock.now, due))
            self._step()
        raise AssertionError(f"the watch did not settle within {max_steps} steps")

    def stop(self) -> None:
        """Stop as Ctrl-C does: the request in flight is dropped, then unregister."""
        now = self.clock.now
        if self._current is not None:
            reg = self._current[1]
            if not reg.done:
                reg.abort(reg.result.failure or Failure.TIMEOUT, "stopped", now)
                reg.take_events()
            self._current = None
        action = self.keeper.stop(now)
        self._collect()
        if action is Action.UNREGISTER:
            self._begin(action)
            self._settle()
            self.run_until(now + 120)

    # ----------------------------------------------------------------- views

    def of_kind(self, kind: str) -> list[WatchEvent]:
        return [e for e in self.events if e.kind == kind]

    def transitions(self) -> list[tuple[float, str, str, str | None]]:
        return [
            (round(e.time, 6), e.previous.value, e.state.value, e.cause)
            for e in self.of_kind("state")
        ]

    def sent_by(self, reg: Registration) -> list[bytes]:
        """Every new request (no retransmission) the core ``reg`` sent, in order."""
        out: list[bytes] = []
        for done in self.done:
            if done.record.registration is reg:
                out += [e.raw for e in done.record.sent if not e.retransmission]
        return out

    # -------------------------------------------------------------- the loop

    def _next(self) -> float | None:
        times = [self.link.next_delivery()]
        if self._current is not None:
            times.append(self._current[1].next_timer())
        else:
            times.append(self.keeper.next_timer())
        pending = [t for t in times if t is not None]
        return min(pending) if pending else None

    def _step(self) -> None:
        now = self.clock.now
        datagram = self.link.pop_due(now)
        if datagram is not None:
            self._deliver(datagram)
        elif self._current is not None:
            self._current[1].handle_timer(now)
        else:
            action = self.keeper.handle_timer(now)
            if action is not None:
                self._begin(action)
        self._settle()

    def _begin(self, action: Action) -> None:
        now = self.clock.now
        reg = self.query if action is Action.QUERY else self.reg
        if (
            self.remote is None
            or Target(self.remote.host, self.remote.host, self.remote.port, "udp")
            not in self.targets
        ):
            self._connect(self.targets[0])
        record = PairRecord(
            action.value, reg, Trace(), Resolution(tuple(self.targets), ()), self._target(),
            clock=self.clock, link=self.link, peers=tuple(self.peers),
        )  # fmt: skip
        record.trace.note(now, "connect", f"UDP {self.local} -> {self.remote}")
        prepare(reg, action, now)
        reg.connect(self.local.host, self.local.port, "udp")
        reg.start(now)
        self._current = (action, reg, record)

    def _target(self) -> Target | None:
        if self.remote is None:
            return None
        return Target(self.remote.host, self.remote.host, self.remote.port, "udp")

    def _connect(self, target: Target) -> None:
        self.remote = Address(target.address, target.port)

    def _settle(self) -> None:
        while self._current is not None:
            action, reg, record = self._current
            for out in reg.take_outgoing():
                entry = TraceEntry(
                    "out", self.clock.now, self.local, self.remote or self.local, "udp",
                    out.data, out.retransmission,
                )  # fmt: skip
                record.trace.add(entry)
                source = (
                    self.local if self.nat_port is None else replace(self.local, port=self.nat_port)
                )
                self.link.send(UP, source, self.remote or self.local, out.data, self.clock.now)
            events = reg.take_events()
            if not events:
                if reg.done:
                    self._finish(action, reg, record)
                return
            record.events.extend(events)
            for event in events:
                if isinstance(event, TargetFailed):
                    self._failover(reg, record, event)
                elif isinstance(event, PasswordNeeded):
                    reg.provide_password(event.realm, None, self.clock.now)

    def _failover(self, reg: Registration, record: PairRecord, event: TargetFailed) -> None:
        """As the shell: the next target listed after the failed one, else give up."""
        failed = self._target() or self.targets[0]
        record.failures.append(FailureRecord(failed, event.reason, event.detail))
        later = self.targets[self.targets.index(failed) + 1 :] if failed in self.targets else []
        if not later:
            reg.give_up(self.clock.now)
            return
        self._connect(later[0])
        record.target = later[0]
        reg.resume(self.clock.now)

    def _finish(self, action: Action, reg: Registration, record: PairRecord) -> None:
        self._current = None
        outcome = build_outcome(record)
        exchange = read_exchange(
            record, outcome, ended=self.clock.now, contact=self.reg.contact_uri
        )
        self.done.append(Done(action, record))
        self.keeper.exchanged(exchange)
        self._collect()

    def _collect(self) -> None:
        self.events += self.keeper.take_events()

    def _deliver(self, datagram: Datagram) -> None:
        now = self.clock.now
        if datagram.direction == UP:
            index = (datagram.destination.port - PEER_PORT) // 10
            peer = self.peers[index]
            if isinstance(peer, Unreachable):
                if self._current is not None:
                    _, reg, record = self._current
                    record.trace.note(now, "error", peer.detail, "send")
                    reg.transport_error(peer.detail, now)
                return
            answer = peer.handle(datagram.data, now, datagram.source)
            if answer is not None:
                self.link.send(DOWN, datagram.destination, datagram.source, answer, now)
            return
        if self._current is None:
            return  # between requests: a late answer nobody waits for
        _, reg, record = self._current
        entry = record.trace.add(
            TraceEntry("in", now, self.local, datagram.source, "udp", datagram.data)
        )
        reg.receive(datagram.data, now)
        for event in reg.events:
            if isinstance(event, StrayIgnored) and event.raw is datagram.data:
                entry.note = f"ignored: {event.reason}"
