"""What a client run is doing while it waits, for a live status line.

The driver (and the CLI around it, for DNS) call a ``ProgressObserver`` with
these events as they happen; the observer decides what to show. Nothing here
draws anything: the CLI supplies a renderer (``sipcheck.cli.progress``), tests a
list. Times are seconds on the driver's clock (``time``) and, for a wait, how long
until the transaction gives up (``limit``).

Plain classes with ``__slots__``, not dataclasses: this module is imported on every
client run, and making ten dataclasses costs more start-up time (about 4 ms) than
everything the module does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sipcheck.trace import Address


class ProgressEvent:
    __slots__ = ("time",)

    def __init__(self, time: float) -> None:
        self.time = time

    def _fields(self) -> Iterator[tuple[str, object]]:
        for cls in reversed(type(self).__mro__):
            for name in getattr(cls, "__slots__", ()):
                yield name, getattr(self, name)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in self._fields())
        return f"{type(self).__name__}({inner})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ProgressEvent)
        return list(self._fields()) == list(other._fields())

    __hash__ = None  # type: ignore[assignment]  # equal by value, and mutable


class Resolving(ProgressEvent):
    """DNS lookups for ``host`` begin (RFC 3263: NAPTR, SRV, A/AAAA)."""

    __slots__ = ("host",)

    def __init__(self, time: float, host: str) -> None:
        super().__init__(time)
        self.host = host


class Resolved(ProgressEvent):
    __slots__ = ("targets",)

    def __init__(self, time: float, targets: int) -> None:
        super().__init__(time)
        self.targets = targets  # how many addresses to try


class Connecting(ProgressEvent):
    __slots__ = ("remote", "transport")

    def __init__(self, time: float, remote: Address, transport: str) -> None:
        super().__init__(time)
        self.remote = remote
        self.transport = transport


class Connected(ProgressEvent):
    __slots__ = ("local", "remote", "reused", "transport")

    def __init__(
        self, time: float, local: Address, remote: Address, transport: str, reused: bool = False
    ) -> None:
        super().__init__(time)
        self.local = local
        self.remote = remote
        self.transport = transport
        self.reused = reused  # kept open from the previous run (--count)


class ConnectFailed(ProgressEvent):
    __slots__ = ("detail", "remote", "transport")

    def __init__(self, time: float, remote: Address, transport: str, detail: str) -> None:
        super().__init__(time)
        self.remote = remote
        self.transport = transport
        self.detail = detail


class Sent(ProgressEvent):
    """A request went out; ``retransmission`` is 0 for the first copy, then 1, 2, ..."""

    __slots__ = ("limit", "remote", "retransmission", "start_line", "transport")

    def __init__(
        self,
        time: float,
        start_line: str,
        remote: Address,
        transport: str,
        retransmission: int,
        limit: float | None,
    ) -> None:
        super().__init__(time)
        self.start_line = start_line
        self.remote = remote
        self.transport = transport
        self.retransmission = retransmission
        self.limit = limit  # seconds from now until the transaction gives up


class Received(ProgressEvent):
    __slots__ = ("remote", "start_line", "status")

    def __init__(self, time: float, start_line: str, remote: Address, status: int | None) -> None:
        super().__init__(time)
        self.start_line = start_line
        self.remote = remote
        self.status = status  # None: not a response we could read


class TimerFired(ProgressEvent):
    __slots__ = ("detail", "timer")

    def __init__(self, time: float, timer: str, detail: str) -> None:
        super().__init__(time)
        self.timer = timer  # "E", "F", "K" (RFC 3261 §17.1.2.2) or "deadline" (--timeout)
        self.detail = detail


ProgressObserver = Callable[[ProgressEvent], None]
