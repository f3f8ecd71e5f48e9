"""The typed values of the accounts file: frozen, and free of any password but
``Secret`` ones, which print as ``***``. ``sipcheck.check.accounts.load`` makes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sipcheck.errors import ConfigError
from sipcheck.password_source import COMMAND_TIMEOUT, PasswordSource, Warn
from sipcheck.render.nagios_range import NO_THRESHOLDS, Thresholds
from sipcheck.secret import Secret

__all__ = [
    "MODES",
    "TRANSPORTS",
    "AccountEntry",
    "AccountsFile",
    "CredentialSource",
    "ResolvedCredential",
    "TlsSettings",
    "resolve_passwords",
]

MODES = ("register", "options")
TRANSPORTS = ("udp", "tcp", "tls")


@dataclass(frozen=True)
class CredentialSource:
    """Who we answer a challenge of ``realm`` as (None: the account's own, any realm)."""

    realm: str | None
    auth_user: str | None
    password: PasswordSource


@dataclass(frozen=True)
class ResolvedCredential:
    realm: str | None
    auth_user: str
    password: Secret


@dataclass(frozen=True)
class TlsSettings:
    ca_file: Path | None = None
    insecure: bool = False
    cert: Path | None = None
    key: Path | None = None


@dataclass(frozen=True)
class AccountEntry:
    """One checked account or trunk. Unset settings are None: the command's defaults."""

    name: str
    aor: str  # a sip:/sips: URI (for an OPTIONS trunk, the target)
    user: str | None  # the AoR's user part, the default auth user
    mode: str = "register"  # "register" | "options"
    enabled: bool = True  # register = false: skipped, its password never read
    auth_user: str | None = None
    password: PasswordSource | None = None
    credentials: tuple[CredentialSource, ...] = ()
    server: str | None = None
    transport: str | None = None  # "udp" | "tcp" | "tls"
    expires: int | None = None
    contact: str | None = None
    contact_user: str | None = None  # the registration string's /extension
    timeout: float | None = None
    tls: TlsSettings = TlsSettings()
    thresholds: Thresholds = NO_THRESHOLDS
    tags: tuple[str, ...] = ()

    def all_credentials(self) -> tuple[CredentialSource, ...]:
        """The account's own password (any realm) first, then the per-realm ones."""
        own = () if self.password is None else (CredentialSource(None, None, self.password),)
        return own + self.credentials

    def resolve(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        timeout: float = COMMAND_TIMEOUT,
        warn: Warn | None = None,
    ) -> tuple[ResolvedCredential, ...]:
        """Read every password of the account now (runs password commands)."""
        default_user = self.auth_user or self.user or ""
        return tuple(
            ResolvedCredential(
                c.realm,
                c.auth_user or default_user,
                c.password.resolve(environ=environ, timeout=timeout, warn=warn),
            )
            for c in self.all_credentials()
        )


@dataclass(frozen=True)
class AccountsFile:
    path: Path
    accounts: tuple[AccountEntry, ...]
    warnings: tuple[str, ...] = ()

    def select(
        self, only: Sequence[str] = (), tags: Sequence[str] = ()
    ) -> tuple[AccountEntry, ...]:
        """The accounts named in ``only`` (all when empty) that carry one of ``tags``
        (any when empty), in file order, disabled ones included (they are skipped)."""
        names = {a.name for a in self.accounts}
        for name in only:
            if name not in names:
                raise ConfigError(f"{self.path}: no account named {name!r}")
        known = {t for a in self.accounts for t in a.tags}
        for tag in tags:
            if tag not in known:
                raise ConfigError(f"{self.path}: no account has the tag {tag!r}")
        chosen = tuple(
            a
            for a in self.accounts
            if (not only or a.name in only) and (not tags or set(tags) & set(a.tags))
        )
        if not chosen:
            raise ConfigError(f"{self.path}: no account is named and tagged as selected")
        return chosen


def resolve_passwords(
    accounts: Sequence[AccountEntry],
    *,
    environ: Mapping[str, str] | None = None,
    timeout: float = COMMAND_TIMEOUT,
    warn: Warn | None = None,
) -> dict[str, tuple[ResolvedCredential, ...]]:
    """The passwords of the enabled ``accounts``, by name; disabled ones are not read.
    Raises PasswordError (one line: file, account, key) at the first that fails."""
    return {
        a.name: a.resolve(environ=environ, timeout=timeout, warn=warn)
        for a in accounts
        if a.enabled
    }
