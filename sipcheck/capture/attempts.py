"""SIP messages -> registration attempts: the REGISTER transactions one client
made toward one registration, with the responses it got.

Requests are grouped by Call-ID and the address that sent them (so the two legs
of a proxy, which share Call-ID and CSeq, stay apart); a response joins the
attempt of the request it answers (same Call-ID, CSeq and the address it is
sent to). A REGISTER starts a new attempt when the last one is over: its final
response was not a challenge, a 423 or a redirect (a 5xx is over unless the
next request goes to another server: failover); a challenge followed by a
REGISTER without credentials (the client started again); an unanswered request
followed by a new one; a lower CSeq; or ``IDLE_SECONDS`` of silence. A request
with a CSeq seen before is a retransmission.

Memory stays bounded on long captures: an attempt is handed on as soon as it is
over, and at most ``MAX_OPEN`` wait at a time.
"""

from __future__ import annotations

import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace

from sipcheck.capture.messages import Refused, WireMessage
from sipcheck.diagnosis.facts import STEP_SEND
from sipcheck.errors import SipParseError
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.message import Request, Response
from sipcheck.sip.wire.parser import parse_message
from sipcheck.trace import Address, Note, Trace, TraceEntry

IDLE_SECONDS = 120.0  # silence that ends an attempt not over (phones answer challenges late)
MAX_OPEN = 50_000
MAX_RECENT = 10_000  # attempts over whose late retransmissions are still recognised
MAX_ERRORS = 100  # unparseable messages listed (all are counted)
_CSEQ = re.compile(rb"(?im)^(?:cseq)[ \t]*:[ \t]*([0-9]+)[ \t]+([^\s]+)")
_CONTINUES = frozenset({401, 407, 423})


@dataclass
class Attempt:
    call_id: str
    client: Address  # who sent the REGISTERs: "out" in the Trace
    server: Address
    transport: str
    entries: list[TraceEntry] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    cseqs: set[int] = field(default_factory=set)  # the CSeq numbers of its requests
    last_time: float = 0.0
    last_final: int | None = None
    answered: bool = True  # the last request has a final response
    last_dst: Address | None = None  # where the last request went
    notes: list[Note] = field(default_factory=list)

    def trace(self) -> Trace:
        """The Trace, times from the first message (its wall-clock time kept)."""
        start = self.entries[0].time if self.entries else 0.0
        trace = Trace(wall_start=start)
        for entry in self.entries:
            entry.time -= start
            trace.add(entry)
        for note in self.notes:
            trace.notes.append(replace(note, time=note.time - start))
        return trace


@dataclass(frozen=True)
class Unparseable:
    frame: int
    start_line: str
    error: str


Key = tuple[str, Address]  # (Call-ID, the client's address)


