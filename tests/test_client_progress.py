"""The driver's progress events, its timer and transport notes (what -vvv shows), the
connection pool --count uses, and what -v, -vv and -vvv add to the ladder.

The driver runs on real loopback sockets: a silent UDP socket (nothing ever answers)
or sipcheck's registrar core (tests/support/capture.py). T1 is short, so Timer E's
schedule (T1, 2*T1, 4*T1 ...) and --timeout give a fixed order of events quickly.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import Iterator

import pytest

from sipcheck.cli.aor_argument import parse_aor_argument
from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.client_settings import ClientSettings, build_client_settings
from sipcheck.net import progress as p
from sipcheck.net.client import ConnectionPool, run_client
from sipcheck.outcome import RunRecord, build_outcome
from sipcheck.render.ladder import render_ladder
from sipcheck.secret import Secret
from sipcheck.sip.client.config import Mode
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.locate.targets import Resolution, Target
from sipcheck.trace import Address, Trace, TraceEntry
from tests.support.capture import CapturingRegistrar
from tests.test_render import auth_outcome, auth_trace, render

PASSWORD = "pw-progress"


@pytest.fixture
def silent() -> Iterator[int]:
    """A UDP port on 127.0.0.1 where a socket is bound and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


def settings(port: int, *, t1: float = 0.5, timeout: float = 32.0) -> ClientSettings:
    options = ClientOptions(t1=t1, timeout=timeout)
    argument = parse_aor_argument(f"alice@127.0.0.1:{port}")
    plan = build_client_settings(Mode.REGISTER, argument, options)
    return plan.with_password(Secret(PASSWORD))


def resolution(port: int) -> Resolution:
    return Resolution((Target("127.0.0.1", "127.0.0.1", port, "udp"),), ())


async def drive_async(
    plan: ClientSettings, pool: ConnectionPool | None = None
) -> tuple[RunRecord, list[p.ProgressEvent]]:
    events: list[p.ProgressEvent] = []
    registration = Registration(plan.config, rng=random.Random(3), now=0.0)
    record = await run_client(
        registration,
        resolution(plan.resolve_port or 5060),
        plan.net,
        command="register",
        progress=events.append,
        pool=pool,
    )
    return record, events


def drive(plan: ClientSettings) -> tuple[RunRecord, list[p.ProgressEvent]]:
    return asyncio.run(drive_async(plan))


def test_a_silent_server_is_told_retransmission_by_retransmission(silent: int) -> None:
    # T1 = 0.1 s: Timer E at 0.1, 0.3, 0.7, 1.5; --timeout 1.1 ends it at 1.1.
    record, events = drive(settings(silent, t1=0.1, timeout=1.1))
    kinds = [type(e).__name__ for e in events]
    assert kinds == [
        "Connecting", "Connected", "Sent",
        "TimerFired", "Sent", "TimerFired", "Sent", "TimerFired", "Sent",
        "TimerFired",
    ]  # fmt: skip
    sent = [e for e in events if isinstance(e, p.Sent)]
    assert [e.retransmission for e in sent] == [0, 1, 2, 3]
    assert all(e.start_line.startswith("REGISTER sip:127.0.0.1:") for e in sent)
    assert sent[0].remote == Address("127.0.0.1", silent) and sent[0].transport == "udp"
    # The first copy knows how long the wait can last: --timeout (before Timer F, 6.4 s).
    assert sent[0].limit is not None and 1.0 < sent[0].limit <= 1.1
    fired = [e for e in events if isinstance(e, p.TimerFired)]
    assert [e.timer for e in fired] == ["E", "E", "E", "deadline"]
    assert fired[0].detail == "Timer E fired: retransmission 1, next Timer E in 0.200s"
    assert fired[-1].detail == "--timeout 1.1 s reached"
    assert build_outcome(record).diagnoses[0].id == "timeout"


def test_the_trace_notes_timers_and_transport_events(silent: int) -> None:
    record, _ = drive(settings(silent, t1=0.05, timeout=0.2))
    notes = [(n.kind, n.text) for n in record.trace.notes]
    assert notes[0][0] == "connect"
    assert notes[1] == ("timer", "Timer E in 0.050s, Timer F in 3.200s")
    assert ("timer", "Timer E fired: retransmission 1, next Timer E in 0.100s") in notes
    assert notes[-1][0] == "transport" and notes[-1][1].startswith("closed UDP 127.0.0.1:")


def test_events_of_a_challenged_registration() -> None:
    with CapturingRegistrar({"alice": PASSWORD}) as registrar:
        record, events = drive(settings(registrar.port))
    assert build_outcome(record).result == "registered"
    flow = [
        (type(e).__name__, getattr(e, "status", getattr(e, "retransmission", None)))
        for e in events
        if isinstance(e, (p.Sent, p.Received))
    ]
    assert flow == [("Sent", 0), ("Received", 401), ("Sent", 0), ("Received", 200)]
    assert not any(isinstance(e, p.TimerFired) for e in events)


