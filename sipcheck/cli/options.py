"""Click options shared by every command, defined once, and the console factory.

Nothing here imports rich at import time: a ``Console`` is built when a
command runs, so ``--no-color`` and ``NO_COLOR`` set at any point are honoured
and ``sipcheck --help`` stays fast.
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console

    from sipcheck.cli.ci_output import CiOutput

R = TypeVar("R")

PIPED_WIDTH = 100

json_option = click.option(
    "--json",
    "json_output",
    is_flag=True,
    help="Print one JSON object on stdout and nothing else (messages go to stderr).",
)
no_color_option = click.option(
    "--no-color",
    is_flag=True,
    help="Never colour the output (also: the NO_COLOR environment variable).",
)
verbose_option = click.option(
    "-v",
    "--verbose",
    count=True,
    help="Show more detail; repeat for even more.",
)


def _env_set(name: str) -> bool:
    # no-color.org: "present and not an empty string (regardless of its value)".
    return os.environ.get(name, "") != ""


def color_wanted(no_color: bool, stream: Any) -> bool:
    """Colour on a stream: --no-color, then NO_COLOR, then FORCE_COLOR, then isatty."""
    if no_color or _env_set("NO_COLOR"):
        return False
    if _env_set("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):
        return False


@functools.cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class QuietPipeConsole(Console):
        """A closed pipe is the CLI edge's to handle (exit 141), not rich's exit 1."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError(errno.EPIPE, "the output's reader has gone")

    return QuietPipeConsole


def make_console(no_color: bool, stderr: bool = False) -> Console:
    """A rich Console for stdout (or stderr), built now from the current environment.

    Colour is off with ``--no-color``, with NO_COLOR set, or when the stream is
    not a terminal (FORCE_COLOR turns it back on, NO_COLOR still wins).
    Width is the terminal's, or 100 columns when piped.
    """
    stream = sys.stderr if stderr else sys.stdout
    color = color_wanted(no_color, stream)
    isatty = getattr(stream, "isatty", None)
    try:
        tty = bool(isatty()) if isatty is not None else False
    except (OSError, ValueError):
        tty = False
    return _console_class()(
        file=stream,
        # Without a colour system rich writes no escape sequences at all (not
        # even bold), which is what NO_COLOR users and log files want.
        color_system="auto" if color else None,
        # A pipe is never a terminal, whatever FORCE_COLOR says, unless colour is on; a
        # terminal always is (rich alone takes FORCE_COLOR="" for "not a terminal", which
        # would also stop the live status line there).
        force_terminal=color or tty,
        no_color=not color,
        highlight=False,
        emoji=False,
        width=None if tty else PIPED_WIDTH,
    )


@dataclass(frozen=True)
class OutputOptions:
    """The output options of one invocation (``--json``, ``--no-color``, ``-v``)."""

    json: bool = False
    no_color: bool = False
    verbose: int = 0
    ci: CiOutput | None = None  # --nagios, -w, -c, --junit (sipcheck.cli.ci_output)

    def console(self) -> Console:
        """Console for stdout. Do not use it in --json mode except to print JSON."""
        return make_console(self.no_color)

    def err_console(self) -> Console:
        """Console for stderr: warnings and progress, in every mode."""
        return make_console(self.no_color, stderr=True)


def output_options(func: Callable[..., R]) -> Callable[..., R]:
    """Add --json, --no-color and -v/--verbose; the command receives ``output``.

    Usage::

        @click.command()
        @output_options
        def cmd(output: OutputOptions) -> None: ...
    """

    @functools.wraps(func)
    def wrapper(*args: Any, json_output: bool, no_color: bool, verbose: int, **kwargs: Any) -> R:
        output = OutputOptions(json=json_output, no_color=no_color, verbose=verbose)
        return func(*args, output=output, **kwargs)

    # Applied innermost first: --help lists --json, --no-color, -v in that order.
    decorated: Callable[..., R] = json_option(no_color_option(verbose_option(wrapper)))
    return decorated


def emit_json(obj: Mapping[str, object], *, line: bool = False) -> None:
    """The one JSON writer: one document on stdout, then a newline.

    Indented by default; ``line=True`` writes it on one line (JSON lines, one
    document per event) and flushes, so a reader sees each as it happens.
    """
    from sipcheck.render.json_out import dumps

    click.echo(dumps(obj, indent=None if line else 2))
    if line:
        sys.stdout.flush()
