"""What the registrar core keeps stays bounded, by count and by age, whatever arrives;
and no input makes ``receive`` raise. In memory, with a fake clock."""

from __future__ import annotations

import random

import pytest

from sipcheck.sip.registrar.attempts import AttemptLog, attempt_outcome
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.limits import Limits
from sipcheck.sip.registrar.service import Output, RegistrarService
from sipcheck.trace import Address
from tests.test_registrar_service import CLIENT, LOCAL, SECRET, T0, answer, register, response


def service(record: bool = True, **limits: float) -> RegistrarService:
    config = RegistrarConfig(accounts={"alice": "secret"}, limits=Limits(**limits))  # type: ignore[arg-type]
    return RegistrarService(Registrar(config, SECRET), record=record, wall_start=1.7e9)


def receive(core: RegistrarService, data: bytes, now: float = T0, transport: str = "udp") -> Output:
    return core.receive(data, source=CLIENT, local=LOCAL, transport=transport, now=now)


def test_an_unparseable_flood_is_counted_and_one_per_second_recorded() -> None:
    core = service()
    rng = random.Random(5)
    ended: list[AttemptLog] = []
    for i in range(1000):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 60)))
        out = core.receive(junk, source=CLIENT, local=LOCAL, transport="udp", now=T0 + i / 500)
        assert out.sends == () and out.error is None
        ended.extend(out.ended)
    assert len(ended) == 2  # one in each second the flood lasted
    assert all(attempt_outcome(log).diagnoses[0].id == "bad-request" for log in ended)
    stats = core.stats
    assert (stats.unparseable, stats.unparseable_unrecorded) == (1000, 998)
    assert len(core._book or ()) == 0


def test_open_attempts_are_bounded_and_the_oldest_ends_first() -> None:
    core = service(max_open_attempts=3)
    ended: list[AttemptLog] = []
    for n in range(5):
        out = core.receive(
            register(1, call_id=f"c{n}"), source=CLIENT, local=LOCAL, transport="udp", now=T0 + n
        )
        assert response(out).status == 401
        ended.extend(out.ended)
    assert [log.call_id for log in ended] == ["c0", "c1"]
    assert attempt_outcome(ended[0]).diagnoses[0].id == "no-answer"
    assert len(core._book or ()) == 3 and core.attempts_cut_short == 2


def test_an_attempt_records_a_bounded_number_of_messages() -> None:
    core = service(max_attempt_messages=8)
    ends = []
    for cseq in range(1, 10):
        out = core.receive(
            register(cseq), source=CLIENT, local=LOCAL, transport="udp", now=T0 + cseq * 0.1
        )
        ends.append(len(out.ended))
    assert ends == [0, 0, 0, 1, 0, 0, 0, 1, 0]  # 4 requests and their 4 answers each
    assert core.attempts_cut_short == 2


def test_an_attempt_lasts_a_bounded_time() -> None:
    core = service(max_attempt_seconds=30.0)
    ends = [
        len(core.receive(register(c), source=CLIENT, local=LOCAL, transport="udp",
                         now=T0 + 3 * c).ended)
        for c in range(1, 13)
    ]  # fmt: skip
    # Every 3 s a new challenge (the client never answers): ends when 30 s old.
    assert ends.index(1) == 10 and sum(ends) == 1


def test_the_deadline_heap_stays_bounded_under_a_stream_of_requests() -> None:
    core = service(max_open_attempts=10)
    for n in range(5000):
        receive(core, register(n + 1, call_id=f"c{n % 10}"), T0 + n * 0.001)
    book = core._book
    assert book is not None and len(book) == 10
    assert len(book._deadlines) <= 4 * 10 + 64


def test_retransmission_cache_and_nonce_table_are_bounded() -> None:
    core = service(record=False, max_held_responses=100, max_tracked_nonces=50)
    registrar = core.registrar
    for n in range(400):
        now = T0 + n * 0.01
        first = core.receive(
            register(1, call_id=f"c{n}"), source=CLIENT, local=LOCAL, transport="udp", now=now
        )
        auth = answer(response(first))
        ok = core.receive(
            register(2, call_id=f"c{n}", auth=auth),
            source=CLIENT, local=LOCAL, transport="udp", now=now,
        )  # fmt: skip
        assert response(ok).status in (200, 401)
    assert len(registrar._retransmissions) <= 100
    assert len(registrar.nonces) <= 50


