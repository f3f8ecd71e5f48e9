"""``sipcheck analyze FILE``: every registration attempt in a capture, diagnosed."""

from __future__ import annotations

from typing import Any

import click

from sipcheck.cli.options import json_option, no_color_option, verbose_option
from sipcheck.cli.params import COMMAND, NON_EMPTY

ANALYZE_HELP = """Find every registration attempt in a capture and say why each failed.

\b
FILE is a pcap or pcapng file (gzip-compressed too; - reads stdin), read as a stream:
Ethernet (VLAN tags), Linux cooked v1/v2, raw IP, BSD loopback; IPv4/IPv6,
fragments, IP-in-IP; UDP, TCP (reassembled), HEP; Wireshark exported PDUs
(decrypted TLS). Each attempt gets the ladder and verdict of `register`,
from the client's side. Other SIP (INVITE, OPTIONS...) is counted, skipped.

\b
With a password, each digest answer is recomputed: was it made with that
password, or did the server refuse a correct answer?

\b
Examples:
  sipcheck analyze customer.pcap
  sipcheck analyze trace.pcapng.gz --failed
  sipcheck analyze trunk.pcap --aor 1001@sip.carrier.net --password-env PW
  sipcheck analyze big.pcap --summary
  ssh pbx tcpdump -U -w - -c 200 port 5060 | sipcheck analyze -
  sipcheck analyze trace.pcap --json | jq '.attempts[] | [.aor, .result]'
"""


@click.command(
    "analyze",
    help=ANALYZE_HELP,
    short_help="Diagnose every registration attempt in a capture file.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--aor", "aor_filter", metavar="TEXT", help="Only attempts whose AoR contains TEXT.")
@click.option("--call-id", "call_id_filter", metavar="ID", help="Only this Call-ID (or prefix).")
@click.option("--failed", is_flag=True, help="Only attempts that failed.")
@click.option("--summary", is_flag=True, help="Only the summary table, no ladders.")
@click.option(
    "--password-env", type=NON_EMPTY, metavar="NAME", help="Check the answers with this password."
)
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Read the password to check from the first line of this file (- for stdin).",
)
@click.option("--password-command", type=COMMAND, metavar="CMD", help="Run CMD for the password.")
@click.option("--auth-user", type=NON_EMPTY, help="The auth user the answers should be for.")
@json_option
@no_color_option
@verbose_option
def analyze(**kw: Any) -> int:
    from sipcheck.cli.analyze_run import run_analyze

    return run_analyze(kw)
