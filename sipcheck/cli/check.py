"""``sipcheck check FILE``: one health check over every account and trunk of a file."""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from sipcheck.cli.capture_options import pcap_option
from sipcheck.cli.ci_output import PluginCommand, ci_options
from sipcheck.cli.client_options import DEFAULT_T1, DEFAULT_TIMEOUT
from sipcheck.cli.options import OutputOptions, output_options

CHECK_HELP = """Check every account and trunk of the accounts FILE at once.

\b
Each enabled account is registered (mode = "options": pinged with OPTIONS),
then our binding is removed again (--keep leaves it), concurrently, each
with its own transport and Call-ID. Then a table: name, AoR or target,
result, final code, RRD in ms, the first diagnosis. Exit status: the worst
account's (see the README, "Checking many accounts").

\b
FILE is TOML: [defaults] merged into every [[account]] (see the README).
Passwords come from password_env, password_file or password_command, never
from the command line. Values in the file win over --timeout, -w and -c.

\b
Examples:
  sipcheck check trunks.toml
  sipcheck check trunks.toml --only alice --only bob -v
  sipcheck check trunks.toml --tag carrier --json | jq .summary
  sipcheck check trunks.toml --nagios -w 500 -c 2000      # Icinga, Nagios
  sipcheck check trunks.toml --junit report.xml           # CI
  sipcheck check trunks.toml --pcap check.pcapng          # what crossed the wire
"""


@dataclass(frozen=True)
class CheckRequest:
    """The ``check`` command line, typed."""

    file: str
    only: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    concurrency: int = 20
    keep: bool = False
    timeout: float = DEFAULT_TIMEOUT
    t1: float = DEFAULT_T1
    output: OutputOptions = field(default_factory=OutputOptions)
    pcap: str | None = None  # --pcap FILE: every account's messages, in time order


@click.command(
    "check",
    cls=PluginCommand,
    help=CHECK_HELP,
    short_help="Check every account and trunk of an accounts FILE at once.",
)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=False))
@click.option("--only", "only", multiple=True, metavar="NAME",
              help="Check only the account of this name (repeatable).")  # fmt: skip
@click.option("--tag", "tags", multiple=True, metavar="TAG",
              help="Check only accounts carrying this tag (repeatable: any of them).")  # fmt: skip
@click.option("--concurrency", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="At most this many accounts on the wire at once.")  # fmt: skip
@click.option("--keep", is_flag=True,
              help="Leave the registrations in place (no unregister afterwards).")  # fmt: skip
@click.option("--timeout", type=click.FloatRange(min=0.1), default=DEFAULT_TIMEOUT,
              show_default=True, help="Time limit per request flow, in seconds "
              "(for accounts without their own timeout).")  # fmt: skip
@click.option("--t1", type=click.FloatRange(min=0.01), default=DEFAULT_T1, show_default=True,
              help="SIP timer T1 (retransmissions start at T1).")  # fmt: skip
@pcap_option
@output_options
@ci_options
def check(
    file: str,
    only: tuple[str, ...],
    tags: tuple[str, ...],
    concurrency: int,
    keep: bool,
    timeout: float,
    t1: float,
    pcap: str | None,
    output: OutputOptions,
) -> int:
    from sipcheck.cli.check_main import run_check

    request = CheckRequest(file, only, tags, concurrency, keep, timeout, t1, output, pcap)
    return run_check(request)
