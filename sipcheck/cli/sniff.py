"""``sipcheck sniff``: registration attempts on a live interface, as they happen."""

from __future__ import annotations

from typing import Any

import click

from sipcheck.cli.capture_options import pcap_option
from sipcheck.cli.options import json_option, no_color_option, verbose_option
from sipcheck.cli.params import NON_EMPTY

SNIFF_HELP = """Watch an interface and show each registration attempt as it ends.

\b
Captures with scapy (root or CAP_NET_RAW needed; without it: one line, exit 8)
and reads the packets like `analyze`: each attempt's ladder and verdict when it
ends (a final answer, or 32 s of silence); open attempts at the end. Default:
interface lo, SIP on port 5060 over UDP and TCP.

\b
Examples:
  sudo sipcheck sniff
  sudo sipcheck sniff -i eth0 --port 5060 --port 5080 --duration 60
  sudo sipcheck sniff -i any --filter 'host 192.0.2.10 and udp' --pcap seen.pcapng
  sudo sipcheck sniff --count 1 --json
"""


@click.command(
    "sniff",
    help=SNIFF_HELP,
    short_help="Watch an interface; show each registration attempt as it ends.",
)
@click.option("-i", "--interface", "iface", default="lo", show_default=True, type=NON_EMPTY,
              help="Interface to capture on ('any': every interface).")  # fmt: skip
@click.option("--port", "ports", multiple=True, type=click.IntRange(1, 65535),
              help="SIP port to watch, UDP and TCP (repeatable; default 5060).")  # fmt: skip
@click.option("--filter", "bpf", metavar="BPF", type=NON_EMPTY,
              help="A capture filter instead of --port (tcpdump syntax).")  # fmt: skip
@click.option("--count", type=click.IntRange(1), help="Stop after this many attempts.")
@click.option("--duration", type=click.FloatRange(min=0.1), help="Stop after this many seconds.")
@pcap_option
@json_option
@no_color_option
@verbose_option
def sniff(**kw: Any) -> int:
    from sipcheck.cli.sniff_run import run_sniff

    return run_sniff(kw)
