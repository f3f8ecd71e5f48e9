"""What the registration core tells its shell, in the past tense (RFC 3261 names)."""

from __future__ import annotations

from dataclasses import dataclass

from sipcheck.sip.client.failure import Failure
from sipcheck.sip.wire.auth import Challenge, Credentials
from sipcheck.sip.wire.message import Response
from sipcheck.sip.wire.uri import SipUri


@dataclass(frozen=True)
class Event:
    time: float


@dataclass(frozen=True)
class ResponseReceived(Event):
    response: Response
    kind: str  # provisional | final | absorbed


@dataclass(frozen=True)
class StrayIgnored(Event):
    raw: bytes
    reason: str


@dataclass(frozen=True)
class ChallengeAnswered(Event):
    challenge: Challenge
    credentials: Credentials
    auth_user: str
    offered: tuple[Challenge, ...]


@dataclass(frozen=True)
class PasswordNeeded(Event):
    realm: str
    auth_user: str


@dataclass(frozen=True)
class TargetFailed(Event):
    """The current target is done for: the shell connects another and calls
    ``resume``, or calls ``give_up``."""

    reason: Failure  # TIMEOUT | UNREACHABLE | SERVER_ERROR (503) | REDIRECTED
    detail: str
    redirect_to: SipUri | None = None


@dataclass(frozen=True)
class Finished(Event):
    pass
