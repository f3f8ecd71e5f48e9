"""A capture file -> one diagnosed result per registration attempt.

File -> frames -> SIP messages -> attempts -> (Trace, Intent) -> the same
``read_facts``/``classify``/``diagnose`` as a live run (``wire_outcome``). The
Trace is from the client's side: the REGISTERs it sent are "out". Results come
as each attempt ends, so a long capture is never held in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from sipcheck.capture.attempts import Attempt, Grouper, Unparseable
from sipcheck.capture.files import Frame, open_capture
from sipcheck.capture.messages import Extractor
from sipcheck.capture.password import AnswerCheck, check_answers
from sipcheck.diagnosis.facts import Intent, read_facts
from sipcheck.errors import SipParseError
from sipcheck.outcome import facts_outcome
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.uri import SipUri, parse_uri
from sipcheck.trace import Outcome, Trace


@dataclass
class AttemptResult:
    call_id: str
    frames: list[int]
    trace: Trace
    intent: Intent
    outcome: Outcome
    password_check: list[AnswerCheck] | None = None

    @property
    def first_frame(self) -> int:
        return self.frames[0] if self.frames else 0


@dataclass
class Stats:
    """What the capture held besides the attempts (the ``packets`` of the JSON)."""

    file: str
    format: str = ""
    compressed: bool = False
    packets: int = 0
    truncated: bool = False
    sip_messages: int = 0
    register_messages: int = 0
    not_register: dict[str, int] = field(default_factory=dict)
    unparseable: int = 0
    errors: list[Unparseable] = field(default_factory=list)
    udp_not_sip: int = 0
    hep: int = 0
    tcp_retransmissions: int = 0
    ip_fragments_reassembled: int = 0
    tls_connections: int = 0
    responses_without_request: int = 0
    late_retransmissions: int = 0
    attempts: int = 0


Progress = Callable[[int, float, int], None]  # packets read, fraction of the file, attempts
PROGRESS_EVERY = 4096


class Analysis:
    """``for result in Analysis(path): ...``; ``stats`` is complete after the loop."""

    def __init__(
        self,
        path: str,
        *,
        password: str | None = None,
        auth_user: str | None = None,
        on_progress: Progress | None = None,
    ) -> None:
        self.path = path
        self.password = password
        self.auth_user = auth_user
        self.on_progress = on_progress  # every PROGRESS_EVERY packets
        self.stats = Stats(path)

    def __iter__(self) -> Iterator[AttemptResult]:
        extractor, grouper = Extractor(), Grouper()
        last: Frame | None = None
        on_progress = self.on_progress
        with open_capture(self.path) as reader:
            try:
                for frame in reader:
                    last = frame
                    if on_progress is not None and not frame.number % PROGRESS_EVERY:
                        on_progress(frame.number, reader.done, self.stats.attempts)
                    for message in extractor.feed(frame):
                        for attempt in grouper.add(message):
                            yield from self._result(attempt)
                for message in extractor.finish(last):
                    for attempt in grouper.add(message):
                        yield from self._result(attempt)
                for attempt in grouper.finish():
                    yield from self._result(attempt)
            finally:
                self._fill(reader.format, reader.compressed, reader.truncated, extractor, grouper)

    def _fill(
        self, fmt: str, compressed: bool, truncated: bool, ex: Extractor, grouper: Grouper
    ) -> None:
        s = self.stats
        s.format, s.compressed, s.truncated = fmt, compressed, truncated
        counts = ex.counts
        s.packets, s.sip_messages, s.udp_not_sip, s.hep = (
            counts.packets, counts.sip, counts.udp_not_sip, counts.hep
        )  # fmt: skip
        s.tcp_retransmissions = ex.tcp.retransmissions
        s.ip_fragments_reassembled = ex.decoder.fragments.reassembled
        s.tls_connections = len(counts.tls)
        s.register_messages = grouper.register_messages
        s.not_register = dict(sorted(grouper.skipped.items()))
        s.unparseable, s.errors = grouper.error_count, list(grouper.errors)
        s.responses_without_request = grouper.orphans
        s.late_retransmissions = grouper.late_retransmissions

    def _result(self, attempt: Attempt) -> Iterator[AttemptResult]:
        result = result_of(attempt, self.password, self.auth_user)
        if result is not None:
            self.stats.attempts += 1
            yield result


def result_of(
    attempt: Attempt, password: str | None = None, auth_user: str | None = None
) -> AttemptResult | None:
    """An attempt diagnosed; None when its first REGISTER does not say what it meant."""
    first = intent_of(attempt)
    if first is None:
        return None
    trace = attempt.trace()
    facts = read_facts(trace, first)
    # The auth user is the one the client's first answer names; a client that never
    # answered a challenge behaves as one without a password.
    answers = facts.answers
    intent = replace(
        first,
        auth_user=answers[0].username if answers else first.aor.user,
        has_secret=bool(answers),
    )
    facts = replace(facts, intent=intent)
    outcome = facts_outcome(intent.command, trace, facts)
    outcome.target = {
        "address": str(attempt.server),
        "transport": attempt.transport,
        "client": str(attempt.client),
        "call-id": attempt.call_id,
        "frames": _frames(attempt.frames),
        "lane": "client",
    }
    checks = None if password is None else check_answers(trace, password, auth_user)
    return AttemptResult(attempt.call_id, attempt.frames, trace, intent, outcome, checks)


def _frames(frames: list[int]) -> str:
    if not frames:
        return ""
    return str(frames[0]) if len(frames) == 1 else f"{frames[0]}-{frames[-1]}"


def intent_of(attempt: Attempt) -> Intent | None:
    """What the client meant, read from its first REGISTER: Contact * is removing every
    binding, no Contact a query, expires 0 an unregister; the AoR is the To URI.
    (``result_of`` adds the auth user, from the facts.)"""
    requests = [
        e.message
        for e in attempt.entries
        if e.direction == "out" and isinstance(e.message, Request)
    ]
    if not requests:
        return None
    first = requests[0]
    headers = first.headers
    try:
        to = fields.address(headers, "To")
        aor = to.uri if to is not None else parse_uri(first.uri)
    except SipParseError:
        return None
    if not isinstance(aor, SipUri):
        return None
    try:
        contacts = fields.contacts(headers)
        expires = contacts[0].expires if contacts else None
    except SipParseError:
        contacts, expires = [], None
    if expires is None:
        text = (headers.get("Expires") or "").strip()
        expires = int(text) if text.isdigit() and len(text) < 11 else None
    if not contacts:
        mode = "query"
    elif contacts[0].is_star:
        mode = "unregister-all"
    else:
        mode = "unregister" if expires == 0 else "register"
    return Intent(mode=mode, aor=aor, expires=expires if mode == "register" else None)
