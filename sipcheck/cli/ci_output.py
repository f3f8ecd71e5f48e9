"""The CI outputs of ``check``, ``register`` and ``options``, defined once:
``--nagios`` with ``-w/--warning`` and ``-c/--critical`` (the Monitoring Plugins
guidelines' ranges, on the RRD in ms), and ``--junit FILE``.

``ci_options`` adds the flags and puts them on the command's ``OutputOptions`` (as
``output.ci``). ``PluginCommand`` makes a command a well-behaved plugin under
``--nagios``: a usage error, a bad accounts file or an unexpected error is UNKNOWN,
one line on stdout and exit status 3, where the plain command would say ``error:`` on
stderr and exit 2 or 1. Only click is imported at the top (``--help`` stays light).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from sipcheck.cli.params import _Type
from sipcheck.errors import ConfigError, SipcheckError

if TYPE_CHECKING:
    from sipcheck.cli.client_settings import ClientSettings
    from sipcheck.render.checked import CheckedAccount
    from sipcheck.render.nagios_range import Range, Thresholds
    from sipcheck.trace import Outcome, Trace

__all__ = [
    "CiOutput",
    "PluginCommand",
    "ci_options",
    "finish_one",
    "nagios_service",
    "write_junit",
]

R = TypeVar("R")


class RangeType(_Type):
    """A threshold range of the guidelines: ``500``, ``500:``, ``~:500``, ``@10:20``."""

    name = "range"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from sipcheck.render.nagios_range import Range, parse_range

        if isinstance(value, Range):
            return value
        try:
            return parse_range(str(value))
        except ConfigError as exc:
            self.fail_config(exc, param, ctx)


@dataclass(frozen=True)
class CiOutput:
    """``--nagios``, ``-w``, ``-c`` and ``--junit`` as given."""

    nagios: bool = False
    warning: Range | None = None
    critical: Range | None = None
    junit: str | None = None

    @property
    def thresholds(self) -> Thresholds:
        from sipcheck.render.nagios_range import Thresholds

        return Thresholds(self.warning, self.critical)


_OPTIONS = [
    click.option(
        "--nagios",
        is_flag=True,
        help="Print Nagios/Icinga plugin output and exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    ),
    click.option(
        "-w",
        "--warning",
        type=RangeType(),
        metavar="RANGE",
        help="With --nagios: WARNING when the RRD in ms is outside RANGE (e.g. 500).",
    ),
    click.option(
        "-c",
        "--critical",
        type=RangeType(),
        metavar="RANGE",
        help="With --nagios: CRITICAL when the RRD in ms is outside RANGE (e.g. 2000).",
    ),
    click.option(
        "--junit",
        type=click.Path(dir_okay=False, writable=True),
        metavar="FILE",
        help="Also write a JUnit XML report to FILE (for Jenkins, GitLab, GitHub Actions).",
    ),
]


def ci_options(func: Callable[..., R]) -> Callable[..., R]:
    """Add --nagios, -w, -c and --junit; when any is given they reach the command as
    ``output.ci`` (of its ``output`` argument, or of its ``options``)."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        nagios: bool,
        warning: Range | None,
        critical: Range | None,
        junit: str | None,
        **kwargs: Any,
    ) -> R:
        ci = CiOutput(nagios, warning, critical, junit)
        given = ci != CiOutput()
        if "output" in kwargs:
            _check(ci, kwargs["output"].json)
            if given:
                kwargs["output"] = replace(kwargs["output"], ci=ci)
        else:
            options = kwargs["options"]
            _check(ci, options.output.json)
            if given:
                kwargs["options"] = replace(options, output=replace(options.output, ci=ci))
        return func(*args, **kwargs)

    decorated: Callable[..., R] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated


def _check(ci: CiOutput, json: bool) -> None:
    if ci.nagios and json:
        raise click.UsageError("--nagios and --json cannot be used together: pick one output")
    if not ci.nagios and (ci.warning is not None or ci.critical is not None):
        flag = "-w/--warning" if ci.warning is not None else "-c/--critical"
        raise click.UsageError(f"{flag} goes with --nagios (thresholds of the plugin output)")
    if ci.junit is not None:
        folder = os.path.dirname(os.path.abspath(ci.junit))
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            raise click.BadParameter(f"cannot write a file into {folder}", param_hint="'--junit'")


def nagios_service(command: str | None) -> str:
    return "SIP OPTIONS" if command == "options" else "SIP REGISTER"


def _wants_nagios(args: list[str]) -> bool:
    words = args[: args.index("--")] if "--" in args else args
    return "--nagios" in words


class PluginCommand(click.Command):
    """A command that, under ``--nagios``, reports every error as UNKNOWN (exit 3)."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        nagios = _wants_nagios(list(args))
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.ClickException as exc:
            if not nagios:
                raise
            self._unknown(exc.format_message())

    def invoke(self, ctx: click.Context) -> Any:
        if not ctx.params.get("nagios"):
            return super().invoke(ctx)
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            self._unknown(exc.format_message())
        except SipcheckError as exc:
            self._unknown(str(exc) + (f" ({exc.hint})" if exc.hint else ""))
        except Exception as exc:
            from sipcheck.cli.main import _DEBUG, _traceback

            if _DEBUG.get():
                _traceback(exc)
            self._unknown(f"internal error: {type(exc).__name__}: {exc}")

    def _unknown(self, message: str) -> NoReturn:
        from sipcheck.render.nagios import unknown_report

        report = unknown_report(message, service=nagios_service(self.name))
        click.echo(report.text(), nl=False)
        raise click.exceptions.Exit(report.exit_code)


def write_junit(path: str, accounts: list[CheckedAccount], seconds: float | None = None) -> None:
    """Write the JUnit report (``render.junit``), replacing ``path`` whole."""
    import socket
    from datetime import datetime

    from sipcheck.render.junit import junit_report

    text = junit_report(
        accounts,
        seconds=seconds,
        timestamp=datetime.now().replace(microsecond=0),
        hostname=socket.gethostname(),
    )
    partial = f"{path}.partial"
    try:
        with open(partial, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(partial, path)
    except OSError as exc:
        raise ConfigError(f"--junit {path}: cannot write it: {exc.strerror or exc}") from None


def finish_one(settings: ClientSettings, trace: Trace, outcome: Outcome) -> int:
    """``register``/``options`` with ``--nagios`` or ``--junit``: the JUnit file (first,
    so a write error is the one thing said), then the plugin output or the usual one.
    Returns the exit status: the plugin's under --nagios, else the run's."""
    from sipcheck.cli.client_run import show
    from sipcheck.render.checked import CheckedAccount
    from sipcheck.render.nagios import nagios_report

    ci = settings.output.ci
    assert ci is not None
    mode = "options" if outcome.command == "options" else "register"
    name = outcome.aor.partition(":")[2] if outcome.aor.startswith("sip") else outcome.aor
    account = CheckedAccount(name, mode, trace, outcome)
    if ci.junit is not None:
        write_junit(ci.junit, [account])
    if not ci.nagios:
        show(settings, trace, outcome)
        return outcome.exit_status
    report = nagios_report([account], ci.thresholds)
    click.echo(report.text(), nl=False)
    return report.exit_code