def test_held_responses_leave_after_timer_j_without_a_purge() -> None:
    core = service(record=False)
    registrar = core.registrar
    for n in range(100):
        receive(core, register(1, call_id=f"a{n}"), T0)
    assert len(registrar._retransmissions) == 100
    receive(core, register(1, call_id="late"), T0 + 32.5)
    assert len(registrar._retransmissions) == 1


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_bug_met_by_an_input_is_counted_and_returned_not_raised(
    monkeypatch: pytest.MonkeyPatch, transport: str
) -> None:
    core = service()

    def broken(*args: object, **kw: object) -> object:
        raise ValueError("invalid literal for int() with base 10: '¹'")

    monkeypatch.setattr(core.registrar, "handle", broken)
    data = register(1).replace(b"SIP/2.0/UDP", f"SIP/2.0/{transport.upper()}".encode())
    out = core.receive(data, source=CLIENT, local=LOCAL, transport=transport, now=T0)
    assert isinstance(out.error, ValueError)
    assert out.close is (transport == "tcp") and out.sends == ()
    assert core.stats.internal_errors == 1
    monkeypatch.undo()
    other = Address("192.0.2.1", 5099)
    again = core.receive(data, source=other, local=LOCAL, transport=transport, now=T0 + 1)
    assert again.error is None and response(again).status == 401


def test_bindings_are_bounded_per_aor_and_in_all() -> None:
    from sipcheck.sip.registrar.authenticator import Account
    from tests.test_registrar_core import answer as core_answer
    from tests.test_registrar_core import register as core_register
    from tests.test_registrar_core import response_of, send

    config = RegistrarConfig(
        accounts={"alice": Account("secret", frozenset({"*"}))}, algorithms=("MD5",),
        limits=Limits(max_bindings_per_aor=2, max_bindings=3),
    )  # fmt: skip
    registrar = Registrar(config, SECRET)
    cseq = 0

    def bind(contact: str, *, to: str = "<sip:alice@example.com>", expires: str = "600") -> int:
        nonlocal cseq
        cseq += 2
        first = response_of(send(registrar, core_register(cseq - 1, to=to, contact=contact)))
        request = core_register(
            cseq, to=to, contact=f"{contact};expires={expires}", auth=core_answer(first)
        )
        result = send(registrar, request)
        if result.attempt.status == 503:
            assert result.attempt.mistake_ids == ["too-many-bindings"]
        return response_of(result).status

    assert bind("<sip:a@192.0.2.1>") == bind("<sip:b@192.0.2.1>") == 200
    assert bind("<sip:c@192.0.2.1>") == 503  # a third for alice
    assert bind("<sip:a@192.0.2.1>") == 200  # a refresh is no new binding
    assert bind("<sip:a@192.0.2.1>", expires="0") == 200  # a removal frees one
    assert bind("<sip:c@192.0.2.1>") == 200
    assert len(registrar.store) == 2
    assert registrar.store.bindings("sip:alice@example.com", T0)[0].contact == "sip:b@192.0.2.1"
    bob = "<sip:bob@example.com>"
    assert bind("<sip:bob@192.0.2.2>", to=bob) == 200  # 3 in all
    assert bind("<sip:bob2@192.0.2.2>", to=bob) == 503  # a fourth: over max_bindings
    assert len(registrar.store) == 3


def test_recorded_octets_are_bounded_whatever_the_message_size() -> None:
    """Big messages (64 KiB datagrams), many Call-IDs: the counts alone would allow
    gigabytes; the octets recorded stay under max_recorded_octets."""
    core = service(max_recorded_octets=1_000_000)
    padding = "X-Padding: " + "p" * 60_000
    ended = 0
    for n in range(100):
        data = register(1, call_id=f"big{n}").replace(
            b"Content-Length", padding.encode() + b"\r\nContent-Length"
        )
        out = core.receive(data, source=CLIENT, local=LOCAL, transport="udp", now=T0 + n)
        assert response(out).status == 401
        ended += len(out.ended)
        book = core._book
        assert book is not None and book.octets <= 1_000_000
    assert ended > 80 and core.attempts_cut_short == ended
    book = core._book
    assert book is not None
    assert book.octets == sum(log.octets for log in book._open.values())


def test_attempts_waiting_to_be_printed_are_bounded_in_octets() -> None:
    from sipcheck.cli import registrar_output
    from sipcheck.cli.registrar_output import Printer, Reporter
    from sipcheck.trace import Trace

    reporter = Reporter(Printer({}), queue_limit=10**6)
    big = AttemptLog("c", Trace(), octets=registrar_output.RENDER_QUEUE_OCTETS // 3)
    for _ in range(5):
        reporter.attempt(big)
    assert reporter.not_shown == 2 and reporter._queued_octets == 3 * big.octets
