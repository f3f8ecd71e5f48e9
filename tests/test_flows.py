"""Registration flows: the client core against the registrar core (or a scripted peer)
in memory, over a lossy link, on a fake clock (tests/support/pairing.py).

Each case asserts the final status, the exit status, the diagnosis ids, how many
requests were sent and their CSeqs; the link cases also assert the retransmissions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from sipcheck.diagnosis.classify import classify
from sipcheck.diagnosis.explain import diagnose
from sipcheck.diagnosis.facts import read_facts
from sipcheck.outcome import build_outcome, intent_of, run_failure
from sipcheck.sip.client.config import Credential, Mode, RegistrationConfig, parse_aor
from sipcheck.sip.client.events import PasswordNeeded, TargetFailed
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.registration import MAX_REALMS
from sipcheck.sip.registrar.authenticator import Account as RegistrarAccount
from sipcheck.sip.registrar.config import RegistrarConfig
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.message import Request, Response
from sipcheck.sip.wire.parser import parse_message
from sipcheck.trace import Address, Outcome
from tests.support.pairing import (
    DOWN,
    UNREACHABLE,
    UP,
    Faults,
    Link,
    PairRecord,
    ProxyPeer,
    RegistrarPeer,
    ScriptedPeer,
    always,
    cseq_of,
    in_turn,
    realm_changing,
    run_pair,
    stale_forever,
)

AOR = parse_aor("alice@example.com")
README = Path(__file__).resolve().parents[1] / "README.md"
# RFC 3261 §17.1.2.2 over UDP: T1 = 0.5 s doubling to T2 = 4 s, from the first send.
TIMER_E_OFFSETS = (0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5)
# Statuses no registration flow can produce: internal error, usage, lint, interrupt,
# a closed stdout.
NOT_FLOW_STATUSES = {1, 2, 10, 130, 141}


def client(password: str | None = "secret", **kw: object) -> RegistrationConfig:
    return RegistrationConfig(
        aor=AOR,
        accounts=(Credential("alice", password=password),),
        **kw,  # type: ignore[arg-type]
    )


def registrar(**kw: object) -> RegistrarConfig:
    settings: dict[str, object] = {"accounts": {"alice": "secret"}, "realm": "example.com"}
    settings.update(kw)
    return RegistrarConfig(**settings)  # type: ignore[arg-type]


def ids(outcome: Outcome) -> list[str]:
    return [d.id for d in outcome.diagnoses]


def header(entry_raw: bytes, name: str) -> str | None:
    return parse_message(entry_raw).headers.get(name)


def lines(record: PairRecord) -> list[tuple[str, float, str]]:
    """The client's ladder: direction, fake time, start line."""
    return [(e.direction, e.time, e.start_line) for e in record.trace.entries]


# --------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[], PairRecord]
    final: int | None
    exit_status: int
    ids: tuple[str, ...]  # every diagnosis id, in order (the failure's first)
    requests: int
    xfail: str | None = None  # a core bug this case exposes

    @property
    def cseqs(self) -> list[int]:
        return list(range(1, self.requests + 1))


def proxy_then_registrar() -> ProxyPeer:
    return ProxyPeer(registrar(challenge="proxy"), RegistrarPeer(registrar()))


REDIRECT = ("Contact", "<sip:127.0.0.1:5070>")  # peer 1
BUSY = ("Retry-After", "30")
# One local address for every connection (as --bind does), so that a failover case
# does not also meet the nat-detected problem of the 302 case.
BIND = Address("127.0.0.1", 40000)

