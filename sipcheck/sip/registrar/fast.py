"""Every speed-up and cache of the registrar core, in one place.

A registrar sees the same few clients again and again, so most of its work repeats:
the same header names, To and Contact values, Request-URIs, realms and accounts. This
module keeps what can be reused, each cache bounded so that a peer sending endless
new values cannot grow it without limit, and what fails to parse is never kept (it
fails again, with the same error). Each fast path gives exactly what the general path
gives; ``tests/test_fast_paths.py`` and ``tests/test_registrar_core.py`` check that.

- ``to_address``, ``contact``, ``RequestUris``: parsed To, Contact and Request-URI.
- ``DateCache``: the Date header, formatted once per second.
- ``Ha1Cache``, ``ChallengeTemplates``: HA1 per account and realm; challenge text
  around its nonce, per realm.
- ``via_parts``: the top Via as written, for the server's stamp, without parsing it
  when it has the plain shape nearly every Via has.
- ``RetransmissionCache``: responses held for Timer J, so a retransmitted request
  gets the same response again without being processed twice (RFC 3261 §17.2.3).

(The header-name, Request-URI and Via caches of the message parser, and the shortcut
for the usual shape of Digest credentials, live with the grammar in ``sip/wire``,
which cannot depend on the registrar, so that the diagnosis of a capture has them too.)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from sipcheck.errors import SipParseError
from sipcheck.sip.digest.compute import compute_ha1
from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.sip.registrar.bindings import aor_of, contact_key
from sipcheck.sip.wire.auth import Challenge, format_challenge
from sipcheck.sip.wire.fields import parse_via, plain_via
from sipcheck.sip.wire.headers import split_list
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.uri import NameAddr, Params, SipUri, Uri, parse_name_addr, parse_uri

_MAX_CACHE = 4096
_MAX_ACCOUNT_CACHE = 10_000
RETRANSMISSION_HOLD = 32.0  # Timer J for UDP: 64*T1 (RFC 3261 §17.2.2)

# --- parsed addresses and URIs -------------------------------------------------------------

# The same To and Contact values come back at every refresh, and parsed addresses are
# immutable: each text is parsed once.


@lru_cache(maxsize=8192)
def to_address(text: str) -> tuple[NameAddr, str]:
    """The To value's name-addr and its address-of-record."""
    to = parse_name_addr(text)
    return to, aor_of(to.uri) if isinstance(to.uri, SipUri) else str(to.uri)


class Contact(NamedTuple):
    address: NameAddr
    key: str  # contact_key of its URI
    uri: str  # its URI as text
    expires: str | None  # its expires parameter
    params: Params  # its other header parameters


@lru_cache(maxsize=8192)
def contact(text: str) -> Contact:
    address = parse_name_addr(text)
    params = tuple((n, v) for n, v in address.params if n.lower() != "expires")
    return Contact(
        address, contact_key(address.uri), str(address.uri), address.param("expires"), params
    )


_MISSING = object()


class RequestUris:
    """Request-URI text -> its parsed URI, or None when it does not parse."""

    __slots__ = ("_uris",)

    def __init__(self) -> None:
        self._uris: dict[str, Uri | object | None] = {}

    def get(self, text: str) -> Uri | None:
        uris = self._uris
        uri = uris.get(text, _MISSING)
        if uri is not _MISSING:
            return uri  # type: ignore[return-value]
        try:
            uri = parse_uri(text, allow_headers=False)
        except SipParseError:
            uri = None
        if len(uris) >= _MAX_CACHE:
            uris.clear()
        uris[text] = uri
        return uri


class DateCache:
    """The Date header value (RFC 3261 §20.17) for a wall-clock time, per second."""

    __slots__ = ("_second", "_text")

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def get(self, wall_time: float) -> str:
        second = int(wall_time)
        if self._second != second:
            # (imported here: responses.py imports this module for via_parts)
            from sipcheck.sip.registrar.responses import http_date

            self._second, self._text = second, http_date(second)
        return self._text


# --- digest ------------------------------------------------------------------------------


class Ha1Cache:
    """HA1 per (algorithm, user, realm): computed once per account and realm."""

    __slots__ = ("_ha1",)

    def __init__(self) -> None:
        self._ha1: dict[tuple[str, str, str], str] = {}

    def get(self, algorithm: str, username: str, realm: str, password: str) -> str:
        key = (algorithm.upper(), username, realm)
        ha1 = self._ha1.get(key)
        if ha1 is None:
            ha1 = compute_ha1(algorithm, username, realm, password)
            if len(self._ha1) >= _MAX_ACCOUNT_CACHE:
                self._ha1.clear()
            self._ha1[key] = ha1
        return ha1


_PLACEHOLDER = "NONCE-PLACEHOLDER"


