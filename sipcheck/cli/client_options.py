"""Options shared by register, unregister, query and options, parsed once into
a frozen ``ClientSettings``; passwords resolved from env, file or prompt."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from sipcheck.cli.options import json_option, no_color_option, verbose_option
from sipcheck.errors import ConfigError, SipParseError
from sipcheck.sip.wire.uri import SipUri

F = TypeVar("F", bound=Callable[..., Any])


def client_options(func: F) -> F:
    """Decorate a command with every option the client commands share."""
    options = [
        click.option("--user", help="SIP user, when it is not in the AoR."),
        click.option(
            "--auth-user", help="Authorization user name, if it differs from the SIP user."
        ),
        click.option(
            "--password-env",
            metavar="NAME",
            help="Read the password from this environment variable.",
        ),
        click.option(
            "--password-file",
            type=click.Path(dir_okay=False),
            help="Read the password from this file (first line).",
        ),
        click.option(
            "--password",
            "password_arg",
            metavar="TEXT",
            help="The password (visible in ps and shell history: prefer --password-env).",
        ),
        click.option("--realm", help="Use these credentials only for this realm."),
        click.option(
            "--transport",
            type=click.Choice(["udp", "tcp", "tls"]),
            help="Transport (default: from DNS, else UDP).",
        ),
        click.option(
            "--server",
            metavar="HOST[:PORT]",
            help="Send to this server (outbound proxy) instead of the domain's.",
        ),
        click.option(
            "--bind", metavar="ADDR[:PORT]", help="Local address (and port) to send from."
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.1),
            default=32.0,
            show_default=True,
            help="Overall time limit in seconds.",
        ),
        click.option(
            "--t1",
            type=click.FloatRange(min=0.01),
            default=0.5,
            show_default=True,
            help="SIP timer T1 (retransmissions start at T1).",
        ),
        click.option(
            "--ca-file",
            type=click.Path(exists=True, dir_okay=False),
            help="CA certificates to verify the TLS server with.",
        ),
        click.option(
            "--insecure", is_flag=True, help="Do not verify the TLS certificate (testing only)."
        ),
        click.option(
            "--cert",
            "cert_file",
            type=click.Path(exists=True, dir_okay=False),
            help="Client certificate for TLS.",
        ),
        click.option(
            "--key",
            "key_file",
            type=click.Path(exists=True, dir_okay=False),
            help="Private key of --cert.",
        ),
        json_option,
        no_color_option,
        verbose_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


@dataclass(frozen=True)
class Target:
    """The parsed positional argument: the AoR and what a registration string adds."""

    aor: SipUri
    password: str | None = None  # from an Asterisk-style registration string
    contact_user: str | None = None


def parse_target(text: str, user: str | None = None) -> Target:
    """``user@domain``, ``sip:``/``sips:`` URI, or ``user[:secret]@host[:port][/extension]``."""
    from sipcheck.sip.client.registration import parse_aor

    text = text.strip()
    if not text:
        raise ConfigError("empty address", hint="give an AoR such as alice@pbx.example.com")
    password: str | None = None
    extension: str | None = None
    if not text.lower().startswith(("sip:", "sips:")) and "@" in text:
        userinfo, _, hostpart = text.rpartition("@")
        name, colon, secret = userinfo.partition(":")
        if colon:
            password = secret
        hostpart, slash, extension_text = hostpart.partition("/")
        extension = extension_text or None if slash else None
        text = f"{name}@{hostpart}"
    try:
        aor = parse_aor(text)
    except SipParseError as exc:
        raise ConfigError(
            f"not a SIP address: {exc.message}",
            hint="use user@domain, sip:user@domain, or user:secret@host:port/extension",
        ) from None
    if user:
        aor = SipUri(aor.scheme, aor.host, user, None, aor.port, aor.params)
    if aor.user is None:
        raise ConfigError(f"{text!r} has no user part", hint="give user@domain, or --user NAME")
    return Target(aor, password, extension)


def read_password(
    *, env: str | None, file: str | None, arg: str | None, from_target: str | None
) -> str | None:
    """The password from (in order) --password-file, --password-env, --password, the
    registration string; None when none was given (we prompt on a challenge)."""
    if file is not None:
        try:
            text = Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read --password-file {file}: {exc.strerror}") from None
        line = text.splitlines()[0] if text else ""
        if not line:
            raise ConfigError(f"--password-file {file} is empty")
        return line
    if env is not None:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(
                f"environment variable {env} is not set", hint=f"export {env}=... first"
            )
        return value
    if arg is not None:
        click.echo(
            "warning: --password puts the password in ps output and shell history; "
            "prefer --password-env or --password-file",
            err=True,
        )
        return arg
    if from_target is not None:
        click.echo(
            "warning: the password in the registration string is visible in ps output and "
            "shell history; prefer --password-env or --password-file",
            err=True,
        )
        return from_target
    return None


def can_prompt() -> bool:
    return sys.stdin.isatty() and os.environ.get("CI", "") != "true"