CASES = [
    Case("401", lambda: run_pair(client(), registrar()), 200, 0, (), 2),
    Case("407", lambda: run_pair(client(), registrar(challenge="proxy")), 200, 0, (), 2),
    Case("407-then-401", lambda: run_pair(client(), proxy_then_registrar()), 200, 0, (), 3),
    Case(
        "stale-once",
        # The answer (CSeq 2) is lost twice; its retransmission at 1.5 s finds the
        # nonce (lifetime 1 s) stale, and the answer to the new nonce gets the 200.
        lambda: run_pair(
            client(), registrar(nonce_lifetime=1.0), Link(up=Faults(drop=frozenset({2, 3})))
        ),
        200,
        0,
        ("stale-nonce",),
        3,
    ),
    Case(
        "stale-always-scripted",
        lambda: run_pair(client(), ScriptedPeer(stale_forever())),
        401,
        3,
        ("nonce-always-stale",),
        4,
    ),
    Case(
        "stale-always-round-trip",
        # A nonce lifetime shorter than the round trip: every answer arrives stale.
        lambda: run_pair(client(), registrar(nonce_lifetime=0.3), Link(delay=0.2)),
        401,
        3,
        ("nonce-always-stale",),
        4,
    ),
    Case(
        "wrong-password",
        lambda: run_pair(client("wrong"), registrar()),
        401,
        3,
        ("credentials-rejected",),
        2,
    ),
    Case(
        "no-password",
        lambda: run_pair(client(None), registrar(), password=None),
        401,
        3,
        ("no-password",),
        1,
    ),
    Case(
        "realm-not-ours",
        lambda: run_pair(
            RegistrationConfig(
                aor=AOR, accounts=(Credential("alice", password="secret", realm="example.com"),)
            ),
            ScriptedPeer(realm_changing()),
        ),
        401,
        3,
        ("no-credentials-for-realm",),
        2,
    ),
    Case(
        "423-once",
        lambda: run_pair(client(expires=60), registrar(min_expires=600)),
        200,
        0,
        ("interval-raised",),
        3,
    ),
    Case(
        "423-twice",
        lambda: run_pair(
            client(expires=60),
            ScriptedPeer(
                in_turn(always(423, ("Min-Expires", "120")), always(423, ("Min-Expires", "600")))
            ),
        ),
        423,
        4,
        ("interval-too-brief",),
        2,
    ),
    Case(
        "403-aor-not-allowed",
        lambda: run_pair(
            client(), registrar(accounts={"alice": RegistrarAccount("secret", frozenset({"bob"}))})
        ),
        403,
        3,
        ("forbidden",),
        2,
    ),
    Case(
        "404-domain-not-served",
        lambda: run_pair(client(), registrar(domains=frozenset({"example.org"}))),
        404,
        4,
        ("not-found",),
        1,
    ),
    Case(
        "404-scripted",
        lambda: run_pair(client(), ScriptedPeer(always(404))),
        404,
        4,
        ("not-found",),
        1,
    ),
    Case(
        "302-to-second-peer",
        lambda: run_pair(client(), [ScriptedPeer(always(302, REDIRECT)), registrar()]),
        200,
        0,
        (),
        3,
    ),
    Case(
        "302-nowhere",
        lambda: run_pair(client(), ScriptedPeer(always(302, ("Contact", "<sip:127.0.0.1:5990>")))),
        302,
        4,
        ("redirected",),
        1,
    ),
    Case(
        "503-then-second-peer",
        lambda: run_pair(client(), [ScriptedPeer(always(503, BUSY)), registrar()], bind=BIND),
        200,
        0,
        (),
        3,
    ),
    Case(
        "503-no-peer-left",
        lambda: run_pair(client(), ScriptedPeer(always(503, BUSY))),
        503,
        5,
        ("server-error",),
        1,
    ),
    Case(
        "503-every-peer",
        lambda: run_pair(client(), [ScriptedPeer(always(503, BUSY)), ScriptedPeer(always(503))]),
        503,
        5,
        ("server-error",),
        2,
    ),
    Case(
        "603", lambda: run_pair(client(), ScriptedPeer(always(603))), 603, 6, ("global-failure",), 1
    ),
    Case(
        "total-loss",
        lambda: run_pair(client(), registrar(), Link(up=Faults(loss=1.0))),
        None,
        7,
        ("timeout",),
        1,
    ),
    Case(
        "only-provisional",
        lambda: run_pair(client(), ScriptedPeer(always(100))),
        None,
        7,
        ("timeout",),
        1,
    ),
    Case(
        "timeout-then-second-peer",
        lambda: run_pair(client(timeout=64), [registrar(), registrar()], Link(up=Faults(loss=1.0))),
        None,
        7,
        ("timeout",),
        2,
    ),
    Case(
        "timer-f-then-second-peer",
        lambda: run_pair(
            client(timeout=64),
            [registrar(), registrar()],
            Link(up=Faults(drop=frozenset(range(1, 12)))),
            bind=BIND,
        ),
        200,
        0,
        (),
        3,
    ),
    Case("unreachable", lambda: run_pair(client(), UNREACHABLE), None, 8, ("unreachable",), 1),
    Case(
        "unreachable-then-second-peer",
        lambda: run_pair(client(), [UNREACHABLE, registrar()], bind=BIND),
        200,
        0,
        (),
        3,
    ),
]


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            c,
            id=c.name,
            marks=[pytest.mark.xfail(strict=True, reason=c.xfail)] if c.xfail else [],
        )
        for c in CASES
    ],
)
def test_flow(case: Case) -> None:
    record = case.run()
    outcome = build_outcome(record)
    assert record.registration.done
    assert outcome.final_status == case.final
    assert outcome.exit_status == case.exit_status
    assert ids(outcome) == list(case.ids)
    assert record.registration.result.requests_sent == case.requests
    assert record.cseqs == case.cseqs
    assert outcome.result == ("registered" if case.exit_status == 0 else "failed")


