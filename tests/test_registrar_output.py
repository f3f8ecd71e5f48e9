"""What ``sipcheck registrar`` prints is printed off the receive path, bounded, and what
is only counted comes as one line per kind and second."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sipcheck.cli.registrar_output import RENDER_SHARE, RENDER_SLICE, Printer, Reporter
from sipcheck.net.server import RegistrarServer
from sipcheck.sip.registrar.attempts import AttemptLog
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.service import RegistrarService
from sipcheck.trace import Trace


class SlowPrinter(Printer):
    """Printing one attempt takes ``cost`` seconds (a ladder takes milliseconds)."""

    def __init__(self, cost: float = 0.005, **kw: Any) -> None:
        super().__init__(kw)
        self.cost = cost
        self.printed: list[str] = []
        self.notes: list[str] = []
        self.spent = 0.0  # wall time in attempt()

    def attempt(self, log: AttemptLog) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        while time.process_time() - cpu < self.cost and time.perf_counter() - started < 1:
            pass
        self.printed.append(log.call_id)
        self.spent += time.perf_counter() - started

    def note(self, text: str) -> None:
        self.notes.append(text)


def log(n: int) -> AttemptLog:
    return AttemptLog(f"c{n}", Trace())


def server() -> RegistrarServer:
    core = RegistrarService(Registrar(RegistrarConfig(accounts={"a": "b"}), b"k" * 32))
    return RegistrarServer(core)


def test_attempts_past_the_queue_limit_are_counted_not_kept() -> None:
    reporter = Reporter(SlowPrinter(), queue_limit=3)
    for n in range(5):
        reporter.attempt(log(n))
    assert reporter.not_shown == 2
    reporter.finish()
    assert reporter.printer.printed == ["c0", "c1", "c2"]  # type: ignore[attr-defined]


def test_printing_takes_a_bounded_share_of_the_time() -> None:
    async def run() -> tuple[list[float], SlowPrinter]:
        printer = SlowPrinter(cost=0.005)
        reporter = Reporter(printer)
        reporter.start(server())
        for n in range(60):  # 0.3 s of printing
            reporter.attempt(log(n))
        # Meanwhile the loop keeps serving: a 1 ms sleep ends within one slice.
        waits: list[float] = []
        loop = asyncio.get_running_loop()
        while len(printer.printed) < 60:
            started = loop.time()
            await asyncio.sleep(0.001)
            waits.append(loop.time() - started)
        reporter.finish()
        return waits, printer

    started = time.monotonic()
    waits, printer = asyncio.run(asyncio.wait_for(run(), 10))
    took = time.monotonic() - started
    assert printer.printed == [f"c{n}" for n in range(60)]  # all of them, in order
    # Never all in one go (the loop waited the whole printing time, before): a slice at
    # most (on a busy machine a slice takes longer: compared with the whole).
    assert max(waits) < max(RENDER_SLICE + 0.05, printer.spent / 3), (waits, printer.spent)
    assert took >= 0.3 / RENDER_SHARE * 0.8  # printing got about RENDER_SHARE of the time


def test_counted_things_come_as_one_line_per_kind() -> None:
    async def run() -> tuple[list[str], int]:
        printer = SlowPrinter()
        reporter = Reporter(printer, queue_limit=1)
        registrar = server()
        reporter.start(registrar)
        registrar.core.stats.unparseable += 5000
        registrar.core.stats.unparseable_unrecorded += 4999
        registrar.server_stats.refused += 7
        registrar.server_stats.idle_closed += 3  # shown with -v only
        registrar.core.stats.internal_errors += 2
        reporter.error(ValueError("invalid literal for int() with base 10: '¹'"))
        reporter.attempt(log(1))
        reporter.attempt(log(2))
        reporter.finish()
        again = len(printer.notes)
        reporter._tick(final=True)  # nothing new: nothing printed
        assert len(printer.notes) == again
        await registrar.close()
        return printer.notes, registrar.max_connections

    notes, limit = asyncio.run(run())
    assert notes == [
        "4999 unparseable messages, not answered (the first in each second is shown)",
        "1 attempts not shown: the output could not keep up (1 wait to be printed at most)",
        f"7 TCP/TLS connections refused: {limit} are open, the limit (--max-connections)",
        "2 inputs met a bug in sipcheck and were dropped (ValueError: invalid literal for "
        "int() with base 10: '¹'); run with --debug for the traceback",
    ]


def test_the_registrar_prints_a_challenged_attempt_as_it_happens() -> None:
    """A client that never answers the 401: a line at once, its ladder 4 s later."""
    import selectors
    import socket

    from tests.support.processes import registrar

    request = (
        b"REGISTER sip:example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKwait1\r\n"
        b"Max-Forwards: 70\r\nTo: <sip:alice@example.com>\r\n"
        b"From: <sip:alice@example.com>;tag=1\r\nCall-ID: wait-1\r\nCSeq: 1 REGISTER\r\n"
        b"Contact: <sip:alice@127.0.0.1:5999>\r\nContent-Length: 0\r\n\r\n"
    )
    with (
        registrar(["--account", "alice:pw"]) as server,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client,
    ):
        client.settimeout(5)
        client.sendto(request, ("127.0.0.1", server.ports["udp"]))
        assert client.recv(4096).startswith(b"SIP/2.0 401 ")
        sent = time.monotonic()
        assert server.proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(server.proc.stdout, selectors.EVENT_READ)
            assert sel.select(timeout=3), "nothing printed while the attempt waits"
        line = server.proc.stdout.readline()
        waited = time.monotonic() - sent
        out, _ = server.stop()
    assert waited < 3  # long before the attempt ends (4 s of silence)
    assert "REGISTER sip:alice@example.com from 127.0.0.1:" in line
    assert line.rstrip().endswith("/UDP: 401 Unauthorized, waiting for its credentials...")
    assert "no-answer" in out or "sent no answer" in out  # and the ladder when it ended