class ChallengeTemplates:
    """Challenge values, one per offered algorithm, formatted once per realm."""

    __slots__ = ("_algorithms", "_qop_options", "_templates")

    def __init__(self, algorithms: Sequence[str], qop_options: tuple[str, ...]) -> None:
        self._algorithms = tuple(algorithms)
        self._qop_options = qop_options
        self._templates: dict[tuple[str, bool], list[tuple[str, str]]] = {}

    def values(self, realm: str, nonce: str, stale: bool) -> list[str]:
        templates = self._templates.get((realm, stale))
        if templates is None:
            templates = [self._template(realm, alg, stale) for alg in self._algorithms]
            if len(self._templates) >= _MAX_ACCOUNT_CACHE:
                self._templates.clear()
            self._templates[(realm, stale)] = templates
        return [head + nonce + tail for head, tail in templates]

    def _template(self, realm: str, algorithm: str, stale: bool) -> tuple[str, str]:
        """The challenge text before and after its nonce."""
        text = format_challenge(
            Challenge(
                "Digest",
                realm,
                _PLACEHOLDER,
                algorithm=algorithm,
                qop_options=self._qop_options,
                stale=stale,
            )
        )
        head, _, tail = text.partition(_PLACEHOLDER)
        return head, tail


# --- Via -----------------------------------------------------------------------------------


def via_parts(value: str) -> tuple[str, str, list[str]] | None:
    """A Via value's text before its parameters (``SIP/2.0/UDP host:port``), its host,
    and each parameter as ``name`` or ``name=value``; None when it does not parse."""
    plain = plain_via(value)
    if plain is not None:
        # The usual shape: the text as written is already what str(Via) would give.
        return plain
    try:
        via = parse_via(value)
    except SipParseError:
        return None
    port = f":{via.port}" if via.port is not None else ""
    head = f"{via.protocol}/{via.transport} {via.host}{port}"
    return head, via.host, [n if v is None else f"{n}={v}" for n, v in via.params]


# --- retransmissions -----------------------------------------------------------------------

# One string per transaction: the matching fields joined with CRLF, which no header
# value, Request-URI or method can hold (the parser splits lines there). One object
# instead of a tuple of six keeps the cache small: it holds up to
# ``Limits.max_held_responses`` of these.
_Key = str
# (held until, the response as sent, status, reason, call_id, cseq, aor, auth_user):
# the wire bytes, not the Response (a third of the memory), in a flat tuple, because
# the garbage collector visits each object.
_Held = tuple[float, bytes, int, str, str | None, int | None, str | None, str | None]


def transaction_key(request: Request, idx: dict[str, list[str]]) -> _Key | None:
    """RFC 3261 §17.2.3 matching: top Via, Request-URI, Call-ID, CSeq, From."""
    vias = idx.get("via")
    if not vias:
        return None
    top = vias[0]
    if "," in top:
        top = split_list(top)[0]
    return "\r\n".join(
        (
            request.method,
            top,
            request.uri,
            (idx.get("call-id") or [""])[0],
            (idx.get("cseq") or [""])[0],
            (idx.get("from") or [""])[0],
        )
    )


class RetransmissionCache:
    """Responses by transaction key, each held for ``RETRANSMISSION_HOLD`` seconds at
    most, and ``limit`` of them at most (the oldest go first)."""

    __slots__ = ("_held", "_limit", "_order")

    def __init__(self, limit: int = 65_536) -> None:
        self._held: dict[_Key, _Held] = {}
        self._order: deque[tuple[float, _Key]] = deque()
        self._limit = limit

    def replay(self, key: _Key, attempt: Attempt, now: float) -> bytes | None:
        """The response held for ``key``, with ``attempt`` filled in; None if none is."""
        held = self._held.get(key)
        if held is None or held[0] <= now:
            return None
        (
            _, wire, attempt.status, attempt.reason,
            attempt.call_id, attempt.cseq, attempt.aor, attempt.auth_user,
        ) = held  # fmt: skip
        return wire

    def hold(
        self, key: _Key, wire: bytes, status: int, reason: str, attempt: Attempt, now: float
    ) -> None:
        until = now + RETRANSMISSION_HOLD
        held = self._held
        held[key] = (
            until, wire, status, reason,
            attempt.call_id, attempt.cseq, attempt.aor, attempt.auth_user,
        )  # fmt: skip
        order = self._order
        order.append((until, key))
        # Expired entries leave as new ones come (amortised O(1)), not at a periodic
        # purge: between purges a busy registrar would hold many times Timer J's worth.
        while order and (order[0][0] <= now or len(order) > self._limit):
            self._forget(*order.popleft())

    def purge(self, now: float) -> None:
        order = self._order
        while order and order[0][0] <= now:
            self._forget(*order.popleft())

    def _forget(self, until: float, key: _Key) -> None:
        # A key held again later has a newer entry, which stays.
        held = self._held.get(key)
        if held is not None and held[0] == until:
            del self._held[key]

    def __len__(self) -> int:
        return len(self._held)
