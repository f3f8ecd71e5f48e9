"""The ``sipcheck`` command group and the one place errors become exit statuses.

Commands live in their own modules and are listed in ``COMMANDS``; a module is
imported only when its command is run, completed or listed by ``--help``.
Command modules import only click (and ``sipcheck.cli.options``) at the top;
rich, dnspython and scapy are imported inside the command function.

A command reports its outcome by returning an ``ExitStatus`` (or calling
``ctx.exit(status)``), or by raising a ``SipcheckError``; ``exit_status_for``
maps errors. A bad option value is one line naming the flag (exit 2); a
closed stdout (``| head``) ends quietly (141). Everything else is a bug:
"internal error" (exit 1) without a traceback unless ``--debug`` (before or
after the command name) or ``SIPCHECK_DEBUG=1``.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

import click

from sipcheck import __version__
from sipcheck.entry import silence_stdout
from sipcheck.errors import ConfigError, ResolutionError, SipcheckError, TransportError
from sipcheck.exit_status import ExitStatus

# (command name, module, attribute). Add a command by adding a line here.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("explain", "sipcheck.cli.explain", "explain"),
    ("lint", "sipcheck.cli.lint", "lint"),
    ("register", "sipcheck.cli.register", "register"),
    ("unregister", "sipcheck.cli.register", "unregister"),
    ("query", "sipcheck.cli.register", "query"),
    ("options", "sipcheck.cli.register", "options"),
    ("registrar", "sipcheck.cli.registrar", "registrar"),
    ("demo", "sipcheck.cli.demo", "demo"),
    ("check", "sipcheck.cli.check", "check"),
    ("watch", "sipcheck.cli.watch", "watch"),
    ("completion", "sipcheck.cli.completion", "completion"),
    ("analyze", "sipcheck.cli.analyze", "analyze"),
    ("sniff", "sipcheck.cli.sniff", "sniff"),
)

_DEBUG: ContextVar[bool] = ContextVar("sipcheck_debug", default=False)
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def debug_from_env() -> bool:
    return os.environ.get("SIPCHECK_DEBUG", "").strip().lower() not in _FALSE_WORDS


def exit_status_for(error: SipcheckError) -> ExitStatus:
    """The exit status for an error that reached the CLI edge.

    An error may carry its own ``exit_status`` (a command that knows better,
    e.g. a 401 after the challenge was answered: AUTH_FAILED).
    """
    own = getattr(error, "exit_status", None)
    if isinstance(own, int):
        return ExitStatus(own)
    if isinstance(error, ConfigError):
        return ExitStatus.USAGE
    if isinstance(error, TransportError | ResolutionError):  # TLSFailure is a TransportError
        return ExitStatus.NETWORK
    return ExitStatus.INTERNAL_ERROR


def _say(text: str) -> None:
    click.echo(text, err=True)


def _traceback(exc: BaseException) -> None:
    import traceback  # only with --debug: it costs every start ~8 ms

    traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


class _StdoutClosed(Exception):
    """stdout's reader has gone (EPIPE): the output is not wanted any more."""


class SipcheckGroup(click.Group):
    """A group whose commands are imported lazily and whose errors are mapped once."""

    def __init__(self, *args: Any, lazy: Sequence[tuple[str, str, str]] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._lazy = {name: (module, attr) for name, module, attr in lazy}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in self._lazy:
            return _with_debug_option(super().get_command(ctx, cmd_name))
        module_name, attr = self._lazy[cmd_name]
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}.{attr} is not a click command")
        self.add_command(command, cmd_name)
        return _with_debug_option(command)

    # click's main turns a closed stdout into exit 1: catch it first, here.
    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:  # --help and --version print while parsing
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:
            raise _StdoutClosed() from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            raise _StdoutClosed() from None

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> int:
        """Run the command line and return (or exit with) its status. Never a traceback
        for a SipcheckError or a usage error; other exceptions show one with --debug."""
        token = _DEBUG.set(debug_from_env())
        try:
            status = self._run(args, prog_name, complete_var, extra)
            status = _flush_stdout(status)
        finally:
            _DEBUG.reset(token)
        if standalone_mode:
            sys.exit(status)
        return status

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        extra: dict[str, Any],
    ) -> int:
        try:
            result = super().main(
                args, prog_name or "sipcheck", complete_var, standalone_mode=False, **extra
            )
        except click.BadParameter as exc:  # a bad value: one line naming the flag
            if isinstance(exc, click.MissingParameter):
                exc.show()
            else:
                _say(f"error: {exc.format_message()}")
            return exc.exit_code
        except click.ClickException as exc:  # other usage errors: 2
            exc.show()
            return exc.exit_code
        except click.Abort:  # click turns Ctrl-C (also inside prompts) into Abort
            _say("interrupted")
            return ExitStatus.INTERRUPTED
        except KeyboardInterrupt:
            _say("\ninterrupted")
            return ExitStatus.INTERRUPTED
        except _StdoutClosed:  # `sipcheck ... | head -1`: the reader has gone
            silence_stdout()
            return ExitStatus.BROKEN_PIPE
        except SipcheckError as exc:
            if _DEBUG.get():
                _traceback(exc)
            _say(f"error: {exc}")
            if exc.hint:
                _say(f"hint: {exc.hint}")
            return exit_status_for(exc)
        except Exception as exc:
            if _DEBUG.get():
                _traceback(exc)
                _say(f"internal error: {type(exc).__name__}: {exc}")
            else:
                _say(
                    f"internal error: {type(exc).__name__}: {exc}; "
                    "run with --debug for the traceback"
                )
            return ExitStatus.INTERNAL_ERROR
        if isinstance(result, bool) or not isinstance(result, int):
            return ExitStatus.SUCCESS  # None, or a callback's unrelated return value
        return int(result)


def _flush_stdout(status: int) -> int:
    """Flush what the command wrote; a reader that has gone is a quiet 141, not a crash."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        return ExitStatus.BROKEN_PIPE
    except (OSError, ValueError):
        pass
    return status


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        _DEBUG.set(True)


DEBUG_HELP = "Show the traceback of an unexpected error (also: SIPCHECK_DEBUG=1)."


def _debug_option() -> click.Option:
    return click.Option(
        ["--debug"],
        is_flag=True,
        is_eager=True,
        expose_value=False,
        callback=_set_debug,
        help=DEBUG_HELP,
    )


def _with_debug_option(command: click.Command | None) -> click.Command | None:
    """Accept --debug after the command name too (``sipcheck register --debug ...``)."""
    if command is not None and not any(p.name == "debug" for p in command.params):
        command.params.append(_debug_option())
    return command


@click.group(
    cls=SipcheckGroup,
    lazy=COMMANDS,
    # Inherited by every command's context: -h is --help everywhere.
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--debug",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_set_debug,
    help=DEBUG_HELP,
)
@click.version_option(__version__, "-V", "--version", prog_name="sipcheck")
def cli() -> None:
    """Test SIP registration: REGISTER, digest challenges, ladders and diagnosis.

    Run `sipcheck COMMAND --help` for a command's options and examples.
    """


def main() -> None:
    """Console-script and ``python -m sipcheck`` entry point."""
    cli.main(prog_name="sipcheck")
