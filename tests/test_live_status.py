"""Feedback while waiting: the live status line on a terminal, and nothing of it in
--json or when piped.

The status line is checked three ways: its text for a given moment (LiveStatus fed
events by hand), the lines -v adds (a terminal Console writing into a string), and
for real: ``sipcheck register`` run in a pseudo-terminal (os.openpty) against a UDP
socket that never answers, with --timeout 3, and the same run with pipes instead.
"""

from __future__ import annotations

import asyncio
import io
import os
import re
import select
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rich.console import Console

from sipcheck.cli.client_run import _pausing
from sipcheck.cli.options import OutputOptions
from sipcheck.cli.progress import LiveStatus, live_status, wants_status
from sipcheck.net import progress as p
from sipcheck.trace import Address

SERVER = Address("127.0.0.1", 5060)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def sent(retransmission: int, at: float = 0.0, limit: float | None = 32.0) -> p.Sent:
    line = "REGISTER sip:pbx.example.com SIP/2.0"
    return p.Sent(at, line, SERVER, "udp", retransmission, limit)


def test_the_status_line_reads_what_the_run_waits_for() -> None:
    status = LiveStatus(Console(file=io.StringIO()))
    status(p.Resolving(0.0, "pbx.example.com"))
    begun = time.monotonic()
    assert status.status_text(begun + 4.2) == "resolving pbx.example.com · t+4 s"
    status(p.Connecting(0.0, SERVER, "tcp"))
    assert status.status_text().startswith("connecting to 127.0.0.1:5060 over TCP · t+0 s")
    status(sent(0))
    begun = time.monotonic()
    assert status.status_text(begun + 12.4) == (
        "REGISTER sent to 127.0.0.1:5060/UDP · waiting for the answer · t+12 s of 32"
    )
    status(sent(1, 0.5))
    assert "REGISTER sent to 127.0.0.1:5060/UDP, retransmitted once · " in status.status_text()
    status(sent(3, 3.5))
    text = status.status_text(begun + 12.4)
    assert text.endswith("retransmitted 3 times · waiting for the answer · t+12 s of 32")
    status(p.Received(4.0, "SIP/2.0 100 Trying", SERVER, 100))
    assert "100 Trying received · waiting for the final answer · t+" in status.status_text()
    status(p.Received(4.1, "SIP/2.0 401 Unauthorized", SERVER, 401))
    assert status.status_text().startswith("401 Unauthorized: answering the challenge · t+")
    labelled = LiveStatus(Console(file=io.StringIO()), label="run 2 of 5: ")
    labelled(sent(0))
    assert labelled.status_text().startswith("run 2 of 5: REGISTER sent to")


def _terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, color_system=None), out


def test_dash_v_prints_a_line_per_retransmission_and_dash_vvv_the_timers() -> None:
    for verbose, wanted, unwanted in (
        (0, [], ["retransmission 1", "Timer E fired"]),
        (1, ["+0.500s  -> REGISTER sip:pbx.example.com SIP/2.0 (retransmission 1, no answer "
             "yet)", "+1.500s  -> REGISTER"], ["Timer E fired"]),
        (3, ["(retransmission 2, no answer yet)", "+0.500s  · Timer E fired: retransmission 1",
             "· connected 127.0.0.1:40000 -> 127.0.0.1:5060"], []),
    ):  # fmt: skip
        console, out = _terminal()
        with LiveStatus(console, verbose=verbose) as status:
            status(p.Connected(0.0, Address("127.0.0.1", 40000), SERVER, "udp"))
            status(sent(0))
            status(p.TimerFired(0.5, "E", "Timer E fired: retransmission 1"))
            status(sent(1, 0.5))
            status(p.TimerFired(1.5, "E", "Timer E fired: retransmission 2"))
            status(sent(2, 1.5))
        shown = ANSI.sub("", out.getvalue())
        for text in wanted:
            assert text in shown, (verbose, text, shown)
        for text in unwanted:
            assert text not in shown, (verbose, text)


