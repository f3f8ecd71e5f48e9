"""The top-level ``--help`` text as click prints it at 80 columns: the text
``sipcheck.entry`` prints without importing click (``sipcheck/help.txt``)."""

from __future__ import annotations

import click

from sipcheck.entry import HELP_COLUMNS


def render_help(command: click.Command | None = None) -> str:
    """What ``sipcheck --help`` prints on a terminal at least 80 columns wide."""
    if command is None:
        from sipcheck.cli.main import cli

        command = cli
    settings = dict(command.context_settings)
    ctx = click.Context(command, info_name="sipcheck", terminal_width=HELP_COLUMNS - 2, **settings)
    return command.get_help(ctx) + "\n"
