"""When a watched binding is refreshed, and when a failed one is tried again (sans-I/O).

The refresh rule (RFC 3261 §10.2.4: refresh before the binding expires). A 200 to a
REGISTER first sent at ``t`` that grants our Contact ``g`` seconds is refreshed at

    t + max(g / 2, g - margin)

the later of half the interval and the interval less a margin (30 s by default): an
hour-long binding is refreshed 30 s before it runs out, a 60 s one at 30 s, a 4 s one
at 2 s. Never after it expires: both terms are below ``g``. The clock starts when the
request left, not when the 200 arrived: the registrar started its own somewhere in
between, so counting from the sending errs on the safe side.

The retry rule: after the n-th failed attempt in a row (n = 1, 2, ...) the next one waits

    min(cap, start * 2 ** (n - 1)) * (1 - jitter * u)

with ``u`` in [0, 1) drawn from the caller's ``random.Random``: 1 s, 2 s, 4 s ... up to
5 minutes, each up to 25 % shorter, so that phones that failed together do not all
come back in the same second. A 503's Retry-After is honoured, up to the cap. Pure
functions and values: no clock, no global random source.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sipcheck.errors import ConfigError
from sipcheck.sip.client.registration import Phase, Registration

DEFAULT_MARGIN = 30.0
BACKOFF_START = 1.0
BACKOFF_CAP = 300.0
BACKOFF_JITTER = 0.25


class Action(Enum):
    """What the shell runs next for one watched binding."""

    REGISTER = "register"  # the first registration, or a retry after a failure
    REFRESH = "refresh"  # the binding's refresh, before it expires
    QUERY = "query"  # a REGISTER without Contact: is our binding still there?
    UNREGISTER = "unregister"  # Expires: 0 for our Contact, at the end


@dataclass(frozen=True)
class RefreshPolicy:
    """The schedule's knobs (the README's rule); ``query_every`` None: no queries."""

    margin: float = DEFAULT_MARGIN
    backoff_start: float = BACKOFF_START
    backoff_cap: float = BACKOFF_CAP
    jitter: float = BACKOFF_JITTER
    query_every: float | None = None

    def __post_init__(self) -> None:
        if self.margin < 0:
            raise ConfigError("the refresh margin must not be negative")
        if not 0 < self.backoff_start <= self.backoff_cap:
            raise ConfigError("need 0 < backoff start <= backoff cap")
        if not 0 <= self.jitter < 1:
            raise ConfigError("the backoff jitter is a share from 0 to below 1")
        if self.query_every is not None and self.query_every <= 0:
            raise ConfigError("the query interval must be positive")


def refresh_delay(granted: float, margin: float = DEFAULT_MARGIN) -> float:
    """Seconds after the REGISTER was sent to refresh a binding granted ``granted`` s."""
    if granted <= 0:
        return 0.0
    return max(granted / 2, granted - margin)


def nominal_backoff(attempt: int, policy: RefreshPolicy) -> float:
    """The wait after the ``attempt``-th failure in a row, before jitter."""
    if attempt < 1:
        raise ValueError("attempts count from 1")
    # min() first on the exponent: 2 ** 10_000 as a float would overflow.
    doublings = min(attempt - 1, 64)
    return min(policy.backoff_cap, policy.backoff_start * 2.0**doublings)


def backoff_delay(
    attempt: int, u: float, policy: RefreshPolicy, retry_after: float | None = None
) -> float:
    """The wait after the ``attempt``-th failure in a row; ``u`` in [0, 1) is the draw.

    A Retry-After the server gave (RFC 3261 §21.5.4) makes the wait at least that
    long, but never longer than the cap.
    """
    if not 0 <= u < 1:
        raise ValueError("the jitter draw is in [0, 1)")
    delay = nominal_backoff(attempt, policy) * (1 - policy.jitter * u)
    if retry_after is not None and retry_after > delay:
        delay = min(float(retry_after), policy.backoff_cap)
    return delay


def prepare(registration: Registration, action: Action, now: float) -> None:
    """Make ``registration`` ready to ``start`` the request ``action`` stands for.

    A new core (IDLE) is started as it is. Otherwise the same binding goes on (one
    Call-ID, the next CSeq): a refresh or a query answers the last challenge again,
    a retry after a failure waits for a fresh one, an unregister asks for 0 seconds.
    """
    if registration.phase is Phase.IDLE:
        if action is Action.UNREGISTER:
            registration.expires = 0
        return
    if action is Action.UNREGISTER:
        registration.refresh(now, expires=0)
    elif action is Action.REGISTER:
        registration.refresh(now, reuse_nonce=False)
    else:
        registration.refresh(now)
