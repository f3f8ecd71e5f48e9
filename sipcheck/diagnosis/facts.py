"""What a Trace shows, read once into plain facts for the diagnosis.

Everything here comes from the octets that crossed the wire and the notes of
the shell (connect, TLS, errors), plus ``Intent``: what we meant to do. A live
run and a capture read from a pcap give the same Facts for the same exchange,
so both are diagnosed by the same code. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from sipcheck.diagnosis.challenges import (
    ChallengeKind,
    challenge_kind,
    challenges_of,
    credentials_of,
)
from sipcheck.errors import SipParseError
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.auth import Challenge, Credentials
from sipcheck.sip.wire.grammar import is_uint
from sipcheck.sip.wire.message import Request, Response
from sipcheck.sip.wire.uri import SipUri, parse_name_addr, parse_uri
from sipcheck.trace import Address, Trace

# Note steps the shell records (Note.step); a capture has none of them.
STEP_DNS = "dns"
STEP_CONNECT = "connect"
STEP_TLS = "tls"
STEP_SEND = "send"


@dataclass(frozen=True)
class Intent:
    """What we meant to send: the part of a run a Trace cannot show."""

    mode: str  # register | unregister | unregister-all | query | options
    aor: SipUri
    expires: int | None = None  # asked for (register)
    auth_user: str | None = None  # who we would authenticate as
    realm: str | None = None  # credentials restricted to this realm
    has_secret: bool = True  # a password or HA1 was at hand

    @property
    def command(self) -> str:
        return self.mode.split("-")[0]


@dataclass(frozen=True)
class RequestSent:
    time: float
    method: str
    cseq: int
    expires: int | None
    contact: str | None  # the Contact URI (or "*")
    answers: tuple[Credentials, ...]  # Authorization / Proxy-Authorization we sent


@dataclass(frozen=True)
class ChallengeSeen:
    time: float
    status: int  # 401 | 407
    challenges: tuple[Challenge, ...]  # every digest challenge offered
    kind: ChallengeKind = "challenge"  # given what the request it answers carried

    @property
    def header(self) -> str:
        return "Proxy-Authenticate" if self.status == 407 else "WWW-Authenticate"

    @property
    def realms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.realm for c in self.challenges))

    @property
    def stale(self) -> bool:
        return any(c.stale for c in self.challenges)


@dataclass(frozen=True)
class ListedContact:
    uri: str
    expires: int | None


@dataclass(frozen=True)
class FinalSeen:
    time: float
    status: int
    reason: str
    retry_after: int | None
    min_expires: int | None
    server: str | None
    contacts: tuple[ListedContact, ...]
    seen_as: Address | None  # what the top Via's received/rport say we are
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()  # Service-Route, Path


@dataclass(frozen=True)
class TransportFailure:
    step: str  # STEP_CONNECT | STEP_TLS | STEP_SEND | STEP_DNS
    timed_out: bool
    detail: str


@dataclass(frozen=True)
class Facts:
    intent: Intent
    requests: tuple[RequestSent, ...]
    retransmissions: int
    challenges: tuple[ChallengeSeen, ...]
    finals: tuple[FinalSeen, ...]  # every final response, in order
    provisional: bool
    transport: str | None
    local: Address | None
    connected: bool  # a TCP/TLS connection was established at least once
    handshake_done: bool  # a TLS handshake completed at least once
    transport_failures: tuple[TransportFailure, ...]

    @property
    def final(self) -> FinalSeen | None:
        return self.finals[-1] if self.finals else None

    @property
    def answers(self) -> tuple[Credentials, ...]:
        return tuple(a for r in self.requests for a in r.answers)

    @property
    def last_answers(self) -> tuple[Credentials, ...]:
        """What the last request that carried credentials sent."""
        for request in reversed(self.requests):
            if request.answers:
                return request.answers
        return ()

    @property
    def contact_sent(self) -> str | None:
        return self.requests[-1].contact if self.requests else None

    @property
    def stale_challenges(self) -> int:
        return sum(1 for c in self.challenges if c.stale)

    @property
    def min_expires_retry(self) -> tuple[int, int] | None:
        """(asked, raised to) when a 423 made us ask again with Min-Expires."""
        asked = [r.expires for r in self.requests if r.method == "REGISTER" and r.expires]
        for before, after in pairwise(asked):
            if after > before and any(f.status == 423 for f in self.finals):
                return before, after
        return None


def read_facts(trace: Trace, intent: Intent) -> Facts:
    requests: list[RequestSent] = []
    challenges: list[ChallengeSeen] = []
    finals: list[FinalSeen] = []
    answered: set[str] = set()
    by_cseq: dict[str, RequestSent] = {}
    retransmissions = 0
    provisional = False
    transport = local = None
    for entry in trace.entries:
        message = entry.message
        if message is None or entry.note is not None:
            continue  # unparseable or stray: the ladder shows them, they decide nothing
        if entry.direction == "out":
            transport, local = entry.transport, entry.local  # the last connection's
            if entry.retransmission:
                retransmissions += 1
            elif isinstance(message, Request):
                requests.append(_request(entry.time, message))
                by_cseq[_cseq(message)] = requests[-1]
            continue
        if not isinstance(message, Response):
            continue
        if message.status < 200:
            provisional = True
            continue
        key = _cseq(message)
        if key in answered:
            continue  # a retransmitted final response: the transaction absorbed it
        answered.add(key)
        if message.status in (401, 407):
            offered = tuple(c for c in challenges_of(message)[0] if c.is_digest)
            request = by_cseq.get(key)
            kind = challenge_kind(offered, request.answers if request is not None else ())
            challenges.append(ChallengeSeen(entry.time, message.status, offered, kind))
        finals.append(_final(entry.time, message))
    failures = tuple(
        TransportFailure(n.step, n.kind == "timeout", n.text)
        for n in trace.notes
        if n.step is not None and n.kind in ("error", "timeout")
    )
    return Facts(
        intent=intent,
        requests=tuple(requests),
        retransmissions=retransmissions,
        challenges=tuple(challenges),
        finals=tuple(finals),
        provisional=provisional,
        transport=transport,
        local=local,
        connected=any(n.kind == "connect" for n in trace.notes),
        handshake_done=trace.tls is not None,
        transport_failures=failures,
    )


def _cseq(message: Request | Response) -> str:
    """Call-ID and CSeq: what ties a response to its request (RFC 3261 §8.2.6.2)."""
    cseq = " ".join((message.headers.get("CSeq") or "").split()).upper()
    return f"{message.call_id} {cseq}"


def _request(time: float, request: Request) -> RequestSent:
    headers = request.headers
    answers = credentials_of(request)
    try:
        cseq = fields.parse_cseq(headers.get("CSeq") or "").number
    except SipParseError:
        cseq = 0
    expires = _int(headers.get("Expires"))
    contact: str | None = None
    try:
        listed = fields.contacts(headers)
    except SipParseError:
        listed = []
    if listed:
        first = listed[0]
        contact = "*" if first.address is None else str(first.address.uri)
        if expires is None and first.address is not None:
            try:
                expires = first.expires
            except SipParseError:
                expires = None
    return RequestSent(time, request.method, cseq, expires, contact, tuple(answers))


def _final(time: float, response: Response) -> FinalSeen:
    headers = response.headers
    default = _int(headers.get("Expires"))
    listed: list[ListedContact] = []
    try:
        contacts = fields.contacts(headers)
    except SipParseError:
        contacts = []
    for contact in contacts:
        if contact.address is None:
            continue
        try:
            expires = contact.expires
        except SipParseError:
            expires = None
        listed.append(
            ListedContact(str(contact.address.uri), default if expires is None else expires)
        )
    extra = tuple(
        (name, tuple(headers.get_all(name)))
        for name in ("Service-Route", "Path")
        if headers.get(name)
    )
    retry = headers.get("Retry-After")
    return FinalSeen(
        time=time,
        status=response.status,
        reason=response.reason,
        retry_after=_int(retry.split(";")[0].split("(")[0] if retry else None),
        min_expires=_int(headers.get("Min-Expires")),
        server=headers.get("Server") or headers.get("User-Agent"),
        contacts=tuple(listed),
        seen_as=_seen_as(response),
        extra=extra,
    )


def _seen_as(response: Response) -> Address | None:
    top = response.headers.values("Via")[:1]
    if not top:
        return None
    try:
        via = fields.parse_via(top[0])
    except SipParseError:
        return None
    return Address(via.received or via.host.strip("[]"), via.rport or via.port or 5060)


def _int(text: str | None) -> int | None:
    if text is None or not is_uint(text.strip()):
        return None
    return int(text.strip())


def uri_key(text: str) -> tuple[str, str, int | None] | None:
    """User, host and port of a SIP URI: the parts that tell one Contact from another,
    whatever URI parameters a registrar adds or drops."""
    try:
        uri = parse_uri(text)
    except SipParseError:
        return None
    if not isinstance(uri, SipUri):
        return None
    return (uri.user or "", uri.host.lower(), uri.port)


def contact_address(contact: str) -> Address | None:
    """Host and port a Contact value names, the port defaulted (RFC 3261 §19.1.2)."""
    try:
        uri = parse_name_addr(contact).uri
    except SipParseError:
        return None
    if not isinstance(uri, SipUri):
        return None
    port = uri.port
    if port is None:
        port = 5061 if uri.secure or uri.transport == "tls" else 5060
    return Address(uri.host_unbracketed, port)
