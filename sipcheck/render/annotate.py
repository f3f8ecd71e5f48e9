"""What the ladder says about one message: its arrow label, colour and the lines under it.

Pure functions of a TraceEntry. The challenge of a 401/407 and our answer on the
next request are read back from the headers on the wire, so the ladder shows what
was really sent. An Authorization header carries the user name, the digest
parameters and the response hash; only the parameters that explain the exchange are
shown here (never a hash, never anything a password could be recovered from).
"""

from __future__ import annotations

import re

from sipcheck.errors import SipcheckError
from sipcheck.sip.knowledge import codes
from sipcheck.sip.wire.auth import Challenge, Credentials, parse_challenges, parse_credentials
from sipcheck.sip.wire.message import Request, Response
from sipcheck.trace import TraceEntry

__all__ = [
    "describe_challenge",
    "describe_credentials",
    "entry_details",
    "entry_label",
    "entry_style",
    "printable",
    "raw_lines",
    "valid_text",
]

Detail = tuple[str, str]  # (text, rich style)

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


def entry_style(entry: TraceEntry) -> str:
    message = entry.message
    if entry.retransmission or entry.note is not None or message is None:
        return "dim"
    if isinstance(message, Request):
        return "cyan"
    status = message.status
    if status in (401, 407):
        return "yellow"
    return {1: "blue", 2: "bold green", 3: "magenta"}.get(status // 100, "bold red")


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def describe_challenge(c: Challenge) -> str:
    """``... Digest realm "example.com", algorithm MD5, qop auth, opaque yes, stale no``."""
    header = "Proxy-Authenticate" if c.proxy else "WWW-Authenticate"
    if not c.is_digest:
        return f"challenge ({header}): {c.scheme}, which sipcheck does not answer"
    algorithm = c.algorithm if c.algorithm is not None else "MD5 (not given)"
    qop = ",".join(c.qop_options) if c.qop_options else "none (RFC 2069 style)"
    return (
        f'challenge ({header}): Digest realm "{c.realm}", algorithm {algorithm}, '
        f"qop {qop}, opaque {_yes_no(c.opaque is not None)}, stale {_yes_no(c.stale)}"
    )


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


def _challenge_details(response: Response) -> list[Detail]:
    out: list[Detail] = []
    for name, proxy in (("WWW-Authenticate", False), ("Proxy-Authenticate", True)):
        for value in response.headers.get_all(name):
            try:
                challenges = parse_challenges(value, proxy=proxy)
            except SipcheckError as exc:
                out.append((f"challenge ({name}) does not parse: {exc}", "red"))
                continue
            out += [(describe_challenge(c), "yellow") for c in challenges]
    return out


def _credential_details(request: Request) -> list[Detail]:
    out: list[Detail] = []
    for name, proxy in (("Authorization", False), ("Proxy-Authorization", True)):
        for value in request.headers.get_all(name):
            try:
                out.append((describe_credentials(parse_credentials(value, proxy=proxy)), "cyan"))
            except SipcheckError as exc:
                out.append((f"{name} does not parse: {exc}", "red"))
    return out


def _summary(status: int) -> str | None:
    try:
        return codes.lookup(status).summary
    except SipcheckError:
        return None


def _response_details(response: Response) -> list[Detail]:
    out: list[Detail] = []
    summary = _summary(response.status)
    if summary is not None:
        out.append((summary, ""))
    if response.status in (401, 407):
        out += _challenge_details(response)
    if response.status == 423:
        min_expires = response.header("Min-Expires")
        if min_expires is not None:
            out.append((f"Min-Expires: {min_expires.strip()}", "yellow"))
    if 300 <= response.status < 400:
        out += [(f"Contact: {c}", "magenta") for c in response.headers.values("Contact")]
    for name in _TELLING_HEADERS:
        out += [(f"{name}: {v.strip()}", "dim") for v in response.headers.get_all(name)]
    return out


def entry_details(entry: TraceEntry) -> list[Detail]:
    """Lines under the arrow: why it was not used, what it means, the auth exchange."""
    return [(printable(text), style) for text, style in _details(entry)]


def _details(entry: TraceEntry) -> list[Detail]:
    if entry.note is not None:
        return [(f"not used: {entry.note}", "dim")]
    if entry.retransmission:
        return []
    message = entry.message
    if message is None:
        return [] if not entry.raw.strip() else [("this message does not parse", "red")]
    if isinstance(message, Response):
        return _response_details(message)
    return _credential_details(message)


def raw_lines(entry: TraceEntry) -> list[str]:
    """The message as it crossed the wire, line by line (verbose mode)."""
    text = entry.raw.decode("utf-8", "replace").replace("\r\n", "\n")
    return [printable(line) for line in text.rstrip("\n").split("\n")]
