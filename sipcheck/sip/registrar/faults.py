"""Faults the registrar injects on purpose (``--drop``, ``--busy``, ``--delay``).

A test of a phone's failover wants a registrar that loses requests, answers some with
503 and Retry-After, or answers late. The decisions are drawn from the ``random.Random``
the caller gives, so a seeded run drops and refuses exactly the same requests again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sipcheck.errors import ConfigError
from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.sip.registrar.responses import make_response
from sipcheck.sip.wire.message import Request, Response

if TYPE_CHECKING:
    import random


@dataclass(frozen=True)
class Faults:
    drop: float = 0.0  # share of requests silently dropped
    busy: float = 0.0  # share of requests answered 503
    retry_after: int = 30  # the 503's Retry-After, seconds
    delay: float = 0.0  # seconds before each response

    def __post_init__(self) -> None:
        if not (0.0 <= self.drop <= 1.0 and 0.0 <= self.busy <= 1.0):
            raise ConfigError("drop and busy are shares of requests, from 0 to 1")
        if self.retry_after < 0 or self.delay < 0:
            raise ConfigError("retry_after and delay must not be negative")


class FaultInjector:
    """Decides, request by request, which fault strikes."""

    __slots__ = ("_busy", "_drop", "_retry_after", "delay", "rng")

    def __init__(self, faults: Faults, rng: random.Random) -> None:
        self.rng = rng
        self._drop = faults.drop
        self._busy = faults.busy
        self._retry_after = str(faults.retry_after)
        self.delay = faults.delay  # the same for every response

    def drops(self) -> bool:
        """Whether to lose this request (decided before it is even parsed)."""
        return bool(self._drop) and self.rng.random() < self._drop

    def busy(self) -> bool:
        """Whether to refuse this (parsed) request with 503."""
        return bool(self._busy) and self.rng.random() < self._busy

    def busy_response(
        self, request: Request, source: tuple[str, int], transport: str, now: float
    ) -> tuple[Response, Attempt]:
        """503 Service Unavailable with Retry-After (RFC 3261 §21.5.4), and its record."""
        response = make_response(request, 503, None, headers=[("Retry-After", self._retry_after)])
        attempt = Attempt(request.method, source, transport, now)
        attempt.status, attempt.reason = 503, response.reason
        return response, attempt
