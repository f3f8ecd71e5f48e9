"""Structured access to the header fields sipcheck reasons about."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sipcheck.errors import SipParseError
from sipcheck.sip.wire.grammar import (
    HOSTNAME,
    TOKEN,
    is_digits,
    is_token,
    parse_hostport,
    parse_port,
    parse_uint,
    unquote,
)
from sipcheck.sip.wire.headers import Headers, split_list
from sipcheck.sip.wire.uri import (
    CACHED,
    HasParams,
    NameAddr,
    Params,
    format_params,
    parse_header_params,
    parse_name_addr,
)

MAX_DELTA_SECONDS = 2**32 - 1  # RFC 3261 §20.19, §20.37
MAX_CSEQ = 2**31 - 1  # RFC 3261 §8.1.1.5: "MUST be ... less than 2**31"

# RFC 3261 §20.42 sent-protocol with LWS around the slashes (header values reach
# here unfolded, so LWS is blanks).
_VIA_RE = re.compile(
    rf"[ \t]*({TOKEN})[ \t]*/[ \t]*({TOKEN})[ \t]*/[ \t]*({TOKEN})[ \t]+(.*)\Z", re.DOTALL
)


@dataclass(frozen=True)
class Via(HasParams):
    protocol: str  # "SIP/2.0"
    transport: str  # upper case: UDP, TCP, TLS, WS, WSS, SCTP
    host: str  # as written; IPv6 references keep their brackets
    port: int | None
    params: Params = ()

    def __str__(self) -> str:
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.protocol}/{self.transport} {self.host}{port}{format_params(self.params)}"

    @property
    def branch(self) -> str | None:
        return self.param("branch")

    @property
    def received(self) -> str | None:
        return self.param("received")

    @property
    def rport(self) -> int | None:
        """The rport value a server filled in (RFC 3581), or None."""
        value = self.param("rport")
        if value is None:
            return None
        try:
            return parse_port(value, "rport")
        except SipParseError:
            return None


# The shape nearly every Via has: ``SIP/2.0/UDP host[:port];param[=value]...`` with
# nothing to strip, unquote or normalise, so that its text is exactly what str() of
# its parsed Via gives (the port without leading zeros, unquoted parameter values).
_PLAIN_VIA_RE = re.compile(
    rf"SIP/2\.0/([A-Z]+) ({HOSTNAME})(?::([1-9][0-9]{{0,4}}))?"
    rf"((?:;{TOKEN}(?:=[^;\s\"]+)?)*)\Z"
)


def plain_via(value: str) -> tuple[str, str, list[str]] | None:
    """For a Via value in the plain shape above: the text before its parameters
    (``SIP/2.0/UDP host:port``), the host, and each parameter as written
    (``branch=z9hG4bK1``, ``rport``). None for any other value."""
    plain = _PLAIN_VIA_RE.match(value)
    if plain is None or (plain.group(3) and int(plain.group(3)) > 65535):
        return None
    param_text = plain.group(4)
    return value[: plain.start(4)], plain.group(2), param_text.split(";")[1:]


def parse_via(value: str) -> Via:
    plain = plain_via(value)
    if plain is not None:
        # The plain shape: nothing to strip or unquote, so its parts are the Via's.
        head, host, params = plain
        transport, _, hostport = head[8:].partition(" ")
        port = hostport[len(host) + 1 :]
        return Via(
            "SIP/2.0",
            transport,
            host,
            int(port) if port else None,
            tuple((n, v if eq else None) for n, eq, v in (p.partition("=") for p in params)),
        )
    return parse_any_via(value)


def parse_any_via(value: str) -> Via:
    """``parse_via`` without its shortcut for the plain shape: every Via grammar allows."""
    match = _VIA_RE.match(value)
    if match is None:
        raise SipParseError(f"Via {value!r} is not 'SIP/2.0/TRANSPORT host[:port]'")
    name, version, transport, rest = match.groups()
    rest = rest.strip()
    semi = rest.find(";")
    sent_by, param_text = (rest, "") if semi < 0 else (rest[:semi], rest[semi:])
    sent_by = sent_by.strip()
    host, port = parse_hostport(sent_by, what="Via sent-by", lws=True)
    params = parse_header_params(param_text, value)
    return Via(f"{name}/{version}", transport.upper(), host, port, params)


def vias(headers: Headers) -> list[Via]:
    return [parse_via(v) for v in headers.values("Via")]


@dataclass(frozen=True)
class CSeq:
    number: int
    method: str

    def __str__(self) -> str:
        return f"{self.number} {self.method}"


# CSeq values repeat ("1 REGISTER", "2 REGISTER"), and a CSeq is immutable: the
# shortest texts are parsed once while among the CACHED latest (a failure is not kept).
CACHED_CSEQ_TEXT = 32


def parse_cseq(value: str) -> CSeq:
    if len(value) <= CACHED_CSEQ_TEXT:
        return _cached_cseq(value)
    return _parse_cseq(value)


def _parse_cseq(value: str) -> CSeq:
    parts = value.split()
    if len(parts) != 2 or not is_digits(parts[0]) or not is_token(parts[1]):
        raise SipParseError(f"CSeq {value!r} is not 'NUMBER METHOD'")
    below = "is not below 2**31 (RFC 3261 §8.1.1.5)"
    number = parse_uint(parts[0], "CSeq number", maximum=MAX_CSEQ, too_large=below)
    return CSeq(number, parts[1])


_cached_cseq = lru_cache(maxsize=CACHED)(_parse_cseq)


def parse_delta_seconds(value: str, what: str = "Expires") -> int:
    return parse_uint(
        value.strip(),
        what,
        maximum=MAX_DELTA_SECONDS,
        kind="a number of seconds",
        too_large="is larger than 2**32-1 seconds",
    )


@dataclass(frozen=True)
class Contact:
    """One Contact value; ``address`` is None for the wildcard ``*``."""

    address: NameAddr | None

    @property
    def is_star(self) -> bool:
        return self.address is None

    @property
    def expires(self) -> int | None:
        if self.address is None:
            return None
        value = self.address.param("expires")
        return None if value is None else parse_delta_seconds(value, what="Contact expires")

    def __str__(self) -> str:
        return "*" if self.address is None else str(self.address)


def contacts(headers: Headers) -> list[Contact]:
    out: list[Contact] = []
    for value in headers.values("Contact"):
        if value == "*":
            out.append(Contact(None))
        else:
            out.append(Contact(parse_name_addr(value)))
    return out


def address(headers: Headers, name: str) -> NameAddr | None:
    """To, From and other single-address headers."""
    value = headers.get(name)
    return None if value is None else parse_name_addr(value)


def addresses(headers: Headers, name: str) -> list[NameAddr]:
    """Route, Record-Route, Path, Service-Route."""
    return [parse_name_addr(v) for v in headers.values(name)]


def tokens(headers: Headers, name: str) -> list[str]:
    """Allow, Supported, Require...: a comma list of tokens."""
    return [v for value in headers.get_all(name) for v in split_list(value) if v]


def params_dict(params: Params) -> dict[str, str | None]:
    return {n.lower(): None if v is None else unquote(v) for n, v in params}