def test_every_exit_status_of_the_readme_comes_from_a_flow() -> None:
    text = README.read_text()
    section = text.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    listed = {int(n) for n in re.findall(r"^\| (\d+) \|", section, re.M)}
    assert {0, 3, 4, 5, 6, 7, 8} <= listed  # the table was found and read
    produced = {build_outcome(c.run()).exit_status for c in CASES if c.xfail is None}
    assert produced == listed - NOT_FLOW_STATUSES


# ------------------------------------------------------------------ flows in detail


def test_401_ladder_addresses_times_and_registrar_view() -> None:
    record = run_pair(client(), registrar())
    outcome = build_outcome(record)
    assert [
        (e.direction, str(e.local), str(e.remote), e.transport) for e in record.trace.entries
    ] == [
        ("out", "127.0.0.1:40000", "127.0.0.1:5060", "udp"),
        ("in", "127.0.0.1:40000", "127.0.0.1:5060", "udp"),
    ] * 2
    assert lines(record) == [
        ("out", 0.0, "REGISTER sip:example.com SIP/2.0"),
        ("in", 0.0, "SIP/2.0 401 Unauthorized"),
        ("out", 0.0, "REGISTER sip:example.com SIP/2.0"),
        ("in", 0.0, "SIP/2.0 200 OK"),
    ]
    assert header(record.sent[0].raw, "Authorization") is None
    assert header(record.sent[1].raw, "Authorization") is not None
    peer = record.peers[0]
    assert isinstance(peer, RegistrarPeer)
    assert [a.mistake_ids for a in peer.attempts] == [["no-credentials"], []]
    assert [(a["realm"], a["proxy"], a["algorithm"], a["nc"]) for a in outcome.auth] == [
        ("example.com", False, "MD5", "00000001")
    ]
    assert outcome.contact_sent == "sip:alice@127.0.0.1:40000"
    assert [(b.contact, b.expires, b.ours) for b in outcome.bindings] == [
        ("sip:alice@127.0.0.1:40000", 3600, True)
    ]
    assert str(outcome.seen_as) == "127.0.0.1:40000"
    assert outcome.total_ms == 0.0


