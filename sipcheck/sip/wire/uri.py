"""SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966) and name-addr (RFC 3261 §20.10).

URIs keep their components as written (escapes included) so that a parsed
message serializes back to the same text; comparison helpers unescape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from urllib.parse import unquote

from sipcheck.errors import SipParseError
from sipcheck.sip.wire.grammar import (
    is_token,
    parse_port,
    quote,
    read_quoted,
    split_hostport,
    validate_host,
)

Params = tuple[tuple[str, str | None], ...]

_SCHEME_RE = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*\Z")
# RFC 3261 §25.1: unreserved, escaped, user-unreserved (user); password chars.
_USER_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,;?/]|%[0-9A-Fa-f]{2})+\Z")
_PASSWORD_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()&=+$,]|%[0-9A-Fa-f]{2})*\Z")
_PARAMCHAR_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/:&+$]|%[0-9A-Fa-f]{2})+\Z")
_HCHAR_RE = re.compile(r"(?:[A-Za-z0-9\-_.!~*'()\[\]/?:+$]|%[0-9A-Fa-f]{2})*\Z")
_TEL_RE = re.compile(r"\+?[0-9A-Fa-f*#.()\-pPwW]+\Z")


def _err(message: str, text: str) -> SipParseError:
    return SipParseError(f"{message} in URI {text!r}")


def is_ipv6_reference(host: str) -> bool:
    return host.startswith("[") and host.endswith("]")


def _split_params(text: str, whole: str) -> Params:
    params: list[tuple[str, str | None]] = []
    for part in text.split(";"):
        name, eq, value = part.partition("=")
        if not name or not _PARAMCHAR_RE.match(name):
            raise _err(f"bad URI parameter {part!r}", whole)
        if eq:
            if not value or not _PARAMCHAR_RE.match(value):
                raise _err(f"bad value for URI parameter {name!r}", whole)
            params.append((name, value))
        else:
            params.append((name, None))
    return tuple(params)


def format_params(params: Params) -> str:
    return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)


def find_param(params: Params, name: str) -> tuple[bool, str | None]:
    """Case-insensitive lookup: (present, value)."""
    low = name.lower()
    for n, v in params:
        if n.lower() == low:
            return True, v
    return False, None


class HasParams:
    """Case-insensitive parameter lookup for anything with ``params``."""

    params: Params

    def param(self, name: str) -> str | None:
        return find_param(self.params, name)[1]

    def has_param(self, name: str) -> bool:
        return find_param(self.params, name)[0]


@dataclass(frozen=True)
class SipUri(HasParams):
    scheme: str  # "sip" or "sips" (lower case)
    host: str  # as written; IPv6 references keep their brackets
    user: str | None = None
    password: str | None = None
    port: int | None = None
    params: Params = ()
    headers: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self._text

    @cached_property
    def _text(self) -> str:
        # Written once per URI: parsed URIs are shared (the parse cache), and the same
        # Contact and To URIs are written again for every attempt of a capture.
        out = [self.scheme, ":"]
        if self.user is not None:
            out.append(self.user)
            if self.password is not None:
                out.append(":" + self.password)
            out.append("@")
        out.append(self.host)
        if self.port is not None:
            out.append(f":{self.port}")
        out.append(format_params(self.params))
        if self.headers:
            out.append("?" + "&".join(f"{n}={v}" for n, v in self.headers))
        return "".join(out)

    @property
    def secure(self) -> bool:
        return self.scheme == "sips"

    @property
    def host_unbracketed(self) -> str:
        return self.host[1:-1] if is_ipv6_reference(self.host) else self.host

    @property
    def transport(self) -> str | None:
        value = self.param("transport")
        return value.lower() if value else None

    @property
    def user_unescaped(self) -> str | None:
        return None if self.user is None else unquote(self.user, errors="surrogateescape")

    def with_(self, **changes: object) -> SipUri:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def aor(self) -> str:
        """The address-of-record form: scheme, user and host only (RFC 3261 §10.3 step 5)."""
        user = f"{self.user}@" if self.user is not None else ""
        return f"{self.scheme}:{user}{self.host.lower()}"


@dataclass(frozen=True)
class TelUri(HasParams):
    number: str
    params: Params = ()

    scheme = "tel"

    def __str__(self) -> str:
        return f"tel:{self.number}{format_params(self.params)}"


@dataclass(frozen=True)
class AbsoluteUri:
    """Any other scheme (RFC 3261 allows absoluteURI in To, From, Contact...)."""

    scheme: str
    rest: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.rest}"


Uri = SipUri | TelUri | AbsoluteUri


# URIs and name-addrs are immutable, and the same To, From and Contact values come
# back in message after message: each text is parsed once while it stays among the
# CACHED most recent ones (what fails is not kept: it fails again, with the same
# error). Only texts up to CACHED_TEXT characters are kept, so the caches hold at most
# a few MiB, whatever a peer sends.
CACHED = 4096
CACHED_TEXT = 256


def parse_uri(text: str, *, allow_headers: bool = True) -> Uri:
    """Parse a URI. ``allow_headers=False`` is for a Request-URI (RFC 3261 §19.1.1)."""
    if len(text) <= CACHED_TEXT:
        return _cached_uri(text, allow_headers)
    return _parse_uri(text, allow_headers)


def _parse_uri(text: str, allow_headers: bool) -> Uri:
    scheme, colon, rest = text.partition(":")
    if not colon or not _SCHEME_RE.match(scheme):
        raise _err("missing or bad scheme", text)
    low = scheme.lower()
    if low in ("sip", "sips"):
        return _parse_sip(low, rest, text, allow_headers)
    if low == "tel":
        return _parse_tel(rest, text)
    if not rest or any(c.isspace() for c in rest) or any(c in '<>"' for c in rest):
        raise _err("bad absolute URI", text)
    return AbsoluteUri(low, rest)


def parse_sip_uri(text: str, *, allow_headers: bool = True) -> SipUri:
    uri = parse_uri(text, allow_headers=allow_headers)
    if not isinstance(uri, SipUri):
        raise SipParseError(f"expected a sip: or sips: URI, got {text!r}")
    return uri


def _parse_sip(scheme: str, rest: str, text: str, allow_headers: bool) -> SipUri:
    user: str | None = None
    password: str | None = None
    at = rest.find("@")
    if at >= 0:
        userinfo, rest = rest[:at], rest[at + 1 :]
        user, colon, pw = userinfo.partition(":")
        if not user or not _USER_RE.match(user):
            raise _err(f"bad user part {user!r}", text)
        if colon:
            if not _PASSWORD_RE.match(pw):
                raise _err("bad password part", text)
            password = pw
    rest, qmark, header_text = rest.partition("?")
    if qmark and not allow_headers:
        raise _err("headers are not allowed in a Request-URI", text)
    hostport, semi, param_text = rest.partition(";")
    params = _split_params(param_text, text) if semi else ()
    host, port_text = split_hostport(hostport, what=f"URI {text!r}")
    validate_host(host, text)
    port = None if port_text is None else parse_port(port_text, f"URI {text!r}")
    headers: list[tuple[str, str]] = []
    if qmark:
        for item in header_text.split("&"):
            name, eq, value = item.partition("=")
            if not name or not eq or not _HCHAR_RE.match(name) or not _HCHAR_RE.match(value):
                raise _err(f"bad URI header {item!r}", text)
            headers.append((name, value))
    return SipUri(scheme, host, user, password, port, params, tuple(headers))


def _parse_tel(rest: str, text: str) -> TelUri:
    number, semi, param_text = rest.partition(";")
    if not number or not _TEL_RE.match(number):
        raise _err("bad telephone number", text)
    return TelUri(number, _split_params(param_text, text) if semi else ())


# ---------------------------------------------------------------- name-addr


@dataclass(frozen=True)
class NameAddr(HasParams):
    """``"Display" <uri>;tag=x`` or ``uri;tag=x`` (To, From, Contact, Route...)."""

    uri: Uri
    display_name: str | None = None  # unquoted, unescaped
    params: Params = ()
    bracketed: bool = True
    raw_display: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.bracketed or self.display_name is not None:
            dn = ""
            if self.display_name is not None:
                dn = (self.raw_display or quote(self.display_name)) + " "
            head = f"{dn}<{self.uri}>"
        else:
            head = str(self.uri)
        return head + format_params(self.params)

    @property
    def tag(self) -> str | None:
        return self.param("tag")


def parse_header_params(text: str, whole: str) -> Params:
    """``;name=value;flag`` with LWS around separators; quoted values allowed."""
    params: list[tuple[str, str | None]] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i >= n:
            break
        if text[i] != ";":
            raise SipParseError(f"unexpected {text[i:]!r} in header parameters of {whole!r}")
        i += 1
        while i < n and text[i] in " \t":
            i += 1
        j = i
        while j < n and text[j] not in "=; \t":
            j += 1
        name = text[i:j]
        if not name or not is_token(name):
            raise SipParseError(f"empty or bad parameter name in {whole!r}")
        i = j
        while i < n and text[i] in " \t":
            i += 1
        value: str | None = None
        if i < n and text[i] == "=":
            i += 1
            while i < n and text[i] in " \t":
                i += 1
            if i < n and text[i] == '"':
                raw_start = i
                _, i = read_quoted(text, i, what=f"parameter {name!r}")
                value = text[raw_start:i]
            else:
                j = i
                while j < n and text[j] not in "; \t":
                    j += 1
                value = text[i:j]
                if not value:
                    raise SipParseError(f"parameter {name!r} has an empty value in {whole!r}")
                i = j
        params.append((name, value))
    return tuple(params)


def parse_name_addr(text: str) -> NameAddr:
    """One To/From/Contact/Route value (already split at top-level commas)."""
    if len(text) <= CACHED_TEXT:
        return _cached_name_addr(text)
    return _parse_name_addr(text)


def _parse_name_addr(text: str) -> NameAddr:
    s = text.strip()
    if not s:
        raise SipParseError("empty address")
    if "<" in s or s.startswith('"'):
        display: str | None = None
        raw_display: str | None = None
        i = 0
        if s.startswith('"'):
            display, i = read_quoted(s, 0, what="display name")
            raw_display = s[:i]
            rest = s[i:].lstrip(" \t")
            if not rest.startswith("<"):
                raise SipParseError(f"expected '<' after display name in {text!r}")
            i = len(s) - len(rest)
        else:
            lt = s.find("<")
            words = s[:lt].strip()
            if words:
                for word in words.split():
                    if not is_token(word):
                        raise SipParseError(
                            f"display name {words!r} must be quoted (it has characters "
                            f"that are not allowed in an unquoted name) in {text!r}"
                        )
                display = " ".join(words.split())
                raw_display = words
            i = lt
        gt = s.find(">", i)
        if gt < 0:
            raise SipParseError(f"missing '>' in {text!r}")
        inner = s[i + 1 : gt]
        if inner != inner.strip():
            raise SipParseError(f"white space inside <...> in {text!r}")
        uri = parse_uri(inner)
        params = parse_header_params(s[gt + 1 :], text)
        return NameAddr(uri, display, params, True, raw_display)
    # addr-spec: RFC 3261 §20: parameters after it are header parameters, so
    # the URI itself cannot carry ';' parameters, '?' headers or ','.
    head, semi, tail = s.partition(";")
    head = head.rstrip(" \t")
    if "?" in head:
        raise SipParseError(
            f"a URI with headers ('?') must be enclosed in <...> (RFC 3261 §20) in {text!r}"
        )
    if any(c.isspace() for c in head):
        raise SipParseError(f"white space inside URI in {text!r}")
    uri = parse_uri(head)
    params = parse_header_params(semi + tail, text) if semi else ()
    return NameAddr(uri, None, params, False, None)


_cached_uri = lru_cache(maxsize=CACHED)(_parse_uri)
_cached_name_addr = lru_cache(maxsize=CACHED)(_parse_name_addr)
