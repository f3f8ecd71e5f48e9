"""The basic rules of RFC 3261 §25.1, defined once: token, quoted-string, DIGIT, host
and host:port. Every other wire module builds on these.

Two token rules exist on purpose: RFC 3261 ``token`` (alphanum and ``-.!%*_+`'~``)
for SIP syntax, and RFC 7230 §3.2.6 ``tchar`` (the same plus ``#$&^|``), which the
authentication headers are parsed with (RFC 7235 §2.1) because real servers use it.

Numbers are ASCII digits only (``DIGIT = %x30-39``; ``'¹'.isdigit()`` is true in
Python, ``int('¹')`` fails) and are bounded before ``int()`` sees them, so a
10,000-digit value is a parse error, not Python's integer conversion limit.

Quoted strings follow RFC 3261 §25.1: qdtext is LWS, ``%x21 / %x23-5B / %x5D-7E`` and
UTF-8 beyond ASCII, so an unescaped control character (HTAB aside) or an octet that is
not UTF-8 (decoded with surrogateescape, so a lone surrogate here) is a SipParseError
naming its column. RFC 3261 quoted-pair admits escaped control characters other than CR
and LF (the RFC 4475 §3.1.1.2 torture message has ``\\<NUL>``); the HTTP rule used for
authentication headers (RFC 7230 §3.2.6) does not. The writer, :func:`quote`, writes
only what both rules read back: it refuses control characters and non-UTF-8.
"""

from __future__ import annotations

import ipaddress
import re

from sipcheck.errors import LocalProtocolError, SipParseError

__all__ = [
    "HOSTNAME",
    "HTTP_TOKEN_RE",
    "TOKEN",
    "TOKEN_RE",
    "abbreviate",
    "bad_char",
    "describe_char",
    "is_digits",
    "is_hostname",
    "is_http_token",
    "is_token",
    "is_uint",
    "numeric_host",
    "parse_hostport",
    "parse_port",
    "parse_uint",
    "quote",
    "read_quoted",
    "split_hostport",
    "unquote",
    "validate_host",
]

# --- token ----------------------------------------------------------------------------

# RFC 3261 §25.1 token, as pattern text for composing larger expressions.
TOKEN = r"[A-Za-z0-9\-.!%*_+`'~]+"
TOKEN_RE = re.compile(TOKEN)
# RFC 7230 §3.2.6 tchar: the RFC 3261 token characters plus # $ & ^ |.
HTTP_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def is_token(text: str) -> bool:
    """RFC 3261 §25.1 ``token``."""
    return TOKEN_RE.fullmatch(text) is not None


def is_http_token(text: str) -> bool:
    """RFC 7230 §3.2.6 ``token`` (RFC 7235 auth-scheme, auth-param names)."""
    return HTTP_TOKEN_RE.fullmatch(text) is not None


# --- numbers --------------------------------------------------------------------------

_SHOWN = 40  # characters of a bad number quoted in an error message


def is_digits(text: str) -> bool:
    """One or more ASCII digits (``1*DIGIT``), nothing else."""
    # Among ASCII characters only 0-9 are digits; beyond ASCII, isdigit() is also
    # true of superscripts, other scripts' digits and fullwidth forms.
    return text.isascii() and text.isdigit()


def abbreviate(text: str) -> str:
    """``text`` cut for an error message (a bad value can be megabytes long)."""
    return text if len(text) <= _SHOWN else f"{text[:_SHOWN]}... ({len(text)} characters)"


def parse_uint(
    text: str,
    what: str,
    *,
    maximum: int = 10**10 - 1,
    kind: str = "a non-negative integer",
    too_large: str | None = None,
) -> int:
    """``1*DIGIT`` as an int no larger than ``maximum``; leading zeros are allowed.

    Raises SipParseError ``"{what} {text!r} is not {kind}"`` for anything but ASCII
    digits, and ``"{what} {text} {too_large}"`` (default ``is larger than {maximum}``)
    for a larger value, which is detected without converting it.
    """
    if not (text.isascii() and text.isdigit()):
        raise SipParseError(f"{what} {abbreviate(text)!r} is not {kind}")
    value = _bounded(text, maximum)
    if value is None:
        raise SipParseError(f"{what} {abbreviate(text)} {too_large or f'is larger than {maximum}'}")
    return value


def is_uint(text: str, maximum: int = 10**10 - 1) -> bool:
    """Whether :func:`parse_uint` would accept ``text``."""
    return text.isascii() and text.isdigit() and _bounded(text, maximum) is not None