def test_407_then_401_answers_both_and_keeps_the_proxy_answer() -> None:
    record = run_pair(client(), proxy_then_registrar())
    outcome = build_outcome(record)
    assert [e.start_line for e in record.received] == [
        "SIP/2.0 407 Proxy Authentication Required",
        "SIP/2.0 401 Unauthorized",
        "SIP/2.0 200 OK",
    ]
    sent = [
        (
            header(e.raw, "Proxy-Authorization") is not None,
            header(e.raw, "Authorization") is not None,
        )
        for e in record.sent
    ]
    assert sent == [(False, False), (True, False), (True, True)]
    assert [(a["proxy"], a["nc"]) for a in outcome.auth] == [
        (True, "00000001"),
        (False, "00000001"),
    ]
    # The third request answers the proxy's nonce again, with the next count.
    third = header(record.sent[2].raw, "Proxy-Authorization") or ""
    assert "nc=00000002" in third


def test_stale_once_timeline() -> None:
    record = run_pair(
        client(), registrar(nonce_lifetime=1.0), Link(up=Faults(drop=frozenset({2, 3})))
    )
    assert lines(record) == [
        ("out", 0.0, "REGISTER sip:example.com SIP/2.0"),
        ("in", 0.0, "SIP/2.0 401 Unauthorized"),
        ("out", 0.0, "REGISTER sip:example.com SIP/2.0"),  # lost
        ("out", 0.5, "REGISTER sip:example.com SIP/2.0"),  # lost
        ("out", 1.5, "REGISTER sip:example.com SIP/2.0"),  # 1.5 s after the nonce: stale
        ("in", 1.5, "SIP/2.0 401 Unauthorized"),
        ("out", 1.5, "REGISTER sip:example.com SIP/2.0"),
        ("in", 1.5, "SIP/2.0 200 OK"),
    ]
    assert [e.retransmission for e in record.sent] == [False, False, True, True, False]
    assert record.link.actions(UP, "lost") == [2, 3]
    stale = record.received[1].message
    assert isinstance(stale, Response)
    assert "stale=true" in (stale.headers.get("WWW-Authenticate") or "")
    assert record.registration.result.stale_retries == 1
    # Each nonce answered is listed: the first, then the stale challenge's new one.
    assert [(a["stale"], a["nc"]) for a in build_outcome(record).auth] == [
        (False, "00000001"),
        (True, "00000001"),
    ]


def test_stale_after_a_slow_password_prompt() -> None:
    # A person types for 3 s; the registrar's nonces live 1 s.
    record = run_pair(
        client(None), registrar(nonce_lifetime=1.0), password="secret", prompt_seconds=3.0
    )
    outcome = build_outcome(record)
    assert outcome.exit_status == 0
    assert ids(outcome) == ["stale-nonce"]
    # Asked once: the answer to the stale challenge reuses the password.
    assert sum(isinstance(e, PasswordNeeded) for e in record.events) == 1
    assert record.send_times == [0.0, 3.0, 3.0]
    assert record.cseqs == [1, 2, 3]
    assert outcome.info["password_prompt_ms"] == 3000.0
    assert outcome.total_ms == 0.0


def test_password_answered_at_the_prompt() -> None:
    record = run_pair(client(None), registrar(), password="secret", prompt_seconds=2.0)
    outcome = build_outcome(record)
    assert (outcome.exit_status, ids(outcome), record.cseqs) == (0, [], [1, 2])
    assert [(e.realm, e.auth_user) for e in record.events if isinstance(e, PasswordNeeded)] == [
        ("example.com", "alice")
    ]
    assert record.send_times == [0.0, 2.0]


def test_423_once_retries_with_min_expires() -> None:
    record = run_pair(client(expires=60), registrar(min_expires=600))
    outcome = build_outcome(record)
    assert [header(e.raw, "Expires") for e in record.sent] == ["60", "60", "600"]
    assert [e.start_line for e in record.received] == [
        "SIP/2.0 401 Unauthorized",
        "SIP/2.0 423 Interval Too Brief",
        "SIP/2.0 200 OK",
    ]
    assert record.registration.result.min_expires_retry == 600
    assert outcome.granted_expires == 600


