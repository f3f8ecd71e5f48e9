"""``check`` runs its accounts concurrently and bounded: an account that times out holds
back nobody (the run takes about one timeout, not the sum), ``--concurrency`` is the
most on the wire at once, a bug in one account's run is that account's internal error
only, and progress shows on a terminal and nowhere else.
"""

from __future__ import annotations

import asyncio
import json
import os
import pty
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sipcheck.cli.client_run import execute
from sipcheck.cli.client_settings import ClientSettings
from sipcheck.trace import Outcome, Trace
from tests.support.accounts_file import Value, write_accounts
from tests.support.capture import CapturingRegistrar
from tests.support.processes import SIPCHECK
from tests.test_check_command import ENV, PW_ALICE, by_name, check_json, server

__all__ = ["server"]  # the fixture, shared with tests/test_check_command.py

TIMEOUT = 2.0


@pytest.fixture
def silent() -> Iterator[list[socket.socket]]:
    """Two UDP sockets that receive and never answer."""
    sinks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    for sink in sinks:
        sink.bind(("127.0.0.1", 0))
    yield sinks
    for sink in sinks:
        sink.close()


def many(tmp_path: Path, server: CapturingRegistrar, sinks: list[socket.socket]) -> Path:
    accounts: list[dict[str, Value]] = [
        {"name": f"good{i}", "aor": "alice@127.0.0.1", "password_env": "PW_ALICE"} for i in range(5)
    ]
    for i, sink in enumerate(sinks):
        port = sink.getsockname()[1]
        where = f"127.0.0.1:{port}"
        table: dict[str, Value] = {"name": f"silent{i}", "aor": "alice@127.0.0.1"}
        accounts.insert(2 * i, {**table, "server": where, "password_env": "PW_ALICE"})
    return write_accounts(tmp_path / "many.toml", accounts, {"server": server.where})


def test_a_silent_account_holds_back_nobody(
    tmp_path: Path, server: CapturingRegistrar, silent: list[socket.socket]
) -> None:
    started = time.monotonic()
    status, document = check_json(many(tmp_path, server, silent), "--timeout", str(TIMEOUT))
    wall = time.monotonic() - started
    # About one timeout, not the sum of two (a behaviour check, not a benchmark).
    assert TIMEOUT * 0.9 < wall < 2 * TIMEOUT + 1.5
    found = by_name(document)
    assert {n: a["result"] for n, a in found.items()} == {
        "silent0": "failed", "good0": "registered", "silent1": "failed",
        "good1": "registered", "good2": "registered", "good3": "registered",
        "good4": "registered",
    }  # fmt: skip
    assert [found[f"silent{i}"]["diagnosis"][0]["id"] for i in range(2)] == ["timeout"] * 2
    assert status == 7
    for i in range(5):  # done long before the silent ones gave up
        assert found[f"good{i}"]["timings"]["total_ms"] < 1000
    ports = {found[f"good{i}"]["messages"][0]["local"] for i in range(5)}
    assert len(ports) == 5  # each account its own transport


def test_the_timeout_of_the_file_wins_over_the_flag(
    tmp_path: Path, server: CapturingRegistrar, silent: list[socket.socket]
) -> None:
    port = silent[0].getsockname()[1]
    path = write_accounts(
        tmp_path / "t.toml",
        [{"name": "quick", "aor": "a@127.0.0.1", "password_env": "PW_ALICE", "timeout": 0.5}],
        {"server": f"127.0.0.1:{port}"},
    )
    started = time.monotonic()
    status, _ = check_json(path, "--timeout", "30")
    assert status == 7 and time.monotonic() - started < 5


