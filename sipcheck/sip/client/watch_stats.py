"""What one watched registration added up to: time registered, outages, RRD (pure).

``Tally`` is told every state the binding enters, with the time (``enter``), every
failed attempt's cause and every successful request's RRD; ``summary`` reads the
figures the watch prints when it ends. Availability is the share of the watched time
(from the start to the stop, the unregistration left out) spent in Ok.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

OK = "Ok"
FAILED = "Failed"


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (``share`` in (0, 100]); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Summary:
    account: str
    state: str  # the state when the watch stopped (before the unregistration)
    watched: float  # seconds from the start to the stop
    registered: float  # seconds in Ok
    refreshes: int  # refreshes that succeeded
    failures: dict[str, int]  # failed attempts by cause id
    rrd_p50: float | None  # seconds (RFC 6076 §4.1), over every successful REGISTER
    rrd_p95: float | None
    rrd_max: float | None
    outages: int  # times the binding went Failed
    longest_outage: float  # seconds; an outage still going at the stop counts to the stop

    @property
    def availability(self) -> float | None:
        """Percent of the watched time spent in Ok; None before any time passed."""
        if self.watched <= 0:
            return None
        return 100.0 * self.registered / self.watched


@dataclass
class Tally:
    account: str
    started: float | None = None
    stopped: float | None = None
    state: str = "None"
    refreshes: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    rrds: list[float] = field(default_factory=list)
    registered: float = 0.0
    outages: list[float] = field(default_factory=list)
    _since: float = 0.0  # when the current state was entered

    def enter(self, now: float, state: str) -> None:
        if self.stopped is not None:
            return  # the unregistration after the stop is not watched time
        if self.started is None:
            self.started = now
        self._close(now)
        self.state = state
        self._since = now

    def failed(self, cause: str) -> None:
        if self.stopped is None:
            self.failures[cause] += 1

    def succeeded(self, rrd: float | None, *, refresh: bool) -> None:
        if self.stopped is not None:
            return
        if rrd is not None:
            self.rrds.append(rrd)
        if refresh:
            self.refreshes += 1

    def stop(self, now: float) -> None:
        if self.stopped is not None:
            return
        if self.started is None:
            self.started = now
        self._close(now)
        self._since = now
        self.stopped = now

    def _close(self, now: float) -> None:
        spent = now - self._since
        if self.state == OK:
            self.registered += spent
        elif self.state == FAILED:
            self.outages.append(spent)

    def summary(self) -> Summary:
        started = self.started if self.started is not None else 0.0
        stopped = self.stopped if self.stopped is not None else self._since
        return Summary(
            account=self.account,
            state=self.state,
            watched=max(0.0, stopped - started),
            registered=self.registered,
            refreshes=self.refreshes,
            failures=dict(sorted(self.failures.items())),
            rrd_p50=percentile(self.rrds, 50),
            rrd_p95=percentile(self.rrds, 95),
            rrd_max=max(self.rrds) if self.rrds else None,
            outages=len(self.outages),
            longest_outage=max(self.outages, default=0.0),
        )