def test_403_after_the_password_was_accepted() -> None:
    record = run_pair(
        client(), registrar(accounts={"alice": RegistrarAccount("secret", frozenset({"bob"}))})
    )
    peer = record.peers[0]
    assert isinstance(peer, RegistrarPeer)
    assert [a.mistake_ids for a in peer.attempts] == [["no-credentials"], ["aor-not-allowed"]]
    assert build_outcome(record).diagnoses[0].severity == "error"


def test_realm_changing_server_stops_at_the_realm_bound() -> None:
    record = run_pair(client(), ScriptedPeer(realm_changing()))
    result = record.registration.result
    # MAX_REALMS (4) realms are answered, then the next new one ends the run.
    assert (result.failure, result.requests_sent, record.cseqs) == (
        Failure.CREDENTIALS_REJECTED,
        MAX_REALMS + 1,
        list(range(1, MAX_REALMS + 2)),
    )
    # Every new realm is answered and kept: request n carries n - 1 Authorization headers.
    counts = [len(parse_message(e.raw).headers.get_all("Authorization")) for e in record.sent]
    assert counts == list(range(MAX_REALMS + 1))
    assert record.received[-1].start_line == "SIP/2.0 401 Unauthorized"


def test_realm_changing_server_is_an_authentication_failure() -> None:
    outcome = build_outcome(run_pair(client(), ScriptedPeer(realm_changing())))
    assert outcome.exit_status == 3
    assert outcome.diagnoses[0].id == "credentials-rejected"
    assert outcome.diagnoses[0].causes[0] == (
        f"the server names a new realm with each challenge ({MAX_REALMS + 1} so far)"
    )


def test_redirect_to_a_second_peer() -> None:
    first = ScriptedPeer(always(302, REDIRECT))
    record = run_pair(client(), [first, registrar()])
    outcome = build_outcome(record)
    assert (outcome.final_status, outcome.exit_status, record.cseqs) == (200, 0, [1, 2, 3])
    assert [(str(e.local), str(e.remote), e.start_line) for e in record.trace.entries] == [
        ("127.0.0.1:40000", "127.0.0.1:5060", "REGISTER sip:example.com SIP/2.0"),
        ("127.0.0.1:40000", "127.0.0.1:5060", "SIP/2.0 302 Moved Temporarily"),
        ("127.0.0.1:40001", "127.0.0.1:5070", "REGISTER sip:127.0.0.1:5070 SIP/2.0"),
        ("127.0.0.1:40001", "127.0.0.1:5070", "SIP/2.0 401 Unauthorized"),
        ("127.0.0.1:40001", "127.0.0.1:5070", "REGISTER sip:127.0.0.1:5070 SIP/2.0"),
        ("127.0.0.1:40001", "127.0.0.1:5070", "SIP/2.0 200 OK"),
    ]
    assert [(f.target.port, f.failure) for f in record.failures] == [(5060, Failure.REDIRECTED)]
    assert len(first.served) == 1
    assert record.registration.result.redirects == ["sip:127.0.0.1:5070"]
    assert outcome.target["address"] == "127.0.0.1:5070"


def test_503_failover_reaches_the_second_peer() -> None:
    busy = ScriptedPeer(always(503, BUSY))
    record = run_pair(client(), [busy, registrar()])
    events = [e for e in record.events if isinstance(e, TargetFailed)]
    assert [(e.reason, e.detail) for e in events] == [
        (Failure.SERVER_ERROR, "503 Service Unavailable (Retry-After: 30)")
    ]
    assert [e.start_line for e in record.received] == [
        "SIP/2.0 503 Service Unavailable",
        "SIP/2.0 401 Unauthorized",
        "SIP/2.0 200 OK",
    ]
    assert [str(e.remote) for e in record.sent] == [
        "127.0.0.1:5060",
        "127.0.0.1:5070",
        "127.0.0.1:5070",
    ]
    assert record.registration.result.final is not None
    assert record.registration.result.final.status == 200


