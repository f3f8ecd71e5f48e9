"""Render a ``LintReport``: for people (a rich renderable) and for programs (a dict).

Pure functions. Text from the wire is made safe first: octets that are not
UTF-8 show as ``\\xNN`` and control characters are escaped, so a hostile
message cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from sipcheck.sip.knowledge.lint import LintReport, Problem, describe

SCHEMA_VERSION = 1
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}


def wire_text(value: str) -> str:
    """Undo the parser's surrogateescape: invalid UTF-8 octets become ``\\xNN``."""
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


def safe_text(value: str) -> str:
    """``wire_text`` plus escapes for control and format characters (ESC, NUL, bidi)."""
    out: list[str] = []
    for ch in wire_text(value):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def problem_to_dict(problem: Problem) -> dict[str, Any]:
    return {
        "severity": problem.severity,
        "code": problem.code,
        "message": wire_text(problem.message),
        "line": problem.line,
        "column": problem.column,
    }


def report_to_dict(report: LintReport) -> dict[str, Any]:
    """The ``sipcheck lint --json`` document (schema_version 1)."""
    message = report.message
    return {
        "schema_version": SCHEMA_VERSION,
        "ok": report.ok,
        "start_line": wire_text(message.start_line()) if message is not None else None,
        "headers": (
            [[name, wire_text(value)] for name, value in describe(message)]
            if message is not None
            else []
        ),
        "body_length": len(message.body) if message is not None else 0,
        "problems": [problem_to_dict(p) for p in report.problems],
    }


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def summary(report: LintReport, source: str) -> Text:
    errors = sum(1 for p in report.problems if p.severity == "error")
    warnings = len(report.problems) - errors
    text = Text(f"{safe_text(source)}: ")
    if report.ok:
        text.append("well-formed", style="bold green")
        if warnings:
            text.append(f", {_plural(warnings, 'warning')}", style="yellow")
        return text
    text.append(_plural(errors, "error"), style="bold red")
    if warnings:
        text.append(f", {_plural(warnings, 'warning')}", style="yellow")
    return text


def _structure(report: LintReport, verbose: int) -> list[RenderableType]:
    message = report.message
    if message is None:
        return [Text("not parsed as a SIP message", style="bold red")]
    parts: list[RenderableType] = [Text(safe_text(message.start_line()), style="bold")]
    for name, value in describe(message):
        line = Text("  ")
        line.append(safe_text(name), style="cyan")
        line.append(": " + safe_text(value))
        parts.append(line)
    parts.append(Text(f"  body: {_plural(len(message.body), 'byte')}", style="dim"))
    if verbose and message.body:
        body = message.body.decode("utf-8", "surrogateescape")
        for body_line in body.splitlines():
            parts.append(Text("  | " + safe_text(body_line), style="dim"))
    return parts


def problem_lines(problems: list[Problem]) -> list[Text]:
    """One line per problem: severity, line:column, code, message (grep-friendly)."""
    where = [p.location() or "-" for p in problems]
    loc_width = max((len(w) for w in where), default=1)
    code_width = max((len(safe_text(p.code)) for p in problems), default=1)
    lines: list[Text] = []
    for p, loc in zip(problems, where, strict=True):
        line = Text()
        line.append(f"{p.severity:<7}", style=_SEVERITY_STYLE.get(p.severity, ""))
        line.append(f"  {loc:>{loc_width}}  ", style="dim")
        line.append(f"{safe_text(p.code):<{code_width}}", style="magenta")
        line.append("  " + safe_text(p.message))
        lines.append(line)
    return lines


def render_report(report: LintReport, source: str, *, verbose: int = 0) -> RenderableType:
    """Structure (start line, headers in canonical long form, body length), every
    problem, then a one-line verdict."""
    parts = _structure(report, verbose)
    parts.append(Text(""))
    parts.extend(problem_lines(report.problems))
    parts.append(summary(report, source))
    return Group(*parts)
