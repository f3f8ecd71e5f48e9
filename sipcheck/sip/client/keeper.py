"""One watched registration as a state machine: its states, its schedule, its lapses.

States as user agents name them (Linphone's): None, Progress, Ok, Failed, Cleared.
The shell starts the ``Keeper``, asks ``next_timer()`` when to wake, calls
``handle_timer(now)`` for the ``Action`` due, runs it (a ``Registration`` prepared by
``refresh.prepare``) and reports what it ended with as an ``Exchange``; the keeper
answers with ``WatchEvent``s (``take_events``) and the next time. ``stop(now)`` asks
for the unregistration (or clears at once when no binding can be left). Sans-I/O:
the time comes in, the jitter comes from the ``random.Random`` given.

Lapses and changes carry stable ids: a failed request's own diagnosis id (timeout,
credentials-rejected, forbidden, interval-too-brief ...), or one of the ids below.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sipcheck.errors import LocalProtocolError
from sipcheck.sip.client.refresh import Action, RefreshPolicy, backoff_delay, refresh_delay
from sipcheck.sip.client.watch_stats import Tally

# Lapses (Failed) only a watch sees
CONTACT_MISSING = "contact-missing"  # a 200 that does not list our Contact
BINDING_GONE = "binding-gone"  # a query's 200 no longer lists it
# Changes (the state stays Ok)
EXPIRY_SHORTENED = "expiry-shortened"
INTERVAL_RAISED = "interval-raised"  # a 423 made us ask for Min-Expires
SEEN_AS_CHANGED = "seen-as-changed"  # received/rport: NAT rebinding
TARGET_CHANGED = "target-changed"  # DNS or failover to another address
SERVER_CHANGED = "server-changed"  # the Server header: another box
# At the end
BINDING_NOT_REMOVED = "binding-not-removed"


class State(str, Enum):
    NONE = "None"
    PROGRESS = "Progress"
    OK = "Ok"
    FAILED = "Failed"
    CLEARED = "Cleared"


@dataclass(frozen=True)
class Exchange:
    """What one request (its challenges and failovers included) ended with."""

    started: float  # the first request sent
    ended: float
    ok: bool  # a 2xx, and nothing the run itself calls a failure
    cause: str | None = None  # the diagnosis id when not ok
    detail: str = ""  # why, in plain words ("timed out: no answer from ...")
    ours: bool = False  # the 2xx lists our Contact as bound
    granted: int | None = None  # and grants it this many seconds
    server: str | None = None  # Server header of the final response
    seen_as: str | None = None  # received/rport of the top Via
    target: str | None = None  # "udp:127.0.0.1:5060": where it went in the end
    rrd: float | None = None  # seconds, RFC 6076 §4.1 (a REGISTER's 2xx)
    raised_to: int | None = None  # a 423 made us ask for this interval
    retry_after: float | None = None


@dataclass(frozen=True)
class WatchEvent:
    """One line of the watch: a transition, a refresh, a retry or a change."""

    time: float
    account: str
    kind: str  # "state" | "refresh" | "retry" | "change"
    previous: State
    state: State
    cause: str | None = None
    action: Action | None = None  # what ran, when an exchange led to this
    detail: str = ""
    granted: int | None = None
    next_in: float | None = None  # seconds to the next refresh or retry
    outage: float | None = None  # a recovery: how long it was Failed
    attempts: int = 0  # failed attempts in a row (a recovery: the attempts it took)
    old: str | None = None  # a change: the value before
    new: str | None = None  # and now


@dataclass(frozen=True)
class _Seen:
    server: str | None
    seen_as: str | None
    target: str | None


class Keeper:
    def __init__(self, account: str, policy: RefreshPolicy, *, rng: random.Random) -> None:
        self.account = account
        self.policy = policy
        self.rng = rng
        self.state = State.NONE
        self.tally = Tally(account)
        self.events: list[WatchEvent] = []
        self.expires_at: float | None = None  # when the last binding granted runs out
        self.refresh_at: float | None = None
        self._due: tuple[float, Action] | None = None
        self._busy: Action | None = None
        self._granted: int | None = None
        self._seen: _Seen | None = None
        self._attempts = 0  # failed attempts since the last success
        self._failed_since: float | None = None

    # ------------------------------------------------------------ shell API

    def start(self, now: float) -> None:
        if self.state is not State.NONE:
            raise LocalProtocolError("start() called twice")
        self._move(now, State.PROGRESS, detail="registering")
        self._due = (now, Action.REGISTER)

    @property
    def busy(self) -> Action | None:
        """The action in flight (the shell owes an ``exchanged``), or None."""
        return self._busy

    @property
    def due(self) -> tuple[float, Action] | None:
        return None if self._busy is not None else self._due

    def next_timer(self) -> float | None:
        due = self.due
        return None if due is None else due[0]

    def handle_timer(self, now: float) -> Action | None:
        """The action due by ``now``, now in flight; None when nothing is due."""
        due = self.due
        if due is None or now < due[0]:
            return None
        self._due, self._busy = None, due[1]
        return due[1]

    def exchanged(self, ex: Exchange) -> None:
        action = self._busy
        if action is None:
            raise LocalProtocolError("exchanged() without an action in flight")
        self._busy = None
        if action is Action.UNREGISTER:
            self._cleared(ex)
        elif action is Action.QUERY:
            self._queried(ex)
        elif not ex.ok:
            self._failed(action, ex, ex.cause or "timeout", ex.detail)
        elif not ex.ours or not ex.granted:
            self._failed(action, ex, CONTACT_MISSING, _missing(ex))
        else:
            self._registered(action, ex)

    def stop(self, now: float) -> Action | None:
        """Stop watching. UNREGISTER (now in flight) when a binding of ours may be
        there; otherwise the state is Cleared at once and None is returned."""
        if self.state is State.CLEARED:
            return None
        in_flight = self._busy in (Action.REGISTER, Action.REFRESH)
        self._due, self._busy = None, None
        self.tally.stop(now)
        live = self.expires_at is not None and self.expires_at > now
        if in_flight or live:
            self._busy = Action.UNREGISTER
            return Action.UNREGISTER
        self._move(now, State.CLEARED, detail="stopped; no binding of ours to remove")
        return None

    def take_events(self) -> list[WatchEvent]:
        out, self.events = self.events, []
        return out

    # ------------------------------------------------------------ internals

    def _event(self, now: float, kind: str, state: State, **extra: Any) -> None:
        self.events.append(WatchEvent(now, self.account, kind, self.state, state, **extra))

    def _move(self, now: float, state: State, **extra: Any) -> None:
        self._event(now, "state", state, **extra)
        self.state = state
        self.tally.enter(now, state.value)

    def _changes(self, ex: Exchange) -> None:
        seen = _Seen(ex.server, ex.seen_as, ex.target)
        before, self._seen = self._seen, seen
        if before is None:
            return
        for cause, old, new in (
            (TARGET_CHANGED, before.target, seen.target),
            (SERVER_CHANGED, before.server, seen.server),
            (SEEN_AS_CHANGED, before.seen_as, seen.seen_as),
        ):
            if old != new:
                self._event(ex.ended, "change", self.state, cause=cause, old=old, new=new)

    def _registered(self, action: Action, ex: Exchange) -> None:
        granted = ex.granted
        assert granted is not None
        self._changes(ex)
        if self._granted is not None and granted < self._granted:
            self._event(
                ex.ended, "change", self.state, cause=EXPIRY_SHORTENED,
                old=str(self._granted), new=str(granted),
            )  # fmt: skip
        if ex.raised_to is not None:
            self._event(
                ex.ended, "change", self.state, cause=INTERVAL_RAISED, new=str(ex.raised_to)
            )
        self._granted = granted
        self.expires_at = ex.started + granted
        self.refresh_at = ex.started + refresh_delay(granted, self.policy.margin)
        due = max(self.refresh_at, ex.ended)
        self._due = (due, Action.REFRESH)
        self._schedule_query(ex.ended)
        self.tally.succeeded(ex.rrd, refresh=self.state is State.OK)
        common: dict[str, Any] = {"action": action, "granted": granted, "next_in": due - ex.ended}
        if self.state is State.OK:
            self._event(ex.ended, "refresh", State.OK, **common)
        elif self.state is State.FAILED:
            outage = ex.ended - (self._failed_since or ex.ended)
            self._move(ex.ended, State.OK, outage=outage, attempts=self._attempts, **common)
        else:
            self._move(ex.ended, State.OK, **common)
        self._attempts = 0
        self._failed_since = None

    def _schedule_query(self, now: float) -> None:
        every = self.policy.query_every
        if every is None or self._due is None:
            return
        if now + every < self._due[0]:
            self._due = (now + every, Action.QUERY)

    def _queried(self, ex: Exchange) -> None:
        if not ex.ok:
            self._failed(Action.QUERY, ex, ex.cause or "timeout", ex.detail)
            return
        if not ex.ours:
            self._failed(Action.QUERY, ex, BINDING_GONE, _gone(ex))
            return
        self._changes(ex)
        assert self.refresh_at is not None
        self._due = (max(self.refresh_at, ex.ended), Action.REFRESH)
        self._schedule_query(ex.ended)

    def _failed(self, action: Action, ex: Exchange, cause: str, detail: str) -> None:
        self._attempts += 1
        self.tally.failed(cause)
        if cause == BINDING_GONE:
            delay = 0.0  # nothing is wrong with the server: register again at once
        else:
            delay = backoff_delay(self._attempts, self.rng.random(), self.policy, ex.retry_after)
        self._due = (ex.ended + delay, Action.REGISTER)
        common: dict[str, Any] = {
            "cause": cause, "action": action, "detail": detail,
            "next_in": delay, "attempts": self._attempts,
        }  # fmt: skip
        if self.state is State.FAILED:
            self._event(ex.ended, "retry", State.FAILED, **common)
            return
        self._failed_since = ex.ended
        self._move(ex.ended, State.FAILED, **common)

    def _cleared(self, ex: Exchange) -> None:
        common: dict[str, Any] = {"action": Action.UNREGISTER}
        if ex.ok and ex.ours:
            common.update(cause=BINDING_NOT_REMOVED, granted=ex.granted)
        elif not ex.ok:
            common.update(cause=ex.cause, detail=ex.detail)
            if self.expires_at is not None and self.expires_at > ex.ended:
                common["next_in"] = self.expires_at - ex.ended  # when it lapses by itself
        self.expires_at = None
        self._move(ex.ended, State.CLEARED, **common)


def _missing(ex: Exchange) -> str:
    if ex.ours:
        return "the 200 lists our Contact with no expiry left"
    return "the 200 does not list our Contact: the registrar did not keep our binding"


def _gone(ex: Exchange) -> str:
    return "the registrar no longer lists our Contact (another device or a restart took it)"
