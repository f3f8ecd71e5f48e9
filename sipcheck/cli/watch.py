"""``sipcheck watch``: stay registered like a phone does and say when and why it lapses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from sipcheck.cli.capture_options import pcap_option
from sipcheck.cli.client_options import ClientOptions, client_options
from sipcheck.cli.params import AOR, COMMAND, CONTACT

if TYPE_CHECKING:
    from sipcheck.cli.aor_argument import AorArgument

WATCH_HELP = """Keep AOR (or every account of an accounts file) registered, refreshing
before the granted expiry, and print one line per change of state with its cause:
None, Progress, Ok, Failed, Cleared. Ctrl-C or SIGTERM unregisters and prints a
summary per account.

\b
A binding granted G s is refreshed at max(G/2, G - margin) after the REGISTER
left (never after it expires); a failure is retried after 1 s, 2 s, 4 s ... up
to 5 min, each up to 25 % shorter (jitter). --timeout and --t1 apply to each
request; --json prints one JSON object per event (JSON lines), the summary last.

\b
Examples:
  sipcheck watch alice@pbx.example.com --password-env SIP_PW
  sipcheck watch --accounts trunks.toml
  sipcheck watch --accounts trunks.toml --only trunk1 --json | jq -c .
  sipcheck watch alice@pbx.example.com --password-env SIP_PW --query-every 60
  sipcheck watch alice@pbx.example.com --password-env PW --duration 600 --exit-on-failure
  sipcheck watch --accounts trunks.toml --on-change 'notify-send sipcheck'
  sipcheck watch --accounts trunks.toml --pcap watch.pcapng   # every refresh, kept
"""


@click.command(
    "watch", help=WATCH_HELP, short_help="Stay registered; say when and why a registration lapses."
)
@click.argument("aor", type=AOR, required=False)
@click.option(
    "--accounts",
    "accounts_file",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Watch the accounts of this file (the one `sipcheck check` reads).",
)
@click.option(
    "--only",
    multiple=True,
    metavar="NAME",
    help="With --accounts: only this account (repeat for more).",
)
@click.option(
    "--expires",
    type=click.IntRange(1, 2**32 - 1),
    default=None,
    help="Requested registration lifetime in seconds  [default: 3600].",
)
@click.option("--contact", type=CONTACT, help="Contact URI to register (default: our address).")
@click.option(
    "--refresh-margin",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Refresh this long before expiry (at least half-way).",
)
@click.option(
    "--query-every",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="Between refreshes, query the bindings this often: is ours still there?",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0.1),
    metavar="SECONDS",
    help="Stop (and unregister) after this long.",
)
@click.option(
    "--exit-on-failure",
    is_flag=True,
    help="Stop at the first lapse, with the exit status of its cause.",
)
@click.option(
    "--on-change",
    type=COMMAND,
    metavar="CMD",
    help="Run CMD (no shell; 10 s at most) on every change of state, with "
    "SIPCHECK_ACCOUNT, SIPCHECK_STATE, SIPCHECK_CAUSE, SIPCHECK_DIAGNOSIS set.",
)
@pcap_option
@client_options
def watch(
    aor: AorArgument | None,
    accounts_file: str | None,
    only: tuple[str, ...],
    expires: int | None,
    contact: str | None,
    refresh_margin: float,
    query_every: float | None,
    duration: float | None,
    exit_on_failure: bool,
    on_change: tuple[str, ...] | None,
    pcap: str | None,
    options: ClientOptions,
) -> int:  # fmt: skip
    from sipcheck.cli.passwords import can_prompt
    from sipcheck.cli.watch_accounts import from_argument, from_file
    from sipcheck.cli.watch_run import WatchRequest, run_watch
    from sipcheck.errors import ConfigError
    from sipcheck.sip.client.refresh import RefreshPolicy

    if (aor is None) == (accounts_file is None):
        raise ConfigError("give an AOR or --accounts FILE (one of them)")
    if only and accounts_file is None:
        raise ConfigError("--only names accounts of --accounts FILE")
    if accounts_file is not None:
        if contact is not None:
            raise ConfigError("--contact cannot be used with --accounts (give contact per account)")
        accounts = from_file(
            accounts_file, only, options, expires=expires,
            warn=lambda text: click.echo(text, err=True),
        )  # fmt: skip
        prompt = False
    else:
        assert aor is not None
        single = from_argument(aor, options, expires=expires, contact=contact)
        accounts = [single]
        who = single.settings.config.accounts
        prompt = bool(who) and who[0].password is None and can_prompt()
    request = WatchRequest(
        accounts=accounts,
        options=options,
        policy=RefreshPolicy(margin=refresh_margin, query_every=query_every),
        duration=duration,
        exit_on_failure=exit_on_failure,
        on_change=on_change,
        prompt=prompt,
        pcap=pcap,
    )
    return run_watch(request)
