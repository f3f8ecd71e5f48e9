"""One account of the accounts file -> the ``ClientSettings`` that ``register`` (or
``options``) builds from its flags, through the same ``build_client_settings``.

The account's typed values become the argument and the ``ClientOptions`` a user would
have typed (``--auth-user``, ``--server``, ``--transport``, ``--timeout``, the TLS
files); its passwords, read before anything is sent, become the core's credentials (the
own one for any realm, then one per realm of ``credentials``). The unregister that
follows a check is ``unregister --contact OUR-CONTACT`` built the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sipcheck.check.model import AccountEntry, AccountsFile, ResolvedCredential
from sipcheck.cli.aor_argument import AorArgument
from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.client_settings import ClientSettings, build_client_settings
from sipcheck.cli.params import HostPort
from sipcheck.errors import ConfigError
from sipcheck.sip.client.config import Credential, Mode, parse_aor
from sipcheck.sip.wire.hostport import parse_hostport

__all__ = ["AccountPlan", "plan_account"]


@dataclass(frozen=True)
class AccountPlan:
    """An account ready to run: its settings (None: skipped) and what the unregister
    after it needs."""

    account: AccountEntry
    settings: ClientSettings | None
    argument: AorArgument | None = None
    options: ClientOptions | None = None
    credentials: tuple[ResolvedCredential, ...] = ()

    def unregister(self, contact: str) -> ClientSettings:
        """``sipcheck unregister AOR --contact CONTACT`` with the account's options."""
        assert self.argument is not None and self.options is not None
        settings = build_client_settings(
            Mode.UNREGISTER, self.argument, self.options, expires=0, contact=contact
        )
        return _with_credentials(settings, self.credentials)


def plan_account(
    file: AccountsFile,
    account: AccountEntry,
    credentials: tuple[ResolvedCredential, ...],
    base: ClientOptions,
    *,
    expires: int | None = None,
) -> AccountPlan:
    """The plan for one account: its keys win, the command line's ``base`` options
    (and ``expires``) fill in what it leaves unset; ConfigError naming the file and
    the account."""
    if not account.enabled:
        return AccountPlan(account, None)
    try:
        argument = AorArgument(parse_aor(account.aor), contact_user=account.contact_user)
        options = _options(account, base)
        mode = Mode.OPTIONS if account.mode == "options" else Mode.REGISTER
        settings = build_client_settings(
            mode,
            argument,
            options,
            expires=expires if account.expires is None else account.expires,
            contact=account.contact,
        )
    except ConfigError as exc:
        detail = exc.message + (f" ({exc.hint})" if exc.hint else "")
        raise ConfigError(f"{file.path}: account {account.name!r}: {detail}") from None
    settings = _with_credentials(settings, credentials)
    return AccountPlan(account, settings, argument, options, credentials)


def _options(account: AccountEntry, base: ClientOptions) -> ClientOptions:
    tls = account.tls
    return replace(
        base,
        auth_user=account.auth_user,
        transport=account.transport or base.transport,
        server=_server(account.server) or base.server,
        timeout=base.timeout if account.timeout is None else account.timeout,
        ca_file=base.ca_file if tls.ca_file is None else str(tls.ca_file),
        insecure=tls.insecure or base.insecure,
        cert_file=base.cert_file if tls.cert is None else str(tls.cert),
        key_file=base.key_file if tls.key is None else str(tls.key),
    )


def _server(text: str | None) -> HostPort | None:
    if text is None:
        return None
    host, port = parse_hostport(text)
    return HostPort(host, port)


def _with_credentials(
    settings: ClientSettings, credentials: tuple[ResolvedCredential, ...]
) -> ClientSettings:
    """The core answers a challenge of a realm with that realm's credentials, else
    with the account's own (realm None); without any it keeps what the build made
    (the AoR user, no password: a challenge is then ``no-password``)."""
    accounts = tuple(
        Credential(c.auth_user, password=c.password.reveal(), realm=c.realm)
        for c in credentials
        if c.auth_user
    )
    if not accounts:
        return settings
    return replace(settings, config=replace(settings.config, accounts=accounts))
