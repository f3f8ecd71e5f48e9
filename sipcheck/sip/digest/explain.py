"""Explaining a digest answer that did not verify, and the digest-uri comparison.

Off the hot path: these run only for requests the registrar is about to refuse.
"""

from __future__ import annotations

from dataclasses import replace

from sipcheck.errors import DigestError, SipParseError
from sipcheck.sip.digest.compute import compute_ha1, expected_response
from sipcheck.sip.wire.auth import Credentials
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.uri import SipUri, parse_uri


def same_uri(a: str, b: str) -> bool:
    """Request-URI versus digest ``uri``: equal as text, or as SIP URIs compared with
    scheme and host case-insensitively (RFC 3261 §19.1.4, simplified)."""
    if a == b:
        return True
    try:
        ua, ub = parse_uri(a), parse_uri(b)
    except SipParseError:
        return False
    if isinstance(ua, SipUri) and isinstance(ub, SipUri):
        key_a = (ua.scheme, ua.user, ua.host.lower(), ua.port, ua.params)
        return key_a == (ub.scheme, ub.user, ub.host.lower(), ub.port, ub.params)
    return str(ua) == str(ub)


def diagnose_wrong_response(
    request: Request, creds: Credentials, realm: str, password: str
) -> tuple[str, str]:
    """Why the response was wrong: a common miscalculation, else the password."""
    user = creds.username
    declared = creds.algorithm if creds.algorithm is not None else "MD5"

    def matches(c: Credentials, algorithm: str, body: bytes = request.body) -> bool:
        try:
            ha1 = compute_ha1(algorithm, user, realm, password)
            want = expected_response(
                replace(c, algorithm=algorithm),
                ha1=ha1,
                method=request.method,
                body=body,
            )
        except DigestError:
            return False
        return want == creds.response.strip().lower()

    for other in ("MD5", "SHA-256", "SHA-512-256"):
        if other.upper() != declared.upper().removesuffix("-SESS") and matches(creds, other):
            return "digest-miscomputed", (
                f"auth user {user} computed the digest with {other} although it declared "
                f"algorithm={declared} (the password is right)"
            )
    qop = (creds.qop or "").lower()
    if qop == "auth-int" and request.body and matches(creds, declared, b""):
        return "digest-miscomputed", (
            f"auth user {user} hashed an empty body for qop=auth-int, but the request "
            f"has a {len(request.body)}-octet body (the password is right)"
        )
    if creds.uri != request.uri:
        alt = replace(creds, uri=request.uri)
        if matches(alt, declared):
            return "digest-miscomputed", (
                f"auth user {user} hashed the Request-URI {request.uri!r} but sent "
                f"uri={creds.uri!r} (the password is right)"
            )
    return "wrong-password", (
        f"wrong password for auth user {user} (the digest response did not match; "
        "user and realm were right)"
    )
