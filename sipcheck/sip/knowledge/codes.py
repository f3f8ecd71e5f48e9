"""SIP response-code knowledge base: what each status code means, above all to a REGISTER.

The prose lives in ``codes_data``; this module turns it into ``CodeInfo`` records and
answers look-ups. Every code in the IANA "Response Codes" registry has an entry, plus
the RFC 2543 codes that RFC 3261 dropped (``legacy``). A code in 100-699 that is in
neither gets a class-level entry built from its first digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from sipcheck.errors import ConfigError
from sipcheck.sip.knowledge.codes_data import ENTRIES

__all__ = [
    "AUTH_COMPARISON",
    "CLASS_NAMES",
    "AuthRow",
    "CodeInfo",
    "all_codes",
    "class_of",
    "lookup",
]


@dataclass(frozen=True)
class CodeInfo:
    code: int
    reason: str  # registered reason phrase; "" for a code that has none
    klass: str  # RFC 3261 §21 class name, see CLASS_NAMES
    rfc: str  # defining document, e.g. "RFC 3261 §21.4.2"
    registered: bool  # in the IANA registry
    legacy: bool  # RFC 2543-only code
    meaning: str  # plain words, 1-3 sentences
    for_register: str  # what it means when the request was a REGISTER
    next_steps: tuple[str, ...]  # what to check next, most likely first
    summary: str  # one short line, for under an arrow in a ladder diagram


# RFC 3261 §21.1-21.6, keyed by the first digit.
CLASS_NAMES: dict[int, str] = {
    1: "Provisional",
    2: "Successful",
    3: "Redirection",
    4: "Request Failure",
    5: "Server Failure",
    6: "Global Failure",
}


class _ClassText(NamedTuple):
    meaning: str
    for_register: str
    fallback: int  # RFC 3261 §8.1.3.2: how a client treats an unknown code of this class


_CLASS_TEXT: dict[int, _ClassText] = {
    1: _ClassText(
        "the server is still working on the request and has no final answer yet.",
        "The REGISTER is still being processed; a final response must follow.",
        183,
    ),
    2: _ClassText(
        "the request was received, understood and accepted.",
        "The registration succeeded; check the Contact bindings the response lists.",
        200,
    ),
    3: _ClassText(
        "the client should send the request again somewhere else, usually to the "
        "address(es) in the Contact header of the response.",
        "The server points elsewhere: the Contact of the response is where to register.",
        300,
    ),
    4: _ClassText(
        "the client's request was not accepted by this server as it was sent. Changing it "
        "(for example adding credentials) may help, and another server might accept it.",
        "This server refused the REGISTER as sent; something in the request or the "
        "account has to change before a retry can succeed.",
        400,
    ),
    5: _ClassText(
        "the server failed to handle an apparently valid request. The fault is on the "
        "server side, and another server may succeed.",
        "The registrar or a proxy in front of it failed; retrying later or on another "
        "server may work.",
        500,
    ),
    6: _ClassText(
        "the server has definitive information about the user, not just about this "
        "server, so the request should not be tried elsewhere.",
        "The service refuses this registration outright; do not fail over to other servers.",
        600,
    ),
}


def _check_range(code: int) -> None:
    if not 100 <= code <= 699:
        raise ConfigError(
            f"{code} is not a SIP status code (100-699)",
            hint="SIP status codes have three digits, the first from 1 to 6 (RFC 3261 §7.2).",
        )


def class_of(code: int) -> str:
    """RFC 3261 §21 class name of ``code``; ``ConfigError`` outside 100-699."""
    _check_range(code)
    return CLASS_NAMES[code // 100]


def _class_section(code: int) -> str:
    return f"RFC 3261 §21.{code // 100}"


def _build() -> dict[int, CodeInfo]:
    table: dict[int, CodeInfo] = {}
    for e in ENTRIES:
        if e.code in table:
            raise AssertionError(f"duplicate knowledge-base entry for {e.code}")
        table[e.code] = CodeInfo(
            code=e.code,
            reason=e.reason,
            klass=class_of(e.code),
            rfc=e.rfc,
            registered=not e.legacy,
            legacy=e.legacy,
            meaning=e.meaning,
            for_register=e.for_register,
            next_steps=e.next_steps,
            summary=e.summary,
        )
    return dict(sorted(table.items()))


_TABLE: dict[int, CodeInfo] = _build()


def _class_entry(code: int) -> CodeInfo:
    klass = class_of(code)
    text = _CLASS_TEXT[code // 100]
    fallback = _TABLE[text.fallback]
    handled_as = f"{fallback.code} {fallback.reason}"
    # RFC 3261 §8.1.3.2: unknown finals count as the class's x00; unknown 1xx as 183.
    return CodeInfo(
        code=code,
        reason="",
        klass=klass,
        rfc=f"{_class_section(code)}; handling: RFC 3261 §8.1.3.2",
        registered=False,
        legacy=False,
        meaning=(
            f"{klass}: {text.meaning} {code} is not a registered SIP status code, "
            f"so a client handles it as {handled_as} (RFC 3261 §8.1.3.2)."
        ),
        for_register=text.for_register,
        next_steps=(
            "Read the reason phrase and any Warning header: an unregistered code "
            "carries its real meaning there.",
            f"Handle it as {handled_as}; see that code's entry.",
            "Ask the server's operator what the code means in their system.",
        ),
        summary=f"Unregistered {klass.lower()} code; handled as {fallback.code}",
    )


def lookup(code: int) -> CodeInfo:
    """Knowledge-base entry for ``code``.

    Registered and legacy codes get their own entry; any other code in 100-699 a
    class-level one (``registered=False``, ``reason == ""``). Outside 100-699:
    ``ConfigError``.
    """
    _check_range(code)
    info = _TABLE.get(code)
    return info if info is not None else _class_entry(code)


def all_codes() -> list[CodeInfo]:
    """Every registered and legacy code, sorted by code."""
    return list(_TABLE.values())


class AuthRow(NamedTuple):
    aspect: str
    unauthorized_401: str
    proxy_auth_407: str


# 401 and 407 side by side (RFC 3261 §22.2, §22.3): one row per aspect.
AUTH_COMPARISON: tuple[AuthRow, ...] = (
    AuthRow(
        "Who challenges",
        "the registrar (or the user agent) that processes the request",
        "a proxy on the path: outbound proxy, SBC or edge proxy",
    ),
    AuthRow("Challenge header", "WWW-Authenticate", "Proxy-Authenticate"),
    AuthRow("Answer header", "Authorization", "Proxy-Authorization"),
    AuthRow(
        "RFC section",
        "RFC 3261 §22.2 (user-to-user authentication)",
        "RFC 3261 §22.3 (proxy-to-user authentication)",
    ),
    AuthRow(
        "Typical REGISTER case",
        "the normal first answer of a registrar: resend the REGISTER with credentials",
        "the provider's proxy wants credentials before it forwards the REGISTER to the "
        "registrar (some servers use 407 for everything)",
    ),
    AuthRow(
        "After you answered",
        "another 401: the registrar rejected the credentials (unless stale=true)",
        "another 407: the proxy rejected the credentials (unless stale=true)",
    ),
)