def _bounded(digits: str, maximum: int) -> int | None:
    if len(digits) > 18:
        # int() refuses more than 4300 digits, leading zeros included (and is slow long
        # before): compare the significant digits' length first.
        digits = digits.lstrip("0") or "0"
        if len(digits) > len(str(maximum)):
            return None
    value = int(digits)
    return value if value <= maximum else None


def parse_port(text: str, what: str = "port") -> int:
    """RFC 3261 §25.1 ``port = 1*DIGIT``, 0-65535."""
    try:
        return parse_uint(text, what, maximum=65535, kind="a port number")
    except SipParseError as exc:
        raise SipParseError(f"bad port {abbreviate(text)!r} in {what}") from exc


# --- quoted-string --------------------------------------------------------------------

# Never allowed in a quoted string as a character of its own (RFC 3261 §25.1 qdtext:
# no CTL but the HTAB of LWS; UTF8-NONASCII, so no lone surrogate from an octet that
# was not UTF-8).
NOT_QDTEXT = r"\x00-\x08\x0a-\x1f\x7f\ud800-\udfff"  # as a regex class's contents
_BAD_QDTEXT_RE = re.compile(f"[{NOT_QDTEXT}]")
# Not allowed after a backslash: RFC 3261 quoted-pair excludes CR and LF; the HTTP
# rule (RFC 7230 §3.2.6: HTAB / SP / VCHAR / obs-text) excludes every CTL but HTAB.
_SURROGATES = frozenset(chr(c) for c in range(0xD800, 0xE000))
_BAD_PAIR_SIP = frozenset("\r\n") | _SURROGATES
_BAD_PAIR_HTTP = frozenset(chr(c) for c in (*range(0x20), 0x7F) if c != 9) | _SURROGATES


def bad_char(text: str, start: int = 0) -> int:
    """The index of the first character that may not stand in a quoted string or an
    auth-param value (a control character other than HTAB, or a lone surrogate from an
    octet that is not UTF-8), or -1."""
    found = _BAD_QDTEXT_RE.search(text, start)
    return -1 if found is None else found.start()


def describe_char(ch: str) -> str:
    """How an error message names a character that :func:`bad_char` found."""
    if "\ud800" <= ch <= "\udfff":
        return f"octet 0x{ord(ch) - 0xDC00:02x} that is not UTF-8"
    return f"control character {ch!r}"


def read_quoted(
    text: str, start: int, *, what: str = "quoted string", http: bool = False
) -> tuple[str, int]:
    """Read the quoted-string at ``text[start] == '"'``: (value unescaped, index after).

    ``http`` applies the RFC 7230 quoted-pair rule (no escaped control characters).
    Raises SipParseError, with the 1-based column, for an unterminated string and for
    a character neither rule allows.
    """
    bad_pair = _BAD_PAIR_HTTP if http else _BAD_PAIR_SIP
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return "".join(out), i + 1
        if c == "\\":
            if i + 1 >= n:
                break
            c = text[i + 1]
            if c in bad_pair:
                raise _bad_at(text, i + 1, what, c)
            out.append(c)
            i += 2
            continue
        if _BAD_QDTEXT_RE.match(c):
            raise _bad_at(text, i, what, c)
        out.append(c)
        i += 1
    raise SipParseError(
        f"unterminated quoted string in {what} at column {start + 1}: {abbreviate(text)!r}",
        column=start + 1,
    )


def _bad_at(text: str, index: int, what: str, ch: str) -> SipParseError:
    return SipParseError(
        f"{describe_char(ch)} in {what} at column {index + 1}: {abbreviate(text)!r}",
        column=index + 1,
    )


def quote(value: str) -> str:
    """Write ``value`` as a quoted-string (RFC 3261 §25.1), escaping ``"`` and ``\\``.

    Raises LocalProtocolError for a control character other than HTAB or a lone
    surrogate: no quoted-string can carry CR or LF, and the HTTP rule the
    authentication headers follow allows no escaped control character at all.
    """
    bad = _BAD_QDTEXT_RE.search(value)
    if bad is not None:
        raise LocalProtocolError(
            f"cannot write {describe_char(bad.group())} in a quoted string: {value!r}"
        )
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote(value: str, what: str = "parameter") -> str:
    """A parameter value as written (a token, or a whole quoted-string) unquoted."""
    if not value.startswith('"'):
        return value
    inner, end = read_quoted(value, 0, what=what)
    if end != len(value):
        raise SipParseError(f"junk after the quoted string in {what}: {abbreviate(value)!r}")
    return inner


