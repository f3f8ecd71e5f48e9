"""The console script's entry point: ``sipcheck --help`` without importing click.

The top-level help lists every command, so click would import every command
module to print it: three times the start-up of a bare interpreter. Its text
is generated from click into ``sipcheck/help.txt`` (``python -m
sipcheck.cli.completions`` writes it beside the completion scripts; a test
holds it equal to what click prints), and printed from there when the output
is at least as wide as click's widest help (80 columns, the width it was
rendered for). Everything else, and a narrower terminal, goes to click.
"""

from __future__ import annotations

import os
import shutil
import sys

HELP_FILE = os.path.join(os.path.dirname(__file__), "help.txt")
HELP_COLUMNS = 80  # click formats help to min(columns, 80) - 2


def packaged_help() -> str | None:
    """The pre-rendered top-level help, or None when missing or the terminal is narrow."""
    if shutil.get_terminal_size().columns < HELP_COLUMNS:
        return None
    try:
        with open(HELP_FILE, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


def silence_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail (and print) again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests): nothing to do
        pass


def main() -> None:
    if sys.argv[1:] in (["--help"], ["-h"]):
        text = packaged_help()
        if text is not None:
            try:
                sys.stdout.write(text)
                sys.stdout.flush()
            except BrokenPipeError:  # `sipcheck --help | head -0`: a quiet 141, as in click
                from sipcheck.exit_status import ExitStatus

                silence_stdout()
                sys.exit(ExitStatus.BROKEN_PIPE)
            return
    from sipcheck.cli.main import main as cli_main

    cli_main()
