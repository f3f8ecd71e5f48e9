"""Values of WWW-Authenticate, Proxy-Authenticate, Authorization, Proxy-Authorization.

Grammar: RFC 3261 §25.1 (challenge, credentials, digest-cln, dig-resp), RFC 7235 §2.1
and §4.1 (several challenges in one header value, token68), RFC 7616 §3.3-3.4
(userhash, charset, username*).

Parsing is lenient, because real servers are: unquoted values (``algorithm=MD5``,
``stale=TRUE``), quoted values where the grammar says token (``nc="00000001"``), missing
commas between parameters, empty list elements. It is strict only where guessing would
be wrong: an unterminated quoted string, a control character or an octet that is not
UTF-8 in a value, quoted or not (RFC 7230 §3.2.6; no digest could be computed over it),
a parameter before any scheme, a Digest challenge without realm or nonce, a Digest
credentials without username, realm, nonce, uri or response. Parameter and scheme
names are case-insensitive; the spelling given is kept. When a parameter appears twice
(RFC 7235 §2.1 forbids it), the first one is used and both stay in ``params``.

Formatting is strict RFC 3261 §25.1 / RFC 7616 form and driven by the typed fields;
``params`` is for display, and only its extension parameters (names that are not typed
fields) are written back, always quoted, after the typed ones.

Non-Digest schemes (Basic, Bearer, Negotiate, ...) are parsed with the same grammar:
typed fields are filled from the parameters when present, ``realm`` and ``nonce`` are
``""`` when absent, and a token68 (``Negotiate YIIC...``) is kept in ``params`` under
the empty name ``""``. For them ``params`` is authoritative and is formatted verbatim.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from urllib.parse import unquote

from sipcheck.errors import LocalProtocolError, SipParseError
from sipcheck.sip.wire.grammar import (
    HTTP_TOKEN_RE,
    NOT_QDTEXT,
    bad_char,
    describe_char,
    is_http_token,
    quote,
    read_quoted,
)

Param = tuple[str, str]

_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*(?=[ \t\r\n]*(?:,|\Z))")
_QOP_SPLIT_RE = re.compile(r"[\s,]+")
_WS = " \t\r\n"

_CHALLENGE_FIELDS = frozenset(
    {"realm", "nonce", "algorithm", "qop", "opaque", "domain", "stale", "charset", "userhash"}
)
CREDENTIAL_FIELDS = frozenset(
    {
        "username",
        "username*",
        "realm",
        "nonce",
        "uri",
        "response",
        "algorithm",
        "cnonce",
        "opaque",
        "qop",
        "nc",
        "userhash",
    }
)


def _is_digest(scheme: str) -> bool:
    return scheme.lower() == "digest"


@dataclass(frozen=True)
class Challenge:
    """One challenge of a WWW-Authenticate or Proxy-Authenticate header value."""

    scheme: str
    realm: str
    nonce: str
    algorithm: str | None = None  # as the server spelled it; None means MD5
    qop_options: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    domain: str | None = None
    userhash: bool = False
    charset: str | None = None
    params: tuple[Param, ...] = ()
    proxy: bool = False

    @property
    def is_digest(self) -> bool:
        return _is_digest(self.scheme)

    def canonical(self) -> Challenge:
        """This challenge with ``params`` exactly as :func:`format_challenge` writes them."""
        if not self.is_digest:
            return self
        return replace(self, params=tuple((n, v) for n, v, _ in _challenge_items(self)))


@dataclass(frozen=True)
class Credentials:
    """The value of an Authorization or Proxy-Authorization header."""

    scheme: str
    username: str  # with userhash, the hashed user name as sent
    realm: str
    nonce: str
    uri: str
    response: str
    algorithm: str | None = None
    cnonce: str | None = None
    opaque: str | None = None
    qop: str | None = None
    nc: str | None = None  # the 8-hex-digit string, as sent
    userhash: bool = False
    params: tuple[Param, ...] = ()
    proxy: bool = False

    @property
    def is_digest(self) -> bool:
        return _is_digest(self.scheme)

    def canonical(self) -> Credentials:
        """These credentials with ``params`` exactly as :func:`format_credentials` writes
        them, so that ``parse_credentials(format_credentials(c)) == c.canonical()``."""
        if not self.is_digest:
            return self
        return replace(self, params=tuple((n, v) for n, v, _ in _credential_items(self)))


# --- parsing -------------------------------------------------------------------------


# One step of the scan: separators (LWS and commas), a token, LWS, and when an '='
# follows, the value in its usual shape: a well-formed quoted string, or unquoted
# octets up to LWS or a comma (RFC 7235 §2.1 auth-param, leniently). Anything else
# (a quoted string that does not end, a character no rule allows) is left to
# ``_Scanner``, which says where and why.
_QDTEXT = rf'[^"\\{NOT_QDTEXT}]'
_PAIR = rf"\\[^{NOT_QDTEXT}]"  # the HTTP quoted-pair: no escaped control character
_STEP = (
    rf"([ \t\r\n,]*)({HTTP_TOKEN_RE.pattern})?([ \t\r\n]*)"
    rf"(?:=[ \t\r\n]*(?:\"((?:{_QDTEXT}|{_PAIR})*)\"|(?![ \t\r\n\"])([^ \t\r\n,]*)))?"
)


@functools.cache
def _step_re() -> re.Pattern[str]:
    """The general scan's step, compiled when first needed (most values take the plain
    shortcut below, and the pattern's classes cost a millisecond to compile)."""
    return re.compile(_STEP)


