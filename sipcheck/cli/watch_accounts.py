"""What ``sipcheck watch`` keeps registered: one AOR from the command line, or the
accounts of the accounts file (the one ``sipcheck check`` reads), each made into the
same ``ClientSettings`` a ``register`` run uses.

With ``--accounts`` each account's keys win and the command-line options fill in what
the file leaves unset (--server, --transport, --timeout, --t1, --bind, TLS files);
who we are and the password come from the file alone, so --user, --auth-user,
--realm, --contact and the --password-* options are refused next to it. Accounts with
``register = false`` or ``mode = "options"`` are skipped with a note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sipcheck.cli.aor_argument import AorArgument
from sipcheck.cli.check_settings import plan_account
from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.client_settings import DEFAULT_EXPIRES, ClientSettings, build_client_settings
from sipcheck.cli.passwords import read_password
from sipcheck.errors import ConfigError
from sipcheck.sip.client.config import Mode

Warn = Callable[[str], None]


@dataclass(frozen=True)
class WatchedSettings:
    name: str  # the account's name, or the AoR
    settings: ClientSettings


def from_argument(
    argument: AorArgument, options: ClientOptions, *, expires: int | None, contact: str | None
) -> WatchedSettings:
    settings = build_client_settings(
        Mode.REGISTER, argument, options, expires=_expires(expires), contact=contact
    )
    settings = settings.with_password(read_password(options.password, argument))
    return WatchedSettings(str(settings.config.aor), settings)


def from_file(
    path: str,
    only: Sequence[str],
    options: ClientOptions,
    *,
    expires: int | None,
    warn: Warn,
) -> list[WatchedSettings]:
    from sipcheck.check.accounts import load, resolve_passwords

    _refuse_identity_flags(options)
    accounts_file = load(path)
    for warning in accounts_file.warnings:
        warn(f"warning: {warning}")
    chosen = []
    for entry in accounts_file.select(only):
        if not entry.enabled:
            warn(f"note: {entry.name}: register = false in {path}: not watched")
        elif entry.mode != "register":
            warn(f"note: {entry.name}: mode = {entry.mode!r} (no registration): not watched")
        else:
            chosen.append(entry)
    if not chosen:
        raise ConfigError(f"{path}: none of the selected accounts registers")
    passwords = resolve_passwords(chosen, warn=lambda text: warn(f"warning: {text}"))
    out = []
    for entry in chosen:
        plan = plan_account(
            accounts_file, entry, passwords[entry.name], options, expires=_expires(expires)
        )
        assert plan.settings is not None  # enabled: chosen above
        out.append(WatchedSettings(entry.name, plan.settings))
    return out


def _expires(value: int | None) -> int:
    return DEFAULT_EXPIRES if value is None else value


def _refuse_identity_flags(options: ClientOptions) -> None:
    given = [
        flag
        for flag, value in (
            ("--user", options.user),
            ("--auth-user", options.auth_user),
            ("--realm", options.realm),
            ("--password-env", options.password.env),
            ("--password-file", options.password.file),
            ("--password-command", options.password.command),
        )
        if value is not None
    ]
    if given:
        raise ConfigError(
            f"{', '.join(given)} cannot be used with --accounts: each account's user and "
            "password come from the accounts file"
        )
