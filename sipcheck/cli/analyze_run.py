"""Running ``sipcheck analyze``: the analysis, the filters, the output, the exit status.

Attempts arrive as the capture is read and are rendered at once into a spool (a
temporary file past a few MiB), so a long capture costs disk, not memory; the
spool is written out in capture order after the summary (text) or inside the
one JSON document (``--json``), whose ``packets`` come before the attempts.
"""

from __future__ import annotations

import os
import sys
import tempfile
import textwrap
from collections.abc import Mapping
from typing import IO, Any

import click

from sipcheck.capture.analyze import Analysis, AttemptResult, Progress
from sipcheck.capture.files import STDIN
from sipcheck.cli.gc_tuning import fewer_collections
from sipcheck.cli.options import make_console
from sipcheck.cli.passwords import PasswordOptions
from sipcheck.cli.progress import CountLine, person_watching
from sipcheck.errors import ConfigError
from sipcheck.exit_status import ExitStatus
from sipcheck.render.analyze import Row, row_of

SPOOL_IN_MEMORY = 8 << 20


class _Spool:
    """Pieces of output kept by first frame, written out in that order."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - see close()
            max_size=SPOOL_IN_MEMORY
        )
        self.pieces: list[tuple[int, int, int]] = []  # (first frame, offset, length)

    def add(self, first_frame: int, text: str) -> None:
        data = text.encode("utf-8", "surrogateescape")
        self.pieces.append((first_frame, self.file.tell(), len(data)))
        self.file.write(data)

    def close(self) -> None:
        self.file.close()

    def texts(self) -> list[tuple[int, int]]:
        return [(offset, length) for _, offset, length in sorted(self.pieces)]

    def read(self, offset: int, length: int) -> str:
        self.file.seek(offset)
        data = self.file.read(length)
        self.file.seek(0, 2)
        return data.decode("utf-8", "surrogateescape")


def _password(kw: Mapping[str, Any]) -> str | None:
    options = PasswordOptions(kw.get("password_env"), kw.get("password_file"),
                              kw.get("password_command"))  # fmt: skip
    if options.env is None and options.file is None and options.command is None:
        return None
    from sipcheck.cli.aor_argument import AorArgument
    from sipcheck.cli.passwords import read_password
    from sipcheck.sip.wire.uri import SipUri

    secret = read_password(options, AorArgument(SipUri("sip", "capture")))
    return None if secret is None else secret.reveal()


def _wanted(result: AttemptResult, kw: Mapping[str, Any]) -> bool:
    outcome = result.outcome
    aor = kw.get("aor_filter")
    if aor and aor.lower().removeprefix("sip:") not in outcome.aor.lower():
        return False
    call_id = kw.get("call_id_filter")
    if call_id and not result.call_id.startswith(call_id):
        return False
    return not (kw.get("failed") and outcome.result != "failed")


def run_analyze(kw: Mapping[str, Any]) -> int:
    if kw["file"] == STDIN and kw.get("password_file") == STDIN:
        raise ConfigError("--password-file -: stdin is the capture (FILE -); give the "
                          "password another way (--password-env, --password-command)")  # fmt: skip
    password = _password(kw)
    reading = CountLine() if person_watching(json=bool(kw.get("json_output"))) else None
    analysis = Analysis(kw["file"], password=password, auth_user=kw.get("auth_user"),
                        on_progress=_progress(reading, kw["file"]))  # fmt: skip
    spool = _Spool()
    try:
        # Each message read makes and drops a few dozen objects (see fewer_collections).
        with fewer_collections():
            return _run(analysis, spool, kw, reading)
    finally:
        if reading is not None:
            reading.clear()
        spool.close()


def _progress(line: CountLine | None, path: str) -> Progress | None:
    """A large capture takes a while: how far the read is, on a terminal."""
    if line is None:
        return None
    name = os.path.basename(path)

    def show(packets: int, done: float, attempts: int) -> None:
        percent = f"{done:.0%}, " if done else ""
        line.show(f"reading {name}: {percent}{packets:,} packets, {attempts:,} attempts")

    return show


def _run(
    analysis: Analysis, spool: _Spool, kw: Mapping[str, Any], reading: CountLine | None
) -> int:
    json_mode = bool(kw.get("json_output"))
    console = make_console(bool(kw.get("no_color")))
    verbose = int(kw.get("verbose") or 0)
    rows: list[Row] = []
    last_failed: tuple[int, int] | None = None  # (first frame, exit status)
    for result in analysis:
        if not _wanted(result, kw):
            continue
        rows.append(row_of(result))
        frame = result.first_frame
        if result.outcome.result == "failed" and (last_failed is None or frame >= last_failed[0]):
            last_failed = (frame, result.outcome.exit_status)
        if json_mode:
            spool.add(frame, _attempt_json(result))
        elif not kw.get("summary"):
            spool.add(frame, _attempt_text(console, result, verbose))
    if reading is not None:
        reading.clear()
    if json_mode:
        _write_json(analysis, spool)
    else:
        _write_text(console, analysis, rows, spool, bool(kw.get("summary")))
    # The status register would have given for the last failed attempt shown.
    return int(ExitStatus.SUCCESS) if last_failed is None else last_failed[1]


def _attempt_json(result: AttemptResult) -> str:
    from sipcheck.render.analyze import attempt_json
    from sipcheck.render.json_out import dumps

    return textwrap.indent(dumps(attempt_json(result)), "    ")


def _attempt_text(console: Any, result: AttemptResult, verbose: int) -> str:
    from sipcheck.render.analyze import render_checks
    from sipcheck.render.ladder import render_ladder
    from sipcheck.render.verdict import render_verdict

    with console.capture() as capture:
        console.print(render_ladder(result.trace, result.outcome, verbose=verbose,
                                    width=console.width))  # fmt: skip
        console.print(render_verdict(result.outcome))
        if result.password_check is not None:
            console.print(render_checks(result))
        console.print()
    text: str = capture.get()
    return text


def _write_json(analysis: Analysis, spool: _Spool) -> None:
    from sipcheck.render.analyze import packets_json
    from sipcheck.render.json_out import SCHEMA_VERSION, dumps

    head = {
        "schema_version": SCHEMA_VERSION,
        "command": "analyze",
        "file": analysis.path,
        "packets": packets_json(analysis.stats),
    }
    text = dumps(head)
    out = sys.stdout
    out.write(text[: text.rindex("}")].rstrip() + ',\n  "attempts": [')
    pieces = spool.texts()
    for number, (offset, length) in enumerate(pieces):
        out.write(("," if number else "") + "\n" + spool.read(offset, length))
    out.write(("\n  " if pieces else "") + "]\n}\n")


def _write_text(console: Any, analysis: Analysis, rows: list[Row], spool: _Spool,
                summary_only: bool) -> None:  # fmt: skip
    from sipcheck.render.analyze import counts_lines, summary_table

    for line in counts_lines(analysis.stats):
        console.print(line)
    console.print()
    if not rows:
        filtered = analysis.stats.attempts > 0
        click.echo(
            "no registration attempt in this capture"
            + (" matches --aor/--call-id/--failed" if filtered else ""),
            err=True,
        )
        return
    if len(rows) > 1 or summary_only:
        console.print(summary_table(rows))
    if summary_only:
        return
    for offset, length in spool.texts():
        console.file.write(spool.read(offset, length))
    console.file.flush()