# --- host and host:port ---------------------------------------------------------------

# RFC 3261 §25.1 hostname: labels of alphanum and '-', neither first nor last, with an
# optional final dot. (toplabel = ALPHA ... is not enforced: numeric-looking names
# that are not IPv4 addresses are tolerated, as most stacks do.)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
HOSTNAME = rf"(?:{_LABEL}\.)*{_LABEL}\.?"
_HOSTNAME_RE = re.compile(HOSTNAME)
_LABEL_UNDERSCORE_RE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_\-]*[A-Za-z0-9_])?")


def is_hostname(host: str, *, underscore: bool = False) -> bool:
    """RFC 3261 §25.1 ``hostname``; ``underscore`` also admits '_' in labels (DNS
    names that people type, such as ``pbx_1.example.com``, that SIP's grammar lacks)."""
    if not underscore:
        return _HOSTNAME_RE.fullmatch(host) is not None
    name = host[:-1] if host.endswith(".") else host
    return bool(name) and all(_LABEL_UNDERSCORE_RE.fullmatch(label) for label in name.split("."))


_IPV6_CHARS_RE = re.compile(r"[0-9A-Fa-f:.]+")


def _ipv6_reference_ok(host: str) -> bool:
    inner = host[1:-1]
    if _IPV6_CHARS_RE.fullmatch(inner) is None:
        # RFC 3261 §25.1 IPv6reference has no zone: Python's ipaddress takes any text
        # after a '%' as a scope id, control characters and non-UTF-8 included.
        return False
    for candidate in (inner, inner.replace(":::", "::", 1)):
        # RFC 5118 §4.10: the RFC 3261 ABNF admits a three-colon form; accept it.
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        return True
    return False


def validate_host(host: str, text: str = "") -> None:
    """Raise SipParseError unless ``host`` is a hostname, IPv4 address or [IPv6]
    reference (RFC 3261 §25.1 ``host``)."""
    where = f" in URI {abbreviate(text or host)!r}"
    if not host:
        raise SipParseError(f"empty host{where}")
    if host.startswith("["):
        if not host.endswith("]"):
            raise SipParseError(f"unterminated IPv6 reference{where}")
        if not _ipv6_reference_ok(host):
            raise SipParseError(f"invalid IPv6 reference {abbreviate(host)!r}{where}")
        return
    if _HOSTNAME_RE.fullmatch(host) is None:
        raise SipParseError(f"invalid host {abbreviate(host)!r}{where}")


def numeric_host(host: str) -> str | None:
    """The address if ``host`` is a numeric IPv4/IPv6 (brackets allowed), else None."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        ipaddress.ip_address(bare)
    except ValueError:
        return None
    if host != bare and ":" not in bare:
        return None  # brackets are for IPv6 only (RFC 3261 §25.1)
    return bare


def split_hostport(
    text: str, *, what: str = "address", lws: bool = False, bare_ipv6: bool = False
) -> tuple[str, str | None]:
    """Split ``host[:port]`` or ``[v6][:port]``: (host, port text or None), brackets kept.

    Only the shape is checked here: callers validate host and port by their own rules.
    ``lws`` allows blanks around the ':' (a Via sent-by, RFC 3261 §25.1 ``COLON``);
    ``bare_ipv6`` reads an unbracketed text with several colons as an IPv6 address
    without a port (``2001:db8::1:5060`` is an address). Raises SipParseError.
    """
    blanks = " \t" if lws else ""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise SipParseError(f"unterminated IPv6 reference in {what} {abbreviate(text)!r}")
        host, rest = text[: end + 1], text[end + 1 :].lstrip(blanks)
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise SipParseError(f"junk after host in {what} {abbreviate(text)!r}")
        return host, rest[1:].lstrip(blanks)
    if bare_ipv6 and text.count(":") > 1:
        return text, None
    host, colon, port_text = text.partition(":")
    if not colon:
        return host, None
    return host.rstrip(blanks), port_text.lstrip(blanks)


def parse_hostport(
    text: str, *, what: str = "address", lws: bool = False
) -> tuple[str, int | None]:
    """RFC 3261 §25.1 ``hostport``: a validated host (brackets kept) and port or None."""
    host, port_text = split_hostport(text, what=what, lws=lws)
    validate_host(host, text)
    return host, None if port_text is None else parse_port(port_text, f"{what} {text!r}")
