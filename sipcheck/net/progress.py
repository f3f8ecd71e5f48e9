"""What a client run is doing while it waits, for a live status line.

The driver (and the CLI around it, for DNS) call a ``ProgressObserver`` with
these events as they happen; the observer decides what to show. Nothing here
draws anything: the CLI supplies a renderer (``sipcheck.cli.progress``), tests a
list. Times are seconds on the driver's clock (``time``) and, for a wait, how long
until the transaction gives up (``limit``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sipcheck.trace import Address


@dataclass(frozen=True)
class ProgressEvent:
    time: float


@dataclass(frozen=True)
class Resolving(ProgressEvent):
    """DNS lookups for ``host`` begin (RFC 3263: NAPTR, SRV, A/AAAA)."""

    host: str


@dataclass(frozen=True)
class Resolved(ProgressEvent):
    targets: int  # how many addresses to try


@dataclass(frozen=True)
class Connecting(ProgressEvent):
    remote: Address
    transport: str


@dataclass(frozen=True)
class Connected(ProgressEvent):
    local: Address
    remote: Address
    transport: str
    reused: bool = False  # kept open from the previous run (--count)


@dataclass(frozen=True)
class ConnectFailed(ProgressEvent):
    remote: Address
    transport: str
    detail: str


@dataclass(frozen=True)
class Sent(ProgressEvent):
    """A request went out; ``retransmission`` is 0 for the first copy, then 1, 2, ..."""

    start_line: str
    remote: Address
    transport: str
    retransmission: int
    limit: float | None  # seconds from now until the transaction gives up


@dataclass(frozen=True)
class Received(ProgressEvent):
    start_line: str
    remote: Address
    status: int | None  # None: not a response we could read


@dataclass(frozen=True)
class TimerFired(ProgressEvent):
    timer: str  # "E", "F", "K" (RFC 3261 §17.1.2.2) or "deadline" (--timeout)
    detail: str


@dataclass(frozen=True)
class Finished(ProgressEvent):
    pass


ProgressObserver = Callable[[ProgressEvent], None]
