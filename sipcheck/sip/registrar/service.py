"""The registrar core's one entry point: bytes in, bytes out, and what happened.

``RegistrarService.receive`` takes what a socket read (a datagram, or a chunk of a TCP
or TLS stream), where it came from and the caller's ``now``, and returns an ``Output``:
the bytes to send back, each with its delay; the attempts that ended; whether to close
the connection. Everything between is here, sans-I/O: faults (``faults.py``), stream
framing (RFC 3261 §18.3), parsing, the server's Via stamp (RFC 3261 §18.2.1
``received``, RFC 3581 ``rport``), REGISTER processing (``core.py``), counters, and the
attempt bookkeeping (``attempts.py``).

``now`` is seconds since ``wall_start`` (a POSIX time the caller read once, for the Date
header and the Traces' wall-clock start). ``next_timer`` says when ``handle_timer`` is
next due: an attempt whose challenge went unanswered ends there. The shell only moves
bytes, arms that one timer and hands ended attempts to whoever prints them.

With ``record=False`` (``--quiet``, load tests) nothing is kept per request: no Trace,
no attempts, no timer; the counters still count.

Whatever arrives, what the service keeps is bounded (``limits.py``): the stream framer
(``framing.py``) stops a message over its limits (answered 413 or 513, the connection
closed), the attempt book its attempts, and only the first unparseable message of each
second is recorded. ``receive`` never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from sipcheck.errors import SipParseError
from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.sip.registrar.attempts import NO_ANSWER_SECONDS, AttemptBook, AttemptLog
from sipcheck.sip.registrar.core import Registrar
from sipcheck.sip.registrar.faults import FaultInjector, Faults
from sipcheck.sip.registrar.responses import make_response, stamp_via
from sipcheck.sip.wire.framing import BoundedFramer, Oversized
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.parser import parse_message
from sipcheck.trace import Address

if TYPE_CHECKING:
    import random

_UPPER = {"udp": "UDP", "tcp": "TCP", "tls": "TLS", "ws": "WS", "wss": "WSS"}
_CONTENT_LENGTH_LINE = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[^\r\n]*")


@dataclass
class Stats:
    requests: int = 0  # messages received (requests, responses, unparseable)
    responses: dict[int, int] = field(default_factory=dict)  # status -> count sent
    dropped: int = 0  # lost on purpose (--drop)
    unparseable: int = 0
    # unparseable messages only counted: beyond Limits.unparseable_records_per_second
    unparseable_unrecorded: int = 0
    too_large: int = 0  # stream messages over a limit (answered 413/513 when possible)
    internal_errors: int = 0  # inputs that met a bug in sipcheck (dropped, never raised)


_LIMITS_OWNER = "this registrar's"  # an Oversized says whose limit it was


class Send(NamedTuple):
    data: bytes
    delay: float = 0.0  # seconds to wait before sending it (--delay)


class Output(NamedTuple):
    """What one ``receive`` produced; every field may be empty."""

    sends: tuple[Send, ...] = ()  # to the source, in order (same connection on a stream)
    ended: tuple[AttemptLog, ...] = ()  # attempts that ended with this input
    close: bool = False  # close the connection: the stream cannot be framed
    handled: tuple[Attempt, ...] = ()  # the record of each message answered or refused
    error: Exception | None = None  # the bug this input met (``receive`` never raises)
    # the attempt this request left open, waiting for the client's next request
    # (challenged, or 423); None for a retransmission: it was open already
    waiting: AttemptLog | None = None


NOTHING = Output()


class RegistrarService:
    def __init__(
        self,
        registrar: Registrar,
        *,
        faults: Faults | None = None,
        rng: random.Random | None = None,
        record: bool = True,
        wall_start: float = 0.0,
        no_answer: float = NO_ANSWER_SECONDS,
    ) -> None:
        faults = faults or Faults()
        if (faults.drop or faults.busy) and rng is None:
            raise ValueError("--drop and --busy need an injected random.Random")
        self.registrar = registrar
        self.faults = faults
        self.stats = Stats()
        self.wall_start = wall_start
        self.record = record
        limits = registrar.config.limits
        self.limits = limits
        self._book = (
            AttemptBook(
                wall_start,
                no_answer=no_answer,
                max_open=limits.max_open_attempts,
                max_messages=limits.max_attempt_messages,
                max_age=limits.max_attempt_seconds,
                max_octets=limits.max_recorded_octets,
            )
            if record
            else None
        )
        self._injector = FaultInjector(faults, rng) if rng is not None else None
        self._drop = bool(faults.drop)
        self._busy = bool(faults.busy)
        self._delay = faults.delay
        self._unparseable_second = -1  # the second (int(now)) the count below is for
        self._unparseable_recorded = 0
        self._framers: dict[tuple[str, Address, Address], BoundedFramer] = {}

    # --- the entry point -----------------------------------------------------------

    def receive(
        self, data: bytes, *, source: Address, local: Address, transport: str, now: float
    ) -> Output:
        """Handle what arrived on ``local`` from ``source`` over ``transport``.

        ``transport`` is ``udp``, ``tcp`` or ``tls``; for UDP ``data`` is one datagram,
        for a stream any chunk of it (the service keeps a framer per connection until
        ``connection_lost``).

        Never raises: an input that meets a bug in sipcheck is counted
        (``stats.internal_errors``), returned in ``Output.error`` for the shell to
        report, and dropped (its connection closed), so one bad message cannot stop
        the registrar or print a traceback per datagram.
        """
        try:
            if transport == "udp":
                return self._message(data, source, local, transport, now)
            return self._stream(data, source, local, transport, now)
        except Exception as exc:
            self.stats.internal_errors += 1
            if transport != "udp":
                self._framers.pop((transport, source, local), None)
            return Output(close=transport != "udp", error=exc)

    @property
    def attempts_cut_short(self) -> int:
        """Attempts ended early by a limit (too many open, too long, too many messages)."""
        return self._book.cut_short if self._book is not None else 0

    def next_timer(self) -> float | None:
        """The ``now`` at which ``handle_timer`` is due; None when nothing waits."""
        return self._book.next_timer() if self._book is not None else None

    def handle_timer(self, now: float) -> tuple[AttemptLog, ...]:
        """The attempts that ended by waiting (an unanswered challenge, silence)."""
        return tuple(self._book.expire(now)) if self._book is not None else ()

    def connection_lost(self, source: Address, local: Address, transport: str) -> None:
        self._framers.pop((transport, source, local), None)

    def close(self, now: float) -> tuple[AttemptLog, ...]:
        """End every attempt still open (the registrar stops)."""
        self._framers.clear()
        return tuple(self._book.close(now)) if self._book is not None else ()

    # --- internals -------------------------------------------------------------------

    def _stream(
        self, data: bytes, source: Address, local: Address, transport: str, now: float
    ) -> Output:
        key = (transport, source, local)
        framer = self._framers.get(key)
        if framer is None:
            limits = self.limits
            framer = BoundedFramer(limits.max_header_octets, limits.max_body_octets)
            self._framers[key] = framer
        try:
            messages = framer.feed(data)
        except SipParseError:
            # RFC 3261 §18.3: a stream that cannot be framed must be closed.
            del self._framers[key]
            return Output(close=True)
        sends: list[Send] = []
        if framer.pings:
            sends.append(Send(b"\r\n" * framer.pings))  # RFC 5626 §3.5.1 pong
            framer.pings = 0
        oversized = framer.oversized
        if not messages and oversized is None:
            return Output(tuple(sends)) if sends else NOTHING
        ended: list[AttemptLog] = []
        handled: list[Attempt] = []
        for message in messages:
            out = self._message(message, source, local, transport, now)
            sends.extend(out.sends)
            ended.extend(out.ended)
            handled.extend(out.handled)
        if oversized is None:
            return Output(tuple(sends), tuple(ended), False, tuple(handled))
        del self._framers[key]
        out = self._too_large(oversized, source, local, transport, now)
        sends.extend(out.sends)
        ended.extend(out.ended)
        handled.extend(out.handled)
        return Output(tuple(sends), tuple(ended), True, tuple(handled))

    def _too_large(
        self, oversized: Oversized, source: Address, local: Address, transport: str, now: float
    ) -> Output:
        """A stream message over a limit: 413 (body) or 513 (header section) when what
        came of its header says where to answer, then the connection closes."""
        stats = self.stats
        stats.requests += 1
        stats.too_large += 1
        # The header as received, with a Content-Length that its (absent) body matches
        # (or none: the lines before an endless one may not hold it).
        head = _CONTENT_LENGTH_LINE.sub(b"Content-Length: 0", oversized.head).rstrip(b"\r\n")
        try:
            message = parse_message(head + b"\r\n\r\n")
        except SipParseError:
            message = None
        request = message if isinstance(message, Request) and message.header("Via") else None
        method = request.method if request is not None else "?"
        attempt = Attempt(method, (source.host, source.port), _UPPER.get(transport, transport), now)
        # RFC 3261 §21.4.14 (413), §21.5.11 (513); §18.3: the stream is closed after.
        status = 413 if oversized.what == "body" else 513
        attempt.add(
            "message-too-large",
            f"{oversized.describe(_LIMITS_OWNER)}; "
            + (f"answered {status} and closed" if request is not None else "closed")
            + " the connection",
        )
        sends: tuple[Send, ...] = ()
        out = b""
        if request is not None:
            attempt.call_id = request.call_id
            stamp_via(request, source.host, source.port)
            response = make_response(
                request, status, headers=[("Server", self.registrar.config.server)]
            )
            attempt.status, attempt.reason = response.status, response.reason
            out = response.to_bytes()
            sends = (Send(out),)
            stats.responses[status] = stats.responses.get(status, 0) + 1
        if self._book is None:
            return Output(sends, (), True, (attempt,))
        note = oversized.describe(_LIMITS_OWNER)
        log = self._book.single(oversized.head, out, note, attempt, source, local, transport, now)
        return Output(sends, (log,), True, (attempt,))

    def _message(
        self, data: bytes, source: Address, local: Address, transport: str, now: float
    ) -> Output:
        stats = self.stats
        stats.requests += 1
        injector = self._injector
        if self._drop and injector is not None and injector.drops():
            stats.dropped += 1
            return NOTHING
        try:
            message = parse_message(data, stream=transport != "udp")
        except SipParseError as exc:
            stats.unparseable += 1
            bad = Attempt("?", (source.host, source.port), transport, now)
            bad.add("bad-request", f"unparseable message, not answered: {exc}")
            if self._book is None:
                return Output(handled=(bad,))
            second = int(now)
            if second != self._unparseable_second:
                self._unparseable_second, self._unparseable_recorded = second, 0
            if self._unparseable_recorded >= self.limits.unparseable_records_per_second:
                stats.unparseable_unrecorded += 1  # a flood: counted, not recorded
                return Output(handled=(bad,))
            self._unparseable_recorded += 1
            log = self._book.single(data, b"", str(exc), bad, source, local, transport, now)
            return Output(ended=(log,), handled=(bad,))
        if not isinstance(message, Request):
            return NOTHING  # a response sent to the registrar: nothing to answer
        stamp_via(message, source.host, source.port)
        peer = (source.host, source.port)
        upper = _UPPER.get(transport) or transport.upper()
        if self._busy and injector is not None and injector.busy():
            response, attempt = injector.busy_response(message, peer, upper, now)
            out = response.to_bytes()
        else:
            result = self.registrar.handle(
                message, now, source=peer, transport=upper, wall_time=self.wall_start + now
            )
            attempt = result.attempt
            if result.response is None:
                return Output(handled=(attempt,))  # ACK, or nowhere to send a response
            out = result.wire if result.wire is not None else result.response.to_bytes()
        responses = stats.responses
        status = attempt.status
        responses[status] = responses.get(status, 0) + 1
        delay = self._delay
        book = self._book
        if book is not None:
            ended = book.record(
                data, out, message.call_id, attempt, source, local, transport, now, delay
            )
            if ended:
                return Output((Send(out, delay),), ended, False, (attempt,))
            if not attempt.retransmission:
                waiting = book.waiting(message.call_id, source)
                return Output((Send(out, delay),), (), False, (attempt,), None, waiting)
        return Output((Send(out, delay),), (), False, (attempt,))
