"""The positional argument of the client commands, as the user typed it.

``user@domain``, a ``sip:``/``sips:`` URI, or an Asterisk/VICIdial registration
string ``user[:secret]@host[:port][/extension]``. A password in the argument
(a registration string's secret, or ``sip:user:secret@host``, deprecated by
RFC 3261 §19.1.1) is taken out here: it is kept as the password and never
appears in the AoR, so it is never sent nor printed. Error messages are built
from the text without the secret.

This is user-input parsing; the URI grammar itself is ``sip.wire.uri``'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from sipcheck.errors import ConfigError, SipParseError
from sipcheck.secret import Secret
from sipcheck.sip.wire.uri import SipUri, parse_sip_uri

Form = Literal["aor", "uri", "registration-string"]

_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# URI schemes a user may paste that are not SIP addresses (RFC 3966 tel: above all).
_NOT_SIP = frozenset({"tel", "fax", "modem", "mailto", "http", "https", "urn", "xmpp", "h323"})
FORMS_HINT = "use user@domain, sip:user@domain, or user:secret@host:port/extension"


@dataclass(frozen=True)
class AorArgument:
    """The parsed argument: the AoR (never with a password) and what a registration
    string adds. ``password`` is the secret the argument carried, if any."""

    aor: SipUri
    form: Form = "aor"
    password: Secret | None = None
    contact_user: str | None = None  # the /extension of a registration string


def parse_aor_argument(text: str) -> AorArgument:
    """Parse the AOR/TARGET argument; ConfigError (secret-free message) when it is bad."""
    text = text.strip()
    if not text:
        raise ConfigError("empty address; give an AoR such as alice@pbx.example.com")
    match = _SCHEME_RE.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme in _NOT_SIP:
        raise ConfigError(
            f"a {scheme}: URI is not a SIP address; give a sip: or sips: URI "
            f"(e.g. sip:+15551234567@carrier.example) or user@domain"
        )
    if scheme in ("sip", "sips"):
        return _parse_uri_form(scheme, text[len(scheme) + 1 :])
    return _parse_plain_form(text)


def _parse_uri_form(scheme: str, rest: str) -> AorArgument:
    # The user part ends at the first "@" (RFC 3261 §25.1: "@" is escaped in a password).
    userinfo, at, hostpart = rest.partition("@")
    if not at:
        userinfo, hostpart = "", rest
    user, colon, secret = userinfo.partition(":")
    clean = f"{scheme}:{user}@{hostpart}" if at else f"{scheme}:{hostpart}"
    _check_brackets(re.split(r"[;?]", hostpart, maxsplit=1)[0], clean)
    uri = _parse(clean)
    password = Secret(unquote(secret)) if colon and secret else None
    return AorArgument(uri, "uri", password)


def _parse_plain_form(text: str) -> AorArgument:
    if "@" not in text:  # host[:port] (a TARGET), or a user-less AoR given --user
        _check_brackets(text, text)
        return AorArgument(_parse(text))
    # An Asterisk secret may itself hold "@" or ":": the host is after the last "@".
    userinfo, _, hostpart = text.rpartition("@")
    name, colon, secret = userinfo.partition(":")
    hostpart, slash, extension = hostpart.partition("/")
    clean = f"{name}@{hostpart}"
    _check_brackets(hostpart, clean)
    uri = _parse(clean)
    if slash and extension:
        _check_user(extension, "the /extension")
    password = Secret(secret) if colon and secret else None
    form: Form = "registration-string" if colon or slash else "aor"
    return AorArgument(uri, form, password, extension or None)


def _check_brackets(hostport: str, shown: str) -> None:
    if hostport.count(":") > 1 and not hostport.startswith("["):
        raise ConfigError(
            f"{shown!r}: write an IPv6 address in brackets, e.g. alice@[2001:db8::1] "
            "or alice@[2001:db8::1]:5060"
        )


def _parse(text: str) -> SipUri:
    has_scheme = text.lower().startswith(("sip:", "sips:"))
    try:
        return parse_sip_uri(text if has_scheme else f"sip:{text}")
    except SipParseError as exc:
        raise ConfigError(f"not a SIP address: {exc.message}; {FORMS_HINT}") from None


def _check_user(user: str, what: str) -> None:
    """A valid URI user part (RFC 3261 §25.1), as ``sip.wire.uri`` parses it."""
    try:
        uri = parse_sip_uri(f"sip:{user}@invalid")
    except SipParseError:
        uri = None
    if uri is None or uri.user != user or uri.password is not None:
        where = f"{what} " if what else ""
        raise ConfigError(f"{where}{user!r} is not a valid SIP user part")


def check_user(user: str, what: str = "--user") -> str:
    """``user`` if it can stand as the user part of a SIP URI; else ConfigError."""
    _check_user(user, what)
    return user
