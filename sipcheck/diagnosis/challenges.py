"""What a 401/407 means given the request it answers: the one rule the ladder
and the diagnosis share. Pure, on parsed messages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sipcheck.errors import SipcheckError
from sipcheck.sip.wire.auth import Challenge, Credentials, parse_challenges, parse_credentials
from sipcheck.sip.wire.message import Request, Response

# A first challenge, the refusal of the credentials we sent, or a stale nonce
# (the credentials were right, RFC 7616 §3.3).
ChallengeKind = Literal["challenge", "refused", "stale"]

CHALLENGE_HEADERS = (("WWW-Authenticate", False), ("Proxy-Authenticate", True))
CREDENTIAL_HEADERS = (("Authorization", False), ("Proxy-Authorization", True))


def challenges_of(response: Response) -> tuple[list[Challenge], list[tuple[str, str]]]:
    """Every challenge of the response, and (header, error) for each value that
    does not parse."""
    found: list[Challenge] = []
    errors: list[tuple[str, str]] = []
    for name, proxy in CHALLENGE_HEADERS:
        for value in response.headers.get_all(name):
            try:
                found += parse_challenges(value, proxy=proxy)
            except SipcheckError as exc:
                errors.append((name, str(exc)))
    return found, errors


def credentials_of(request: Request) -> list[Credentials]:
    """The Authorization and Proxy-Authorization values that parse."""
    found: list[Credentials] = []
    for name, proxy in CREDENTIAL_HEADERS:
        for value in request.headers.get_all(name):
            try:
                found.append(parse_credentials(value, proxy=proxy))
            except SipcheckError:
                continue
    return found


def challenged_again(
    challenges: Sequence[Challenge], answers: Sequence[Credentials]
) -> list[Challenge]:
    """The challenges for a realm the request already answered in the same kind of
    header (Authorization for WWW-Authenticate, Proxy-Authorization for
    Proxy-Authenticate)."""
    answered = {(c.proxy, c.realm) for c in answers if c.is_digest}
    return [c for c in challenges if c.is_digest and (c.proxy, c.realm) in answered]


def challenge_kind(
    challenges: Sequence[Challenge], answers: Sequence[Credentials]
) -> ChallengeKind:
    """``refused``: the response challenges again a realm its request answered, so
    the credentials were not accepted; ``stale``: the same with ``stale=true``."""
    again = challenged_again(challenges, answers)
    if not again:
        return "challenge"
    return "stale" if any(c.stale for c in again) else "refused"
