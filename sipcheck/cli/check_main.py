"""``check``: file -> selected accounts -> passwords -> settings -> concurrent runs ->
table, JSON, Nagios or JUnit -> exit status.

Everything that can refuse the run does so before anything is sent: the file, the
selection, every password of the selected enabled accounts, every account's settings
(ConfigError, exit 2; under --nagios UNKNOWN, exit 3).
"""

from __future__ import annotations

import sys
from typing import BinaryIO

from sipcheck.check.accounts import load, resolve_passwords
from sipcheck.check.results import CheckRun
from sipcheck.cli.check import CheckRequest
from sipcheck.cli.check_run import CheckProgress, run_plans
from sipcheck.cli.check_settings import AccountPlan, plan_account
from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.options import OutputOptions

__all__ = ["run_check"]


def run_check(request: CheckRequest) -> int:
    """Run the check the command line asked for; return the exit status."""
    output = request.output
    err = output.err_console()
    file = load(request.file)
    accounts = file.select(request.only, request.tags)
    for warning in file.warnings:
        err.print(f"warning: {warning}", markup=False, highlight=False)
    credentials = resolve_passwords(
        accounts, warn=lambda text: err.print(f"warning: {text}", markup=False)
    )
    base = ClientOptions(timeout=request.timeout, t1=request.t1, output=output)
    plans = [plan_account(file, a, credentials.get(a.name, ()), base) for a in accounts]
    capture = _open_capture(request.pcap)
    progress = _progress(output, plans)
    try:
        run = run_plans(
            plans,
            concurrency=request.concurrency,
            keep=request.keep,
            progress=progress,
            debug=_debug(),
        )
    finally:
        if progress is not None:
            progress.stop()
    if capture is not None:
        _write_capture(capture, run)
    return _report(run, output)


def _open_capture(path: str | None) -> BinaryIO | None:
    """--pcap FILE, opened before anything is sent (a path that cannot be written is a
    ConfigError, like the other refusals)."""
    if path is None:
        return None
    from sipcheck.capture.writer import open_pcap

    return open_pcap(path)


def _write_capture(capture: BinaryIO, run: CheckRun) -> None:
    """Every account's exchanges (the check and the unregister after it), which ran
    side by side, as one capture in time order."""
    from sipcheck.capture.writer import write_traces

    traces = [t for r in run.runs for t in (r.trace, r.cleanup.trace if r.cleanup else None)]
    with capture:
        write_traces(capture, [t for t in traces if t is not None])


def _debug() -> bool:
    from sipcheck.cli.main import _DEBUG

    return _DEBUG.get()


def _progress(output: OutputOptions, plans: list[AccountPlan]) -> CheckProgress | None:
    """The rich progress display on a terminal's stderr; None when piped (FORCE_COLOR
    or not) and under --nagios."""
    if output.ci is not None and output.ci.nagios:
        return None
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    console = output.err_console()
    if not tty or not console.is_terminal:
        return None
    return CheckProgress(console, sum(p.settings is not None for p in plans))


def _report(run: CheckRun, output: OutputOptions) -> int:
    import click

    ci = output.ci
    if ci is not None and ci.junit is not None:
        from sipcheck.cli.ci_output import write_junit

        write_junit(ci.junit, run.checked(), seconds=run.wall_seconds)
    err = output.err_console()
    for r in run.runs:
        if r.left_behind:
            why = "no unregister was sent"
            if r.cleanup is not None:
                diagnosis = next(iter(r.cleanup.outcome.diagnoses), None)
                why = diagnosis.message if diagnosis is not None else r.cleanup.outcome.result
            err.print(
                f"warning: {r.account.name}: our binding may be left registered: {why}",
                markup=False,
            )
    if ci is not None and ci.nagios:
        from sipcheck.render.nagios import nagios_report

        report = nagios_report(run.checked(), ci.thresholds)
        click.echo(report.text(), nl=False)
        return report.exit_code
    if output.json:
        from sipcheck.cli.options import emit_json
        from sipcheck.render.check_json import check_to_json

        emit_json(check_to_json(run))
        return run.exit_status
    from sipcheck.render.check_table import render_check

    console = output.console()
    console.print(render_check(run, verbose=output.verbose, width=console.width))
    return run.exit_status
