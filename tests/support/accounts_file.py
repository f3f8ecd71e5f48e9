"""Accounts files for ``sipcheck check`` (and the registrar's ``--accounts-file``),
written from Python values, mode 0600: the tests and the benchmark keep every
password in a file or the environment, never on a command line of sipcheck's."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

Value = str | int | float | bool | Sequence[str]


def _toml(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    return "[" + ", ".join(json.dumps(v) for v in value) + "]"


def _table(header: str, values: Mapping[str, Value]) -> str:
    lines = [header] + [f"{key} = {_toml(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def accounts_toml(
    accounts: Sequence[Mapping[str, Value]], defaults: Mapping[str, Value] | None = None
) -> str:
    parts = [] if defaults is None else [_table("[defaults]", defaults)]
    parts += [_table("[[account]]", account) for account in accounts]
    return "\n".join(parts)


def write_accounts(
    path: Path,
    accounts: Sequence[Mapping[str, Value]],
    defaults: Mapping[str, Value] | None = None,
) -> Path:
    """``path`` holding the accounts (``[[account]]`` tables), readable by its owner only."""
    path.write_text(accounts_toml(accounts, defaults), encoding="utf-8")
    path.chmod(0o600)
    return path


def registrar_accounts(path: Path, users: Mapping[str, tuple[str | None, str]]) -> Path:
    """A ``sipcheck registrar --accounts-file``: AoR user -> (auth user or None, password)."""
    tables: list[dict[str, Value]] = []
    for user, (auth_user, password) in users.items():
        table: dict[str, Value] = {"user": user}
        if auth_user is not None:
            table["auth_user"] = auth_user
        table["password"] = password
        tables.append(table)
    return write_accounts(path, tables)
