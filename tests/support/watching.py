"""``sipcheck watch --json`` as a real process, read line by line as it runs.

    with watching(["alice@127.0.0.1:5060", "--password-env", "PW"], env=...) as w:
        w.wait_for(lambda e: e["event"] == "refresh", count=3)
        w.interrupt()              # SIGINT: unregister, summary, exit
    w.status, w.events, w.summary, w.stderr

Each event is kept with the monotonic time it was read (``seen``), so a test can
measure how long after something it did the watch reported it. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.processes import SIPCHECK

Event = dict[str, Any]


@dataclass
class Watching:
    proc: subprocess.Popen[str]
    events: list[Event] = field(default_factory=list)
    seen: list[float] = field(default_factory=list)
    stderr: str = ""
    status: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Condition = field(init=False)
    _readers: list[threading.Thread] = field(default_factory=list)
    _eof: bool = False
    interrupted: bool = False

    def __post_init__(self) -> None:
        self._changed = threading.Condition(self._lock)
        for target in (self._read, self._read_stderr):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._readers.append(thread)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            event = json.loads(line)
            with self._changed:
                self.events.append(event)
                self.seen.append(time.monotonic())
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def wait_for(
        self, predicate: Callable[[Event], bool], *, count: int = 1, timeout: float = 20.0
    ) -> list[Event]:
        """The first ``count`` events that match, once there are that many."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                hits = [e for e in self.events if predicate(e)]
                if len(hits) >= count:
                    return hits[:count]
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise AssertionError(
                        f"waited {timeout} s for {count} matching events; got {self.events}"
                    )
                self._changed.wait(min(left, 0.1))

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.stderr += line

    def seen_at(self, event: Event) -> float:
        with self._lock:
            return self.seen[self.events.index(event)]

    def transitions(self) -> list[tuple[str, str, str | None]]:
        return [
            (e["previous"], e["state"], e["cause"]) for e in self.events if e["event"] == "state"
        ]

    def interrupt(self, sig: int = signal.SIGINT) -> None:
        self.interrupted = True
        self.proc.send_signal(sig)

    def finish(self, timeout: float = 20.0) -> int:
        try:
            self.status = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.status = self.proc.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        return self.status

    @property
    def summary(self) -> Event:
        assert self.events and self.events[-1]["event"] == "summary", self.events[-1:]
        return self.events[-1]


@contextmanager
def watching(args: Sequence[str], *, env: dict[str, str] | None = None) -> Iterator[Watching]:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    proc = subprocess.Popen(
        [*SIPCHECK, "watch", "--json", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )
    watch = Watching(proc)
    try:
        yield watch
    finally:
        if proc.poll() is None and not watch.interrupted:
            proc.send_signal(signal.SIGINT)
        watch.finish()
