"""The registrar's configuration (one frozen value, built once by the CLI)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from sipcheck.errors import ConfigError
from sipcheck.sip.digest.compute import DEFAULT_ALGORITHM_PREFERENCE, is_supported_algorithm
from sipcheck.sip.registrar.authenticator import Account
from sipcheck.sip.registrar.limits import DEFAULT_LIMITS, Limits

# One MD5 challenge by default: every client answers MD5, and some (sipsak 0.9.8,
# SIPp 3.6, baresip 1.0) give up at a first challenge they cannot answer.
DEFAULT_ALGORITHMS = ("MD5",)


def strongest_first(names: Iterable[str]) -> tuple[str, ...]:
    """Algorithm names, each once, canonically spelled, the strongest first.

    RFC 8760 §2.4: one challenge per algorithm, in the order the server prefers them;
    RFC 7616 §3.7 says to prefer the strongest. ``-sess`` forms rank with their hash.
    Names that are no algorithm are kept (``RegistrarConfig`` refuses them).
    """
    seen: dict[str, str] = {}
    for name in names:
        upper = name.strip().upper()
        if not upper:
            continue
        spelled = upper[: -len("-SESS")] + "-sess" if upper.endswith("-SESS") else upper
        seen.setdefault(spelled.upper(), spelled)
    rank = {base: i for i, base in enumerate(DEFAULT_ALGORITHM_PREFERENCE)}

    def strength(spelled: str) -> int:
        base = spelled[: -len("-sess")] if spelled.endswith("-sess") else spelled
        return rank.get(base, len(rank))

    return tuple(sorted(seen.values(), key=strength))


@dataclass(frozen=True)
class RegistrarConfig:
    """How the registrar behaves.

    ``accounts`` maps digest user names to an ``Account`` (or just a password, for an
    account that may register its own name); ``None`` switches authentication off.
    ``realm`` None uses the Request-URI's host. ``qop`` is ``auth``, ``auth-int``,
    ``auth,auth-int`` or None (RFC 2069 style answers). ``domains`` None serves any.
    ``algorithms`` are offered in the order given, one challenge each (the CLI orders
    them with ``strongest_first``).
    """

    realm: str | None = None
    accounts: Mapping[str, Account | str] | None = field(default_factory=dict)
    challenge: Literal["www", "proxy"] = "www"
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    qop: str | None = "auth"
    min_expires: int = 60
    max_expires: int = 3600
    default_expires: int = 3600
    nonce_lifetime: float = 30.0
    strict_uri: bool = False
    server: str = "sipcheck"
    domains: frozenset[str] | None = None
    absorb_retransmissions: bool = True
    limits: Limits = DEFAULT_LIMITS  # every bound on what the core keeps (limits.py)

    def __post_init__(self) -> None:
        if self.challenge not in ("www", "proxy"):
            raise ConfigError(f"challenge must be 'www' or 'proxy', not {self.challenge!r}")
        if not self.algorithms:
            raise ConfigError("at least one digest algorithm must be offered")
        for alg in self.algorithms:
            if not is_supported_algorithm(alg):
                raise ConfigError(f"unsupported digest algorithm {alg!r}")
        for q in self.qop_options:
            if q not in ("auth", "auth-int"):
                raise ConfigError(f"qop must be auth and/or auth-int, not {q!r}")
        if not 0 < self.min_expires <= self.max_expires:
            raise ConfigError("need 0 < min_expires <= max_expires")
        if self.default_expires <= 0 or self.nonce_lifetime <= 0:
            raise ConfigError("default_expires and nonce_lifetime must be positive")

    @property
    def qop_options(self) -> tuple[str, ...]:
        if self.qop is None:
            return ()
        return tuple(q.strip().lower() for q in self.qop.split(",") if q.strip())
