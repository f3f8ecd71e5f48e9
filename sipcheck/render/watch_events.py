"""``sipcheck watch`` output: each event as one line or one JSON object, the summary,
the terminal's status line. Pure functions of the core's values and wall-clock times.

A line: ``14:02:11 trunk1 Ok -> Failed  refresh timed out: no answer from
203.0.113.7:5060/udp (3 retransmissions); retry in 1 s``; an event that changes no
state shows the one state (``14:02:41 trunk1 Ok  refreshed: ...``).

JSON lines, schema version 1: every object has ``schema_version``, ``event``
("state" | "refresh" | "retry" | "change", and "summary" last), ``time`` (ISO 8601,
UTC), ``account``, ``previous`` and ``state`` (None, Progress, Ok, Failed, Cleared),
``cause`` (a diagnosis id, or null) and ``message``; then ``action``, ``granted_s``,
``next_in_s``, ``outage_s``, ``attempts``, ``old`` and ``new`` (null when not known).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

from sipcheck.render.json_out import SCHEMA_VERSION, JsonValue
from sipcheck.sip.client.keeper import State, WatchEvent
from sipcheck.sip.client.refresh import Action
from sipcheck.sip.client.watch_stats import Summary

_VERB = {Action.REGISTER: "registration", Action.REFRESH: "refresh", Action.QUERY: "query"}
_WORDS = ("timed out", "refused", "failed")


def spoken(seconds: float) -> str:
    """``0.25 s``, ``29 s``, ``2 min 14 s``, ``1 h 5 min``."""
    if seconds < 10:
        text = f"{seconds:.1f}".rstrip("0").rstrip(".")
        return f"{text} s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, rest = divmod(whole, 3600)
    return f"{hours} h" + (f" {rest // 60} min" if rest // 60 else "")


def _granted(event: WatchEvent) -> str:
    text = f"{event.granted} s granted"
    if event.next_in is not None:
        text += f", next refresh in {spoken(event.next_in)}"
    return text


def _failure(verb: str, event: WatchEvent) -> str:
    detail = event.detail
    joined = f"{verb} {detail}" if detail.startswith(_WORDS) else f"{verb}: {detail}"
    return joined


def _attempts(n: int) -> str:
    return "1 attempt" if n == 1 else f"{n} attempts"


def message(event: WatchEvent) -> str:
    """The event in plain words (the text after the states)."""
    kind, state, cause = event.kind, event.state, event.cause
    if kind == "change":
        return _change(event)
    if kind == "refresh":
        return f"refreshed: {_granted(event)}"
    if kind == "retry":
        wait = spoken(event.next_in or 0.0)
        return f"{_failure(f'attempt {event.attempts}', event)}; next retry in {wait}"
    if state is State.OK and event.previous is State.FAILED:
        outage = spoken(event.outage or 0.0)
        return f"after {outage}, {_attempts(event.attempts)}: {_granted(event)}"
    if state is State.OK:
        return f"registered: {_granted(event)}"
    if state is State.FAILED:
        verb = _VERB.get(event.action or Action.REGISTER, "registration")
        if cause == "binding-gone":
            return f"query: {event.detail}; registering again now"
        return f"{_failure(verb, event)}; retry in {spoken(event.next_in or 0.0)}"
    if state is State.CLEARED and event.action is Action.UNREGISTER:
        if cause is None:
            return "unregistered: no binding of ours left"
        if cause == "binding-not-removed":
            return f"unregister answered 200, but our Contact is still bound ({event.granted} s)"
        text = _failure("unregister", event)
        if event.next_in is not None:
            text += f"; the binding lapses by itself in {spoken(event.next_in)}"
        return text
    return event.detail


def _change(event: WatchEvent) -> str:
    old, new = event.old, event.new
    cause = event.cause
    if cause == "target-changed":
        return f"target changed: {old} -> {new} (DNS or a failover)"
    if cause == "server-changed":
        return f"Server header changed: {old!r} -> {new!r} (a failover to another box?)"
    if cause == "seen-as-changed":
        return f"the registrar sees us at {new} now, not {old} (NAT rebinding?)"
    if cause == "expiry-shortened":
        return f"the registrar shortened the expiry: {new} s granted, {old} s before"
    if cause == "interval-raised":
        return f"423 Interval Too Brief: asking for {new} s (the registrar's Min-Expires) now"
    return f"{cause}: {old} -> {new}"


def clock(wall: float) -> str:
    return datetime.fromtimestamp(wall).strftime("%H:%M:%S")


def iso(wall: float) -> str:
    return datetime.fromtimestamp(wall, tz=timezone.utc).isoformat(timespec="milliseconds")


def event_line(event: WatchEvent, wall: float) -> str:
    if event.kind == "state":
        states = f"{event.previous.value} -> {event.state.value}"
    else:
        states = event.state.value
    return f"{clock(wall)} {event.account} {states}  {message(event)}"


def event_json(event: WatchEvent, wall: float) -> dict[str, JsonValue]:
    return {
        "schema_version": SCHEMA_VERSION,
        "event": event.kind,
        "time": iso(wall),
        "account": event.account,
        "previous": event.previous.value,
        "state": event.state.value,
        "cause": event.cause,
        "message": message(event),
        "action": None if event.action is None else event.action.value,
        "granted_s": event.granted,
        "next_in_s": None if event.next_in is None else round(event.next_in, 3),
        "outage_s": None if event.outage is None else round(event.outage, 3),
        "attempts": event.attempts,
        "old": event.old,
        "new": event.new,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def _percent(summary: Summary) -> str:
    share = summary.availability
    return "-" if share is None else f"{share:.1f} %"


def summary_line(summary: Summary) -> str:
    parts = [
        f"registered {spoken(summary.registered)} of {spoken(summary.watched)} "
        f"({_percent(summary)})",
        "1 refresh" if summary.refreshes == 1 else f"{summary.refreshes} refreshes",
    ]
    if summary.failures:
        parts.append("failures: " + ", ".join(f"{k} {v}" for k, v in summary.failures.items()))
    else:
        parts.append("no failures")
    if summary.rrd_max is not None:
        p50, p95, top = (_ms(v) for v in (summary.rrd_p50, summary.rrd_p95, summary.rrd_max))
        parts.append(f"RRD p50 {p50:g} ms, p95 {p95:g} ms, max {top:g} ms")
    if summary.outages:
        parts.append(f"longest outage {spoken(summary.longest_outage)} ({summary.outages} in all)")
    return f"{summary.account}: " + "; ".join(parts)


def summary_json(
    summaries: Sequence[Summary], wall: float, exit_status: int
) -> dict[str, JsonValue]:
    accounts: list[JsonValue] = [
        {
            "account": s.account,
            "state": s.state,
            "watched_s": round(s.watched, 3),
            "registered_s": round(s.registered, 3),
            "availability_percent": None if s.availability is None else round(s.availability, 3),
            "refreshes": s.refreshes,
            "failures": dict(s.failures),
            "rrd_ms": {"p50": _ms(s.rrd_p50), "p95": _ms(s.rrd_p95), "max": _ms(s.rrd_max)},
            "outages": s.outages,
            "longest_outage_s": round(s.longest_outage, 3),
        }
        for s in summaries
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "event": "summary",
        "time": iso(wall),
        "accounts": accounts,
        "exit_status": exit_status,
    }


def status_line(states: Sequence[tuple[str, State, float | None, Action | None]]) -> str:
    """``2 Ok, 1 Failed; next: trunk1 refresh in 12 s``."""
    counts: dict[str, int] = {}
    for _, state, _, _ in states:
        counts[state.value] = counts.get(state.value, 0) + 1
    text = ", ".join(f"{n} {name}" for name, n in counts.items())
    pending = [(t, name, a) for name, _, t, a in states if t is not None and a is not None]
    if pending:
        when, name, action = min(pending, key=lambda p: p[0])
        text += f"; next: {name} {action.value} in {spoken(when)}"
    return text