def test_the_pool_keeps_the_connection_for_the_next_run() -> None:
    async def twice(plan: ClientSettings) -> tuple[RunRecord, RunRecord, list[p.ProgressEvent]]:
        pool = ConnectionPool()  # its connections belong to this event loop
        try:
            first, _ = await drive_async(plan, pool)
            second, events = await drive_async(plan, pool)
        finally:
            pool.close()
        return first, second, events

    with CapturingRegistrar({"alice": PASSWORD}) as registrar:
        first, second, events = asyncio.run(twice(settings(registrar.port)))
    local = {entry.local for entry in first.trace.entries + second.trace.entries}
    assert len(local) == 1  # the same socket, so the same Contact
    connected = [e for e in events if isinstance(e, p.Connected)]
    assert connected[0].reused and not any(isinstance(e, p.Connecting) for e in events)
    assert "(kept open from the previous run)" in second.trace.notes[0].text
    assert build_outcome(second).result == "registered"


def test_a_connection_that_failed_is_not_kept(silent: int) -> None:
    from sipcheck.net.aio_transports import UdpConnection
    from sipcheck.net.transports import Failed

    async def run() -> tuple[bool, bool]:
        pool = ConnectionPool()
        target = resolution(silent).targets[0]
        healthy = await UdpConnection.open("127.0.0.1", silent, None)
        pool.keep(target, healthy)
        kept = pool.take(target) is healthy
        broken = await UdpConnection.open("127.0.0.1", silent, None)
        broken.queue.put_nowait(Failed("nothing is listening there", True))
        pool.keep(target, broken)
        refused = pool.take(target) is None
        healthy.close()
        return kept, refused

    assert asyncio.run(run()) == (True, True)


# ------------------------------------------------------------- -v -vv -vvv


def with_body_and_notes() -> Trace:
    trace = auth_trace()
    first = trace.entries[0]
    sdp = first.raw.replace(
        b"Content-Length: 0\r\n\r\n", b"Content-Length: 13\r\n\r\nv=0\r\no=body-x\r\n"
    )
    trace.entries[0] = TraceEntry(first.direction, first.time, first.local, first.remote,
                                  first.transport, sdp)  # fmt: skip
    trace.note(0.0, "connect", "UDP 192.168.1.10:5060 -> 203.0.113.1:5060")
    trace.note(0.0001, "timer", "Timer E in 0.500s, Timer F in 32.000s")
    trace.note(0.05, "transport", "closed UDP 192.168.1.10:5060 -> 203.0.113.1:5060")
    return trace


def test_each_verbosity_adds_its_own() -> None:
    trace, outcome = with_body_and_notes(), auth_outcome()
    shown = {v: render(render_ladder(trace, outcome, verbose=v, width=120)) for v in range(4)}
    assert "Max-Forwards: 70" not in shown[0]
    # -v: the headers of every message, not the body.
    assert "Max-Forwards: 70" in shown[1] and "CSeq: 2 REGISTER" in shown[1]
    assert "o=body-x" not in shown[1]
    # -vv: every message in full.
    assert "o=body-x" in shown[2]
    # -vvv: also the timers and transport events, which the others leave out.
    for note in ("· timer: Timer E in 0.500s", "· transport: closed UDP", "· connect: UDP"):
        assert all(note not in shown[v] for v in range(3)), note
        assert note in shown[3], note
    assert "o=body-x" in shown[3]


def test_slow_dns_is_told_before_it_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    from sipcheck.cli import client_run
    from sipcheck.net import dns

    events: list[p.ProgressEvent] = []
    with CapturingRegistrar({"alice": PASSWORD}) as registrar:

        async def slow(*args: object, **kw: object) -> Resolution:
            assert [type(e).__name__ for e in events] == ["Resolving"]  # said before the wait
            await asyncio.sleep(0.05)
            return resolution(registrar.port)

        monkeypatch.setattr(dns, "resolve", slow)
        plan = build_client_settings(
            Mode.REGISTER, parse_aor_argument("alice@pbx.example.com"), ClientOptions()
        ).with_password(Secret(PASSWORD))
        record = asyncio.run(client_run.execute_record(plan, progress=events.append))
    assert events[0] == p.Resolving(0.0, "pbx.example.com")
    assert events[1] == p.Resolved(0.0, 1)
    assert isinstance(events[2], p.Connecting)
    assert build_outcome(record).result == "registered"


def test_dash_vvv_shows_the_timers_on_the_command_line() -> None:
    from click.testing import CliRunner

    from sipcheck.cli.main import cli

    with CapturingRegistrar({"alice": PASSWORD}) as registrar:
        result = CliRunner().invoke(
            cli,
            ["register", f"alice@{registrar.where}", "--password-env", "PW", "-vvv"],
            env={"PW": PASSWORD, "NO_COLOR": "1", "CI": "true"},
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    flat = " ".join(result.stdout.split())
    assert flat.count("· timer: Timer E in 0.500s, Timer F in 32.000s") == 2  # two requests
    assert "· connect: UDP 127.0.0.1:" in flat and "· transport: closed UDP" in flat
