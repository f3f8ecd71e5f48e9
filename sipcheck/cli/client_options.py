"""The options register, unregister, query and options share, defined once and
handed to the command as one frozen, typed ``ClientOptions``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import click

from sipcheck.cli.options import OutputOptions, json_option, no_color_option, verbose_option
from sipcheck.cli.params import (
    COMMAND,
    LOCAL_ADDRESS,
    NON_EMPTY,
    SIP_USER,
    CaFileType,
    HostPort,
    HostPortType,
)
from sipcheck.cli.passwords import PasswordOptions

R = TypeVar("R")

DEFAULT_TIMEOUT = 32.0
DEFAULT_T1 = 0.5


@dataclass(frozen=True)
class ClientOptions:
    """Every shared client flag, validated and typed by click."""

    user: str | None = None
    auth_user: str | None = None
    password: PasswordOptions = field(default_factory=PasswordOptions)
    realm: str | None = None
    transport: str | None = None  # "udp" | "tcp" | "tls"; None: from DNS
    server: HostPort | None = None
    bind: HostPort | None = None
    timeout: float = DEFAULT_TIMEOUT
    t1: float = DEFAULT_T1
    ca_file: str | None = None
    insecure: bool = False
    cert_file: str | None = None
    key_file: str | None = None
    output: OutputOptions = field(default_factory=OutputOptions)


_OPTIONS = [
    click.option("--user", type=SIP_USER, help="SIP user, when it is not in the AoR."),
    click.option(
        "--auth-user",
        type=NON_EMPTY,
        help="Authorization user name, if it differs from the SIP user.",
    ),
    click.option(
        "--password-env",
        type=NON_EMPTY,
        metavar="NAME",
        help="Read the password from this environment variable.",
    ),
    click.option(
        "--password-file",
        type=click.Path(dir_okay=False, allow_dash=True),
        help="Read the password from the first line of this file (- for stdin).",
    ),
    click.option(
        "--password-command",
        type=COMMAND,
        metavar="CMD",
        help="Run CMD (no shell) and use the first line it prints, e.g. 'pass show sip/alice'.",
    ),
    click.option("--realm", type=NON_EMPTY, help="Use these credentials only for this realm."),
    click.option(
        "--transport",
        type=click.Choice(["udp", "tcp", "tls"]),
        help="Transport (default: from DNS, else UDP).",
    ),
    click.option(
        "--server",
        type=HostPortType(),
        metavar="HOST[:PORT]",
        help="Send to this server (outbound proxy) instead of the domain's.",
    ),
    click.option(
        "--bind",
        type=LOCAL_ADDRESS,
        metavar="ADDR[:PORT]",
        help="Local address (and port) to send from.",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(min=0.1),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        help="Overall time limit in seconds.",
    ),
    click.option(
        "--t1",
        type=click.FloatRange(min=0.01),
        default=DEFAULT_T1,
        show_default=True,
        help="SIP timer T1 (retransmissions start at T1).",
    ),
    click.option(
        "--ca-file", type=CaFileType(), help="CA certificates (PEM) to verify the TLS server with."
    ),
    click.option(
        "--insecure", is_flag=True, help="Do not verify the TLS certificate (testing only)."
    ),
    click.option(
        "--cert",
        "cert_file",
        type=click.Path(exists=True, dir_okay=False),
        help="Client certificate for TLS (PEM; needs --key).",
    ),
    click.option(
        "--key",
        "key_file",
        type=click.Path(exists=True, dir_okay=False),
        help="Private key of --cert (PEM).",
    ),
    json_option,
    no_color_option,
    verbose_option,
]


def client_options(func: Callable[..., R]) -> Callable[..., R]:
    """Add the shared client flags; the command receives them as ``options``."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        user: str | None,
        auth_user: str | None,
        password_env: str | None,
        password_file: str | None,
        password_command: tuple[str, ...] | None,
        realm: str | None,
        transport: str | None,
        server: HostPort | None,
        bind: HostPort | None,
        timeout: float,
        t1: float,
        ca_file: str | None,
        insecure: bool,
        cert_file: str | None,
        key_file: str | None,
        json_output: bool,
        no_color: bool,
        verbose: int,
        **kwargs: Any,
    ) -> R:
        options = ClientOptions(
            user=user,
            auth_user=auth_user,
            password=PasswordOptions(password_env, password_file, password_command),
            realm=realm,
            transport=transport,
            server=server,
            bind=bind,
            timeout=timeout,
            t1=t1,
            ca_file=ca_file,
            insecure=insecure,
            cert_file=cert_file,
            key_file=key_file,
            output=OutputOptions(json=json_output, no_color=no_color, verbose=verbose),
        )
        return func(*args, options=options, **kwargs)

    decorated: Callable[..., R] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated
