"""The registrar's configuration (one frozen value, built once by the CLI)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from sipcheck.errors import ConfigError
from sipcheck.sip.digest.compute import is_supported_algorithm
from sipcheck.sip.registrar.authenticator import Account


@dataclass(frozen=True)
class RegistrarConfig:
    """How the registrar behaves.

    ``accounts`` maps digest user names to an ``Account`` (or just a password, for an
    account that may register its own name); ``None`` switches authentication off.
    ``realm`` None uses the Request-URI's host. ``qop`` is ``auth``, ``auth-int``,
    ``auth,auth-int`` or None (RFC 2069 style answers). ``domains`` None serves any.
    """

    realm: str | None = None
    accounts: Mapping[str, Account | str] | None = field(default_factory=dict)
    challenge: Literal["www", "proxy"] = "www"
    algorithms: tuple[str, ...] = ("SHA-256", "MD5")
    qop: str | None = "auth"
    min_expires: int = 60
    max_expires: int = 3600
    default_expires: int = 3600
    nonce_lifetime: float = 30.0
    strict_uri: bool = False
    server: str = "sipcheck"
    domains: frozenset[str] | None = None
    absorb_retransmissions: bool = True

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
