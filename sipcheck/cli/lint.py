"""``sipcheck lint``: is this one SIP message well-formed, and what would a registrar
object to?"""

from __future__ import annotations

import sys

import click

from sipcheck.cli.options import OutputOptions, emit_json, output_options
from sipcheck.errors import ConfigError
from sipcheck.exit_status import ExitStatus

# Far above any SIP message (RFC 3261 §18.1.1 worries about 1300 octets); a cap
# keeps `sipcheck lint /dev/zero` from eating memory.
MAX_BYTES = 1 << 20


def read_input(path: str) -> bytes:
    """The bytes of ``path``, or of stdin for ``-``; ConfigError when unreadable."""
    try:
        if path == "-":
            data: bytes = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            f"cannot read {'stdin' if path == '-' else repr(path)}: {exc.strerror or exc}"
        ) from exc
    if len(data) > MAX_BYTES:
        raise ConfigError(
            f"{'stdin' if path == '-' else repr(path)} is larger than {MAX_BYTES} bytes; "
            "lint reads one SIP message"
        )
    return data


@click.command(
    short_help="Check one SIP message: structure and problems.",
    epilog="""\b
Examples:
  sipcheck lint register.txt          check a message saved to a file
  pbpaste | sipcheck lint -           check the message on stdin
  sipcheck lint --json msg.sip | jq .problems

\b
Exit status: 0 well-formed (warnings allowed), 10 the message has errors,
2 the file cannot be read.
""",
)
@click.argument(
    "file",
    metavar="FILE|-",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True),
)
@output_options
def lint(file: str, output: OutputOptions) -> ExitStatus:
    """Check one SIP message in FILE (or on stdin with -): show its structure and every
    problem with its line and column."""
    from sipcheck.render.lint import render_report, report_to_dict
    from sipcheck.sip.knowledge.lint import lint_bytes

    report = lint_bytes(read_input(file))
    if output.json:
        emit_json(report_to_dict(report))
    else:
        source = "stdin" if file == "-" else file
        output.console().print(render_report(report, source, verbose=output.verbose))
    return ExitStatus.SUCCESS if report.ok else ExitStatus.LINT_ERRORS
