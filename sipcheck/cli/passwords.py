"""Where the password comes from, never the command line: ``--password-env``,
``--password-file`` (``-``: stdin), ``--password-command``, or a prompt without
echo when a challenge arrives. A secret in the address itself is accepted with
a warning (it shows in ``ps``). An HA1 (H(user:realm:password), as good as the
password) comes the same ways: ``--ha1-env``, ``--ha1-file``. Every failure is a
ConfigError naming the flag.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from sipcheck.errors import ConfigError
from sipcheck.password_source import Command, PasswordSource
from sipcheck.secret import Secret

if TYPE_CHECKING:
    from sipcheck.cli.aor_argument import AorArgument

PREFER = "prefer --password-env, --password-file or --password-command"


@dataclass(frozen=True)
class PasswordOptions:
    """The password flags as given; at most one may be set."""

    env: str | None = None  # --password-env NAME
    file: str | None = None  # --password-file PATH, "-" for stdin
    command: tuple[str, ...] | None = None  # --password-command CMD, split like a shell
    ha1_env: str | None = None  # --ha1-env NAME
    ha1_file: str | None = None  # --ha1-file PATH, "-" for stdin


HA1_DIGITS = {32: "MD5", 64: "SHA-256 or SHA-512-256"}


def read_password(options: PasswordOptions, argument: AorArgument) -> Secret | None:
    """The password from the one source given; None when none was (we prompt on a challenge,
    unless an HA1 was given: see ``read_ha1``)."""
    given = [
        flag
        for flag, value in (
            ("--password-env", options.env),
            ("--password-file", options.file),
            ("--password-command", options.command),
            ("--ha1-env", options.ha1_env),
            ("--ha1-file", options.ha1_file),
        )
        if value is not None
    ]
    if argument.password is not None:
        given.append("the password in the address")
    if len(given) > 1:
        raise ConfigError(f"give the password one way only, not {' and '.join(given)}")
    if options.env is not None:
        return _read(_source("--password-env", env=options.env))
    if options.file is not None:
        return _read(_source("--password-file", file=options.file))
    if options.command is not None:
        return _read(_source("--password-command", command=options.command))
    if argument.password is not None:
        _warn_about(argument)
        return argument.password
    return None


def read_ha1(options: PasswordOptions) -> Secret | None:
    """The HA1 from --ha1-env or --ha1-file (call ``read_password`` first: it refuses two
    sources); lower-case hex of 32 (MD5) or 64 (SHA-256, SHA-512-256) digits."""
    if options.ha1_env is not None:
        source = _source("--ha1-env", env=options.ha1_env)
    elif options.ha1_file is not None:
        source = _source("--ha1-file", file=options.ha1_file)
    else:
        return None
    flag = source.origin
    secret = _read(source)
    value = secret.reveal().strip().lower()
    if len(value) not in HA1_DIGITS or any(c not in "0123456789abcdef" for c in value):
        # Neither the value nor its length is repeated: it is as good as a password.
        raise ConfigError(
            f"{flag}: not an HA1 (32 hex digits for MD5, 64 for SHA-256 or SHA-512-256)",
            hint="an HA1 is H(user:realm:password), e.g. printf 'alice:example.com:secret' "
            "| md5sum",
        )
    return Secret(value)


def _warn_about(argument: AorArgument) -> None:
    if argument.form == "uri":
        # RFC 3261 §19.1.1: a password in the userinfo is NOT RECOMMENDED (deprecated).
        click.echo(
            "warning: a password in a SIP URI is deprecated (RFC 3261 §19.1.1); sipcheck "
            f"answers challenges with it and never sends it; it shows in ps: {PREFER}",
            err=True,
        )
    else:
        click.echo(
            "warning: the password in the registration string is visible in ps output and "
            f"shell history; {PREFER}",
            err=True,
        )


def _source(
    flag: str, *, env: str | None = None, file: str | None = None,
    command: tuple[str, ...] | None = None,
) -> PasswordSource:  # fmt: skip
    """The source one flag names; its messages start with the flag (the variable, the
    path or the program follows in the message itself)."""
    if env is not None:
        return PasswordSource("env", flag, env=env)
    if file == "-":
        # A person at the terminal: without the option, a password is asked without echo.
        instead = "or leave the option out to be asked without echo"
        return PasswordSource(
            "stdin", f"{flag} -", at_terminal=instead if flag == "--password-file" else None
        )
    if file is not None:
        return PasswordSource("file", flag, path=Path(file))
    assert command
    return PasswordSource("command", flag, command=Command(command), interactive=True)


def _read(source: PasswordSource) -> Secret:
    return source.resolve(warn=lambda text: click.echo(f"warning: {text}", err=True))


def can_prompt() -> bool:
    return sys.stdin.isatty() and os.environ.get("CI", "") != "true"


def ask_password(realm: str, auth_user: str) -> str:
    """Ask on the terminal, without echo, in this thread (an event loop waits meanwhile).

    asyncio.run's SIGINT handler only cancels the main task, which cannot stop
    a blocked read: while asking, Ctrl-C raises KeyboardInterrupt at once
    (click turns it into Abort: exit 130).
    """
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main else None
    if previous is not None:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        value: str = click.prompt(
            f"Password for {auth_user} (realm {realm})", hide_input=True, err=True
        )
        return value
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
