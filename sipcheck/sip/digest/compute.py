"""Digest authentication arithmetic, both sides: RFC 2617, RFC 7616, RFC 8760.

Pure functions: the cnonce and the nonce count come in from the caller, nothing here
reads a clock or a random source, so every result can be checked against published
vectors.

Terms: ``ha1`` always means H(username:realm:password), the value a server may store
instead of the password. For the ``-sess`` algorithms the session HA1
H(ha1:nonce:cnonce) is derived inside :func:`compute_response` (see
:func:`session_ha1`). Strings are hashed as UTF-8 (RFC 3261 is UTF-8 throughout; RFC
7616 §3.4 charset=UTF-8).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from sipcheck.errors import DigestError
from sipcheck.sip.wire.auth import Challenge, Credentials

SUPPORTED_ALGORITHMS = (
    "MD5",
    "MD5-sess",
    "SHA-256",
    "SHA-256-sess",
    "SHA-512-256",
    "SHA-512-256-sess",
)
SUPPORTED_QOPS = ("auth", "auth-int")
DEFAULT_ALGORITHM_PREFERENCE = ("SHA-512-256", "SHA-256", "MD5")
DEFAULT_QOP_PREFERENCE = ("auth", "auth-int")
MAX_NC = 0xFFFFFFFF  # RFC 7616 §3.4: nc is 8LHEX


class ChallengeUnsupported(DigestError):
    """No offered challenge can be answered with what we support (and were asked to use)."""

    def __init__(
        self,
        message: str,
        *,
        offered: Sequence[str] = (),
        supported_algorithms: Sequence[str] = (),
        supported_qops: Sequence[str] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.offered = tuple(offered)
        self.supported_algorithms = tuple(supported_algorithms)
        self.supported_qops = tuple(supported_qops)


# --- hash functions ------------------------------------------------------------------


def _md5(data: bytes) -> str:
    # usedforsecurity=False keeps MD5 digest usable on FIPS-mode OpenSSL builds.
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _first_primes(n: int) -> list[int]:
    primes: list[int] = []
    candidate = 2
    while len(primes) < n:
        if all(candidate % p for p in primes if p * p <= candidate):
            primes.append(candidate)
        candidate += 1
    return primes


def _icbrt(n: int) -> int:
    x = 1 << ((n.bit_length() + 2) // 3)  # >= cbrt(n)
    while True:
        y = (2 * x + n // (x * x)) // 3
        if y >= x:
            return x
        x = y


_M64 = (1 << 64) - 1


def _rotr(x: int, n: int) -> int:
    return ((x >> n) | (x << (64 - n))) & _M64


@cache
def _sha512_constants() -> tuple[tuple[int, ...], tuple[int, ...]]:
    # FIPS 180-4 §4.2.3 / §5.3.5: fractional parts of cube / square roots of primes.
    primes = _first_primes(80)
    k = tuple(_icbrt(p << 192) & _M64 for p in primes)
    h0 = tuple(math.isqrt(p << 128) & _M64 for p in primes[:8])
    return k, h0


def _sha512_state(message: bytes, iv: Sequence[int]) -> list[int]:
    k = _sha512_constants()[0]
    padding = b"\x80" + b"\x00" * ((111 - len(message)) % 128)
    data = message + padding + (len(message) * 8).to_bytes(16, "big")
    h = list(iv)
    for offset in range(0, len(data), 128):
        w = list(struct.unpack(">16Q", data[offset : offset + 128]))
        for t in range(16, 80):
            s0 = _rotr(w[t - 15], 1) ^ _rotr(w[t - 15], 8) ^ (w[t - 15] >> 7)
            s1 = _rotr(w[t - 2], 19) ^ _rotr(w[t - 2], 61) ^ (w[t - 2] >> 6)
            w.append((w[t - 16] + s0 + w[t - 7] + s1) & _M64)
        a, b, c, d, e, f, g, hh = h
        for t in range(80):
            t1 = hh + (_rotr(e, 14) ^ _rotr(e, 18) ^ _rotr(e, 41))
            t1 = (t1 + ((e & f) ^ (~e & g)) + k[t] + w[t]) & _M64
            t2 = (_rotr(a, 28) ^ _rotr(a, 34) ^ _rotr(a, 39)) + ((a & b) ^ (a & c) ^ (b & c))
            hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & _M64, c, b, a, (t1 + t2) & _M64
        h = [(x + y) & _M64 for x, y in zip(h, (a, b, c, d, e, f, g, hh), strict=True)]
    return h


@cache
def _sha512_256_iv() -> tuple[int, ...]:
    # FIPS 180-4 §5.3.6: SHA-512/t IV = SHA-512 with IV XOR a5a5..., over "SHA-512/256".
    iv = [x ^ 0xA5A5A5A5A5A5A5A5 for x in _sha512_constants()[1]]
    return tuple(_sha512_state(b"SHA-512/256", iv))


def _sha512_256_pure(message: bytes) -> bytes:
    """FIPS 180-4 SHA-512/256 in pure Python, for OpenSSL builds without it."""
    return struct.pack(">4Q", *_sha512_state(message, _sha512_256_iv())[:4])


def _openssl_sha512_256(data: bytes) -> str:
    return hashlib.new("sha512_256", data).hexdigest()


def _fallback_sha512_256(data: bytes) -> str:
    return _sha512_256_pure(data).hex()


def _pick_sha512_256() -> Callable[[bytes], str]:
    # SHA-512-256 is FIPS 180-4 SHA-512/256 (own IVs), not truncated SHA-512
    # (RFC 7616 §3.2 and Erratum 4897 to §3.9.2).
    try:
        hashlib.new("sha512_256", b"")
    except ValueError:
        return _fallback_sha512_256
    return _openssl_sha512_256


_HASHES: dict[str, Callable[[bytes], str]] = {
    "MD5": _md5,
    "SHA-256": _sha256,
    "SHA-512-256": _pick_sha512_256(),
}


@dataclass(frozen=True)
class _Algorithm:
    name: str  # canonical spelling
    base: str
    session: bool

    def h(self, text: str | bytes) -> str:
        return _HASHES[self.base](text.encode() if isinstance(text, str) else text)


@lru_cache(maxsize=64)  # a handful of spellings; an _Algorithm is immutable
def _algorithm(name: str | None) -> _Algorithm:
    # RFC 2617 §3.2.1 / RFC 7616 §3.3: an absent algorithm means MD5.
    spelled = "MD5" if name is None else name.strip()
    upper = spelled.upper()
    session = upper.endswith("-SESS")
    base = upper[: -len("-SESS")] if session else upper
    if base not in _HASHES:
        raise DigestError(
            f"unsupported digest algorithm {spelled!r}",
            hint="sipcheck supports " + ", ".join(SUPPORTED_ALGORITHMS),
        )
    return _Algorithm(name=base + ("-sess" if session else ""), base=base, session=session)


def is_supported_algorithm(name: str | None) -> bool:
    try:
        _algorithm(name)
    except DigestError:
        return False
    return True


# --- computation ---------------------------------------------------------------------


def compute_ha1(algorithm: str | None, username: str, realm: str, password: str) -> str:
    """H(username:realm:password), the same for a ``-sess`` algorithm and its base."""
    return _algorithm(algorithm).h(f"{username}:{realm}:{password}")


def session_ha1(algorithm: str | None, ha1: str, *, nonce: str, cnonce: str | None) -> str:
    """The HA1 that goes into the response: H(ha1:nonce:cnonce) for ``-sess``, else ha1."""
    alg = _algorithm(algorithm)
    if not alg.session:
        return ha1
    if cnonce is None:
        # RFC 2617 §3.2.2.2: the -sess HA1 is keyed on the client nonce.
        raise DigestError(f"algorithm {alg.name} needs a cnonce")
    return alg.h(f"{ha1}:{nonce}:{cnonce}")


def hash_username(algorithm: str | None, username: str, realm: str) -> str:
    """RFC 7616 §3.4.4: the user name sent when the challenge says userhash=true."""
    return _algorithm(algorithm).h(f"{username}:{realm}")


def _base_ha1(
    alg: _Algorithm, username: str, realm: str, password: str | None, ha1: str | None
) -> str:
    if password is not None and ha1 is None:
        return compute_ha1(alg.name, username, realm, password)
    if ha1 is not None and password is None:
        return ha1
    raise DigestError("give exactly one of password and ha1")


def _format_nc(nc: int | str | None) -> str | None:
    if isinstance(nc, int):
        if not 1 <= nc <= MAX_NC:
            raise DigestError(f"nonce count {nc} is outside 1..{MAX_NC:#x}")
        return f"{nc:08x}"
    return nc


def compute_response(
    *,
    algorithm: str | None,
    ha1: str,
    nonce: str,
    method: str,
    uri: str,
    qop: str | None,
    nc: int | str | None,
    cnonce: str | None,
    body: bytes = b"",
) -> str:
    """The request-digest (RFC 2617 §3.2.2.1, RFC 7616 §3.4.1).

    ``ha1`` is H(username:realm:password); the session step for ``-sess`` is done here.
    ``nc`` may be an int or the 8-hex string as sent (it is hashed as written). With
    ``qop=None`` the RFC 2069 form H(HA1:nonce:HA2) is used (RFC 3261 §22.4 keeps it).
    """
    alg = _algorithm(algorithm)
    key = session_ha1(alg.name, ha1, nonce=nonce, cnonce=cnonce)
    kind = None if qop is None else qop.lower()
    if kind == "auth-int":
        ha2 = alg.h(f"{method}:{uri}:{alg.h(body)}")
    elif kind in (None, "auth"):
        ha2 = alg.h(f"{method}:{uri}")
    else:
        raise DigestError(f"unsupported qop {qop!r}", hint="sipcheck supports auth, auth-int")
    if qop is None:
        return alg.h(f"{key}:{nonce}:{ha2}")
    nc_text = _format_nc(nc)
    if nc_text is None or cnonce is None:
        # RFC 2617 §3.2.2: cnonce and nc MUST be sent when qop is.
        raise DigestError(f"qop={qop} needs both nc and cnonce")
    return alg.h(f"{key}:{nonce}:{nc_text}:{cnonce}:{qop}:{ha2}")


# --- client side ---------------------------------------------------------------------


def _describe(c: Challenge) -> str:
    if not c.is_digest:
        return c.scheme
    parts = [f"algorithm={c.algorithm if c.algorithm is not None else 'MD5 (absent)'}"]
    if c.qop_options:
        parts.append("qop=" + ",".join(c.qop_options))
    return f"{c.scheme} ({', '.join(parts)})"


def _preferred_bases(preference: Sequence[str]) -> list[str]:
    bases: list[str] = []
    for name in preference:
        base = _algorithm(name).base  # raises DigestError for a name we cannot compute
        if base not in bases:
            bases.append(base)
    return bases


def _usable_qops(qop_preference: Sequence[str]) -> list[str]:
    qops = [q.lower() for q in qop_preference]
    for q in qops:
        if q not in SUPPORTED_QOPS:
            raise DigestError(f"unsupported qop {q!r} in preference")
    return qops


def _pick_qop(c: Challenge, qops: Sequence[str]) -> tuple[bool, str | None]:
    """(answerable, qop to use). No qop offered: answer in RFC 2069 form."""
    if not c.qop_options:
        return True, None
    offered = {q.lower(): q for q in reversed(c.qop_options)}
    for q in qops:
        if q in offered:
            # RFC 2617 §3.2.2 / RFC 7616 §3.4: qop MUST be one the server offered,
            # echoed as the server spelled it.
            return True, offered[q]
    return False, None


def _unsupported(
    challenges: Sequence[Challenge], bases: Sequence[str], qops: Sequence[str]
) -> ChallengeUnsupported:
    offered = [_describe(c) for c in challenges]
    algs = ", ".join(f"{b} (or {b}-sess)" for b in bases) or "none"
    supported_qops = [*qops, "none (RFC 2069)"]
    return ChallengeUnsupported(
        "no challenge we can answer: offered "
        + ("; ".join(offered) if offered else "nothing")
        + f"; we answer Digest with algorithm {algs} and qop {', '.join(supported_qops)}",
        offered=offered,
        supported_algorithms=[a for a in SUPPORTED_ALGORITHMS if a.split("-sess")[0] in bases],
        supported_qops=supported_qops,
        hint="the server wants an algorithm or qop sipcheck does not use; "
        "check the algorithm preference and the server's digest settings",
    )


def choose_challenge(
    challenges: Sequence[Challenge],
    preference: Sequence[str] = DEFAULT_ALGORITHM_PREFERENCE,
    *,
    qop_preference: Sequence[str] = DEFAULT_QOP_PREFERENCE,
) -> Challenge:
    """Pick the Digest challenge with the best algorithm by ``preference``.

    A ``-sess`` variant ranks with its base; an absent algorithm is MD5 (RFC 7616
    §3.3); ties go to the first offered. RFC 8760 §2.4 lets local policy override the
    server's order, which is what ``preference`` is. A challenge whose qop options
    share nothing with ``qop_preference`` is not answerable.
    """
    bases = _preferred_bases(preference)
    qops = _usable_qops(qop_preference)
    best: tuple[int, Challenge] | None = None
    for c in challenges:
        if not c.is_digest or not is_supported_algorithm(c.algorithm):
            # RFC 2617 §3.2.1: a challenge with an algorithm we do not understand
            # is ignored in favour of another one.
            continue
        base = _algorithm(c.algorithm).base
        if base not in bases or not _pick_qop(c, qops)[0]:
            continue
        rank = bases.index(base)
        if best is None or rank < best[0]:
            best = (rank, c)
    if best is None:
        raise _unsupported(challenges, bases, qops)
    return best[1]


def answer_challenge(
    challenge: Challenge,
    *,
    username: str,
    password: str | None = None,
    ha1: str | None = None,
    method: str,
    uri: str,
    body: bytes = b"",
    cnonce: str,
    nc: int,
    qop_preference: Sequence[str] = DEFAULT_QOP_PREFERENCE,
) -> Credentials:
    """Credentials answering ``challenge`` (give exactly one of password and ha1).

    ``uri`` must be the Request-URI of the request being authorised (RFC 3261 §22.4);
    ``cnonce`` and ``nc`` come from the caller (see :class:`NonceCounter`).
    """
    qops = _usable_qops(qop_preference)
    if not challenge.is_digest or not is_supported_algorithm(challenge.algorithm):
        raise _unsupported([challenge], _preferred_bases(SUPPORTED_ALGORITHMS), qops)
    answerable, qop = _pick_qop(challenge, qops)
    if not answerable:
        raise _unsupported([challenge], _preferred_bases(SUPPORTED_ALGORITHMS), qops)
    alg = _algorithm(challenge.algorithm)
    # RFC 7616 §3.4.4: HA1 uses the plain user name even when userhash is on.
    key = _base_ha1(alg, username, challenge.realm, password, ha1)
    nc_text = _format_nc(nc) if qop is not None else None
    # RFC 2617 §3.2.2: cnonce MUST NOT be sent without qop, but a -sess HA1 cannot be
    # checked without it, so it is sent for -sess whatever the qop.
    sent_cnonce = cnonce if qop is not None or alg.session else None
    response = compute_response(
        algorithm=alg.name,
        ha1=key,
        nonce=challenge.nonce,
        method=method,
        uri=uri,
        qop=qop,
        nc=nc_text,
        cnonce=sent_cnonce,
        body=body,
    )
    creds = Credentials(
        scheme="Digest",
        # RFC 7616 §3.4.4: with userhash=true the user name is sent hashed.
        username=hash_username(alg.name, username, challenge.realm)
        if challenge.userhash
        else username,
        realm=challenge.realm,
        nonce=challenge.nonce,
        uri=uri,
        response=response,
        # Echoed as spelled, and left out when the challenge left it out.
        algorithm=challenge.algorithm,
        cnonce=sent_cnonce,
        # RFC 2617 §3.2.2 / RFC 7616 §3.4: opaque MUST be returned unchanged.
        opaque=challenge.opaque,
        qop=qop,
        nc=nc_text,
        userhash=challenge.userhash,
        proxy=challenge.proxy,
    )
    return creds.canonical()


class NonceCounter:
    """Nonce counts per nonce: 1 for the first use of a nonce, then 2, 3, ..."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def next(self, nonce: str) -> int:
        count = self._counts.get(nonce, 0) + 1
        if count > MAX_NC:
            raise DigestError("nonce count exhausted (8 hex digits); a new nonce is needed")
        self._counts[nonce] = count
        return count

    def current(self, nonce: str) -> int:
        """The last count handed out for ``nonce`` (0 if none)."""
        return self._counts.get(nonce, 0)

    def forget(self, nonce: str) -> None:
        self._counts.pop(nonce, None)


