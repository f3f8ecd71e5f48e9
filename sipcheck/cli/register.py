"""``sipcheck register``, ``unregister``, ``query`` and ``options``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from sipcheck.cli.capture_options import pcap_option
from sipcheck.cli.ci_output import PluginCommand, ci_options
from sipcheck.cli.client_options import ClientOptions, Repeat, client_options, repeat_options
from sipcheck.cli.params import AOR, CONTACT

if TYPE_CHECKING:
    from sipcheck.cli.aor_argument import AorArgument

ADDRESS_HELP = """\b
AOR is user@domain, a sip:/sips: URI, or an Asterisk-style registration
string user:secret@host:port/extension. A secret in it is used as the
password (with a warning: ps shows it) and never sent or printed."""

REGISTER_HELP = f"""Register AOR and show why it worked or failed.

{ADDRESS_HELP}

\b
Examples:
  sipcheck register sip:alice@pbx.example.com
  sipcheck register alice@pbx.example.com --password-env SIPCHECK_PW
  sipcheck register 1001@sip.carrier.net --auth-user 88812345 --password-file ~/.pw
  pass show sip/alice | sipcheck register alice@pbx.example.com --password-file -
  sipcheck register alice@pbx.example.com --password-command 'pass show sip/alice'
  sipcheck register alice@example.com --server 192.0.2.10:5080 --transport tcp
  sipcheck register alice@example.com --json | jq .result

\b
Like sipsak and sipexer:
  sipcheck register alice@example.com -H 'X-Tenant: 42' --user-agent 'Yealink SIP-T46S'
  sipcheck register alice@example.com --ha1-env SIP_HA1          # an HA1, not the password
  sipcheck register 1001@pbx.example.com --from sip:admin@pbx.example.com   # third party
  sipcheck register 1001@pbx.example.com --to sip:1001@sbc.example.com \\
      --request-uri sip:sbc.example.com --max-forwards 10
  sipcheck register alice@example.com -6 --algorithm SHA-256,MD5
  sipcheck register alice@example.com --count 10 --interval 0.5   # min/avg/max/p95 RRD
  sipcheck register alice@example.com -v     # headers; -vv full messages; -vvv timers too
"""


def _run(
    mode_name: str,
    argument: AorArgument,
    options: ClientOptions,
    *,
    expires: int | None = None,
    contact: str | None = None,
    repeat: Repeat | None = None,
    pcap: str | None = None,
) -> int:
    from sipcheck.cli.client_run import run_client_command
    from sipcheck.sip.client.config import Mode

    return run_client_command(
        Mode(mode_name),
        argument,
        options,
        expires=expires,
        contact=contact,
        repeat=repeat,
        pcap=pcap,
    )


@click.command(
    "register",
    cls=PluginCommand,
    help=REGISTER_HELP,
    short_help="Register AOR and show why it worked or failed.",
)
@click.argument("aor", type=AOR)
@click.option("--expires", type=click.IntRange(0, 2**32 - 1), default=3600, show_default=True,
              help="Requested registration lifetime in seconds.")  # fmt: skip
@click.option("--contact", type=CONTACT, help="Contact URI to register (default: our address).")
@client_options
@ci_options
@repeat_options
@pcap_option
def register(
    aor: AorArgument,
    expires: int,
    contact: str | None,
    options: ClientOptions,
    repeat: Repeat,
    pcap: str | None,
) -> int:
    return _run(
        "register", aor, options, expires=expires, contact=contact, repeat=repeat, pcap=pcap
    )


@click.command(
    "unregister",
    short_help="Remove our binding for AOR (Expires: 0); --all removes all.",
    help=f"""Remove our binding for AOR (Expires: 0); --all removes every binding (Contact: *).

{ADDRESS_HELP}

\b
Examples:
  sipcheck unregister alice@pbx.example.com --password-env PW
  sipcheck unregister alice@pbx.example.com --all --password-env PW
""",
)
@click.argument("aor", type=AOR)
@click.option("--all", "remove_all", is_flag=True, help="Remove all bindings of the AoR.")
@click.option("--contact", type=CONTACT, help="The Contact URI to remove (not with --all).")
@client_options
@pcap_option
def unregister(
    aor: AorArgument,
    remove_all: bool,
    contact: str | None,
    options: ClientOptions,
    pcap: str | None,
) -> int:
    mode = "unregister-all" if remove_all else "unregister"
    return _run(mode, aor, options, expires=0, contact=contact, pcap=pcap)


@click.command(
    "query",
    short_help="List the current bindings of AOR (REGISTER without Contact).",
    help=f"""List the current bindings of AOR (a REGISTER without Contact).

{ADDRESS_HELP}

\b
Examples:
  sipcheck query alice@pbx.example.com --password-env PW
  sipcheck query alice@pbx.example.com --json | jq '.bindings'
""",
)
@click.argument("aor", type=AOR)
@client_options
@pcap_option
def query(aor: AorArgument, options: ClientOptions, pcap: str | None) -> int:
    return _run("query", aor, options, pcap=pcap)


@click.command(
    "options",
    cls=PluginCommand,
    short_help="Check that TARGET answers SIP OPTIONS (IP-authenticated trunks).",
    help="""Check that TARGET answers SIP (OPTIONS), e.g. a trunk with IP authentication.

\b
TARGET is host[:port], user@host or a sip: URI. Exit 0 on a 2xx answer.
A password in it is used to answer a challenge, never sent or printed.

\b
Examples:
  sipcheck options sip.carrier.net
  sipcheck options 192.0.2.10:5060 --transport tcp
  sipcheck options sip.carrier.net --count 20 --interval 0.5   # like ping
  sipcheck options sip.carrier.net -4 -H 'X-Probe: monitoring' --max-forwards 0
""",
)
@click.argument("target", type=AOR)
@client_options
@ci_options
@repeat_options
@pcap_option
def options(target: AorArgument, options: ClientOptions, repeat: Repeat, pcap: str | None) -> int:
    return _run("options", target, options, repeat=repeat, pcap=pcap)
