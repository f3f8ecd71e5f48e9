"""Threshold ranges and plugin states of the Monitoring Plugins development guidelines.

A range is ``[@][start:][end]``: ``10`` means 0..10, ``10:`` means 10..infinity,
``~:10`` means -infinity..10, ``10:20`` means 10..20. A value outside the range raises
the alert; with a leading ``@`` a value inside it does (both ends inclusive). Start
must not exceed end. This is the grammar and the arithmetic of the guidelines'
"Threshold and ranges" section, as Monitoring::Plugin::Range and nagiosplugin
implement it. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import IntEnum

from sipcheck.errors import ConfigError

__all__ = [
    "NO_THRESHOLDS",
    "NagiosStatus",
    "Range",
    "RangeError",
    "Thresholds",
    "format_number",
    "parse_range",
    "worst",
]

# A number as the guidelines write one: digits with an optional fraction and exponent.
_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_RANGE = re.compile(rf"(?P<at>@)?(?:(?P<start>{_NUMBER}|~)?(?P<colon>:))?(?P<end>{_NUMBER})?")


class RangeError(ConfigError):
    """Text that is not a threshold range of the guidelines."""


class NagiosStatus(IntEnum):
    """Plugin return codes (the guidelines' "Plugin Return Codes")."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


# Worst first, as Monitoring::Plugin's max_state_alt ranks them: a CRITICAL account
# outranks a WARNING one, and either outranks an account we could not judge.
_SEVERITY = {
    NagiosStatus.CRITICAL: 3,
    NagiosStatus.WARNING: 2,
    NagiosStatus.UNKNOWN: 1,
    NagiosStatus.OK: 0,
}


def worst(statuses: list[NagiosStatus] | tuple[NagiosStatus, ...]) -> NagiosStatus:
    """The worst of ``statuses`` (CRITICAL > WARNING > UNKNOWN > OK); UNKNOWN if none."""
    if not statuses:
        return NagiosStatus.UNKNOWN
    return max(statuses, key=lambda s: _SEVERITY[s])


def format_number(value: float) -> str:
    """A number in the guidelines' class ``[-0-9.]``: no exponent, no trailing zeros,
    at most three decimals (milliseconds to the microsecond)."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value} has no perfdata form")
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Range:
    """``start``..``end`` (inclusive, either may be infinite); ``inside``: the ``@``
    form, alert when the value is inside instead of outside."""

    start: float = 0.0
    end: float = math.inf
    inside: bool = False

    def alerts(self, value: float) -> bool:
        """Whether ``value`` raises the alert this range stands for."""
        within = self.start <= value <= self.end
        return within if self.inside else not within

    def __str__(self) -> str:
        """The canonical range text (what perfdata carries): ``10``, ``10:``, ``~:10``,
        ``10:20``, ``@10:20``."""
        text = "@" if self.inside else ""
        if self.start == -math.inf:
            text += "~:"
        elif self.start != 0 or self.end == math.inf:
            text += f"{format_number(self.start)}:"
        if self.end != math.inf:
            text += format_number(self.end)
        return text


def parse_range(text: str | int | float) -> Range:
    """The guidelines' range syntax; a bare number N is the range 0..N.

    Raises RangeError for anything else (empty text, no number at all, start > end).
    """
    if isinstance(text, bool):
        raise RangeError(f"{text!r} is not a threshold range")
    if isinstance(text, (int, float)):
        text = repr(text) if isinstance(text, float) else str(text)
    spec = text.strip()
    match = _RANGE.fullmatch(spec)
    if not spec or match is None or not re.search(r"[\d~]", spec):
        raise RangeError(
            f"{text!r} is not a threshold range (use N, N:, ~:N, N:M or @N:M)",
        )
    start_text, end_text = match.group("start"), match.group("end")
    if match.group("colon") is None:
        start = 0.0
    elif start_text == "~":
        start = -math.inf
    else:
        start = float(start_text) if start_text else 0.0
    end = float(end_text) if end_text is not None else math.inf
    if (start_text not in (None, "~") and math.isinf(start)) or (
        end_text is not None and math.isinf(end)
    ):
        raise RangeError(f"{text!r}: a number too large")
    if start > end:
        raise RangeError(f"{text!r}: the start {start_text} is greater than the end {end_text}")
    return Range(start, end, inside=match.group("at") is not None)


@dataclass(frozen=True)
class Thresholds:
    """A warning and a critical range; either may be unset."""

    warning: Range | None = None
    critical: Range | None = None

    def over(self, fallback: Thresholds) -> Thresholds:
        """These thresholds where set, ``fallback``'s elsewhere (an account's file
        thresholds win over the command line's, each one on its own)."""
        return Thresholds(
            self.warning if self.warning is not None else fallback.warning,
            self.critical if self.critical is not None else fallback.critical,
        )

    def status(self, value: float) -> NagiosStatus:
        """CRITICAL if the critical range alerts, else WARNING if the warning range
        does, else OK: Monitoring::Plugin::Threshold's get_status."""
        if self.critical is not None and self.critical.alerts(value):
            return NagiosStatus.CRITICAL
        if self.warning is not None and self.warning.alerts(value):
            return NagiosStatus.WARNING
        return NagiosStatus.OK


NO_THRESHOLDS = Thresholds()