class Grouper:
    def __init__(self, idle: float = IDLE_SECONDS) -> None:
        self.idle = idle
        self._open: OrderedDict[Key, Attempt] = OrderedDict()
        self._calls: dict[str, set[Key]] = {}  # Call-ID -> its open attempts
        # attempts just over: their CSeqs and when, so that a late retransmission
        # (a 200 lost on UDP makes the client send its REGISTER again) starts nothing
        self._recent: OrderedDict[Key, tuple[frozenset[int], float]] = OrderedDict()
        self.late_retransmissions = 0
        self.skipped: Counter[str] = Counter()  # messages not part of a REGISTER, by method
        self.errors: list[Unparseable] = []
        self.error_count = 0
        self.orphans = 0  # REGISTER responses whose request the capture does not hold
        self.register_messages = 0

    def add(self, msg: WireMessage | Refused) -> list[Attempt]:
        done = self._expire(msg.time)
        if isinstance(msg, Refused):
            self._refused(msg)
            return done
        if msg.error is not None:
            self._error(msg, msg.error)
            return done
        method = _method(msg.raw)
        if method is None or method.upper() != "REGISTER":
            self.skipped[(method or "?").upper()] += 1
            return done
        try:
            message = parse_message(msg.raw, stream=False)
        except SipParseError as exc:
            self._error(msg, str(exc))
            return done
        self.register_messages += 1
        if isinstance(message, Request):
            done += self._request(msg, message)
        else:
            done += self._response(msg, message)
        return done

    def _entry(self, msg: WireMessage, direction: str, message: Request | Response) -> TraceEntry:
        local, remote = (msg.src, msg.dst) if direction == "out" else (msg.dst, msg.src)
        entry = TraceEntry(direction, msg.time, local, remote, msg.transport, msg.raw)
        entry._parsed = message  # parsed once, here: the diagnosis reads it again
        return entry

    def finish(self) -> list[Attempt]:
        return [self._close(key) for key in list(self._open)]

    def _close(self, key: Key) -> Attempt:
        attempt = self._open.pop(key)
        keys = self._calls.get(key[0])
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._calls[key[0]]
        return attempt

    def _open_new(self, key: Key, attempt: Attempt) -> None:
        self._open[key] = attempt
        self._calls.setdefault(key[0], set()).add(key)

    def expire(self, now: float) -> list[Attempt]:
        """The attempts silent for longer than ``idle`` at ``now`` (a live capture's
        clock, when no packet comes to tell the time)."""
        return self._expire(now)

    def _expire(self, now: float) -> list[Attempt]:
        done: list[Attempt] = []
        while self._open:
            key, oldest = next(iter(self._open.items()))
            if now - oldest.last_time <= self.idle and len(self._open) <= MAX_OPEN:
                break
            done.append(self._close(key))
        return done

    def _error(self, msg: WireMessage, error: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            first = msg.raw.split(b"\n", 1)[0].rstrip(b"\r")[:120]
            self.errors.append(Unparseable(msg.frame, first.decode("utf-8", "replace"), error))

    def _refused(self, msg: Refused) -> None:
        """An ICMP port unreachable for a REGISTER: the note the live shell would make."""
        for key in reversed(self._open):
            attempt = self._open[key]
            if (
                attempt.entries
                and attempt.entries[-1].local == msg.src
                and (attempt.last_dst == msg.dst and not attempt.answered)
            ):
                text = f"nothing is listening there (ICMP port unreachable from {msg.reporter})"
                attempt.notes.append(Note(msg.time, "error", text, STEP_SEND))
                return

    def _failover(self, call_id: str, msg: WireMessage) -> Key | None:
        """An open attempt of this Call-ID that the client takes to another server from
        another port (a new socket or connection per target)."""
        for key in self._calls.get(call_id, ()):
            attempt = self._open[key]
            last = attempt.last_final
            waiting = not attempt.answered or (
                last is not None and (300 <= last < 400 or last >= 500)
            )
            if key[1].host == msg.src.host and waiting and attempt.last_dst != msg.dst:
                return key
        return None

    def _request(self, msg: WireMessage, request: Request) -> list[Attempt]:
        call_id = request.call_id or ""
        cseq = _cseq(request)
        key = (call_id, msg.src)
        attempt = self._open.get(key)
        if attempt is None:
            if self._late(key, cseq, msg.time):
                return []
            moved = self._failover(call_id, msg)
            if moved is not None:
                attempt = self._close(moved)
                self._open_new(key, attempt)
        done: list[Attempt] = []
        retransmission = (
            attempt is not None and cseq in attempt.cseqs and msg.dst == attempt.last_dst
        )
        if attempt is not None and not retransmission and _starts_anew(attempt, request, cseq, msg):
            done.append(self._close(key))
            attempt = None
        if attempt is None:
            attempt = Attempt(call_id, msg.src, msg.dst, msg.transport)
            self._open_new(key, attempt)
        if not retransmission:
            attempt.cseqs.add(cseq)
            attempt.answered = False
            attempt.last_dst = msg.dst
        self._append(attempt, key, self._entry(msg, "out", request), msg, retransmission)
        return done

    def _response(self, msg: WireMessage, response: Response) -> list[Attempt]:
        key = (response.call_id or "", msg.dst)
        attempt = self._open.get(key)
        cseq = _cseq(response)
        if attempt is None or cseq not in attempt.cseqs:
            if not self._late(key, cseq, msg.time):
                self.orphans += 1
            return []
        self._append(attempt, key, self._entry(msg, "in", response), msg, False)
        if response.status < 200 or cseq != max(attempt.cseqs):
            return []
        attempt.last_final, attempt.answered = response.status, True
        if _over(response.status):
            self._recent[key] = (frozenset(attempt.cseqs), msg.time)
            if len(self._recent) > MAX_RECENT:
                self._recent.popitem(last=False)
            return [self._close(key)]
        return []

    def _late(self, key: Key, cseq: int, now: float) -> bool:
        recent = self._recent.get(key)
        if recent is None or cseq not in recent[0] or now - recent[1] > self.idle:
            return False
        self.late_retransmissions += 1
        return True

    def _append(
        self, attempt: Attempt, key: Key, entry: TraceEntry, msg: WireMessage, retransmission: bool
    ) -> None:
        entry.retransmission = retransmission
        attempt.entries.append(entry)
        attempt.frames.append(msg.frame)
        attempt.last_time = msg.time
        self._open.move_to_end(key)


def _over(status: int) -> bool:
    """A final response after which this attempt takes no further request."""
    return status not in _CONTINUES and not 300 <= status < 400 and status < 500


def _starts_anew(attempt: Attempt, request: Request, cseq: int, msg: WireMessage) -> bool:
    if attempt.cseqs and cseq < max(attempt.cseqs):
        return True
    if not attempt.answered:
        # the client gave up on the last request: on this server (a new attempt), or
        # for the next one (failover: the same attempt, as a live run sees it)
        return msg.dst == attempt.last_dst
    last = attempt.last_final
    if last in (401, 407):
        headers = request.headers
        return headers.get("Authorization") is None and headers.get("Proxy-Authorization") is None
    if last is not None and last >= 500:
        return msg.dst == attempt.last_dst  # the same server again: a new try, not failover
    return last is not None and _over(last)


def _method(raw: bytes) -> str | None:
    """The request's method, or for a response the method its CSeq names."""
    if raw[:8].upper() == b"SIP/2.0 ":
        match = _CSEQ.search(raw, 0, 8192)
        return match.group(2).decode("latin-1") if match else None
    space = raw.find(b" ", 0, 64)
    return raw[:space].decode("latin-1") if space > 0 else None


def _cseq(message: Request | Response) -> int:
    try:
        return fields.parse_cseq(message.headers.get("CSeq") or "").number
    except SipParseError:
        return -1