def test_503_retry_on_the_same_peer() -> None:
    peer = ScriptedPeer(in_turn(always(503, BUSY), always(200)))
    record = run_pair(client(), peer, on_failure="same")
    assert [str(e.local) for e in record.sent] == ["127.0.0.1:40000", "127.0.0.1:40001"]
    assert [cseq_of(s.request) for s in peer.served] == [1, 2]
    assert record.registration.result.final is not None
    assert record.registration.result.final.status == 200


def test_503_give_up_when_told() -> None:
    record = run_pair(
        client(), [ScriptedPeer(always(503, BUSY)), registrar()], on_failure="give-up"
    )
    outcome = build_outcome(record)
    assert (outcome.final_status, outcome.exit_status, ids(outcome)) == (503, 5, ["server-error"])
    assert [str(e.remote) for e in record.sent] == ["127.0.0.1:5060"]


# ------------------------------------------------------------------------ timers


def test_total_loss_retransmits_on_timer_e_and_times_out_on_timer_f() -> None:
    record = run_pair(client(), registrar(), Link(up=Faults(loss=1.0)))
    outcome = build_outcome(record)
    assert record.send_times == [0.0, *TIMER_E_OFFSETS]
    assert [e.retransmission for e in record.sent] == [False] + [True] * 10
    assert record.received == []
    assert record.clock.now == 32.0
    assert [(type(e).__name__, e.time) for e in record.events] == [
        ("TargetFailed", 32.0),
        ("Finished", 32.0),
    ]
    assert [(f.failure, f.target.port) for f in record.failures] == [("timeout", 5060)]
    assert (outcome.final_status, outcome.exit_status, ids(outcome)) == (None, 7, ["timeout"])
    peer = record.peers[0]
    assert isinstance(peer, RegistrarPeer) and peer.served == []


def test_total_loss_of_responses_is_the_same_schedule_and_the_registrar_absorbs() -> None:
    record = run_pair(client(), registrar(), Link(down=Faults(loss=1.0)))
    assert record.send_times == [0.0, *TIMER_E_OFFSETS]
    peer = record.peers[0]
    assert isinstance(peer, RegistrarPeer)
    assert [a.retransmission for a in peer.attempts] == [False] + [True] * 10
    assert build_outcome(record).exit_status == 7


def test_provisional_only_retransmits_every_t2() -> None:
    # RFC 3261 §17.1.2.2: Timer E fires in PROCEEDING and is reset to T2.
    record = run_pair(client(), ScriptedPeer(always(100)))
    assert record.send_times == [0.0, 0.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5]
    assert record.clock.now == 32.0
    outcome = build_outcome(record)
    assert (outcome.exit_status, ids(outcome)) == (7, ["timeout"])
    assert record.registration.result.provisional_seen


def test_timer_f_on_a_second_peer_gets_its_own_schedule() -> None:
    record = run_pair(client(timeout=64), [registrar(), registrar()], Link(up=Faults(loss=1.0)))
    assert record.send_times == [0.0, *TIMER_E_OFFSETS, 32.0, *(32.0 + t for t in TIMER_E_OFFSETS)]
    assert [str(e.remote) for e in record.sent] == ["127.0.0.1:5060"] * 11 + ["127.0.0.1:5070"] * 11
    assert record.clock.now == 64.0
    assert [(f.failure, f.target.port) for f in record.failures] == [
        ("timeout", 5060),
        ("timeout", 5070),
    ]


# -------------------------------------------------------------- a misbehaving link


