"""Run sipcheck as a user would: real processes on loopback."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

SIPCHECK = [sys.executable, "-m", "sipcheck"]
_LISTEN_RE = re.compile(r"listening on (UDP|TCP|TLS) (\S+):(\d+)")


def kill_group(pgid: int) -> None:
    """SIGKILL a process group (a server and the helpers it started), if still there."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


@dataclass
class RegistrarProcess:
    proc: subprocess.Popen[str]
    ports: dict[str, int] = field(default_factory=dict)
    host: str = "127.0.0.1"
    banner: list[str] = field(default_factory=list)

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            out, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return out, err


@contextmanager
def registrar(args: Sequence[str], *, listen: str = "127.0.0.1:0") -> Iterator[RegistrarProcess]:
    """``sipcheck registrar`` on a free port; the banner tells where it listens."""
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [*SIPCHECK, "registrar", "--listen", listen, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    json_mode = "--json" in args
    stream = proc.stderr if json_mode else proc.stdout
    assert stream is not None
    server = RegistrarProcess(proc)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        server.banner.append(line.rstrip("\n"))
        match = _LISTEN_RE.search(line)
        if match:
            server.ports[match.group(1).lower()] = int(match.group(3))
            server.host = match.group(2).strip("[]")
        if line.startswith("Ctrl-C stops"):
            break
    if not server.ports:
        out, err = server.stop()
        raise RuntimeError(f"registrar did not start: {server.banner} {out} {err}")
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def sipcheck(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Run:
    full_env = {**os.environ, "NO_COLOR": "1", **(env or {})}
    full_env.pop("CI_PROMPT", None)
    proc = subprocess.run(
        [*SIPCHECK, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)