def test_the_status_line_only_for_a_person_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(sys, "stderr", Tty())
    assert not wants_status(OutputOptions())  # stdout piped
    monkeypatch.setattr(sys, "stdout", Tty())
    assert wants_status(OutputOptions())
    assert wants_status(OutputOptions(no_color=True))  # colour off, status line on
    monkeypatch.setenv("NO_COLOR", "1")
    assert wants_status(OutputOptions())
    assert not wants_status(OutputOptions(json=True))
    assert live_status(OutputOptions(json=True)) is None
    monkeypatch.setenv("TERM", "dumb")
    assert not wants_status(OutputOptions())
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not wants_status(OutputOptions())  # stderr, where it would go, is piped


def test_the_prompt_pauses_the_status_line() -> None:
    calls: list[str] = []

    class Observer:
        def __call__(self, event: p.ProgressEvent) -> None:
            pass

        @contextmanager
        def paused(self) -> Iterator[None]:
            calls.append("pause")
            yield
            calls.append("resume")

    async def prompt(realm: str, user: str) -> str | None:
        calls.append(f"prompt {realm} {user}")
        return "typed"

    paused = _pausing(prompt, Observer())

    async def ask() -> str | None:
        return await paused("example.com", "alice")

    assert asyncio.run(ask()) == "typed"
    assert calls == ["pause", "prompt example.com alice", "resume"]
    assert _pausing(prompt, print) is prompt  # a plain callable: nothing to pause


# ------------------------------------------------------------ a real terminal


@pytest.fixture
def silent() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


ENV = {
    **os.environ,
    "TERM": "xterm-256color",
    "COLUMNS": "120",
    "LINES": "40",
    "NO_COLOR": "1",  # takes the colour away, not the status line
    "FORCE_COLOR": "",
    "SIPCHECK_DEBUG": "",
}


def run_in_terminal(args: list[str], timeout: float = 30.0) -> tuple[int, str]:
    """Run sipcheck with stdout and stderr on a pseudo-terminal; what the terminal got."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sipcheck", *args],
        stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=ENV, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=5)
    return proc.returncode, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def test_on_a_terminal_a_silent_server_gets_a_live_status_line(silent: int) -> None:
    status, shown = run_in_terminal(["register", f"alice@127.0.0.1:{silent}", "--timeout", "3"])
    assert status == 7, shown  # timeout
    assert "REGISTER sent to 127.0.0.1:" in shown and "waiting for the answer" in shown
    assert re.search(r"retransmitted 2 times · waiting for the answer · t\+[12] s of 3", shown)
    assert "t+2 s of 3" in shown
    assert "retransmission 1, no answer yet" not in shown  # that is -v
    # The status line is gone before the ladder and the verdict are printed.
    ladder = shown.index("sipcheck register sip:alice@127.0.0.1:")
    assert "waiting for the answer" not in shown[ladder:]
    assert "TIMEOUT" in shown[ladder:] or "timeout" in shown[ladder:]


def test_dash_v_on_a_terminal_prints_each_retransmission(silent: int) -> None:
    status, shown = run_in_terminal(
        ["register", f"alice@127.0.0.1:{silent}", "--timeout", "3", "-v"]
    )
    assert status == 7, shown
    lines = re.findall(r"\+\d\.\d{3}s  -> REGISTER sip:127\.0\.0\.1:\d+ SIP/2\.0 "
                       r"\(retransmission (\d), no answer yet\)", shown)  # fmt: skip
    assert lines == ["1", "2"]  # Timer E at 0.5 s and 1.5 s; the next (3.5 s) is too late


def test_json_on_a_terminal_has_no_status_line(silent: int) -> None:
    status, shown = run_in_terminal(
        ["register", f"alice@127.0.0.1:{silent}", "--timeout", "1", "--json"]
    )
    assert status == 7
    assert "waiting for the answer" not in shown and "REGISTER sent to" not in shown
    assert shown.lstrip().startswith("{")


def test_piped_nothing_extra_on_stderr(silent: int) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sipcheck", "register", f"alice@127.0.0.1:{silent}",
         "--timeout", "2", "-v"],
        capture_output=True, text=True, env=ENV, timeout=30, check=False,
    )  # fmt: skip
    assert proc.returncode == 7
    assert proc.stderr == ""
    assert "waiting for the answer" not in proc.stdout
    assert "no answer yet" not in proc.stdout
