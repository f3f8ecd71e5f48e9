"""``sipcheck register``, ``unregister``, ``query`` and ``options``."""

from __future__ import annotations

from typing import Any

import click

from sipcheck.cli.client_options import client_options

REGISTER_HELP = """Register AOR and show why it worked or failed.

\b
AOR is user@domain, a sip:/sips: URI, or an Asterisk-style registration
string user:secret@host:port/extension.

\b
Examples:
  sipcheck register sip:alice@pbx.example.com
  SIPCHECK_PW=s3cret sipcheck register alice@pbx.example.com --password-env SIPCHECK_PW
  sipcheck register 1001@sip.carrier.net --auth-user 88812345 --password-file ~/.pw
  sipcheck register alice@example.com --server 192.0.2.10:5080 --transport tcp
  sipcheck register alice@example.com --json | jq .result
"""


def _run(mode_name: str, aor_text: str, kw: dict[str, Any], expires: int | None) -> int:
    from sipcheck.cli.client_run import ClientRequest, run_command

    request = ClientRequest(mode_name=mode_name, target_text=aor_text, expires=expires, kw=kw)
    return run_command(request)


@click.command("register", help=REGISTER_HELP)
@click.argument("aor")
@click.option("--expires", type=click.IntRange(0, 2**32 - 1), default=3600, show_default=True,
              help="Requested registration lifetime in seconds.")  # fmt: skip
@click.option("--contact", metavar="URI", help="Contact URI to register (default: our address).")
@client_options
def register(aor: str, expires: int, **kw: Any) -> int:
    return _run("register", aor, kw, expires)


@click.command(
    "unregister",
    help="""Remove our binding for AOR (Expires: 0); --all removes every binding (Contact: *).

\b
Examples:
  sipcheck unregister alice@pbx.example.com --password-env PW
  sipcheck unregister alice@pbx.example.com --all --password-env PW
""",
)
@click.argument("aor")
@click.option("--all", "remove_all", is_flag=True, help="Remove all bindings of the AoR.")
@click.option("--contact", metavar="URI", help="The Contact URI to remove.")
@client_options
def unregister(aor: str, remove_all: bool, **kw: Any) -> int:
    return _run("unregister-all" if remove_all else "unregister", aor, kw, 0)


@click.command(
    "query",
    help="""List the current bindings of AOR (a REGISTER without Contact).

\b
Examples:
  sipcheck query alice@pbx.example.com --password-env PW
  sipcheck query alice@pbx.example.com --json | jq '.bindings'
""",
)
@click.argument("aor")
@client_options
def query(aor: str, **kw: Any) -> int:
    return _run("query", aor, kw, None)


@click.command(
    "options",
    help="""Check that TARGET answers SIP (OPTIONS), e.g. a trunk with IP authentication.

\b
TARGET is host[:port], user@host or a sip: URI. Exit 0 on a 2xx answer.

\b
Examples:
  sipcheck options sip.carrier.net
  sipcheck options 192.0.2.10:5060 --transport tcp
""",
)
@click.argument("target")
@client_options
def options(target: str, **kw: Any) -> int:
    return _run("options", target, kw, None)