def test_lost_request_is_retransmitted_once() -> None:
    record = run_pair(client(), registrar(), Link(up=Faults(drop=frozenset({1}))))
    assert lines(record) == [
        ("out", 0.0, "REGISTER sip:example.com SIP/2.0"),
        ("out", 0.5, "REGISTER sip:example.com SIP/2.0"),
        ("in", 0.5, "SIP/2.0 401 Unauthorized"),
        ("out", 0.5, "REGISTER sip:example.com SIP/2.0"),
        ("in", 0.5, "SIP/2.0 200 OK"),
    ]
    assert (record.retransmissions, record.cseqs, build_outcome(record).exit_status) == (
        1,
        [1, 2],
        0,
    )


def test_lost_challenge_is_resent_from_the_registrar_cache() -> None:
    record = run_pair(client(), registrar(), Link(down=Faults(drop=frozenset({1}))))
    peer = record.peers[0]
    assert isinstance(peer, RegistrarPeer)
    assert [(a.cseq, a.status, a.retransmission) for a in peer.attempts] == [
        (1, 401, False),
        (1, 401, True),
        (2, 200, False),
    ]
    assert (record.retransmissions, record.send_times) == (1, [0.0, 0.5, 0.5])
    assert build_outcome(record).exit_status == 0


def test_lost_200_is_resent_without_a_nonce_count_replay() -> None:
    record = run_pair(client(), registrar(), Link(down=Faults(drop=frozenset({2}))))
    peer = record.peers[0]
    assert isinstance(peer, RegistrarPeer)
    assert [(a.cseq, a.status, a.retransmission) for a in peer.attempts] == [
        (1, 401, False),
        (2, 200, False),
        (2, 200, True),
    ]
    assert (record.retransmissions, record.send_times) == (1, [0.0, 0.0, 0.5])
    assert build_outcome(record).exit_status == 0


def test_duplicates_both_ways_are_absorbed() -> None:
    link = Link(up=Faults(dup=frozenset({1, 2})), down=Faults(dup=frozenset({1, 2})))
    record = run_pair(client(), registrar(), link)
    peer = record.peers[0]
    assert isinstance(peer, RegistrarPeer)
    assert [(a.cseq, a.status, a.retransmission) for a in peer.attempts] == [
        (1, 401, False),
        (1, 401, True),
        (2, 200, False),
        (2, 200, True),
    ]
    # Four 401s reach the client: the first is answered, the other three are strays.
    assert [(e.start_line, e.note is not None) for e in record.received] == [
        ("SIP/2.0 401 Unauthorized", False),
        ("SIP/2.0 401 Unauthorized", True),
        ("SIP/2.0 401 Unauthorized", True),
        ("SIP/2.0 401 Unauthorized", True),
        ("SIP/2.0 200 OK", False),
    ]
    assert (record.retransmissions, record.cseqs, build_outcome(record).exit_status) == (
        0,
        [1, 2],
        0,
    )


def test_reordered_request_arrives_after_its_retransmission() -> None:
    record = run_pair(client(), registrar(), Link(up=Faults(hold=frozenset({1}))))
    assert record.link.actions(UP, "released") == [1]
    peer = record.peers[0]
    assert isinstance(peer, RegistrarPeer)
    # The retransmission is processed; the late original is absorbed.
    assert [(a.cseq, a.retransmission) for a in peer.attempts] == [
        (1, False),
        (1, True),
        (2, False),
    ]
    late = record.received[1]
    assert late.start_line == "SIP/2.0 401 Unauthorized"
    assert late.note is not None and late.note.startswith("ignored: branch")
    assert (record.retransmissions, record.cseqs, build_outcome(record).exit_status) == (
        1,
        [1, 2],
        0,
    )


def test_responses_in_flight_to_a_closed_connection_are_dropped() -> None:
    # The 503 is duplicated; its copy reaches the old local port after the client
    # moved on to the next peer on a new connection.
    link = Link(down=Faults(dup=frozenset({1})))
    record = run_pair(client(), [ScriptedPeer(always(503, BUSY)), registrar()], link)
    assert record.link.actions(DOWN, "no-socket") == [1]
    assert record.received[0].start_line == "SIP/2.0 503 Service Unavailable"


