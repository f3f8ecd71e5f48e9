"""Real third-party clients (sipsak, SIPp) against `sipcheck registrar`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path

from tests.support.processes import registrar
from tests.support.required import require_tool

HERE = Path(__file__).parent


def free_port(low: int = 2000, high: int = 9999) -> int:
    """A free UDP and TCP port with four digits: sipsak 0.9.8 cuts five-digit ports
    short in the URIs it builds (it writes 127.0.0.1:1510 for 15100)."""
    for port in range(low + os.getpid() % 997, high, 7):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, socket.socket() as tcp:
            try:
                udp.bind(("127.0.0.1", port))
                tcp.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def _attempts(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_sipsak_registers_and_wrong_password_is_diagnosed() -> None:
    sipsak = require_tool("sipsak")
    port = free_port()
    # sipsak asks for Expires 15: allow it; MD5 with qop=auth is what sipsak answers.
    args = ["--account", "alice:pass-1", "--algorithm", "MD5", "--min-expires", "10", "--json"]
    with registrar(args, listen=f"127.0.0.1:{port}") as server:
        ok = subprocess.run(
            [sipsak, "-U", "-s", f"sip:alice@127.0.0.1:{port}", "-u", "alice", "-a", "pass-1"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        bad = subprocess.run(
            [sipsak, "-U", "-s", f"sip:alice@127.0.0.1:{port}", "-u", "alice", "-a", "nope"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        out, _ = server.stop()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert bad.returncode != 0
    attempts = _attempts(out)
    results = [a["result"] for a in attempts]
    assert "registered" in results
    mistakes = [d["id"] for a in attempts for d in a["diagnosis"]]  # type: ignore[attr-defined]
    assert "wrong-password" in mistakes


def test_sipp_registers_several_accounts_from_csv(tmp_path: Path) -> None:
    sipp = require_tool("sipp")
    accounts = ["--account", "alice:alice-pw", "--account", "bob:bob-pw",
                "--account", "carol:carol-pw", "--algorithm", "MD5", "--quiet"]  # fmt: skip
    with registrar(accounts) as server:
        run = subprocess.run(
            [sipp, "-sf", str(HERE / "sipp" / "register_auth.xml"),
             "-inf", str(HERE / "sipp" / "accounts.csv"),
             f"127.0.0.1:{server.ports['udp']}", "-i", "127.0.0.1", "-p", str(free_port()),
             "-m", "6", "-r", "20", "-nostdin", "-timeout", "20s",
             "-trace_stat", "-stf", str(tmp_path / "stat.csv")],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        out, _ = server.stop()
    assert run.returncode == 0, run.stdout[-2000:]
    # The registrar's own count: 6 challenges, 6 successes, nothing else.
    assert "stopped: 12 requests (200: 6, 401: 6)" in out
