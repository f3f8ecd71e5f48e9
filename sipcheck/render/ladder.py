"""The ladder diagram: every message of a Trace as an arrow between lanes.

A pure function of (Trace, Outcome): it builds rich ``Text`` lines and prints
nothing, so the caller's Console decides on colour and where the output goes.
The layout is a fixed-width character grid (``width`` columns), which keeps it
readable in a pipe, in a log and in a snapshot test::

                 192.168.1.10:5060/UDP                   203.0.113.1:5060/UDP
                          │                                        │
    +0.000s               │─────────────────REGISTER──────────────▶│
    +0.021s Δ21.0ms       │◀────────────401 Unauthorized───────────│
                          │  The server wants credentials: ...

Lane 0 is sipcheck; one more lane per distinct remote address/transport, in
order of first appearance. Passwords never reach this module: a request shows
how we answered a challenge (user, algorithm, uri, qop, nc), never the hash
input; in verbose mode the raw message holds only the response hash.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Group
from rich.text import Text

from sipcheck.render.annotate import (
    entry_details,
    entry_label,
    entry_style,
    printable,
    raw_lines,
)
from sipcheck.trace import Address, Note, Outcome, Trace, TraceEntry

__all__ = ["format_delta", "format_time", "render_ladder"]

GUTTER = 20  # columns for "+0.000s Δ12.3ms" before the first lane
_MAX_STEP = 60  # widest gap between two lanes, however wide the console
_MIN_STEP = 8
_BAR = "│"
_DETAIL_INDENT = 3  # detail text starts this far right of the sipcheck lane
# outcome.target keys the header shows in their own way (the rest: "key value").
_TARGET_KEYS = frozenset({"steps", "candidates", "address", "transport", "server_name", "host"})


def format_time(seconds: float) -> str:
    """Time since the start of the trace: ``+0.021s``."""
    return f"+{seconds:.3f}s"


def format_delta(seconds: float) -> str:
    """Time since the previous message: ``Δ21.0ms`` below a second, ``Δ4.000s`` above."""
    if seconds < 1.0:
        return f"Δ{seconds * 1000:.1f}ms"
    return f"Δ{seconds:.3f}s"


# --- a line of styled characters ----------------------------------------------------


class _Line:
    __slots__ = ("chars", "styles")

    def __init__(self, width: int) -> None:
        self.chars = [" "] * width
        self.styles: list[str] = [""] * width

    def put(self, x: int, text: str, style: str = "") -> None:
        for offset, ch in enumerate(text):
            pos = x + offset
            if pos < 0:
                continue
            if pos >= len(self.chars):
                self.chars.append(" ")
                self.styles.append("")
                pos = len(self.chars) - 1
            self.chars[pos] = ch
            self.styles[pos] = style

    def to_text(self) -> Text:
        end = len(self.chars)
        while end > 0 and self.chars[end - 1] == " ":
            end -= 1
        out = Text()
        start = 0
        for pos in range(1, end + 1):
            if pos == end or self.styles[pos] != self.styles[start]:
                out.append("".join(self.chars[start:pos]), style=self.styles[start] or None)
                start = pos
        return out


# --- lanes -------------------------------------------------------------------------


@dataclass
class _Lane:
    title: str  # "sipcheck", the server name, or ""
    label: str  # address:port/TRANSPORT
    x: int = 0

    @property
    def cells(self) -> int:
        return max(len(self.title), len(self.label))


LaneKey = tuple[Address, str]


def _lane_key(entry: TraceEntry) -> LaneKey:
    return (entry.remote, entry.transport.lower())


def _server_name(outcome: Outcome) -> str | None:
    name = outcome.target.get("server_name", outcome.target.get("host"))
    return None if name is None else str(name)


def _remote_title(remote: Address, outcome: Outcome) -> str:
    name = _server_name(outcome)
    address = outcome.target.get("address")
    if name is None or address is None:
        return ""
    wanted = str(address)
    return name if wanted in (str(remote), remote.host) else ""


def _lanes(trace: Trace, outcome: Outcome) -> tuple[list[_Lane], dict[LaneKey, int]]:
    locals_seen = list(dict.fromkeys(str(e.local) for e in trace.entries))
    transports = dict.fromkeys(e.transport.upper() for e in trace.entries)
    local_label = f"{locals_seen[0]}/{','.join(transports)}"
    if len(locals_seen) > 1:  # e.g. one TCP connection per target: name the first
        local_label += f" +{len(locals_seen) - 1}"
    lanes = [_Lane("sipcheck", local_label)]
    index: dict[LaneKey, int] = {}
    for entry in trace.entries:
        key = _lane_key(entry)
        if key not in index:
            index[key] = len(lanes)
            label = f"{entry.remote}/{entry.transport.upper()}"
            lanes.append(_Lane(_remote_title(entry.remote, outcome), label))
    return lanes, index


def _place(widths: list[int], width: int) -> list[int] | None:
    """Lane columns, or None when the labels would overlap at this width."""
    n = len(widths)
    first = max(GUTTER + 1, widths[0] // 2)
    if n == 1:
        return [first]
    # A label centred at x spans [x - w//2, x - w//2 + w); keep it inside the width.
    last = min(width - 1 - (widths[-1] - widths[-1] // 2), width - 2)
    step = min(max((last - first) / (n - 1), _MIN_STEP), _MAX_STEP)
    xs = [round(first + i * step) for i in range(n)]
    starts = [x - w // 2 for x, w in zip(xs, widths, strict=True)]
    ends = [start + w for start, w in zip(starts, widths, strict=True)]
    if ends[-1] > width or any(ends[i] + 1 > starts[i + 1] for i in range(n - 1)):
        return None
    return xs


def _layout(lanes: list[_Lane], width: int) -> bool:
    """Give each lane its column; True when labels go to a legend instead."""
    xs = _place([lane.cells for lane in lanes], width)
    legend = xs is None
    if xs is None:
        xs = _place([len(f"[{i}]") for i in range(len(lanes))], width)
    if xs is None:  # more lanes than the width holds: let the lines run long
        xs = [GUTTER + 1 + i * _MIN_STEP for i in range(len(lanes))]
    for lane, x in zip(lanes, xs, strict=True):
        lane.x = x
    return legend


# --- rows ---------------------------------------------------------------------------


class _Grid:
    def __init__(self, lanes: list[_Lane], width: int) -> None:
        self.lanes = lanes
        self.width = width
        self.lines: list[Text] = []

    def _bars(self) -> _Line:
        line = _Line(self.width)
        for lane in self.lanes:
            line.put(lane.x, _BAR, "dim")
        return line

    def centred(self, texts: list[str], style: str) -> None:
        line = _Line(self.width)
        for lane, text in zip(self.lanes, texts, strict=True):
            line.put(lane.x - len(text) // 2, text, style)
        self.lines.append(line.to_text())

    def bars(self) -> None:
        self.lines.append(self._bars().to_text())

    def arrow(self, gutter: str, src: int, dst: int, label: str, style: str) -> None:
        line = self._bars()
        line.put(0, gutter, "dim")
        left, right = sorted((self.lanes[src].x, self.lanes[dst].x))
        inner = right - left - 2  # cells between the bars, less the arrow head
        if len(label) > inner - 2:
            label = label[: max(inner - 3, 0)] + "…" if inner > 3 else ""
        pad_left = (inner - len(label)) // 2
        body = "─" * pad_left + label + "─" * (inner - len(label) - pad_left)
        body = body + "▶" if dst > src else "◀" + body
        line.put(left + 1, body, style)
        self.lines.append(line.to_text())

    def detail(self, text: str, style: str, *, gutter: str = "", hard: bool = False) -> None:
        """Text hanging off the sipcheck lane, wrapped to the width."""
        x = self.lanes[0].x
        avail = max(self.width - x - _DETAIL_INDENT, 20)
        if hard:  # raw message text: cut anywhere, keep every character, indent the rest
            first, rest = text[:avail], text[avail:]
            step = avail - 4
            chunks = [first] + ["    " + rest[i : i + step] for i in range(0, len(rest), step)]
        else:
            chunks = textwrap.wrap(text, avail, subsequent_indent="  ") or [""]
        for i, chunk in enumerate(chunks):
            line = _Line(self.width)
            line.put(0, gutter if i == 0 else "", "dim")
            line.put(x, _BAR, "dim")
            line.put(x + _DETAIL_INDENT, chunk, style)
            self.lines.append(line.to_text())


def _note_style(note: Note) -> str:
    return "red" if note.kind == "error" else "dim"


def _timeline(trace: Trace) -> list[TraceEntry | Note]:
    """Entries and notes by time; a note at the same time as a message comes first."""
    keyed: list[tuple[float, int, int, TraceEntry | Note]] = []
    keyed += [(n.time, 0, i, n) for i, n in enumerate(trace.notes)]
    keyed += [(e.time, 1, i, e) for i, e in enumerate(trace.entries)]
    return [item for *_, item in sorted(keyed, key=lambda k: k[:3])]


def _rows(grid: _Grid, trace: Trace, index: dict[LaneKey, int], verbose: int) -> None:
    previous: float | None = None
    for item in _timeline(trace):
        if isinstance(item, Note):
            text = printable(f"· {item.kind}: {item.text}")
            grid.detail(text, _note_style(item), gutter=format_time(item.time))
            continue
        gutter = format_time(item.time)
        if previous is not None:
            gutter += " " + format_delta(item.time - previous)
        previous = item.time
        lane = index[_lane_key(item)]
        src, dst = (0, lane) if item.direction == "out" else (lane, 0)
        grid.arrow(gutter, src, dst, entry_label(item), entry_style(item))
        for text, style in entry_details(item):
            grid.detail(text, style)
        if verbose >= 1:
            for raw in raw_lines(item):
                grid.detail("  " + raw, "dim", hard=True)


# --- header -------------------------------------------------------------------------


def _kv(key: str, values: Iterable[str], style: str = "") -> list[Text]:
    out: list[Text] = []
    for i, value in enumerate(values):
        line = Text(f"  {key if i == 0 else '':<11}", style="bold")
        line.append(printable(value), style=style or None)
        out.append(line)
    return out


def _header(trace: Trace, outcome: Outcome) -> list[Text]:
    title = Text("sipcheck ", style="bold")
    title.append(f"{outcome.command} ", style="bold")
    title.append(printable(outcome.aor), style="bold cyan")
    lines = [title]
    target = outcome.target
    name = _server_name(outcome)
    if name is not None:
        lines += _kv("server", [name])
    steps = target.get("steps")
    if isinstance(steps, (list, tuple)) and steps:
        lines += _kv("resolved", [str(step) for step in steps], "dim")
    candidates = target.get("candidates")
    if isinstance(candidates, (list, tuple)) and len(candidates) > 1:
        lines += _kv("candidates", [", ".join(str(c) for c in candidates)], "dim")
    address = target.get("address")
    if address is not None:
        transport = target.get("transport")
        over = f" over {str(transport).upper()}" if transport else ""
        lines += _kv("sending to", [f"{address}{over}"])
    for key, value in target.items():  # anything else the run recorded, e.g. "client"
        if key not in _TARGET_KEYS and isinstance(value, (str, int, float)):
            lines += _kv(key, [str(value)])
    tls = trace.tls
    if tls is not None:
        check = "certificate verified" if tls.verified else "certificate NOT verified"
        lines += _kv("TLS", [f"{tls.version} {tls.cipher}, {check}"], "" if tls.verified else "red")
        facts = [f"subject {tls.subject}", f"issuer {tls.issuer}", f"expires {tls.not_after}"]
        if tls.server_name:
            facts.insert(0, f"server name {tls.server_name}")
        lines += _kv("", facts, "dim")
    return lines


def render_ladder(trace: Trace, outcome: Outcome, *, verbose: int = 0, width: int = 100) -> Group:
    """Header (command, AoR, target, TLS) and the ladder of every message and note."""
    lines = _header(trace, outcome)
    lines.append(Text(""))
    if not trace.entries:
        for note in trace.notes:
            line = Text(f"{format_time(note.time):<{GUTTER}}", style="dim")
            line.append(printable(f"· {note.kind}: {note.text}"), style=_note_style(note))
            lines.append(line)
        lines.append(Text("no SIP message was sent or received", style="dim"))
        return Group(*lines)
    lanes, index = _lanes(trace, outcome)
    legend = _layout(lanes, width)
    grid = _Grid(lanes, width)
    if legend:
        for i, lane in enumerate(lanes):
            words = [f"[{i}]", lane.title, lane.label]
            lines.append(Text("  " + " ".join(w for w in words if w)))
        grid.centred([f"[{i}]" for i in range(len(lanes))], "bold")
    else:
        if any(lane.title for lane in lanes):
            grid.centred([lane.title for lane in lanes], "bold")
        grid.centred([lane.label for lane in lanes], "bold")
    grid.bars()
    _rows(grid, trace, index, verbose)
    return Group(*lines, *grid.lines)