def expected_retransmissions(record: PairRecord) -> list[float]:
    """Timer E's schedule for each request, up to the arrival of its final response
    (a response and a timer due at the same instant: the response comes first)."""
    times: list[float] = []
    for entry in record.sent:
        if entry.retransmission:
            continue
        cseq = cseq_of(entry.raw)
        final = next(
            e.time
            for e in record.received
            if e.note is None and _status(e.raw) >= 200 and cseq_of_response(e.raw) == cseq
        )
        times.extend(entry.time + t for t in TIMER_E_OFFSETS if entry.time + t < final)
    return times


def _status(raw: bytes) -> int:
    message = parse_message(raw)
    assert isinstance(message, Response)
    return message.status


def cseq_of_response(raw: bytes) -> int:
    return fields.parse_cseq(parse_message(raw).headers.get("CSeq") or "").number


@pytest.mark.parametrize("seed", range(40))
def test_random_loss_duplication_and_reordering_still_registers(seed: int) -> None:
    faults = Faults(loss=0.2, duplicate=0.2, reorder=0.2)
    link = Link(seed=seed, delay=0.01, up=faults, down=faults)
    record = run_pair(client(), registrar(), link)
    outcome = build_outcome(record)
    assert (outcome.final_status, outcome.exit_status, ids(outcome)) == (200, 0, [])
    # However the link behaves, two requests: no replay, no extra challenge.
    assert record.cseqs == [1, 2]
    retransmitted = [e.time for e in record.sent if e.retransmission]
    assert retransmitted == pytest.approx(expected_retransmissions(record))


def test_the_random_link_is_deterministic_and_does_something() -> None:
    faults = Faults(loss=0.2, duplicate=0.2, reorder=0.2)
    runs = [
        run_pair(client(), registrar(), Link(seed=seed, delay=0.01, up=faults, down=faults))
        for seed in (3, 3, 4)
    ]
    assert lines(runs[0]) == lines(runs[1])
    assert runs[0].link.log == runs[1].link.log
    assert lines(runs[0]) != lines(runs[2])
    actions = {e.action for r in (runs[0], runs[2]) for e in r.link.log}
    assert {"lost", "duplicated", "held", "released"} <= actions


def test_unreachable_peer_fails_over_to_the_next() -> None:
    record = run_pair(client(), [UNREACHABLE, registrar()])
    assert [(f.failure, f.target.port) for f in record.failures] == [("unreachable", 5060)]
    assert [str(e.remote) for e in record.sent] == [
        "127.0.0.1:5060",
        "127.0.0.1:5070",
        "127.0.0.1:5070",
    ]
    assert [n.text for n in record.trace.notes if n.kind == "error"] == ["ICMP port unreachable"]


def test_query_mode_through_the_pairing() -> None:
    record = run_pair(
        RegistrationConfig(
            aor=AOR, mode=Mode.QUERY, accounts=(Credential("alice", password="secret"),)
        ),
        registrar(),
    )
    outcome = build_outcome(record)
    assert (outcome.result, outcome.exit_status, record.cseqs) == ("queried", 0, [1, 2])
    assert [header(e.raw, "Contact") for e in record.sent] == [None, None]
    request = record.sent[0].message
    assert isinstance(request, Request) and request.method == "REGISTER"


# -------------------------------------------------------------- one diagnosis


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_the_trace_alone_gives_the_cores_failure(case: Case) -> None:
    """A capture of the same exchange is diagnosed as the live run was: the failure
    inferred from the wire (plus what we meant to send) is the core's, and so are
    the diagnoses (their words may lack what only the core saw, like a timer)."""
    record = case.run()
    facts = read_facts(record.trace, intent_of(record.registration))
    failure = classify(facts)
    assert failure == run_failure(record, facts)[0]
    from_wire = diagnose(failure, facts, wall_start=record.trace.wall_start)
    assert [d.id for d in from_wire] == [d.id for d in build_outcome(record).diagnoses]
