"""The registrar core's entry point, bytes in and bytes out, with a fake clock.

Faults drawn from a seeded random.Random, the Via stamp, stream framing, counters and
the attempt bookkeeping (when an attempt ends, and what it says), all without a socket.
"""

from __future__ import annotations

import ast
import random
import re
from pathlib import Path

import pytest

from sipcheck.errors import ConfigError
from sipcheck.sip.digest.compute import answer_challenge
from sipcheck.sip.registrar.attempts import (
    IDLE_SECONDS,
    NO_ANSWER_SECONDS,
    AttemptLog,
    attempt_outcome,
)
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.faults import Faults
from sipcheck.sip.registrar.service import Output, RegistrarService
from sipcheck.sip.wire.auth import format_credentials, parse_challenges
from sipcheck.sip.wire.message import Response
from sipcheck.sip.wire.parser import parse_message
from sipcheck.trace import Address

SECRET = b"0123456789abcdef0123456789abcdef"
CLIENT = Address("192.0.2.1", 5060)
NATTED = Address("203.0.113.9", 40000)
LOCAL = Address("192.0.2.254", 5060)
T0 = 100.0
PACKAGE = Path(__file__).parent.parent / "sipcheck" / "sip" / "registrar"


def register(
    cseq: int = 1, *, auth: str | None = None, call_id: str = "c1", rport: bool = False
) -> bytes:
    lines = [
        "REGISTER sip:example.com SIP/2.0",
        f"Via: SIP/2.0/UDP 192.0.2.1:5060{';rport' if rport else ''};branch=z9hG4bK{call_id}{cseq}",
        "Max-Forwards: 70",
        "To: <sip:alice@example.com>",
        "From: <sip:alice@example.com>;tag=456248",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} REGISTER",
        "Contact: <sip:alice@192.0.2.1:5060>",
    ]
    if auth is not None:
        lines.append(f"Authorization: {auth}")
    lines.append("Content-Length: 0")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def service(**kw: object) -> RegistrarService:
    config = kw.pop("config", None) or RegistrarConfig(accounts={"alice": "secret"})
    return RegistrarService(Registrar(config, SECRET), wall_start=1_700_000_000.0, **kw)  # type: ignore[arg-type]


def receive(
    core: RegistrarService,
    data: bytes,
    now: float = T0,
    source: Address = CLIENT,
    transport: str = "udp",
) -> Output:
    return core.receive(data, source=source, local=LOCAL, transport=transport, now=now)


def response(out: Output, index: int = 0) -> Response:
    message = parse_message(out.sends[index].data)
    assert isinstance(message, Response)
    return message


def answer(challenge_response: Response, password: str = "secret", pick: int = 0) -> str:
    challenge = [
        c
        for v in challenge_response.headers.get_all("WWW-Authenticate")
        for c in parse_challenges(v)
    ][pick]
    creds = answer_challenge(
        challenge, username="alice", password=password, method="REGISTER",
        uri="sip:example.com", cnonce="0a4f113b", nc=1,
    )  # fmt: skip
    return format_credentials(creds)


# --- bytes in, bytes out --------------------------------------------------------------


def test_one_md5_challenge_by_default_then_200() -> None:
    core = service()
    first = receive(core, register(1))
    challenge = response(first)
    assert challenge.status == 401
    [value] = challenge.headers.get_all("WWW-Authenticate")
    assert re.fullmatch(
        r'Digest realm="example.com", nonce="[^"]+", algorithm=MD5, qop="auth"', value
    )
    assert first.sends[0].delay == 0.0 and first.ended == () and not first.close
    second = receive(core, register(2, auth=answer(challenge)), T0 + 0.1)
    assert response(second).status == 200
    [log] = second.ended
    assert [e.direction for e in log.trace.entries] == ["in", "out", "in", "out"]
    assert log.trace.entries[2].time == pytest.approx(0.1)
    assert log.trace.wall_start == 1_700_000_000.0 + T0
    assert attempt_outcome(log).result == "registered"
    assert core.stats.requests == 2 and core.stats.responses == {401: 1, 200: 1}


