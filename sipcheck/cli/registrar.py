"""``sipcheck registrar``: an embedded registrar to test phones and PBXes against."""

from __future__ import annotations

from typing import Any

import click

from sipcheck.cli.capture_options import pcap_option
from sipcheck.cli.options import no_color_option, verbose_option

REGISTRAR_HELP = """Run a registrar and show, per registration attempt, what the client did
wrong.

\b
Listens on UDP and TCP at each --listen address (TLS too with --cert/--key or
--self-signed, on the next port up). Ctrl-C stops it and prints a summary.

\b
By default it challenges once, with MD5 and qop auth: what every client
answers. --algorithm SHA-256,MD5 offers one challenge per algorithm, the
strongest first (RFC 8760). A challenge left unanswered for 4 s is reported
with what was offered and what to try.

\b
Limits, so that no peer can make it hold more (the README lists them):
TCP/TLS connections (--max-connections, 512 and at most half of ulimit -n;
more are reset at once), closed after --idle-timeout (60 s) without a
byte and TLS handshakes after 10 s; on TCP/TLS a header section of 64 KiB
and a body of --max-content-length (64 KiB; more is answered 413 or 513
and the connection closed); answers held for UDP retransmissions (65,536,
32 s each), nonce counts (100,000, one --nonce-lifetime each), attempts
in progress (2,000 and 32 MiB; 64 messages and 120 s each), bindings (100
per AoR, 100,000 in all); attempts waiting to be printed (1,000 and 32
MiB; more are counted, not shown). Unparseable messages: the first in each
second is shown, the others counted in one line a second.

\b
Examples:
  sipcheck registrar --account alice:secret
  sipcheck registrar --listen 0.0.0.0:5060 --account 1001:1001-auth:s3cret
  sipcheck registrar --account alice:secret --challenge proxy --algorithm SHA-256,MD5
  sipcheck registrar --accounts-file accounts.toml --min-expires 120 --json
  sipcheck registrar --account alice:secret --self-signed --listen 127.0.0.1:5060
  sipcheck registrar --account alice:secret --self-signed --tls-max 1.2
  sipcheck registrar --account alice:secret --drop 0.2 --busy 0.1 --quiet
"""


@click.command(
    "registrar",
    help=REGISTRAR_HELP,
    short_help="Run a registrar; show each registration attempt and its cause.",
)
@click.option(
    "--listen",
    multiple=True,
    metavar="ADDR:PORT",
    help="Address to listen on (repeatable; default 127.0.0.1:5060; port 0 picks one).",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="USER:[AUTHUSER:]PASSWORD",
    help="An account (repeatable).",
)
@click.option(
    "--accounts-file",
    type=click.Path(exists=True, dir_okay=False),
    help="TOML file: [[account]] user = ..., auth_user = ..., password = ...",
)
@click.option("--realm", help="Digest realm (default: the domain in the Request-URI).")
@click.option(
    "--challenge",
    type=click.Choice(["www", "proxy"]),
    default="www",
    show_default=True,
    help="Challenge with 401 (www) or 407 (proxy).",
)
@click.option(
    "--algorithm",
    "algorithms",
    multiple=True,
    metavar="NAME[,NAME...]",
    help="Digest algorithms to offer, one challenge each, strongest first (RFC 8760): "
    "MD5, SHA-256, SHA-512-256 and their -sess forms. Default: MD5 alone, which every "
    "client answers.",
)
@click.option(
    "--qop",
    type=click.Choice(["auth", "auth-int", "both", "none"]),
    default="auth",
    show_default=True,
    help="Quality of protection to offer. With none there is no nonce count: a nonce "
    "is good for the Call-ID it was first answered in, with a rising CSeq, so a "
    "captured REGISTER replayed with another Call-ID or an older CSeq is refused, but "
    "one replayed in its Call-ID with a higher CSeq is not (use auth to stop that).",
)
@click.option("--min-expires", type=click.IntRange(1), default=60, show_default=True)
@click.option("--max-expires", type=click.IntRange(1), default=3600, show_default=True)
@click.option("--nonce-lifetime", type=click.FloatRange(min=1), default=30.0, show_default=True)
@click.option(
    "--strict", is_flag=True, help="Refuse a digest uri that differs from the Request-URI."
)
@click.option(
    "--cert",
    "cert_file",
    type=click.Path(exists=True, dir_okay=False),
    help="TLS certificate (PEM).",
)
@click.option(
    "--key", "key_file", type=click.Path(exists=True, dir_okay=False), help="TLS private key (PEM)."
)
@click.option("--self-signed", is_flag=True, help="Make a throwaway self-signed certificate.")
@click.option(
    "--tls-min",
    type=click.Choice(["1.2", "1.3"]),
    default="1.2",
    show_default=True,
    help="Lowest TLS version to accept.",
)
@click.option(
    "--tls-max",
    type=click.Choice(["1.2", "1.3"]),
    default="1.3",
    show_default=True,
    help="Highest TLS version to offer (1.2 for clients that fail on TLS 1.3, like sipsak).",
)
@click.option("--drop", type=click.FloatRange(0, 1), default=0.0, help="Share of requests to drop.")
@click.option("--busy", type=click.FloatRange(0, 1), default=0.0, help="Share answered 503.")
@click.option("--retry-after", type=click.IntRange(0), default=30, show_default=True)
@click.option(
    "--delay",
    type=click.FloatRange(min=0),
    default=0.0,
    help="Seconds to wait before each response.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(1),
    default=512,
    show_default=True,
    help="TCP and TLS connections open at once (kept under half of ulimit -n); more "
    "are reset at once and counted.",
)
@click.option(
    "--idle-timeout",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    metavar="SECONDS",
    help="Close a TCP/TLS connection that sent nothing for this long.",
)
@click.option(
    "--max-content-length",
    type=click.IntRange(1),
    default=65536,
    show_default=True,
    metavar="OCTETS",
    help="Largest body on TCP/TLS; a larger Content-Length is answered 413 and the "
    "connection closed.",
)
@click.option("--duration", type=click.FloatRange(min=0.1), help="Stop after this many seconds.")
@click.option(
    "--json",
    "json_output",
    is_flag=True,
    help="One JSON object per completed attempt (JSON lines).",
)
@click.option("--quiet", is_flag=True, help="Print nothing per request (for load tests).")
@pcap_option
@no_color_option
@verbose_option
def registrar(**kw: Any) -> int:  # fmt: skip
    from sipcheck.cli.registrar_run import run_registrar

    return run_registrar(kw)
