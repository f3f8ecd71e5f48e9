"""What the ladder says about one message: its arrow label, colour and the lines under it.

Pure functions of the trace's entries. The challenge of a 401/407 and our answer on
the next request are read back from the headers on the wire, so the ladder shows
what was really sent. An Authorization header carries the user name, the digest
parameters and the response hash; only the parameters that explain the exchange are
shown here (never a hash, never anything a password could be recovered from).

A 401/407 is read against the request it answers (same Call-ID and CSeq): a
challenge for a realm that request already answered, in the same header kind, is
the refusal of those credentials, unless it says ``stale=true`` (RFC 3261 §22.4:
the nonce expired, the credentials were right).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sipcheck.diagnosis import challenges as rules
from sipcheck.errors import SipcheckError
from sipcheck.sip.wire.auth import Challenge, Credentials, parse_credentials
from sipcheck.sip.wire.message import Request, Response
from sipcheck.trace import TraceEntry

__all__ = [
    "Annotation",
    "ChallengeKind",
    "annotate",
    "answered_request",
    "challenge_kind",
    "describe_challenge",
    "describe_challenges",
    "describe_credentials",
    "entry_details",
    "entry_label",
    "entry_style",
    "printable",
    "raw_lines",
    "valid_text",
]

Detail = tuple[str, str]  # (text, rich style)
ChallengeKind = rules.ChallengeKind  # what a 401/407 means (challenge, refused, stale)

# C0 and C1 controls and DEL: a peer could put terminal escape sequences in a reason
# phrase or header, and rich passes ESC through.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

RETRANSMISSION = "(retransmission)"
_LABEL_MAX = 48
# Response headers worth a line under the arrow: they say why, or what to do next.
_TELLING_HEADERS = ("Warning", "Reason", "Retry-After")


def valid_text(text: str) -> str:
    """``text`` without lone surrogates, so it encodes as UTF-8.

    Header text is decoded with surrogateescape; the escaped octets become U+FFFD.
    """
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def printable(text: str) -> str:
    """``text`` safe for a terminal: valid UTF-8, controls shown as ``\\x1b``, tab as space."""
    text = valid_text(text).replace("\t", " ")
    return _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def entry_label(entry: TraceEntry) -> str:
    """``REGISTER`` or ``401 Unauthorized``; what an unparseable message starts with."""
    message = entry.message
    if isinstance(message, Request):
        label = message.method
    elif isinstance(message, Response):
        label = f"{message.status} {message.reason}".rstrip()
    elif not entry.raw.strip():
        label = "keep-alive"
    else:
        label = entry.start_line[:_LABEL_MAX]
    label = printable(label)
    return f"{label} {RETRANSMISSION}" if entry.retransmission else label


def entry_style(entry: TraceEntry, kind: ChallengeKind | None = None) -> str:
    """The arrow's colour; ``kind`` is what a 401/407 means (see ``challenge_kind``)."""
    message = entry.message
    if entry.retransmission or entry.note is not None or message is None:
        return "dim"
    if isinstance(message, Request):
        return "cyan"
    status = message.status
    if status in (401, 407):
        return "bold red" if kind == "refused" else "yellow"
    return {1: "blue", 2: "bold green", 3: "magenta"}.get(status // 100, "bold red")


def _algorithm(c: Challenge) -> str:
    return c.algorithm if c.algorithm is not None else "MD5 (not given)"


def _describe(c: Challenge, algorithms: str) -> str:
    header = "Proxy-Authenticate" if c.proxy else "WWW-Authenticate"
    if not c.is_digest:
        return f"challenge ({header}): {c.scheme}, which sipcheck does not answer"
    qop = ",".join(c.qop_options) if c.qop_options else "none (RFC 2069 style)"
    text = f'challenge ({header}): Digest realm "{c.realm}", algorithm {algorithms}, qop {qop}'
    # Said only when there: "opaque no, stale no" on every challenge tells nothing.
    if c.opaque is not None:
        text += ", with opaque"
    if c.stale:
        text += ", stale=true"
    return text


def describe_challenge(c: Challenge) -> str:
    """``challenge (WWW-Authenticate): Digest realm "example.com", algorithm MD5, qop auth``.

    ``with opaque`` and ``stale=true`` are added only when the challenge has them.
    """
    return _describe(c, _algorithm(c))


def describe_challenges(challenges: Sequence[Challenge]) -> list[str]:
    """One line per realm: challenges that differ only in algorithm are said once.

    ``... realm "example.com", algorithm SHA-256 or MD5, qop auth``, in the server's
    order of preference.
    """
    groups: dict[tuple[object, ...], list[Challenge]] = {}
    for c in challenges:
        if not c.is_digest:
            groups[("other", len(groups))] = [c]
            continue
        key = (c.proxy, c.realm, c.qop_options, c.opaque is not None, c.stale)
        groups.setdefault(key, []).append(c)
    out: list[str] = []
    for group in groups.values():
        algorithms = " or ".join(dict.fromkeys(_algorithm(c) for c in group))
        out.append(_describe(group[0], algorithms))
    return out


def describe_credentials(c: Credentials) -> str:
    """``user "alice", realm ..., algorithm MD5, uri sip:example.com, qop auth, nc 00000001``.

    The response hash, cnonce and nonce are left out: they explain nothing to a reader.
    """
    header = "Proxy-Authorization" if c.proxy else "Authorization"
    if not c.is_digest:
        return f"answered ({header}): {c.scheme} credentials"
    algorithm = c.algorithm if c.algorithm is not None else "MD5 (not given)"
    user = f'user "{c.username}"' + (" (hashed)" if c.userhash else "")
    parts = [user, f'realm "{c.realm}"', f"algorithm {algorithm}", f"uri {c.uri}"]
    parts.append(f"qop {c.qop}, nc {c.nc}" if c.qop is not None else "no qop")
    return f"answered ({header}): " + ", ".join(parts)


def _challenges(response: Response) -> tuple[list[Challenge], list[Detail]]:
    """Every challenge of the response, and a red line for each value that does not parse."""
    found, errors = rules.challenges_of(response)
    return found, [(f"challenge ({name}) does not parse: {e}", "red") for name, e in errors]


def _cseq_key(message: Request | Response) -> tuple[str, str] | None:
    cseq, call_id = message.header("CSeq"), message.call_id
    if cseq is None or call_id is None:
        return None
    return call_id, " ".join(cseq.split()).upper()


def answered_request(entries: Sequence[TraceEntry], index: int) -> Request | None:
    """The request that the response at ``entries[index]`` answers: the latest earlier
    request with the same Call-ID and CSeq (RFC 3261 §8.2.6.2 copies both)."""
    response = entries[index].message
    if not isinstance(response, Response):
        return None
    key = _cseq_key(response)
    if key is None:
        return None
    for earlier in reversed(entries[:index]):
        message = earlier.message
        if isinstance(message, Request) and earlier.note is None and _cseq_key(message) == key:
            return message
    return None


def challenge_kind(response: Response, request: Request | None) -> ChallengeKind | None:
    """What a 401/407 means, given the request it answers; None for any other status.

    ``refused``: it challenges again a realm the request already answered, in the same
    kind of header, so the credentials were not accepted. ``stale``: the same with
    ``stale=true``: the credentials were right, the nonce had expired.
    """
    if response.status not in (401, 407):
        return None
    answers = rules.credentials_of(request) if request is not None else []
    return rules.challenge_kind(_challenges(response)[0], answers)


def _challenge_details(response: Response, request: Request | None) -> list[Detail]:
    challenges, errors = _challenges(response)
    answers = rules.credentials_of(request) if request is not None else []
    again = rules.challenged_again(challenges, answers)
    out: list[Detail] = []
    if again:
        header = "Proxy-Authorization" if again[0].proxy else "Authorization"
        realm = again[0].realm
        if rules.challenge_kind(again, answers) == "stale":
            text = f'stale nonce: the {header} for realm "{realm}" was right, its nonce expired'
            out.append((text, "yellow"))
        else:
            text = f'credentials refused: challenged again after the {header} for realm "{realm}"'
            out.append((text, "bold red"))
    out += [(text, "yellow") for text in describe_challenges(challenges)]
    return out + errors


def _credential_details(request: Request) -> list[Detail]:
    out: list[Detail] = []
    for name, proxy in rules.CREDENTIAL_HEADERS:
        for value in request.headers.get_all(name):
            try:
                out.append((describe_credentials(parse_credentials(value, proxy=proxy)), "cyan"))
            except SipcheckError as exc:
                out.append((f"{name} does not parse: {exc}", "red"))
    return out


def _summary(status: int) -> str | None:
    # The knowledge base (every code's text) is for the ladder: --json never loads it.
    from sipcheck.sip.knowledge import codes

    try:
        return codes.lookup(status).summary
    except SipcheckError:
        return None


def _response_details(response: Response, request: Request | None) -> list[Detail]:
    out: list[Detail] = []
    summary = _summary(response.status)
    # A refused or stale answer is said by its own line, not by "resend with ...".
    if summary is not None and challenge_kind(response, request) in (None, "challenge"):
        out.append((summary, ""))
    if response.status in (401, 407):
        out += _challenge_details(response, request)
    if response.status == 423:
        min_expires = response.header("Min-Expires")
        if min_expires is not None:
            out.append((f"Min-Expires: {min_expires.strip()}", "yellow"))
    if 300 <= response.status < 400:
        out += [(f"Contact: {c}", "magenta") for c in response.headers.values("Contact")]
    for name in _TELLING_HEADERS:
        out += [(f"{name}: {v.strip()}", "dim") for v in response.headers.get_all(name)]
    return out


def entry_details(entry: TraceEntry, request: Request | None = None) -> list[Detail]:
    """Lines under the arrow: why it was not used, what it means, the auth exchange.

    ``request`` is the request a response answers (``answered_request``); without it a
    401/407 reads as a first challenge.
    """
    return [(printable(text), style) for text, style in _details(entry, request)]


def _details(entry: TraceEntry, request: Request | None) -> list[Detail]:
    if entry.note is not None:
        return [(f"not used: {entry.note}", "dim")]
    if entry.retransmission:
        return []
    message = entry.message
    if message is None:
        return [] if not entry.raw.strip() else [("this message does not parse", "red")]
    if isinstance(message, Response):
        return _response_details(message, request)
    return _credential_details(message)


@dataclass(frozen=True)
class Annotation:
    """What the ladder draws for one entry: the arrow's label and colour, the lines under it."""

    label: str
    style: str
    details: tuple[Detail, ...]
    kind: ChallengeKind | None = None  # for a 401/407


def annotate(entries: Sequence[TraceEntry]) -> list[Annotation]:
    """One Annotation per entry, each response read against the request it answers."""
    out: list[Annotation] = []
    for index, entry in enumerate(entries):
        message = entry.message
        request = answered_request(entries, index)
        kind = None
        if isinstance(message, Response) and entry.note is None and not entry.retransmission:
            kind = challenge_kind(message, request)
        out.append(
            Annotation(
                entry_label(entry),
                entry_style(entry, kind),
                tuple(entry_details(entry, request)),
                kind,
            )
        )
    return out


def raw_lines(entry: TraceEntry) -> list[str]:
    """The message as it crossed the wire, line by line (verbose mode)."""
    text = entry.raw.decode("utf-8", "replace").replace("\r\n", "\n")
    return [printable(line) for line in text.rstrip("\n").split("\n")]
