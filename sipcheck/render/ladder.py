"""The ladder diagram: every message of a Trace as an arrow between lanes.

A pure function of (Trace, Outcome): it builds rich ``Text`` lines and prints
nothing, so the caller's Console decides on colour and where the output goes.
The layout is a fixed-width character grid of ``width`` columns (at most
``MAX_WIDTH``), which keeps it readable in a pipe, in a log and in a snapshot
test::

                 192.168.1.10:5060/UDP                   203.0.113.1:5060/UDP
                          │                                        │
    +0.000s               │─────────────────REGISTER──────────────▶│
    +0.021s Δ21.0ms       │◀────────────401 Unauthorized───────────│
                          │  Registrar wants digest credentials:   │
                          │    resend with Authorization           │

Lane 0 is sipcheck; one more lane per distinct remote address/transport, in
order of first appearance. The text under an arrow (and a note, and a raw
message with ``-v``) is wrapped between lane 0 and the rightmost lane, so that
lane is drawn on every row at every width; words are never split at a hyphen,
raw header lines break after a comma, semicolon or space.

Passwords never reach this module: a request shows how we answered a challenge
(user, algorithm, uri, qop, nc), never the hash input; in verbose mode the raw
message holds only the response hash.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.console import Group
from rich.text import Text

from sipcheck.render.annotate import annotate, printable, raw_lines
from sipcheck.trace import Address, Note, Outcome, Trace, TraceEntry

__all__ = [
    "MAX_WIDTH",
    "format_delta",
    "format_time",
    "format_wall",
    "render_ladder",
    "wrap_raw",
    "wrap_text",
]

GUTTER = 20  # columns for "+0.000s Δ12.3ms" before the first lane
MAX_WIDTH = 160  # a wider console leaves the rest empty: longer arrows read no better
_MIN_STEP = 8
_LEGEND_STEP = 4  # "[12]" lanes, when nothing wider fits
_BAR = "│"
_DETAIL_INDENT = 3  # detail text starts this far right of the sipcheck lane
_MIN_DETAIL = 12  # below this many columns between the lanes, text may run over the lane
_KEY = 13  # "  sending to " before a header value
_RAW_INDENT = "    "  # a raw header line's continuation, under its first word + 2
# Notes the ladder leaves out: the connection is in the lane labels already; timers and
# transport events are for -vvv.
_SILENT_NOTES = frozenset({"connect", "timer", "transport"})
VERBOSE_HEADERS = 1  # -v: every message's start line and headers
VERBOSE_MESSAGES = 2  # -vv: every message in full, body included
VERBOSE_EVENTS = 3  # -vvv: also the timers and transport events
# A raw header line may break after these (the space itself is dropped at the break).
_RAW_BREAK_RE = re.compile(r"(?<=[,; ])")
_RAW_FALLBACK_RE = re.compile(r"(?<==)")
# outcome.target keys the header shows in their own way (the rest: "key value").
_TARGET_KEYS = frozenset(
    {"steps", "candidates", "address", "transport", "server_name", "host", "lane"}
)


def format_time(seconds: float) -> str:
    """Time since the start of the trace: ``+0.021s``."""
    return f"+{seconds:.3f}s"


def format_delta(seconds: float) -> str:
    """Time since the previous message: ``Δ21.0ms`` below a second, ``Δ4.000s`` above."""
    if seconds < 1.0:
        return f"Δ{seconds * 1000:.1f}ms"
    return f"Δ{seconds:.3f}s"


def format_wall(epoch: float) -> str:
    """Wall-clock time in UTC to the millisecond: ``2026-12-01 21:57:34.123 UTC``."""
    seconds, millis = divmod(round(epoch * 1000), 1000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return f"{stamp}.{millis:03d} UTC"


def wrap_text(text: str, width: int, indent: str = "  ") -> list[str]:
    """Words to lines of ``width``: never split at a hyphen; a word longer than a line
    is cut (without a hyphen) rather than run over the lane."""
    lines = textwrap.wrap(text, max(width, 1), subsequent_indent=indent, break_on_hyphens=False)
    return lines or [""]


def _raw_pieces(text: str, room: int) -> list[str]:
    """Pieces ending in ``,`` ``;`` or a space; one longer than ``room`` is split after
    an ``=`` too (``nonce=`` then its value)."""
    out: list[str] = []
    for piece in _RAW_BREAK_RE.split(text):
        out += _RAW_FALLBACK_RE.split(piece) if len(piece.rstrip()) > room else [piece]
    return [piece for piece in out if piece]


def wrap_raw(text: str, width: int, indent: str = _RAW_INDENT) -> list[str]:
    """A raw message line to lines of ``width``, breaking after ``,`` ``;`` or a space.

    Every other character is kept and in order; a run without a break longer than a
    line (a hash, a nonce) is cut where the line ends.
    """
    width = max(width, len(indent) + 1)
    lines: list[str] = []
    current = ""
    for piece in _raw_pieces(text, width - len(indent)):
        if len((current + piece).rstrip()) <= width:
            current += piece
            continue
        if current.strip():
            lines.append(current.rstrip())
            current = indent
            piece = piece.lstrip(" ")
        while len(current + piece.rstrip()) > width:
            room = width - len(current)
            lines.append(current + piece[:room])
            current, piece = indent, piece[room:]
        current += piece
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


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
    if name == remote.host:  # "127.0.0.1" over "127.0.0.1:5060/UDP" says it twice
        return ""
    return name if wanted in (str(remote), remote.host) else ""


def _lanes(trace: Trace, outcome: Outcome) -> tuple[list[_Lane], dict[LaneKey, int]]:
    locals_seen = list(dict.fromkeys(str(e.local) for e in trace.entries))
    transports = dict.fromkeys(e.transport.upper() for e in trace.entries)
    local_label = f"{locals_seen[0]}/{','.join(transports)}"
    if len(locals_seen) > 1:  # e.g. one TCP connection per target: name the first
        local_label += f" +{len(locals_seen) - 1}"
    lanes = [_Lane(str(outcome.target.get("lane", "sipcheck")), local_label)]  # "client": a capture
    index: dict[LaneKey, int] = {}
    for entry in trace.entries:
        key = _lane_key(entry)
        if key not in index:
            index[key] = len(lanes)
            label = f"{entry.remote}/{entry.transport.upper()}"
            lanes.append(_Lane(_remote_title(entry.remote, outcome), label))
    return lanes, index


def _place(widths: list[int], width: int, min_step: int = _MIN_STEP) -> list[int] | None:
    """Lane columns, or None when the labels would overlap at this width."""
    n = len(widths)
    first = max(GUTTER + 1, widths[0] // 2)
    if n == 1:
        return [first]
    # A label centred at x spans [x - w//2, x - w//2 + w); keep it inside the width.
    last = min(width - 1 - (widths[-1] - widths[-1] // 2), width - 2)
    step = max((last - first) / (n - 1), min_step)
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
    if xs is None:
        xs = _place([len(f"[{i}]") for i in range(len(lanes))], width, _LEGEND_STEP)
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
        # Text under an arrow runs from lane 0 to just before the rightmost lane.
        self.text_x = lanes[0].x + _DETAIL_INDENT
        self.text_width = max(lanes[-1].x - 1 - self.text_x, _MIN_DETAIL)

    def _emit(self, line: _Line) -> None:
        text = line.to_text()
        text.no_wrap = True  # a grid row is never re-wrapped by the console
        text.overflow = "ignore"
        self.lines.append(text)

    def _bars(self) -> _Line:
        line = _Line(self.width)
        for lane in self.lanes:
            line.put(lane.x, _BAR, "dim")
        return line

    def centred(self, texts: list[str], style: str) -> None:
        line = _Line(self.width)
        for lane, text in zip(self.lanes, texts, strict=True):
            line.put(lane.x - len(text) // 2, text, style)
        self._emit(line)

    def bars(self) -> None:
        self._emit(self._bars())

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
        self._emit(line)

    def detail(self, text: str, style: str, *, gutter: str = "", raw: bool = False) -> None:
        """Text hanging off the sipcheck lane, wrapped between it and the rightmost lane.

        A lane in between is not drawn on these rows (as an arrow crosses it); the
        rightmost lane always is.
        """
        wrap = wrap_raw if raw else wrap_text
        for i, chunk in enumerate(wrap(text, self.text_width)):
            line = _Line(self.width)
            line.put(0, gutter if i == 0 else "", "dim")
            line.put(self.lanes[0].x, _BAR, "dim")
            line.put(self.lanes[-1].x, _BAR, "dim")
            # Only where the lanes are too close for any text does it cover the lane.
            line.put(self.text_x, chunk, style)
            self._emit(line)


def _note_style(note: Note) -> str:
    return "red" if note.kind == "error" else "dim"


def _shown_notes(trace: Trace, verbose: int = 0) -> list[Note]:
    if verbose >= VERBOSE_EVENTS:
        return list(trace.notes)
    return [n for n in trace.notes if n.kind not in _SILENT_NOTES]


def _note_text(note: Note) -> str:
    return printable(f"· {note.kind}: {note.text}")


def _timeline(trace: Trace, verbose: int) -> list[int | Note]:
    """Entry indexes and notes by time; a note at the same time as a message comes first."""
    keyed: list[tuple[float, int, int, int | Note]] = []
    keyed += [(n.time, 0, i, n) for i, n in enumerate(_shown_notes(trace, verbose))]
    keyed += [(e.time, 1, i, i) for i, e in enumerate(trace.entries)]
    return [item for *_, item in sorted(keyed, key=lambda k: k[:3])]


def _rows(grid: _Grid, trace: Trace, index: dict[LaneKey, int], verbose: int) -> None:
    annotations = annotate(trace.entries)
    previous: float | None = None
    for item in _timeline(trace, verbose):
        if isinstance(item, Note):
            grid.detail(_note_text(item), _note_style(item), gutter=format_time(item.time))
            continue
        entry, said = trace.entries[item], annotations[item]
        gutter = format_time(entry.time)
        if previous is not None:
            gutter += " " + format_delta(entry.time - previous)
        previous = entry.time
        lane = index[_lane_key(entry)]
        src, dst = (0, lane) if entry.direction == "out" else (lane, 0)
        grid.arrow(gutter, src, dst, said.label, said.style)
        for text, style in said.details:
            grid.detail(text, style)
        if verbose >= VERBOSE_HEADERS:
            if said.details:  # keep the raw message apart from what it means
                grid.detail("", "")
            for raw in _raw_shown(entry, verbose):
                grid.detail("  " + raw, "dim", raw=True)


def _raw_shown(entry: TraceEntry, verbose: int) -> list[str]:
    """-v: the start line and headers; -vv and more: the body too."""
    lines = raw_lines(entry)
    if verbose >= VERBOSE_MESSAGES or "" not in lines:
        return lines
    return lines[: lines.index("")]


# --- header -------------------------------------------------------------------------


def _kv(key: str, values: Iterable[str], width: int, style: str = "") -> list[Text]:
    """``  key        value`` lines; a long value wraps under itself."""
    out: list[Text] = []
    for i, value in enumerate(values):
        for j, chunk in enumerate(wrap_text(printable(value), width - _KEY, indent="")):
            shown = key if i == 0 and j == 0 else ""
            line = Text(f"  {shown:<{_KEY - 3}} ", style="bold")
            line.append(chunk, style=style or None)
            out.append(line)
    return out


def _first_time(trace: Trace) -> float:
    if trace.entries:
        return min(e.time for e in trace.entries)
    return 0.0


def _header(trace: Trace, outcome: Outcome, width: int) -> list[Text]:
    title = Text("sipcheck ", style="bold")
    title.append(f"{outcome.command} ", style="bold")
    title.append(printable(outcome.aor), style="bold cyan")
    lines = [title]
    if trace.wall_start > 0:  # 0 is "not known" (a Trace built by hand)
        first = _first_time(trace)
        wall = f"{format_wall(trace.wall_start + first)} at {format_time(first)}"
        lines += _kv("time", [wall], width)
    target = outcome.target
    name = _server_name(outcome)
    address = target.get("address")
    if name is not None and (address is None or name != _host_of(str(address))):
        lines += _kv("server", [name], width)
    steps = target.get("steps")
    if isinstance(steps, (list, tuple)) and steps:
        lines += _kv("resolved", [str(step) for step in steps], width, "dim")
    candidates = target.get("candidates")
    if isinstance(candidates, (list, tuple)) and len(candidates) > 1:
        lines += _kv("candidates", [", ".join(str(c) for c in candidates)], width, "dim")
    if address is not None:
        transport = target.get("transport")
        over = f" over {str(transport).upper()}" if transport else ""
        lines += _kv("sending to", [f"{address}{over}"], width)
    for key, value in target.items():  # anything else the run recorded, e.g. "client"
        if key not in _TARGET_KEYS and isinstance(value, (str, int, float)):
            lines += _kv(key, [str(value)], width)
    tls = trace.tls
    if tls is not None:
        check = "certificate verified" if tls.verified else "certificate NOT verified"
        style = "" if tls.verified else "red"
        lines += _kv("TLS", [f"{tls.version} {tls.cipher}, {check}"], width, style)
        facts = [f"subject {tls.subject}", f"issuer {tls.issuer}", f"expires {tls.not_after}"]
        if tls.server_name:
            facts.insert(0, f"server name {tls.server_name}")
        lines += _kv("", facts, width, "dim")
    return lines


def _host_of(address: str) -> str:
    """``203.0.113.1`` of ``203.0.113.1:5060``, ``2001:db8::1`` of ``[2001:db8::1]:5060``."""
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    host, _, port = address.rpartition(":")
    return host if host and port.isdigit() and ":" not in host else address


def render_ladder(trace: Trace, outcome: Outcome, *, verbose: int = 0, width: int = 100) -> Group:
    """Header (command, AoR, time, target, TLS) and the ladder of every message and note.

    ``width`` is the console's; the ladder uses all of it up to ``MAX_WIDTH``.
    """
    width = min(width, MAX_WIDTH)
    lines = _header(trace, outcome, width)
    lines.append(Text(""))
    if not trace.entries:
        for note in _shown_notes(trace, verbose):
            for i, chunk in enumerate(wrap_text(_note_text(note), width - GUTTER)):
                gutter = format_time(note.time) if i == 0 else ""
                line = Text(f"{gutter:<{GUTTER}}", style="dim")
                line.append(chunk, style=_note_style(note))
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
