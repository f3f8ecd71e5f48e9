"""Real third-party clients against `sipcheck registrar` with its defaults.

sipsak, SIPp, baresip and linphonec register against the registrar as it starts
with no digest options at all: the defaults are what is proven. A client offered
what it cannot answer is reported within seconds, not after Timer F.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

from tests.support.processes import RegistrarProcess, registrar
from tests.support.required import require_tool

HERE = Path(__file__).parent
# Only the clients' own config files in a temporary directory hold these.
PASSWORD = "pass-1"


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


def _registered_by(out: str, user_agent: str) -> list[dict[str, object]]:
    """The registered attempts whose REGISTER came from ``user_agent``."""
    return [
        a
        for a in _attempts(out)
        if a["result"] == "registered"
        and any(
            f"user-agent: {user_agent.lower()}" in m["raw"].lower()
            for m in a["messages"]  # type: ignore[attr-defined]
        )
    ]


class _Lines:
    """Lines of a child's output as they come, read by a thread."""

    def __init__(self, stream: IO[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                return None
            self.seen.append(line)
            if text in line:
                return line
        return None


# --- sipsak ----------------------------------------------------------------------------


def test_sipsak_registers_and_wrong_password_is_diagnosed() -> None:
    sipsak = require_tool("sipsak")
    port = free_port()
    # sipsak asks for Expires 15: allow it. No digest options: the defaults.
    args = ["--account", f"alice:{PASSWORD}", "--min-expires", "10", "--json"]
    with registrar(args, listen=f"127.0.0.1:{port}") as server:
        ok = subprocess.run(
            [sipsak, "-U", "-s", f"sip:alice@127.0.0.1:{port}", "-u", "alice", "-a", PASSWORD],
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


def test_sipsak_registers_over_tls_1_2(tmp_path: Path) -> None:
    sipsak = require_tool("sipsak")
    port = free_port()
    args = ["--account", f"alice:{PASSWORD}", "--min-expires", "10", "--json",
            "--self-signed", "--tls-max", "1.2"]  # fmt: skip
    with registrar(args, listen=f"127.0.0.1:{port}") as server:
        tls = server.ports["tls"]
        run = subprocess.run(
            [sipsak, "-U", "-s", f"sip:alice@127.0.0.1:{tls}", "-u", "alice", "-a", PASSWORD,
             "--transport=tls", "--tls-ignore-cert-failure"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        out, _ = server.stop()
    assert run.returncode == 0, run.stdout + run.stderr
    registered = _registered_by(out, "sipsak")
    assert registered, out[-2000:]
    assert registered[0]["target"]["transport"] == "tls"  # type: ignore[index]


def test_an_unanswerable_challenge_is_reported_within_seconds() -> None:
    """sipsak cannot answer SHA-256 and gives up: the registrar says so at once."""
    sipsak = require_tool("sipsak")
    port = free_port()
    args = ["--account", f"alice:{PASSWORD}", "--min-expires", "10", "--json",
            "--algorithm", "SHA-256,MD5"]  # fmt: skip
    with registrar(args, listen=f"127.0.0.1:{port}") as server:
        assert server.proc.stdout is not None
        lines = _Lines(server.proc.stdout)
        run = subprocess.run(
            [sipsak, "-U", "-s", f"sip:alice@127.0.0.1:{port}", "-u", "alice", "-a", PASSWORD],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        gave_up = time.monotonic()
        line = lines.wait_for('"no-answer"', timeout=15)
        reported = time.monotonic() - gave_up
    assert run.returncode != 0
    assert "unsupported authentication algorithm" in run.stdout + run.stderr
    assert line is not None, lines.seen
    assert reported < 8  # 4 s after the 401 (it used to take Timer F, 32 s)
    [diagnosis] = json.loads(line)["diagnosis"]
    assert diagnosis["message"].startswith(
        "the client was challenged (401, algorithm SHA-256, MD5, qop auth)"
    )


# --- SIPp ----------------------------------------------------------------------------------


def test_sipp_registers_several_accounts_from_csv(tmp_path: Path) -> None:
    sipp = require_tool("sipp")
    accounts = ["--account", "alice:alice-pw", "--account", "bob:bob-pw",
                "--account", "carol:carol-pw", "--quiet"]  # fmt: skip
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


# --- baresip -------------------------------------------------------------------------------

_BARESIP_CONFIG = """\
sip_listen		127.0.0.1:0
module_path		/usr/lib/baresip/modules
module			g711.so
module_app		account.so
"""


def test_baresip_registers(tmp_path: Path) -> None:
    baresip = require_tool("baresip")
    (tmp_path / "config").write_text(_BARESIP_CONFIG)
    with registrar(["--account", f"alice:{PASSWORD}", "--json"]) as server:
        port = server.ports["udp"]
        (tmp_path / "accounts").write_text(
            f"<sip:alice@127.0.0.1:{port}>;auth_pass={PASSWORD};regint=60\n"
        )
        # -t: quit after 3 s (it unregisters on the way out).
        run = subprocess.run(
            [baresip, "-f", str(tmp_path), "-t", "3"],
            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        out, _ = server.stop()
    assert "200 OK (sipcheck)" in run.stdout, run.stdout[-2000:] + run.stderr[-2000:]
    registered = _registered_by(out, "baresip")
    assert registered, out[-2000:]
    starts = [m["start_line"] for m in registered[0]["messages"]]  # type: ignore[attr-defined]
    assert starts[1].startswith("SIP/2.0 401") and starts[-1] == "SIP/2.0 200 OK"


# --- linphonec -----------------------------------------------------------------------------


def _linphonerc(port: int) -> str:
    return f"""\
[sip]
sip_port=-1
sip_tcp_port=0
sip_tls_port=0
default_proxy=0
[rtp]
audio_rtp_port=-1
video_rtp_port=-1
[proxy_0]
reg_proxy=<sip:127.0.0.1:{port};transport=udp>
reg_identity=sip:alice@127.0.0.1:{port}
reg_expires=60
reg_sendregister=1
publish=0
[auth_info_0]
username=alice
passwd={PASSWORD}
realm=127.0.0.1
"""


def _linphonec_registers(linphonec: str, home: Path, server: RegistrarProcess) -> list[str]:
    rc = home / "linphonerc"
    rc.write_text(_linphonerc(server.ports["udp"]))
    (home / ".local" / "share" / "linphone").mkdir(parents=True)  # its call database
    proc = subprocess.Popen(
        [linphonec, "-c", str(rc)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "HOME": str(home)},
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None
    lines = _Lines(proc.stdout)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            proc.stdin.write("status register\n")
            proc.stdin.flush()
            if lines.wait_for("registered, identity=", timeout=1) is not None:
                break
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return lines.seen


def test_linphonec_registers(tmp_path: Path) -> None:
    linphonec = require_tool("linphonec")
    with registrar(["--account", f"alice:{PASSWORD}", "--json"]) as server:
        seen = _linphonec_registers(linphonec, tmp_path, server)
        out, _ = server.stop()
    assert any("registered, identity=sip:alice@127.0.0.1" in line for line in seen), seen[-20:]
    registered = _registered_by(out, "Linphonec")
    assert registered, out[-2000:]
    starts = [m["start_line"] for m in registered[0]["messages"]]  # type: ignore[attr-defined]
    assert starts[1].startswith("SIP/2.0 401") and starts[-1] == "SIP/2.0 200 OK"