# --- server side ---------------------------------------------------------------------


def expected_response(
    creds: Credentials,
    *,
    password: str | None = None,
    ha1: str | None = None,
    method: str,
    body: bytes = b"",
    username: str | None = None,
) -> str:
    """The response the client should have sent, for the values in ``creds``.

    ``username`` is the plain user name; it is needed with ``password`` when the
    credentials use userhash (their username is then a hash).
    """
    if not creds.is_digest:
        raise DigestError(f"cannot check {creds.scheme} credentials, only Digest")
    alg = _algorithm(creds.algorithm)
    plain = creds.username
    if creds.userhash and password is not None:
        if username is None:
            raise DigestError("userhash credentials: the plain username is needed")
        plain = username
    return compute_response(
        algorithm=alg.name,
        ha1=_base_ha1(alg, plain, creds.realm, password, ha1),
        nonce=creds.nonce,
        method=method,
        uri=creds.uri,
        qop=creds.qop,
        nc=creds.nc,
        cnonce=creds.cnonce,
        body=body,
    )


def verify_credentials(
    creds: Credentials,
    *,
    password: str | None = None,
    ha1: str | None = None,
    method: str,
    body: bytes = b"",
    username: str | None = None,
) -> bool:
    """Whether ``creds.response`` is right for the password (or stored HA1).

    Checks the arithmetic only (and, when ``username`` is given, that the credentials
    name that user, hashed if userhash); nonce freshness, realm and nc replay are the
    registrar's policy. Raises DigestError for credentials that cannot be checked
    (unsupported algorithm or qop, qop without nc/cnonce).
    """
    expected = expected_response(
        creds, password=password, ha1=ha1, method=method, body=body, username=username
    )
    if username is not None:
        named = (
            hash_username(creds.algorithm, username, creds.realm) if creds.userhash else username
        )
        sent = creds.username.lower() if creds.userhash else creds.username
        if not hmac.compare_digest(named.encode(), sent.encode()):
            return False
    # Constant time, so the comparison leaks nothing about the expected digest.
    return hmac.compare_digest(expected.encode(), creds.response.strip().lower().encode())