_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


class _Scanner:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.pos = 0
        self.what = what

    def error(self, message: str) -> SipParseError:
        return SipParseError(
            f"{self.what}: {message} at column {self.pos + 1}: {self.text!r}",
            column=self.pos + 1,
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def token68(self) -> str | None:
        m = _TOKEN68_RE.match(self.text, self.pos)
        if m is None:
            return None
        self.pos = m.end()
        return m.group()

    def bare_value(self, name: str, start: int, end: int) -> str:
        """The unquoted value ``text[start:end]``, refused when it holds a character
        that a quoted value may not hold either (RFC 7230 §3.2.6)."""
        value = self.text[start:end]
        if not value.isprintable():
            bad = bad_char(value)
            if bad >= 0:
                self.pos = start + bad
                raise self.error(f"{describe_char(value[bad])} in parameter {name!r}")
        self.pos = end
        return value

    def quoted(self, name: str) -> str:
        value, self.pos = read_quoted(
            self.text, self.pos, what=f"{self.what} parameter {name!r}", http=True
        )
        return value


def _parse_items(value: str, what: str) -> list[tuple[str, list[Param]]]:
    """Split a header value into (scheme, params) items, RFC 7235 §4.1 style."""
    s = _Scanner(value, what)
    items: list[tuple[str, list[Param]]] = []
    current: list[Param] | None = None
    step = _step_re().match
    end = len(value)
    while True:
        m = step(value, s.pos)
        assert m is not None  # every part of the pattern may be empty
        sep, name, _, quoted, bare = m.groups()
        start = s.pos + len(sep)
        if name is None:
            s.pos = start
            if start >= end:
                break
            raise s.error(f"unexpected character {s.peek()!r}")
        after = m.end(3)
        if after < end and value[after] == "=":
            if current is None:
                s.pos = start
                raise s.error(f"parameter {name!r} before any auth scheme")
            if quoted is not None:
                s.pos = m.end()
                if "\\" in quoted:
                    quoted = _ESCAPE_RE.sub(r"\1", quoted)
                current.append((name, quoted))
            elif bare is not None:
                current.append((name, s.bare_value(name, m.start(5), m.end(5))))
            else:  # a quoted string the pattern did not take: the error says why
                s.pos = m.end(3) + 1
                while value[s.pos] in _WS:
                    s.pos += 1
                current.append((name, s.quoted(name)))
            continue
        # A token not followed by '=' starts a new challenge (RFC 7235 §4.1).
        if current is not None and "," not in sep:
            s.pos = start
            raise s.error(f"expected ',' before {name!r}")
        current = []
        items.append((name, current))
        s.pos = after
        if after > start + len(name):  # whitespace after the scheme: maybe a token68
            t68 = s.token68()
            if t68 is not None:
                current.append(("", t68))
    return items


# The shape nearly every value has: one scheme, then name=value parameters separated by
# commas, each value a quoted string without escapes or a bare value without quotes,
# '=', blanks or control characters. One regex checks the whole value and one finds its
# parameters: the items ``_parse_items`` gives for it, without a Python step per
# parameter. Any other value (escapes, several challenges, a missing comma, a token68,
# an error to report) takes ``_parse_items``. The shape is ASCII only (anything else,
# UTF-8 text or non-UTF-8 octets, takes the general scan too): ASCII classes compile
# in a fifth of the time of classes that leave out surrogates, at every start.
_PLAIN_QDTEXT = r"[\t !#-\[\]-~]"  # qdtext without obs-text: HTAB, SP, %x21, %x23-5B, %x5D-7E
_PLAIN_BARE = r"[!#-+\--<>-\[\]-~]+"  # visible ASCII but '"', ',', '=' and '\'
_PLAIN_PARAM = rf'{HTTP_TOKEN_RE.pattern}[ \t]*=[ \t]*(?:"{_PLAIN_QDTEXT}*"|{_PLAIN_BARE})'
_PLAIN_RE = re.compile(
    rf"({HTTP_TOKEN_RE.pattern}) +{_PLAIN_PARAM}(?:[ \t]*,[ \t,]*{_PLAIN_PARAM})*[ \t,]*\Z"
)
_PLAIN_PARAM_RE = re.compile(
    rf'({HTTP_TOKEN_RE.pattern})[ \t]*=[ \t]*(?:"({_PLAIN_QDTEXT}*)"|({_PLAIN_BARE}))'
)


def plain_items(value: str) -> list[tuple[str, list[Param]]] | None:
    """``_parse_items`` for a value of the plain shape above; None for any other."""
    if not value.isascii():
        return None
    plain = _PLAIN_RE.match(value)
    if plain is None:
        return None
    # A bare value is never empty, so an empty one means the quoted one was there.
    found = _PLAIN_PARAM_RE.findall(value, plain.end(1))
    return [(plain.group(1), [(name, bare or quoted) for name, quoted, bare in found])]


def _first(params: list[Param]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, val in params:
        found.setdefault(name.lower(), val)
    return found


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "true"


def _challenge_from(scheme: str, params: list[Param], proxy: bool, what: str) -> Challenge:
    p = _first(params)
    if _is_digest(scheme):
        # RFC 3261 §25.1 / RFC 7616 §3.3: realm and nonce are required in a challenge.
        for required in ("realm", "nonce"):
            if required not in p:
                raise SipParseError(f"{what}: Digest challenge has no {required} parameter")
    qop = p.get("qop")
    return Challenge(
        scheme=scheme,
        realm=p.get("realm", ""),
        nonce=p.get("nonce", ""),
        algorithm=p.get("algorithm"),
        qop_options=tuple(q for q in _QOP_SPLIT_RE.split(qop) if q) if qop is not None else (),
        opaque=p.get("opaque"),
        stale=_flag(p.get("stale")),
        domain=p.get("domain"),
        userhash=_flag(p.get("userhash")),
        charset=p.get("charset"),
        params=tuple(params),
        proxy=proxy,
    )


def parse_challenges(value: str, *, proxy: bool = False) -> list[Challenge]:
    """Parse a WWW-Authenticate (or, with ``proxy=True``, Proxy-Authenticate) value.

    One value may hold several challenges: ``Digest realm="a", nonce="b", Digest ...``.
    Raises SipParseError for a value that is not a challenge list.
    """
    what = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
    items = plain_items(value) or _parse_items(value, what)
    if not items:
        raise SipParseError(f"{what}: empty header value")
    return [_challenge_from(scheme, params, proxy, what) for scheme, params in items]


def _ext_value(raw: str, what: str) -> str:
    """Decode an RFC 8187 ext-value (``UTF-8''J%C3%A4s%C3%B8n``), as RFC 7616 §3.4 uses."""
    parts = raw.split("'", 2)
    if len(parts) != 3 or parts[0].lower() not in ("utf-8", "iso-8859-1"):
        raise SipParseError(f"{what}: username* is not a UTF-8 or ISO-8859-1 ext-value")
    try:
        return unquote(parts[2], encoding=parts[0], errors="strict")
    except UnicodeDecodeError as exc:
        raise SipParseError(f"{what}: username* does not decode as {parts[0]}") from exc


def parse_credentials(value: str, *, proxy: bool = False) -> Credentials:
    """Parse an Authorization (or, with ``proxy=True``, Proxy-Authorization) value."""
    what = "Proxy-Authorization" if proxy else "Authorization"
    items = plain_items(value) or _parse_items(value, what)
    if len(items) != 1:
        raise SipParseError(
            f"{what}: expected one credentials, found {len(items)}"
            if items
            else f"{what}: empty header value"
        )
    scheme, params = items[0]
    p = _first(params)
    if "username" not in p and "username*" in p:
        p["username"] = _ext_value(p["username*"], what)
    if _is_digest(scheme):
        # RFC 3261 §25.1 dig-resp / RFC 7616 §3.4: these are required.
        for required in ("username", "realm", "nonce", "uri", "response"):
            if required not in p:
                raise SipParseError(f"{what}: Digest credentials have no {required} parameter")
    return Credentials(
        scheme=scheme,
        username=p.get("username", ""),
        realm=p.get("realm", ""),
        nonce=p.get("nonce", ""),
        uri=p.get("uri", ""),
        response=p.get("response", ""),
        algorithm=p.get("algorithm"),
        cnonce=p.get("cnonce"),
        opaque=p.get("opaque"),
        qop=p.get("qop"),
        nc=p.get("nc"),
        userhash=_flag(p.get("userhash")),
        params=tuple(params),
        proxy=proxy,
    )


# --- formatting ----------------------------------------------------------------------

# (name, value, quoted)
_Item = tuple[str, str, bool]


def _extensions(params: tuple[Param, ...], known: frozenset[str]) -> list[_Item]:
    return [(n, v, True) for n, v in params if n.lower() not in known]


def _challenge_items(c: Challenge) -> list[_Item]:
    items: list[_Item] = [("realm", c.realm, True), ("nonce", c.nonce, True)]
    if c.algorithm is not None:
        items.append(("algorithm", c.algorithm, False))
    if c.qop_options:
        for option in c.qop_options:
            if not is_http_token(option):
                raise LocalProtocolError(f"qop option is not a token: {option!r}")
        items.append(("qop", ",".join(c.qop_options), True))
    if c.opaque is not None:
        items.append(("opaque", c.opaque, True))
    if c.domain is not None:
        items.append(("domain", c.domain, True))
    if c.stale:
        items.append(("stale", "true", False))
    if c.charset is not None:
        items.append(("charset", c.charset, False))
    if c.userhash:
        items.append(("userhash", "true", False))
    return items + _extensions(c.params, _CHALLENGE_FIELDS)


def _credential_items(c: Credentials) -> list[_Item]:
    items: list[_Item] = [
        ("username", c.username, True),
        ("realm", c.realm, True),
        ("nonce", c.nonce, True),
        ("uri", c.uri, True),
        ("response", c.response, True),
    ]
    optional: list[tuple[str, str | None, bool]] = [
        ("algorithm", c.algorithm, False),
        ("cnonce", c.cnonce, True),
        ("opaque", c.opaque, True),
        ("qop", c.qop, False),
        ("nc", c.nc, False),
        ("userhash", "true" if c.userhash else None, False),
    ]
    items += [(n, v, q) for n, v, q in optional if v is not None]
    return items + _extensions(c.params, CREDENTIAL_FIELDS)


def _render(scheme: str, items: list[_Item]) -> str:
    if not is_http_token(scheme):
        raise LocalProtocolError(f"auth scheme is not a token: {scheme!r}")
    parts: list[str] = []
    for name, val, quoted in items:
        if name == "" and not _is_digest(scheme):
            if _TOKEN68_RE.fullmatch(val) is None:
                raise LocalProtocolError(f"not a token68: {val!r}")
            parts.append(val)
            continue
        if not is_http_token(name):
            raise LocalProtocolError(f"auth parameter name is not a token: {name!r}")
        # A value meant to be bare is quoted when it is not a token, so the output
        # always parses back to the same value.
        bare = not quoted and is_http_token(val)
        parts.append(f"{name}={val if bare else quote(val)}")
    return f"{scheme} {', '.join(parts)}" if parts else scheme


def format_challenge(c: Challenge) -> str:
    """Write a challenge: ``Digest realm="..", nonce="..", algorithm=X, qop="auth"...``."""
    if not c.is_digest:
        return _render(c.scheme, [(n, v, True) for n, v in c.params])
    return _render(c.scheme, _challenge_items(c))


def format_credentials(c: Credentials) -> str:
    """Write credentials in RFC 3261 §25.1 order:

    ``Digest username="..", realm="..", nonce="..", uri="..", response="..",
    algorithm=X, cnonce="..", opaque="..", qop=auth, nc=00000001`` (absent ones left out;
    ``userhash=true`` and extension parameters follow).
    """
    if not c.is_digest:
        return _render(c.scheme, [(n, v, True) for n, v in c.params])
    return _render(c.scheme, _credential_items(c))
