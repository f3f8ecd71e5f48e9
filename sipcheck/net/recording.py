"""What a client driver writes into its run's record as octets cross the wire and
connections fail: one spelling for ``sipcheck.net.client`` (one-shot commands) and
``sipcheck.net.watch_link`` (``watch``), so that both Traces read alike."""

from __future__ import annotations

from sipcheck.diagnosis.facts import STEP_CONNECT, STEP_SEND, STEP_TLS
from sipcheck.errors import ConnectTimeout, HandshakeTimeout, TLSFailure, TransportError
from sipcheck.net.transports import Connection, Failed, Received
from sipcheck.outcome import FailureRecord, RunRecord
from sipcheck.sip.client.events import Event, StrayIgnored, TargetFailed
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.transaction import Outgoing
from sipcheck.sip.locate.targets import Target
from sipcheck.trace import TraceEntry

# The most specific first: a HandshakeTimeout is a TLSFailure is a TransportError.
_CONNECT_ERRORS: tuple[tuple[type[TransportError], Failure, str], ...] = (
    (HandshakeTimeout, Failure.TLS_HANDSHAKE_TIMEOUT, STEP_TLS),
    (TLSFailure, Failure.TLS_FAILED, STEP_TLS),
    (ConnectTimeout, Failure.CONNECT_TIMEOUT, STEP_CONNECT),
    (TransportError, Failure.UNREACHABLE, STEP_CONNECT),
)


def connected(
    record: RunRecord, now: float, target: Target, conn: Connection, *, reused: bool = False
) -> None:
    what = f"{target.transport.upper()} {conn.local} -> {conn.remote}"
    if reused:
        what += " (kept open from the previous run)"
    record.trace.note(now, "connect", what)
    if conn.tls is not None:
        record.trace.tls = conn.tls


def connect_failed(record: RunRecord, now: float, target: Target, exc: TransportError) -> str:
    """A connection to ``target`` could not be had: the failure and its note; the detail."""
    failure, step = next((f, s) for t, f, s in _CONNECT_ERRORS if isinstance(exc, t))
    detail = exc.message + (f" ({exc.hint})" if exc.hint else "")
    record.failures.append(FailureRecord(target, failure, exc.message))
    timed_out = failure in (Failure.CONNECT_TIMEOUT, Failure.TLS_HANDSHAKE_TIMEOUT)
    record.trace.note(now, "timeout" if timed_out else "error", detail, step)
    return detail


def target_failed(record: RunRecord, now: float, event: TargetFailed) -> None:
    """The core gave up on the current target (a timeout, a 503, a redirect...)."""
    if record.target is None:
        return
    record.failures.append(FailureRecord(record.target, event.reason, event.detail))
    if event.reason is Failure.TIMEOUT:
        record.trace.note(now, "timeout", event.detail, STEP_SEND)


def sent(record: RunRecord, now: float, conn: Connection, out: Outgoing) -> TraceEntry:
    entry = TraceEntry(
        "out", now, conn.local, conn.remote, conn.transport_name, out.data, out.retransmission
    )
    return record.trace.add(entry)


def received(
    record: RunRecord, now: float, conn: Connection, item: Received, events: list[Event]
) -> TraceEntry:
    """What came in; ``events`` (the core's, after it read it) say if it was ignored."""
    entry = record.trace.add(
        TraceEntry("in", now, conn.local, item.source, conn.transport_name, item.data)
    )
    for event in events:
        if isinstance(event, StrayIgnored) and event.raw is item.data:
            entry.note = f"ignored: {event.reason}"
    return entry


def transport_failed(record: RunRecord, now: float, item: Failed) -> None:
    """The connection broke (or a datagram was refused) while the request was under way."""
    record.trace.note(now, "error", item.detail, STEP_SEND)
