"""Reading the keys of one table of the accounts file, each to one typed value.

Every refusal is an ``AccountsFileError``: one line naming the file, the account (or
``[defaults]``) and the key, e.g. ``trunks.toml: account 'alice': key 'transport':
'sctp' is not one of udp, tcp, tls``.
"""

from __future__ import annotations

import difflib
import math
import re
import shlex
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sipcheck.errors import ConfigError
from sipcheck.password_source import Command, PasswordSource
from sipcheck.render.nagios_range import Range, RangeError, parse_range
from sipcheck.secret import Secret

__all__ = ["PASSWORD_KEYS", "AccountsFileError", "Place", "Registration"]

PASSWORD_KEYS = ("password", "password_env", "password_file", "password_command")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SERVER = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:\[\]/@;]+)(?::(?P<port>\d{1,5}))?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_EXPIRES = 2**32 - 1  # RFC 3261 §25.1: delta-seconds


class AccountsFileError(ConfigError):
    """The accounts file is refused: nothing is sent. ``str`` is the one line."""

    def __init__(self, file: str, where: str | None, key: str | None, problem: str) -> None:
        parts = [file] + ([where] if where else []) + ([f"key {key!r}"] if key else [])
        super().__init__(": ".join([*parts, problem]))
        self.file = file
        self.where = where
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Place:
    """Where a table sits: the file (as the user named it), which table, and the
    directory that relative paths in it are relative to."""

    file: str
    where: str | None
    base: Path

    def error(self, key: str | None, problem: str) -> AccountsFileError:
        return AccountsFileError(self.file, self.where, key, problem)

    def origin(self, key: str) -> str:
        return ": ".join([self.file, *([self.where] if self.where else []), f"key {key!r}"])


def _type_name(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    for kind, name in names.items():
        if type(value) is kind:
            return name
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _wrong(place: Place, key: str, value: object, wanted: str) -> AccountsFileError:
    return place.error(key, f"must be {wanted}, not {_type_name(value)}")


def check_keys(
    table: Mapping[str, Any], allowed: Collection[str], place: Place, prefix: str = ""
) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise place.error(prefix + key, f"unknown key{hint}")


def text(table: Mapping[str, Any], key: str, place: Place, prefix: str = "") -> str | None:
    """A non-empty one-line string, or None when the key is absent."""
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, str):
        raise _wrong(place, prefix + key, value, "a string")
    if not value.strip():
        raise place.error(prefix + key, "must not be empty")
    if _CONTROL.search(value):
        raise place.error(prefix + key, "must not hold control characters (tabs, newlines)")
    return value


def flag(table: Mapping[str, Any], key: str, place: Place) -> bool | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, bool):
        raise _wrong(place, key, value, "true or false")
    return value


def integer(table: Mapping[str, Any], key: str, place: Place, low: int, high: int) -> int | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(place, key, value, "an integer")
    if not low <= value <= high:
        raise place.error(key, f"{value} is not between {low} and {high}")
    return value


def seconds(table: Mapping[str, Any], key: str, place: Place) -> float | None:
    """A positive, finite number of seconds (an integer or a float)."""
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _wrong(place, key, value, "a number of seconds")
    if not (math.isfinite(value) and value > 0):
        raise place.error(key, f"{value} is not a positive number of seconds")
    return float(value)


def choice(
    table: Mapping[str, Any], key: str, place: Place, choices: tuple[str, ...]
) -> str | None:
    value = text(table, key, place)
    if value is None:
        return None
    if value.lower() not in choices:
        raise place.error(key, f"{value!r} is not one of {', '.join(choices)}")
    return value.lower()


def strings(table: Mapping[str, Any], key: str, place: Place) -> tuple[str, ...] | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, list):
        raise _wrong(place, key, value, "an array of strings")
    out: list[str] = []
    for i, item in enumerate(value, 1):
        one = text({f"{key}[{i}]": item}, f"{key}[{i}]", place)
        assert one is not None
        out.append(one)
    return tuple(out)


def threshold(table: Mapping[str, Any], key: str, place: Place) -> Range | None:
    """A threshold range (``"500"``, ``"~:800"``, ``"@100:200"``) or a bare number."""
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _wrong(place, key, value, 'a range string such as "500" or "100:800"')
    try:
        return parse_range(value)
    except RangeError as exc:
        raise place.error(key, exc.message) from None


def path(table: Mapping[str, Any], key: str, place: Place, prefix: str = "") -> Path | None:
    """A file path: ``~`` expanded, relative to the accounts file's directory."""
    value = text(table, key, place, prefix)
    return None if value is None else place.base / Path(value).expanduser()


def server(table: Mapping[str, Any], key: str, place: Place) -> str | None:
    """``HOST[:PORT]``, an IPv6 address in brackets."""
    value = text(table, key, place)
    if value is None:
        return None
    match = _SERVER.fullmatch(value.strip())
    port = match.group("port") if match else None
    if match is None or (port is not None and not 1 <= int(port) <= 65535):
        raise place.error(key, f"{value!r} is not HOST[:PORT] (an IPv6 address in [brackets])")
    return value.strip()


def password_source(
    table: Mapping[str, Any], place: Place, prefix: str = ""
) -> PasswordSource | None:
    """The one password key of ``table`` (None: none given). Two of them is refused."""
    given = [k for k in PASSWORD_KEYS if k in table]
    if len(given) > 1:
        raise place.error(prefix + given[1], f"a second password source (with {given[0]!r})")
    if not given:
        return None
    key = given[0]
    origin = place.origin(prefix + key)
    if key == "password_command":
        argv = _command(table[key], place, prefix + key)
        return PasswordSource("command", origin, command=Command(argv))
    value = text(table, key, place, prefix) if key != "password" else table[key]
    if key == "password":
        if not isinstance(value, str):
            raise _wrong(place, prefix + key, value, "a string")
        if not value:
            raise place.error(prefix + key, "must not be empty")
        return PasswordSource("inline", origin, inline=Secret(value))
    assert value is not None
    if key == "password_env":
        if not _ENV_NAME.fullmatch(value):
            raise place.error(prefix + key, f"{value!r} is not an environment variable name")
        return PasswordSource("env", origin, env=value)
    return PasswordSource("file", origin, path=place.base / Path(value).expanduser())


def _command(value: object, place: Place, key: str) -> tuple[str, ...]:
    """A command as a string (split as a POSIX shell would, but never run by one) or
    an array of strings."""
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise place.error(key, f"cannot split the command: {exc}") from None
    elif isinstance(value, list) and all(isinstance(a, str) for a in value):
        argv = list(value)
    else:
        raise _wrong(place, key, value, "a command string or an array of strings")
    if not argv or not argv[0]:
        raise place.error(key, "the command is empty")
    return tuple(argv)


@dataclass(frozen=True)
class Registration:
    """An Asterisk/VICIdial registration string ``user[:secret]@host[:port][/extension]``."""

    aor: str  # user@host[:port], for parse_aor
    secret: Secret | None
    extension: str | None


def registration(value: str, place: Place) -> Registration:
    if value.lower().startswith(("sip:", "sips:")) or "@" not in value:
        raise place.error("registration", "is not user[:secret]@host[:port][/extension]")
    userinfo, _, hostpart = value.rpartition("@")
    user, colon, secret = userinfo.partition(":")
    hostpart, slash, extension = hostpart.partition("/")
    if not user or not hostpart or (slash and not extension) or (colon and not secret):
        raise place.error("registration", "is not user[:secret]@host[:port][/extension]")
    return Registration(f"{user}@{hostpart}", Secret(secret) if colon else None, extension or None)
