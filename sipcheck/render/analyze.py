"""What ``sipcheck analyze`` adds around the ladder and the verdict: the capture's
counts, the summary per AoR, the password check, and the JSON document. Pure.

JSON (schema version 1): ``{schema_version, command: "analyze", file, packets,
attempts}``. ``packets`` counts what the file held (``total``, ``sip``,
``register``, ``not_register`` by method, ``unparseable`` with frame and error,
TCP retransmissions ignored, unreadable TLS connections, ...); each attempt has
the keys of ``register --json`` plus ``call_id``, ``frames`` (one per message,
Wireshark's numbers) and, with a password, ``password_check``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sipcheck.capture.files import STDIN
from sipcheck.render.annotate import printable
from sipcheck.render.json_out import JsonValue, outcome_to_json
from sipcheck.trace import Outcome

if TYPE_CHECKING:
    from sipcheck.capture.analyze import AttemptResult, Stats
    from sipcheck.capture.password import AnswerCheck


@dataclass
class Row:
    """One attempt, as the summary needs it (small: a long capture keeps only these)."""

    first_frame: int
    aor: str
    result: str
    status: int | None
    diagnosis: str
    frames: str


def main_diagnosis(outcome: Outcome) -> str:
    errors = [d.id for d in outcome.diagnoses if d.severity == "error"]
    if errors:
        return errors[0]
    return outcome.diagnoses[0].id if outcome.diagnoses else ""


def row_of(result: AttemptResult) -> Row:
    o = result.outcome
    frames = str(o.target.get("frames", ""))
    return Row(result.first_frame, o.aor, o.result, o.final_status, main_diagnosis(o), frames)


def packets_json(stats: Stats) -> dict[str, JsonValue]:
    return {
        "format": stats.format,
        "compressed": stats.compressed,
        "total": stats.packets,
        "truncated": stats.truncated,
        "sip": stats.sip_messages,
        "register": stats.register_messages,
        "not_register": dict(stats.not_register),
        "unparseable": [
            {"frame": e.frame, "start_line": e.start_line, "error": e.error} for e in stats.errors
        ],
        "unparseable_count": stats.unparseable,
        "udp_not_sip": stats.udp_not_sip,
        "hep": stats.hep,
        "tcp_retransmissions": stats.tcp_retransmissions,
        "ip_fragments_reassembled": stats.ip_fragments_reassembled,
        "tls_connections": stats.tls_connections,
        "responses_without_request": stats.responses_without_request,
        "late_retransmissions": stats.late_retransmissions,
    }


def check_json(check: AnswerCheck, frames: Sequence[int]) -> dict[str, JsonValue]:
    return {
        "frame": frames[check.index] if check.index < len(frames) else None,
        "header": check.header,
        "auth_user": check.auth_user,
        "realm": check.realm,
        "uri": check.uri,
        "algorithm": check.algorithm,
        "qop": check.qop,
        "answered_by": check.answered_by,
        "correct": check.correct,
        "verdict": check.verdict,
        "problems": list(check.problems),
    }


def attempt_json(result: AttemptResult) -> dict[str, JsonValue]:
    obj = outcome_to_json(result.trace, result.outcome)
    obj["call_id"] = result.call_id
    obj["frames"] = list(result.frames)
    if result.password_check is not None:
        obj["password_check"] = [check_json(c, result.frames) for c in result.password_check]
    return obj


def counts_lines(stats: Stats) -> list[Text]:
    """The capture in a few lines: what was read, what was left out and why."""
    kind = stats.format + (" (gzip)" if stats.compressed else "")
    head = Text.assemble(
        ("capture  ", "bold"),
        f"{'stdin' if stats.file == STDIN else printable(stats.file)}: {kind}, "
        f"{stats.packets} packets, "
        f"{stats.sip_messages} SIP messages; {stats.register_messages} REGISTER requests and "
        f"responses in {stats.attempts} registration attempt"
        + ("" if stats.attempts == 1 else "s"),
    )
    lines = [head]
    if stats.not_register:
        other = ", ".join(f"{m} {n}" for m, n in stats.not_register.items())
        lines.append(Text(f"skipped  not REGISTER: {other}", style="dim"))
    notes = []
    if stats.tcp_retransmissions:
        notes.append(f"{stats.tcp_retransmissions} TCP retransmissions ignored")
    if stats.ip_fragments_reassembled:
        notes.append(f"{stats.ip_fragments_reassembled} IP datagrams reassembled from fragments")
    if stats.hep:
        notes.append(f"{stats.hep} HEP-encapsulated messages")
    if stats.responses_without_request:
        notes.append(f"{stats.responses_without_request} REGISTER responses without their request")
    if notes:
        lines.append(Text("         " + "; ".join(notes), style="dim"))
    if stats.tls_connections:
        lines.append(
            Text(
                f"TLS      {stats.tls_connections} TLS connections: encrypted, no readable SIP "
                "(decrypt them in Wireshark and export the PDUs, or capture with sipcheck --pcap)",
                style="yellow",
            )
        )
    if stats.truncated:
        lines.append(
            Text("warning  the file is cut short: its last packet is incomplete", "yellow")
        )
    for error in stats.errors:
        lines.append(
            Text(
                f"frame {error.frame}: unparseable SIP ({printable(error.error)}): "
                f"{printable(error.start_line)}",
                style="red",
            )
        )
    if stats.unparseable > len(stats.errors):
        lines.append(Text(f"... {stats.unparseable - len(stats.errors)} more unparseable", "red"))
    return lines


def summary_table(rows: Iterable[Row]) -> Table:
    """Per AoR: attempts, how many succeeded, the last one's result, code and diagnosis."""
    by_aor: dict[str, list[Row]] = {}
    for row in sorted(rows, key=lambda r: r.first_frame):
        by_aor.setdefault(row.aor, []).append(row)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name, justify in (("AoR", "left"), ("attempts", "right"), ("ok", "right"),
                          ("result", "left"), ("code", "right"), ("diagnosis", "left"),
                          ("frames", "left")):  # fmt: skip
        table.add_column(name, justify=justify, no_wrap=name in ("AoR", "diagnosis"))  # type: ignore[arg-type]
    for aor, items in by_aor.items():
        last = items[-1]
        ok = sum(1 for r in items if r.result != "failed")
        style = "red" if last.result == "failed" else "green"
        table.add_row(
            printable(aor), str(len(items)), str(ok), Text(last.result, style=style),
            "-" if last.status is None else str(last.status), last.diagnosis, last.frames,
        )  # fmt: skip
    return table


def render_checks(result: AttemptResult) -> RenderableType:
    """Each digest answer of the attempt, recomputed with the password given."""
    checks = result.password_check or []
    parts: list[RenderableType] = [Text("password check", style="bold")]
    if not checks:
        parts.append(Text("  the client sent no digest answer in this attempt", style="dim"))
    for check in checks:
        frame = result.frames[check.index] if check.index < len(result.frames) else "?"
        style = "green" if check.correct else "red" if check.correct is False else "yellow"
        line = Text(f"  frame {frame}: {check.header} of {printable(check.auth_user)} ")
        line.append(f"(realm {printable(check.realm)}, {check.algorithm}): ")
        line.append(printable(check.verdict), style=style)
        parts.append(line)
        for problem in check.problems:
            parts.append(Text(f"    also: {printable(problem)}", style="yellow"))
    return Group(*parts)
