"""``--on-change CMD``: a command run on every state change, never stopping the watch.

The command is an argv list (split like a shell splits, run without one), given the
change in its environment: ``SIPCHECK_ACCOUNT``, ``SIPCHECK_STATE``,
``SIPCHECK_PREVIOUS_STATE``, ``SIPCHECK_CAUSE`` (a diagnosis id, empty when none) and
``SIPCHECK_DIAGNOSIS`` (the event's message). Runs are one at a time and in order, so
a notifier sees the changes as they happened; each is bounded (``timeout`` seconds,
then killed with its process group). Its stdin is empty and its output goes to our
stderr, so stdout carries nothing but events. A failure to start, a non-zero exit
or a timeout is reported through ``warn`` and the watch goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

HOOK_TIMEOUT = 10.0


@dataclass(frozen=True)
class Change:
    account: str
    previous: str
    state: str
    cause: str | None
    diagnosis: str

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        return {
            **base,
            "SIPCHECK_ACCOUNT": self.account,
            "SIPCHECK_STATE": self.state,
            "SIPCHECK_PREVIOUS_STATE": self.previous,
            "SIPCHECK_CAUSE": self.cause or "",
            "SIPCHECK_DIAGNOSIS": self.diagnosis,
        }


class ChangeHook:
    def __init__(
        self,
        argv: Sequence[str],
        warn: Callable[[str], None],
        *,
        timeout: float = HOOK_TIMEOUT,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if not argv:
            raise ValueError("an --on-change command needs at least a program")
        self.argv = tuple(argv)
        self.warn = warn
        self.timeout = timeout
        self.environ = dict(os.environ if environ is None else environ)
        self.failures = 0
        self._queue: asyncio.Queue[Change | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def submit(self, change: Change) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._work())
        self._queue.put_nowait(change)

    async def close(self, timeout: float) -> None:
        """Let the queued runs finish (within ``timeout`` s overall), then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except (TimeoutError, asyncio.TimeoutError):
            left = self._queue.qsize()
            self.warn(f"--on-change: stopped waiting after {timeout:g} s ({left} runs left)")
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _work(self) -> None:
        while True:
            change = await self._queue.get()
            if change is None:
                return
            problem = await self._run(change)
            if problem is not None:
                self.failures += 1
                self.warn(
                    f"--on-change {self.argv[0]} ({change.account} {change.state}): {problem}"
                )

    async def _run(self, change: Change) -> str | None:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                # our stderr, never our stdout: that carries the events alone
                stdout=sys.stderr.fileno() if _has_fileno(sys.stderr) else subprocess.DEVNULL,
                env=change.environment(self.environ),
                start_new_session=True,
            )
        except OSError as exc:
            return f"cannot run it: {exc.strerror or exc}"
        try:
            status = await asyncio.wait_for(proc.wait(), self.timeout)
        except (TimeoutError, asyncio.TimeoutError):
            _kill(proc.pid)
            await proc.wait()
            return f"still running after {self.timeout:g} s: stopped"
        except asyncio.CancelledError:
            _kill(proc.pid)
            raise
        if status != 0:
            return f"exited with status {status}" if status > 0 else f"killed by signal {-status}"
        return None


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _has_fileno(stream: object) -> bool:
    try:
        return isinstance(stream.fileno(), int)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False
