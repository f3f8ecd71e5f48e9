"""The options register, unregister, query and options share, defined once and
handed to the command as one frozen, typed ``ClientOptions``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import click

from sipcheck.cli.options import OutputOptions, json_option, no_color_option
from sipcheck.cli.params import (
    ALGORITHMS,
    COMMAND,
    HEADER,
    HEADER_TEXT,
    LOCAL_ADDRESS,
    NAME_ADDR,
    NON_EMPTY,
    SIP_URI,
    SIP_USER,
    CaFileType,
    HostPort,
    HostPortType,
)
from sipcheck.cli.passwords import PasswordOptions
from sipcheck.errors import ConfigError

if TYPE_CHECKING:
    from sipcheck.sip.wire.uri import SipUri

R = TypeVar("R")

DEFAULT_TIMEOUT = 32.0
DEFAULT_T1 = 0.5
DEFAULT_MAX_FORWARDS = 70
DEFAULT_INTERVAL = 1.0


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
    headers: tuple[tuple[str, str], ...] = ()  # -H 'Name: value', in the order given
    user_agent: str | None = None  # None: sipcheck/VERSION; "": no User-Agent header
    from_address: str | None = None  # --from, as "<uri>" or '"Name" <uri>'
    to_address: str | None = None  # --to
    request_uri: SipUri | None = None  # --request-uri
    max_forwards: int = DEFAULT_MAX_FORWARDS
    family: int | None = None  # -4 or -6; None: both
    algorithms: tuple[str, ...] | None = None  # --algorithm; None: the default preference


class Repeat:
    """``--count N --interval S``: run the command N times, S seconds apart (start to start).

    A plain class: one dataclass fewer to make at start-up on every client run."""

    __slots__ = ("count", "interval")

    def __init__(self, count: int = 1, interval: float = DEFAULT_INTERVAL) -> None:
        self.count = count
        self.interval = interval

    def __repr__(self) -> str:
        return f"Repeat(count={self.count}, interval={self.interval})"


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
        help="Read the password from the first line of this file (- for stdin), "
        "e.g. pass show sip/alice | sipcheck ... --password-file -.",
    ),
    click.option(
        "--password-command",
        type=COMMAND,
        metavar="CMD",
        help="Run CMD (no shell) and use the first line it prints, e.g. 'pass show sip/alice'.",
    ),
    click.option(
        "--ha1-env",
        type=NON_EMPTY,
        metavar="NAME",
        help="Answer with an HA1, H(user:realm:password) in hex, from this environment "
        "variable instead of a password, e.g. --ha1-env SIP_HA1.",
    ),
    click.option(
        "--ha1-file",
        type=click.Path(dir_okay=False, allow_dash=True),
        metavar="PATH",
        help="Read the HA1 from the first line of this file (- for stdin), "
        "e.g. --ha1-file ~/.sip-ha1.",
    ),
    click.option("--realm", type=NON_EMPTY, help="Use these credentials only for this realm."),
    click.option(
        "--algorithm",
        "algorithms",
        type=ALGORITHMS,
        metavar="NAME[,NAME...]",
        help="Digest algorithms to answer, preferred first, when several challenges are "
        "offered; others are not answered. Default: SHA-512-256,SHA-256,MD5. "
        "E.g. --algorithm MD5.",
    ),
    click.option(
        "--transport",
        type=click.Choice(["udp", "tcp", "tls"]),
        help="Transport (default: from DNS, else UDP).",
    ),
    click.option(
        "-4",
        "--ipv4",
        "ipv4",
        is_flag=True,
        help="Use IPv4 only: resolve to A records, send from an IPv4 address.",
    ),
    click.option(
        "-6",
        "--ipv6",
        "ipv6",
        is_flag=True,
        help="Use IPv6 only: resolve to AAAA records, send from an IPv6 address.",
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
        "-H",
        "--header",
        "headers",
        type=HEADER,
        multiple=True,
        metavar="'NAME: VALUE'",
        help="Add this header field to every request (repeatable), "
        "e.g. -H 'X-Tenant: 42' -H 'Route: <sip:edge.example.com;lr>'.",
    ),
    click.option(
        "--user-agent",
        type=HEADER_TEXT,
        metavar="TEXT",
        help="User-Agent header (default: sipcheck/VERSION; '' leaves it out), "
        "e.g. --user-agent 'Yealink SIP-T46S'.",
    ),
    click.option(
        "--from",
        "from_address",
        type=NAME_ADDR,
        metavar="URI",
        help="From address, when it is not the AoR (a third-party registration), "
        "e.g. --from sip:admin@example.com.",
    ),
    click.option(
        "--to",
        "to_address",
        type=NAME_ADDR,
        metavar="URI",
        help="To address, for a registrar that wants another than the AoR, "
        "e.g. --to sip:1001@pbx.example.com.",
    ),
    click.option(
        "--request-uri",
        type=SIP_URI,
        metavar="URI",
        help="Request-URI (default: the AoR's domain; for options, the target), "
        "e.g. --request-uri sip:registrar.example.com. Where to send is unchanged.",
    ),
    click.option(
        "--max-forwards",
        type=click.IntRange(0, 255),
        default=DEFAULT_MAX_FORWARDS,
        show_default=True,
        help="Max-Forwards of every request, e.g. --max-forwards 0: a proxy answers 483 "
        "instead of forwarding it.",
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
    click.option(
        "-v",
        "--verbose",
        count=True,
        help="-v every message's headers; -vv every message in full; -vvv also the timers "
        "and transport events. On a terminal, -v also prints each retransmission as it goes.",
    ),
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
        ha1_env: str | None,
        ha1_file: str | None,
        realm: str | None,
        algorithms: tuple[str, ...] | None,
        transport: str | None,
        ipv4: bool,
        ipv6: bool,
        server: HostPort | None,
        bind: HostPort | None,
        headers: tuple[tuple[str, str], ...],
        user_agent: str | None,
        from_address: str | None,
        to_address: str | None,
        request_uri: SipUri | None,
        max_forwards: int,
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
            password=PasswordOptions(
                password_env, password_file, password_command, ha1_env, ha1_file
            ),
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
            headers=headers,
            user_agent=user_agent,
            from_address=from_address,
            to_address=to_address,
            request_uri=request_uri,
            max_forwards=max_forwards,
            family=_family(ipv4, ipv6),
            algorithms=algorithms,
        )
        return func(*args, options=options, **kwargs)

    decorated: Callable[..., R] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated


def _family(ipv4: bool, ipv6: bool) -> int | None:
    if ipv4 and ipv6:
        raise ConfigError("-4 and -6 cannot be used together: without either, both families are")
    return 4 if ipv4 else 6 if ipv6 else None


_REPEAT_OPTIONS = [
    click.option(
        "--count",
        type=click.IntRange(1, 100_000),
        default=1,
        show_default=True,
        help="Run N times and print min/avg/max/p95 of the response times and the "
        "failures, like ping, e.g. --count 10.",
    ),
    click.option(
        "--interval",
        type=click.FloatRange(min=0.0),
        default=DEFAULT_INTERVAL,
        show_default=True,
        metavar="S",
        help="Seconds from the start of one run to the start of the next (with --count), "
        "e.g. --count 100 --interval 0.2.",
    ),
]


def repeat_options(func: Callable[..., R]) -> Callable[..., R]:
    """Add --count and --interval; the command receives them as ``repeat``."""

    @functools.wraps(func)
    def wrapper(*args: Any, count: int, interval: float, **kwargs: Any) -> R:
        return func(*args, repeat=Repeat(count, interval), **kwargs)

    decorated: Callable[..., R] = wrapper
    for option in reversed(_REPEAT_OPTIONS):
        decorated = option(decorated)
    return decorated
