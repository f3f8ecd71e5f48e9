"""Nagios/Icinga plugin output for a ``check`` run (or one ``register``/``options``).

The format of the Monitoring Plugins development guidelines, which Icinga 2, Nagios,
Naemon, Checkmk and Centreon read: a first line ``SERVICE STATUS - text | perfdata``,
long output on the lines after it, and the exit code 0 OK, 1 WARNING, 2 CRITICAL,
3 UNKNOWN. Pure: a function of the checked accounts.

Per account, perfdata ``'NAME_rrd'`` (RFC 6076 registration request delay, ms; for an
OPTIONS trunk ``'NAME_total'`` carries the thresholds instead), ``'NAME_total'`` (first
request to final response, ms), ``'NAME_retransmissions'`` and a 0/1 gauge
``'NAME_registered'`` (``'NAME_reachable'`` for an OPTIONS trunk). An unknown time is
the guidelines' ``U``. A failed account is CRITICAL; a passed one is judged by its
thresholds (the account's own from the file, else the command line's), which apply
to the RRD (OPTIONS: the round trip) in milliseconds.

Labels: guideline 2 forbids ``'`` and ``=`` in a label, and Monitoring::Plugin and
nagiosplugin reject them, so they (and ``|``, and control characters) become ``_``; every label
is quoted, and each account's is made unique by a ``_2``, ``_3`` ... suffix, also when
two differ only in case or punctuation (RRD-based graphers fold those together).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sipcheck.render.checked import CheckedAccount, first_problem, one_line, retransmissions
from sipcheck.render.nagios_range import (
    NO_THRESHOLDS,
    NagiosStatus,
    Range,
    Thresholds,
    format_number,
    worst,
)

__all__ = [
    "NagiosReport",
    "Perfdata",
    "account_status",
    "nagios_report",
    "perfdata_labels",
    "unknown_report",
]

NAMES_SHOWN = 5  # accounts named per status on the first line; the rest are counted
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Guideline 2, and the | that ends the plugin text: never in a label.
_LABEL_FORBIDDEN = str.maketrans({"'": "_", "=": "_", "|": "_"})


class NagiosReport(NamedTuple):
    first_line: str
    long_output: tuple[str, ...]
    exit_code: int

    def text(self) -> str:
        """What the plugin prints: the first line, then the long output."""
        return "\n".join((self.first_line, *self.long_output)) + "\n"


@dataclass(frozen=True)
class Perfdata:
    """One ``'label'=value[UOM];[warn];[crit];[min];[max]`` item; value None is ``U``."""

    label: str
    value: float | None
    uom: str = ""
    warning: Range | None = None
    critical: Range | None = None
    minimum: float | None = None
    maximum: float | None = None

    def __str__(self) -> str:
        value = "U" if self.value is None else format_number(self.value) + self.uom
        fields = [
            f"'{_label_text(self.label)}'={value}",
            "" if self.warning is None else str(self.warning),
            "" if self.critical is None else str(self.critical),
            "" if self.minimum is None else format_number(self.minimum),
            "" if self.maximum is None else format_number(self.maximum),
        ]
        while fields[-1] == "":  # guideline 6: trailing unfilled semicolons can go
            fields.pop()
        return ";".join(fields)


def _label_text(label: str) -> str:
    return _CONTROL.sub("_", label).translate(_LABEL_FORBIDDEN)


def _text(text: str) -> str:
    """Plugin text on one line, without the ``|`` that would start perfdata."""
    return _CONTROL.sub("?", one_line(text)).replace("|", "/")


def perfdata_labels(names: Sequence[str]) -> list[str]:
    """One label base per name, in order: cleaned, and unique even to a consumer that
    folds case and turns every non-word character into ``_`` (as RRD graphers do)."""
    taken: set[str] = set()
    labels: list[str] = []
    for name in names:
        base = _label_text(name).strip() or "account"
        label, n = base, 1
        while re.sub(r"\W", "_", label).casefold() in taken:
            n += 1
            label = f"{base}_{n}"
        taken.add(re.sub(r"\W", "_", label).casefold())
        labels.append(label)
    return labels


def _measured(account: CheckedAccount) -> tuple[str, float | None]:
    """The metric the thresholds judge: the RRD, or for OPTIONS the round trip."""
    assert account.outcome is not None
    if account.mode == "options":
        return "round trip", account.outcome.total_ms
    return "RRD", account.outcome.rrd_ms


def account_status(
    account: CheckedAccount, thresholds: Thresholds = NO_THRESHOLDS
) -> tuple[NagiosStatus, str]:
    """The account's status and why, with its own thresholds laid over ``thresholds``.
    A skipped account is OK ("skipped")."""
    outcome = account.outcome
    if outcome is None:
        return NagiosStatus.OK, "skipped (register = false)"
    problem = first_problem(outcome)
    why = f"{problem.id}: {problem.message}" if problem is not None else outcome.result
    if not account.judged:
        return NagiosStatus.UNKNOWN, why
    if not account.passed:
        return NagiosStatus.CRITICAL, why
    limits = account.thresholds.over(thresholds)
    metric, value = _measured(account)
    if value is None:
        if limits.warning is None and limits.critical is None:
            return NagiosStatus.OK, outcome.result
        return NagiosStatus.UNKNOWN, f"{outcome.result}, but no {metric} was measured"
    status = limits.status(value)
    if status is NagiosStatus.OK:
        return status, f"{outcome.result}, {metric} {format_number(value)}ms"
    kind, limit = (
        ("critical", limits.critical)
        if status is NagiosStatus.CRITICAL
        else ("warning", limits.warning)
    )
    assert limit is not None
    where = "inside" if limit.inside else "outside"
    return status, f"{metric} {format_number(value)}ms is {where} the {kind} range {limit}"


def _perfdata(account: CheckedAccount, label: str, limits: Thresholds) -> list[Perfdata]:
    outcome = account.outcome
    assert outcome is not None
    count = float(retransmissions(account.trace))
    up = 1.0 if account.passed else 0.0
    total = outcome.total_ms
    if account.mode == "options":
        return [
            Perfdata(f"{label}_total", total, "ms", limits.warning, limits.critical, 0),
            Perfdata(f"{label}_retransmissions", count, minimum=0),
            Perfdata(f"{label}_reachable", up, minimum=0, maximum=1),
        ]
    return [
        Perfdata(f"{label}_rrd", outcome.rrd_ms, "ms", limits.warning, limits.critical, 0),
        Perfdata(f"{label}_total", total, "ms", minimum=0),
        Perfdata(f"{label}_retransmissions", count, minimum=0),
        Perfdata(f"{label}_registered", up, minimum=0, maximum=1),
    ]


def _names(names: list[str]) -> str:
    shown = ", ".join(_text(n) for n in names[:NAMES_SHOWN])
    more = len(names) - NAMES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def nagios_report(
    accounts: Sequence[CheckedAccount], thresholds: Thresholds = NO_THRESHOLDS
) -> NagiosReport:
    """The plugin output for ``accounts`` (``thresholds``: the command line's -w/-c).

    The exit code is the worst account's status (CRITICAL > WARNING > UNKNOWN > OK);
    with no account checked at all (none given, or every one skipped) it is UNKNOWN.
    """
    checked = [a for a in accounts if not a.skipped]
    options_only = bool(accounts) and all(a.mode == "options" for a in accounts)
    service = "SIP OPTIONS" if options_only else "SIP REGISTER"
    counts: list[str] = []
    for mode, word in (("register", "registered"), ("options", "reachable")):
        of_mode = [a for a in checked if a.mode == mode]
        if of_mode:
            counts.append(f"{sum(a.passed for a in of_mode)}/{len(of_mode)} {word}")
    skipped = len(accounts) - len(checked)
    if skipped:
        counts.append(f"{skipped} skipped")
    if not checked:
        summary = "no account to check" + (f" ({skipped} skipped)" if skipped else "")
        return NagiosReport(f"{service} UNKNOWN - {summary}", (), int(NagiosStatus.UNKNOWN))
    statuses: list[NagiosStatus] = []
    long_output: list[str] = []
    perfdata: list[Perfdata] = []
    by_status: dict[NagiosStatus, list[str]] = {}
    for account, label in zip(checked, perfdata_labels([a.name for a in checked]), strict=True):
        status, why = account_status(account, thresholds)
        statuses.append(status)
        perfdata += _perfdata(account, label, account.thresholds.over(thresholds))
        if status is not NagiosStatus.OK:
            by_status.setdefault(status, []).append(account.name)
            long_output.append(f"{status.name}: {_text(account.name)}: {_text(why)}")
    overall = worst(statuses)
    text = ", ".join(counts)
    for status in (NagiosStatus.CRITICAL, NagiosStatus.WARNING, NagiosStatus.UNKNOWN):
        if status in by_status:
            text += f"; {status.name.lower()}: {_names(by_status[status])}"
    first = f"{service} {overall.name} - {text} | " + " ".join(str(p) for p in perfdata)
    return NagiosReport(first, tuple(long_output), int(overall))


def unknown_report(message: str, *, service: str = "SIP REGISTER") -> NagiosReport:
    """UNKNOWN (exit 3) for a run that could not start: bad usage, a bad accounts file."""
    return NagiosReport(f"{service} UNKNOWN - {_text(message)}", (), int(NagiosStatus.UNKNOWN))
