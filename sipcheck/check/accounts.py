"""The accounts file of ``sipcheck check`` (and the coming ``watch``): TOML, one
``[[account]]`` per account or trunk, a ``[defaults]`` table merged into each.

``load`` reads and checks the whole file before anything is sent and returns frozen
typed values; a bad file raises ``AccountsFileError`` (one line: file, account, key).
Passwords are not read then: ``resolve_passwords`` reads them for the accounts a run
selected and enabled, and a ``Secret`` never prints.

Merging is per key: an account's key replaces the default's, and an account that
gives any password source (or a registration string with a secret) drops every
password key of ``[defaults]``. Relative paths are relative to the file's directory.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from sipcheck.check import fields
from sipcheck.check.fields import PASSWORD_KEYS, AccountsFileError, Place
from sipcheck.check.model import (
    MODES,
    TRANSPORTS,
    AccountEntry,
    AccountsFile,
    CredentialSource,
    ResolvedCredential,
    TlsSettings,
    resolve_passwords,
)
from sipcheck.errors import SipParseError
from sipcheck.password_source import PasswordError, PasswordSource, readable_by_others
from sipcheck.render.nagios_range import Thresholds
from sipcheck.secret import Secret
from sipcheck.sip.client.config import parse_aor

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "AccountEntry",
    "AccountsFile",
    "AccountsFileError",
    "CredentialSource",
    "PasswordError",
    "ResolvedCredential",
    "Secret",
    "TlsSettings",
    "load",
    "resolve_passwords",
]

_SETTINGS = (
    "auth_user", "server", "transport", "expires", "contact", "register", "mode",
    "timeout", "ca_file", "insecure", "cert", "key", "warning", "critical", "tags",
)  # fmt: skip
DEFAULT_KEYS = frozenset({*_SETTINGS, *PASSWORD_KEYS, "credentials"})
ACCOUNT_KEYS = DEFAULT_KEYS | {"name", "aor", "registration"}
CREDENTIAL_KEYS = frozenset({"realm", "auth_user", *PASSWORD_KEYS})


def load(path: str | Path) -> AccountsFile:
    """Read and check the accounts file. Raises AccountsFileError."""
    file = Path(path)
    shown = str(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AccountsFileError(shown, None, None, f"cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise AccountsFileError(shown, None, None, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise AccountsFileError(shown, None, None, f"not valid TOML: {exc}") from None
    top = Place(shown, None, file.parent)
    fields.check_keys(data, ("defaults", "account"), top)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise top.error("defaults", "must be a table: [defaults]")
    tables = data.get("account")
    if tables is None:
        raise top.error(None, "no [[account]] table")
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise top.error("account", "must be an array of tables: [[account]]")
    warnings: list[str] = []
    default_place = Place(shown, "[defaults]", file.parent)
    fields.check_keys(defaults, DEFAULT_KEYS, default_place)
    # Checked once on its own, so that a bad default is reported as one.
    _parse({"name": "-", "aor": "-@invalid", **defaults}, default_place, warnings, None)
    accounts: list[AccountEntry] = []
    seen: dict[str, int] = {}
    for number, table in enumerate(tables, 1):
        place = _account_place(shown, file.parent, table, number)
        fields.check_keys(table, ACCOUNT_KEYS, place)
        merged = _merge(defaults, table)
        inherited = frozenset(k for k in merged if k not in table)
        account = _parse(merged, place, warnings, inherited)
        if account.name in seen:
            raise place.error("name", f"a duplicate name (also account #{seen[account.name]})")
        seen[account.name] = number
        accounts.append(account)
    mode = readable_by_others(file) if _holds_secrets(defaults, tables) else None
    if mode is not None:
        warnings.append(
            f"{shown} holds passwords and is readable by group or others "
            f"(mode {mode:04o}): chmod 600 {shown}"
        )
    return AccountsFile(file, tuple(accounts), tuple(warnings))


def _account_place(file: str, base: Path, table: Mapping[str, Any], number: int) -> Place:
    name = table.get("name")
    if isinstance(name, str) and name.strip() and name.isprintable():
        return Place(file, f"account {name!r}", base)
    return Place(file, f"account #{number}", base)


def _merge(defaults: Mapping[str, Any], table: Mapping[str, Any]) -> dict[str, Any]:
    own_password = any(k in table for k in PASSWORD_KEYS) or _has_secret(table)
    merged = {k: v for k, v in defaults.items() if not (own_password and k in PASSWORD_KEYS)}
    merged.update(table)
    return merged


def _has_secret(table: Mapping[str, Any]) -> bool:
    value = table.get("registration")
    return isinstance(value, str) and ":" in value.rpartition("@")[0]


def _holds_secrets(defaults: Mapping[str, Any], tables: list[dict[str, Any]]) -> bool:
    def clear(t: Mapping[str, Any]) -> bool:
        listed = t.get("credentials")
        nested = isinstance(listed, list) and any(
            isinstance(c, dict) and "password" in c for c in listed
        )
        return "password" in t or _has_secret(t) or nested

    return clear(defaults) or any(clear(t) for t in tables)


def _parse(
    t: Mapping[str, Any], place: Place, warnings: list[str], inherited: frozenset[str] | None
) -> AccountEntry:
    """One account from its merged table; ``inherited``: the keys [defaults] gave it
    (None: this is [defaults] itself, checked for its types only)."""
    defaults = inherited is None
    from_defaults = inherited or frozenset()
    name = fields.text(t, "name", place)
    if name is None:
        raise place.error("name", "missing: every [[account]] needs a name")
    aor, user, extension, password = _address(t, place)
    if password is not None:
        warnings.append(f"{password.origin}: the secret in the string is {_CLEAR}")
    own = fields.password_source(t, place)
    own_inherited = any(k in from_defaults for k in PASSWORD_KEYS)
    if own is not None and own.kind == "inline" and not own_inherited:
        warnings.append(f"{own.origin}: {_CLEAR}")
    if own is not None and own_inherited:
        own = _from_defaults(own)
    password = password or own
    credentials = _credentials(t, place)
    if "credentials" not in from_defaults:
        for c in credentials:
            if c.password.kind == "inline":
                warnings.append(f"{c.password.origin}: {_CLEAR}")
    else:
        credentials = tuple(replace(c, password=_from_defaults(c.password)) for c in credentials)
    mode = fields.choice(t, "mode", place, MODES) or "register"
    enabled = fields.flag(t, "register", place)
    if mode == "register" and not defaults:
        if user is None:
            raise place.error("aor", f"{aor!r} has no user part (a register check needs one)")
        if enabled is not False and password is None and not credentials:
            raise place.error(
                None,
                "no password: give password_env, password_file, password_command or "
                'credentials (or mode = "options" for a trunk without registration)',
            )
    tls = TlsSettings(
        fields.path(t, "ca_file", place),
        bool(fields.flag(t, "insecure", place)),
        fields.path(t, "cert", place),
        fields.path(t, "key", place),
    )
    if tls.key is not None and tls.cert is None:
        raise place.error("key", "a key needs its cert")
    return AccountEntry(
        name=name,
        aor=aor,
        user=user,
        mode=mode,
        enabled=enabled is not False,
        auth_user=fields.text(t, "auth_user", place),
        password=password,
        credentials=credentials,
        server=fields.server(t, "server", place),
        transport=fields.choice(t, "transport", place, TRANSPORTS),
        expires=fields.integer(t, "expires", place, 1, fields.MAX_EXPIRES),
        contact=fields.text(t, "contact", place),
        contact_user=extension,
        timeout=fields.seconds(t, "timeout", place),
        tls=tls,
        thresholds=Thresholds(
            fields.threshold(t, "warning", place), fields.threshold(t, "critical", place)
        ),
        tags=fields.strings(t, "tags", place) or (),
    )


_CLEAR = (
    "a password in clear text in the file; prefer password_env, password_file or password_command"
)


def _from_defaults(source: PasswordSource) -> PasswordSource:
    return replace(source, origin=f"{source.origin} (from [defaults])")


def _address(
    t: Mapping[str, Any], place: Place
) -> tuple[str, str | None, str | None, PasswordSource | None]:
    """The AoR (or target), its user, the Contact user and the password that a
    registration string gives."""
    if "aor" in t and "registration" in t:
        raise place.error("registration", "give aor or registration, not both")
    key = "registration" if "registration" in t else "aor"
    value = fields.text(t, key, place)
    if value is None:
        raise place.error("aor", "missing: give aor or registration")
    extension = password = None
    if key == "registration":
        parsed = fields.registration(value, place)
        value, extension = parsed.aor, parsed.extension
        if parsed.secret is not None:
            if any(k in t for k in PASSWORD_KEYS):
                raise place.error("registration", "a secret, and another password source too")
            password = PasswordSource("inline", place.origin(key), inline=parsed.secret)
    try:
        uri = parse_aor(value.strip())
    except SipParseError as exc:
        raise place.error(key, f"not a SIP address: {exc.message}") from None
    return str(uri), uri.user, extension, password


def _credentials(t: Mapping[str, Any], place: Place) -> tuple[CredentialSource, ...]:
    listed = t.get("credentials", [])
    if not isinstance(listed, list) or not all(isinstance(c, dict) for c in listed):
        raise place.error("credentials", "must be an array of tables ({realm, auth_user, ...})")
    out: list[CredentialSource] = []
    for i, entry in enumerate(listed, 1):
        prefix = f"credentials[{i}]."
        fields.check_keys(entry, CREDENTIAL_KEYS, place, prefix)
        realm = fields.text(entry, "realm", place, prefix)
        if realm is None:
            raise place.error(prefix + "realm", "missing: each credentials entry names its realm")
        if any(c.realm == realm for c in out):
            raise place.error(prefix + "realm", f"a second entry for the realm {realm!r}")
        source = fields.password_source(entry, place, prefix)
        if source is None:
            raise place.error(prefix + "password_env", "no password source for this realm")
        out.append(CredentialSource(realm, fields.text(entry, "auth_user", place, prefix), source))
    return tuple(out)
