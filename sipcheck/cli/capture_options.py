"""``--pcap FILE``: keep what crossed the wire as a capture (pcapng) Wireshark opens.

Defined once for every command that offers it; the writing is in
``sipcheck.capture.writer`` (imported only when a file is asked for).
"""

from __future__ import annotations

import click

PCAP_HELP = (
    "Also write every SIP message sent and received to FILE (pcapng: UDP as sent, TCP "
    "as a reassemblable stream, TLS as decrypted SIP). Passwords are never in it."
)

pcap_option = click.option(
    "--pcap",
    type=click.Path(dir_okay=False, writable=True, allow_dash=False),
    metavar="FILE",
    help=PCAP_HELP,
)