def test_concurrency_bounds_the_accounts_in_flight(
    tmp_path: Path, server: CapturingRegistrar, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = execute
    flying: list[int] = [0, 0]  # now, most

    async def counted(plan: ClientSettings, **kwargs: Any) -> tuple[Trace, Outcome]:
        flying[0] += 1
        flying[1] = max(flying)
        try:
            await asyncio.sleep(0.02)  # long enough for the others to pile up
            return await real(plan, **kwargs)
        finally:
            flying[0] -= 1

    monkeypatch.setattr("sipcheck.cli.check_run.execute", counted)
    accounts: list[dict[str, Value]] = [
        {"name": f"a{i}", "aor": "alice@127.0.0.1", "password_env": "PW_ALICE"} for i in range(12)
    ]
    path = write_accounts(tmp_path / "twelve.toml", accounts, {"server": server.where})
    status, document = check_json(path, "--concurrency", "3")
    assert status == 0 and document["summary"]["counts"]["registered"] == 12
    assert flying[1] == 3
    status, _ = check_json(path)
    assert status == 0 and flying[1] == 12  # the default, 20, lets all twelve go at once


def test_a_bug_in_one_account_is_its_own_internal_error(
    tmp_path: Path, server: CapturingRegistrar, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = execute

    async def broken(plan: ClientSettings, **kwargs: Any) -> tuple[Trace, Outcome]:
        if plan.config.aor.user == "bob":
            raise RuntimeError("boom")
        return await real(plan, **kwargs)

    monkeypatch.setattr("sipcheck.cli.check_run.execute", broken)
    accounts: list[dict[str, Value]] = [
        {"name": "alice", "aor": "alice@127.0.0.1", "password_env": "PW_ALICE"},
        {"name": "bob", "aor": "bob@127.0.0.1", "password_env": "PW_BOB"},
    ]
    path = write_accounts(tmp_path / "bug.toml", accounts, {"server": server.where})
    status, document = check_json(path)
    found = by_name(document)
    assert found["alice"]["result"] == "registered"
    assert (found["bob"]["exit_status"], found["bob"]["diagnosis"][0]["id"]) == (
        1, "internal-error",
    )  # fmt: skip
    assert "RuntimeError: boom" in found["bob"]["diagnosis"][0]["message"]
    assert status == 1


def run_with_terminal_stderr(
    argv: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    """Run ``argv`` with stderr on a pseudo-terminal (read as it comes), stdout piped."""
    leader, follower = pty.openpty()
    seen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL, env=env
        )
        os.close(follower)
        stdout, _ = proc.communicate(timeout=60)
        reader.join(timeout=5)
    finally:
        os.close(leader)
    return subprocess.CompletedProcess(argv, proc.returncode, stdout, b""), b"".join(seen)


def test_progress_on_a_terminal_and_not_in_a_pipe(
    tmp_path: Path, server: CapturingRegistrar
) -> None:
    accounts: list[dict[str, Value]] = [
        {"name": f"a{i}", "aor": "alice@127.0.0.1", "password_env": "PW_ALICE"} for i in range(3)
    ]
    path = write_accounts(tmp_path / "p.toml", accounts, {"server": server.where})
    env = {**os.environ, **ENV, "CI": "", "TERM": "xterm", "COLUMNS": "100"}
    env.pop("FORCE_COLOR")  # set but empty, rich takes it as "not a terminal"
    done, seen = run_with_terminal_stderr([*SIPCHECK, "check", str(path)], env)
    assert done.returncode == 0
    assert b"checking" in seen  # the progress bar, on the terminal
    assert b"checking" not in done.stdout and "3 accounts: 3 registered" in done.stdout.decode()
    piped = subprocess.run(
        [*SIPCHECK, "check", str(path), "--json"], capture_output=True,
        stdin=subprocess.DEVNULL, env={**env, "FORCE_COLOR": "1"}, timeout=60, check=False,
    )  # fmt: skip
    assert piped.returncode == 0 and piped.stderr == b""  # nothing when piped
    assert json.loads(piped.stdout)["summary"]["counts"]["registered"] == 3
    assert PW_ALICE.encode() not in seen + done.stdout + piped.stdout