def test_the_core_stamps_received_and_rport() -> None:
    core = service()
    out = receive(core, register(1, rport=True), source=NATTED)
    assert response(out).header("Via") == (
        "SIP/2.0/UDP 192.0.2.1:5060;rport=40000;branch=z9hG4bKc11;received=203.0.113.9"
    )
    plain = receive(core, register(1, call_id="c2"))
    assert response(plain).header("Via") == "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKc21"


def test_a_retransmission_gets_the_same_bytes_and_stays_in_the_attempt() -> None:
    core = service()
    first = receive(core, register(1))
    again = receive(core, register(1), T0 + 0.5)
    assert again.sends == first.sends and again.handled[0].retransmission
    assert core.stats.responses == {401: 2}
    second = receive(core, register(2, auth=answer(response(first))), T0 + 1)
    [log] = second.ended
    assert [e.retransmission for e in log.trace.entries] == [False, False, True, True, False, False]


def test_unparseable_bytes_and_responses_get_no_answer() -> None:
    core = service()
    bad = receive(core, b"HELLO\r\n\r\n")
    assert bad.sends == () and bad.handled[0].mistake_ids == ["bad-request"]
    [log] = bad.ended
    assert log.trace.entries[0].note and "unparseable message, not answered" in (
        attempt_outcome(log).diagnoses[0].message
    )
    stray = receive(core, b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert stray == Output()
    assert (core.stats.requests, core.stats.unparseable) == (2, 1)


# --- faults ------------------------------------------------------------------------------


def test_faults_need_an_injected_random() -> None:
    with pytest.raises(ValueError, match=r"random\.Random"):
        service(faults=Faults(drop=0.5))
    service(faults=Faults(delay=0.2))  # a delay draws nothing
    for wrong in ({"drop": 1.5}, {"busy": -0.1}, {"delay": -1.0}, {"retry_after": -1}):
        with pytest.raises(ConfigError):
            Faults(**wrong)  # type: ignore[arg-type]


def test_drop_and_busy_follow_the_seeded_random() -> None:
    def run(seed: int) -> list[int | None]:
        core = service(faults=Faults(drop=0.3, busy=0.3, retry_after=7), rng=random.Random(seed))
        statuses: list[int | None] = []
        for n in range(40):
            out = receive(core, register(1, call_id=f"x{n}"), T0 + n)
            statuses.append(response(out).status if out.sends else None)
        assert core.stats.dropped == statuses.count(None)
        return statuses

    first = run(7)
    assert first == run(7)  # the same requests again
    assert {None, 401, 503} == set(first)
    core = service(faults=Faults(busy=1.0, retry_after=7), rng=random.Random(1))
    busy = receive(core, register(1))
    assert response(busy).start_line() == "SIP/2.0 503 Service Unavailable"
    assert response(busy).header("Retry-After") == "7"
    assert (
        response(busy).header(
            "Via",
        )
        is not None
    )
    [log] = busy.ended  # a 503 ends the attempt
    assert attempt_outcome(log).final_status == 503


def test_delay_is_returned_with_each_response_and_shown_in_the_trace() -> None:
    core = service(faults=Faults(delay=0.25))
    first = receive(core, register(1))
    assert first.sends[0].delay == 0.25
    second = receive(core, register(2, auth=answer(response(first))), T0 + 1)
    [log] = second.ended
    assert [e.time for e in log.trace.entries] == [0.0, 0.25, 1.0, 1.25]


# --- streams -------------------------------------------------------------------------------


def test_a_stream_is_framed_per_connection_and_pings_get_a_pong() -> None:
    core = service()
    data = register(1).replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")
    head, tail = data[:50], data[50:]
    assert receive(core, b"\r\n\r\n" + head, transport="tcp").sends[0].data == b"\r\n"
    # Another connection's bytes do not mix with the first one's.
    other = Address("192.0.2.1", 5070)
    assert receive(core, head, source=other, transport="tcp").sends == ()
    out = receive(core, tail + data.replace(b"CSeq: 1", b"CSeq: 2"), transport="tcp")
    assert [response(out, i).status for i in range(2)] == [401, 401]
    assert [a.transport for a in out.handled] == ["TCP", "TCP"]
    core.connection_lost(other, LOCAL, "tcp")
    assert receive(core, tail, source=other, transport="tcp").sends == ()  # a fresh framer


def test_a_stream_that_cannot_be_framed_is_closed() -> None:
    core = service()
    out = receive(core, b"REGISTER sip:example.com SIP/2.0\r\nVia: x\r\n\r\n", transport="tcp")
    assert out.close and out.sends == ()


# --- attempts: when they end ----------------------------------------------------------------


def test_an_unanswered_challenge_ends_after_a_few_seconds_with_what_was_offered() -> None:
    config = RegistrarConfig(accounts={"alice": "secret"}, algorithms=("SHA-256", "MD5"))
    core = service(config=config)
    assert core.next_timer() is None
    receive(core, register(1))
    assert core.next_timer() == T0 + NO_ANSWER_SECONDS == T0 + 4
    assert core.handle_timer(T0 + 3.9) == ()
    [log] = core.handle_timer(T0 + 4)
    assert core.next_timer() is None and log.ended == T0 + 4
    [diagnosis] = attempt_outcome(log).diagnoses
    assert diagnosis.id == "no-answer" and diagnosis.severity == "error"
    assert diagnosis.message == (
        "the client was challenged (401, algorithm SHA-256, MD5, qop auth) and sent no "
        "answer in 4 s"
    )
    assert "--algorithm MD5" in " ".join(diagnosis.advice)
    assert any("SHA-256" in cause for cause in diagnosis.causes)


def test_a_challenged_attempt_is_handed_over_as_waiting_once() -> None:
    core = service()
    first = receive(core, register(1))
    assert first.ended == () and first.waiting is not None
    assert first.waiting.call_id == "c1" and first.waiting.requests[-1].status == 401
    again = receive(core, register(1), T0 + 0.5)  # a retransmission: already waiting
    assert again.waiting is None and again.ended == ()
    done = receive(core, register(2, auth=answer(response(first))), T0 + 1)
    assert done.waiting is None and [log.call_id for log in done.ended] == ["c1"]
    assert response(done).status == 200


def test_no_answer_to_md5_auth_int_suggests_qop_auth() -> None:
    config = RegistrarConfig(accounts={"alice": "secret"}, qop="auth-int", challenge="proxy")
    core = service(config=config)
    receive(core, register(1))
    [log] = core.handle_timer(T0 + NO_ANSWER_SECONDS)
    [diagnosis] = attempt_outcome(log).diagnoses
    assert diagnosis.message.startswith(
        "the client was challenged (407, algorithm MD5, qop auth-int)"
    )
    assert "--qop auth" in " ".join(diagnosis.advice)
    assert not any("--algorithm" in advice for advice in diagnosis.advice)


def test_each_request_moves_the_deadline_and_a_423_waits_longer() -> None:
    config = RegistrarConfig(accounts={"alice": "secret"}, min_expires=60)
    core = service(config=config)
    first = receive(core, register(1))
    receive(core, register(1), T0 + 2)  # a retransmission: the client is still there
    assert core.next_timer() == T0 + 2 + NO_ANSWER_SECONDS
    brief = register(2, auth=answer(response(first))).replace(
        b"Content-Length", b"Expires: 30\r\nContent-Length"
    )
    assert response(receive(core, brief, T0 + 3)).status == 423
    assert core.next_timer() == T0 + 3 + IDLE_SECONDS
    assert core.handle_timer(T0 + 3 + IDLE_SECONDS - 0.1) == ()
    [log] = core.handle_timer(T0 + 3 + IDLE_SECONDS)
    assert [d.id for d in attempt_outcome(log).diagnoses] == ["interval-too-brief"]


def test_a_wrong_answer_ends_the_attempt_at_once() -> None:
    core = service()
    first = receive(core, register(1))
    wrong = receive(core, register(2, auth=answer(response(first), password="guess")), T0 + 1)
    assert response(wrong).status == 401
    [log] = wrong.ended
    assert [d.id for d in attempt_outcome(log).diagnoses] == ["wrong-password"]
    assert core.next_timer() is None


def test_close_ends_every_open_attempt() -> None:
    core = service()
    receive(core, register(1, call_id="a"))
    receive(core, register(1, call_id="b"), T0 + 1)
    logs = core.close(T0 + 2)
    assert sorted(log.call_id for log in logs) == ["a", "b"]
    assert all(isinstance(log, AttemptLog) and log.ended == T0 + 2 for log in logs)
    waited = {log.call_id: attempt_outcome(log).diagnoses[0].message for log in logs}
    assert waited["a"].endswith("sent no answer in 2 s")


def test_quiet_keeps_nothing_per_request_but_counts() -> None:
    core = service(record=False)
    first = receive(core, register(1))
    assert first.ended == () and core.next_timer() is None
    assert receive(core, b"junk\r\n\r\n").ended == ()
    assert core.close(T0) == ()
    assert (core.stats.requests, core.stats.unparseable, core.stats.responses) == (2, 1, {401: 1})


# --- purity -----------------------------------------------------------------------------------

_IMPURE = {"socket", "asyncio", "ssl", "selectors", "time", "random", "secrets", "os", "click",
           "rich", "scapy", "dns", "threading", "subprocess"}  # fmt: skip


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_the_registrar_core_imports_nothing_impure(path: Path) -> None:
    """Sans-I/O: no sockets, clocks or randomness of its own, no shell, no renderer.

    (``random`` may be named for type hints only, under TYPE_CHECKING.)
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    checked = [
        n
        for n in tree.body
        if not (isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))
    ]
    for node in ast.walk(ast.Module(body=checked, type_ignores=[])):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in _IMPURE, f"{path.name} imports {name}"
            assert not name.startswith(("sipcheck.net", "sipcheck.cli", "sipcheck.render")), name


def test_trace_imports_nothing_impure() -> None:
    tree = ast.parse((PACKAGE.parent.parent / "trace.py").read_text(encoding="utf-8"))
    modules = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert modules <= {"__future__", "dataclasses", "sipcheck.errors", "sipcheck.sip.wire.message",
                       "sipcheck.sip.wire.parser"}  # fmt: skip


# --- the shell arms the core's timer ------------------------------------------------------------


def test_the_server_reports_an_unanswered_challenge_when_the_core_says() -> None:
    import asyncio
    import socket

    from sipcheck.net.server import RegistrarServer

    async def run() -> tuple[list[AttemptLog], float]:
        ended: list[AttemptLog] = []
        core = service(no_answer=0.3)
        server = RegistrarServer(core, on_attempt=ended.append)
        local = await server.listen("udp", "127.0.0.1", 0)
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.bind(("127.0.0.1", 0))
        client.setblocking(False)
        loop = asyncio.get_running_loop()
        try:
            client.sendto(register(1), (local.host, local.port))
            reply = await asyncio.wait_for(loop.sock_recv(client, 4096), 5)
            assert reply.startswith(b"SIP/2.0 401")
            sent = server.now()
            while not ended and server.now() < sent + 5:
                await asyncio.sleep(0.02)
            return ended, server.now() - sent
        finally:
            client.close()
            await server.close()

    ended, waited = asyncio.run(run())
    [log] = ended
    assert attempt_outcome(log).diagnoses[0].id == "no-answer"
    assert 0.25 <= waited < 2.0
