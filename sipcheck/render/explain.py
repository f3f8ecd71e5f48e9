"""Render knowledge-base entries (``sipcheck.sip.knowledge.codes``) for people and for JSON.

Pure functions: they build rich renderables or plain data and print nothing, so
the caller's Console decides on colour (NO_COLOR, --no-color) and width.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from sipcheck.sip.knowledge.codes import AUTH_COMPARISON, CodeInfo

__all__ = ["auth_comparison_table", "code_to_dict", "render_code", "render_code_list"]

_AUTH_CODES = (401, 407)


class _Hanging:
    """``text`` wrapped to the width after ``prefix``, later lines indented to match.

    Unlike rich's Padding or a table grid, it leaves no trailing spaces on the lines,
    so plain output copies and diffs cleanly.
    """

    def __init__(self, text: str, prefix: str = "  ", style: str = "") -> None:
        self.text = Text(text)
        self.text.stylize(style)  # a span, not the base style: wrap() keeps only spans
        self.prefix = prefix

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        indent = " " * len(self.prefix)
        lines = self.text.wrap(console, max(1, options.max_width - len(indent)))
        for number, line in enumerate(lines):
            line.rstrip()  # wrapping leaves the space it broke at
            yield Segment(self.prefix if number == 0 else indent)
            yield from line.render(console)
            yield Segment.line()


def _flags(info: CodeInfo) -> list[str]:
    flags: list[str] = []
    if info.legacy:
        flags.append("legacy: RFC 2543 only, dropped by RFC 3261")
    if not info.registered:
        flags.append("not in the IANA registry")
    return flags


def _title(info: CodeInfo) -> str:
    return f"{info.code} {info.reason}".rstrip()


def auth_comparison_table() -> Table:
    """401 and 407 side by side (RFC 3261 §22.2, §22.3)."""
    table = Table(title="401 vs 407", title_justify="left", box=box.SIMPLE_HEAD, expand=False)
    table.add_column("", style="bold", no_wrap=True)
    table.add_column("401 (registrar)")
    table.add_column("407 (proxy)")
    for row in AUTH_COMPARISON:
        table.add_row(row.aspect, row.unauthorized_401, row.proxy_auth_407)
    return table


def render_code(info: CodeInfo) -> RenderableType:
    """One code explained: header, flags, meaning, REGISTER case, next checks."""
    parts: list[RenderableType] = [
        _Hanging(_title(info), "", "bold"),
        _Hanging(f"{info.klass} ({info.code // 100}xx), defined in {info.rfc}", ""),
    ]
    parts.extend(_Hanging(flag, "! ", "yellow") for flag in _flags(info))
    parts.append(Text(""))
    parts.append(Text("What it means:", style="bold"))
    parts.append(_Hanging(info.meaning))
    parts.append(Text("For a REGISTER:", style="bold"))
    parts.append(_Hanging(info.for_register))
    parts.append(Text("Check next:", style="bold"))
    width = len(str(len(info.next_steps)))
    parts.extend(
        _Hanging(step, f"  {number:>{width}}. ")
        for number, step in enumerate(info.next_steps, start=1)
    )

    if info.code in _AUTH_CODES:
        parts.append(Text(""))
        parts.append(auth_comparison_table())
    return Group(*parts)


def _list_line(info: CodeInfo) -> str:
    line = _title(info)
    if info.legacy:
        return f"{line} (legacy, RFC 2543)"
    if not info.registered:
        return f"{line} (unregistered {info.klass.lower()})"
    return line


def render_code_list(infos: Iterable[CodeInfo]) -> str:
    """One line per code, e.g. ``401 Unauthorized``; no trailing newline."""
    return "\n".join(_list_line(info) for info in infos)


def code_to_dict(info: CodeInfo) -> dict[str, object]:
    """JSON-ready form. ``auth_comparison`` is a list of rows for 401/407, else None."""
    comparison: list[dict[str, str]] | None = None
    if info.code in _AUTH_CODES:
        comparison = [
            {"aspect": row.aspect, "401": row.unauthorized_401, "407": row.proxy_auth_407}
            for row in AUTH_COMPARISON
        ]
    return {
        "code": info.code,
        "reason": info.reason,
        "class": info.klass,
        "rfc": info.rfc,
        "registered": info.registered,
        "legacy": info.legacy,
        "summary": info.summary,
        "meaning": info.meaning,
        "for_register": info.for_register,
        "next_steps": list(info.next_steps),
        "auth_comparison": comparison,
    }
