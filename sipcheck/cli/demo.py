"""``sipcheck demo``: the embedded registrar and real registrations against it."""

from __future__ import annotations

import click

from sipcheck.cli.options import OutputOptions, no_color_option, verbose_option

DEMO_HELP = """Show what sipcheck does, with no SIP server of your own.

\b
Starts the embedded registrar on a free loopback port in this process and
registers against it over UDP: through a 401 challenge, through a 407
challenge, with a wrong password (and its diagnosis), and with an Expires the
registrar finds too short (423, retried with Min-Expires). Exit 0 when every
scenario ends as expected.

\b
Examples:
  sipcheck demo
  sipcheck demo -v            # full messages
  sipcheck demo --no-color | less
"""


@click.command(
    "demo", help=DEMO_HELP, short_help="Show what sipcheck does, with no SIP server of your own."
)
@no_color_option
@verbose_option
@click.option("--transport", type=click.Choice(["udp", "tcp"]), default="udp", show_default=True)
def demo(no_color: bool, verbose: int, transport: str) -> int:
    from sipcheck.cli.demo_run import run_demo

    return run_demo(OutputOptions(no_color=no_color, verbose=verbose), transport)
