"""Every lapse and change of a watched binding, in memory against scripted registrars.

Each test registers (60 s granted: refreshes at 30, 60, ...), changes the world at
15 s, and checks the transition (time, states, cause id) the keeper reports.
"""

from __future__ import annotations

import pytest

from sipcheck.sip.client.keeper import State
from sipcheck.sip.client.refresh import RefreshPolicy
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.parser import parse_message
from tests.support.pairing import (
    UNREACHABLE,
    RegistrarPeer,
    ScriptedPeer,
    always,
    cseq_of,
    reply,
)
from tests.support.watch_pairing import SILENT, WatchPair, client, registrar

OK_THEN = [(0.0, "None", "Progress", None), (0.0, "Progress", "Ok", None)]


def watched(**policy: float) -> WatchPair:
    pair = WatchPair(client(60), [registrar()], policy=RefreshPolicy(**policy))
    pair.start()
    pair.run_until(15)
    assert pair.transitions() == OK_THEN
    return pair


def header(raw: bytes, name: str) -> str:
    message = parse_message(raw)
    assert isinstance(message, Request)
    return message.headers.get(name) or ""


def nc_of(raw: bytes) -> str | None:
    value = header(raw, "Authorization")
    return value.split("nc=")[1][:8] if "nc=" in value else None


# ------------------------------------------------- one binding, one dialog


def test_one_call_id_and_increasing_cseq_across_refreshes_and_the_unregister() -> None:
    pair = watched()
    pair.run_until(100)
    pair.stop()
    sent = pair.sent_by(pair.reg)
    assert len({header(r, "Call-ID") for r in sent}) == 1
    assert len({header(r, "From") for r in sent}) == 1  # one From tag
    cseqs = [cseq_of(r) for r in sent]
    assert cseqs == sorted(cseqs) and len(set(cseqs)) == len(cseqs)
    assert header(sent[-1], "Expires") == "0"
    assert pair.transitions()[-1][1:] == ("Ok", "Cleared", None)


def test_refreshes_reuse_the_nonce_with_increasing_nonce_count() -> None:
    pair = WatchPair(client(60), [registrar(nonce_lifetime=1000)])
    pair.start()
    pair.run_until(100)
    sent = pair.sent_by(pair.reg)
    assert [nc_of(r) for r in sent] == [None, "00000001", "00000002", "00000003", "00000004"]
    nonces = {header(r, "Authorization").split('nonce="')[1].split('"')[0] for r in sent[1:]}
    assert len(nonces) == 1
    assert [len(d.record.sent) for d in pair.done] == [2, 1, 1, 1]  # one round trip each


def test_a_refused_reused_nonce_falls_back_to_a_fresh_challenge() -> None:
    # The registrar's nonces live 30 s: the refresh at 60 s is answered stale=true,
    # the one at 90 s with the new nonce's nc=2. No lapse.
    pair = WatchPair(client(60), [registrar(nonce_lifetime=30)])
    pair.start()
    pair.run_until(100)
    counts = [[nc_of(e.raw) for e in d.record.sent] for d in pair.done]
    assert counts == [[None, "00000001"], ["00000002"], ["00000003", "00000001"], ["00000002"]]
    assert pair.transitions() == OK_THEN
    assert len(pair.of_kind("refresh")) == 3


def test_a_fresh_challenge_without_qop_is_not_reused() -> None:
    pair = WatchPair(client(60), [registrar(qop=None)])
    pair.start()
    pair.run_until(35)
    assert [len(d.record.sent) for d in pair.done] == [2, 2]
    assert pair.transitions() == OK_THEN


def test_several_bindings_each_their_own_call_id() -> None:
    peer = RegistrarPeer(registrar())
    one, two = WatchPair(client(60), [peer], seed=1), WatchPair(client(60), [peer], seed=2)
    for pair in (one, two):
        pair.start()
        pair.run_until(40)
    assert header(one.sent_by(one.reg)[0], "Call-ID") != header(two.sent_by(two.reg)[0], "Call-ID")


# ------------------------------------------------------------------ lapses


def test_refresh_refused_credentials_rejected_now() -> None:
    pair = watched()
    pair.peers[0] = RegistrarPeer(registrar(accounts={"alice": "changed"}))
    pair.run_until(40)
    assert pair.transitions()[2:] == [(30.0, "Ok", "Failed", "credentials-rejected")]
    failed = pair.of_kind("state")[-1]
    assert failed.detail.startswith("refused: credentials rejected:")
    assert (failed.next_in, failed.attempts) == (1.0, 1)
    # The reused nonce, then the fresh challenge answered once: no loop.
    assert len(pair.done[1].record.sent) == 2


def test_refresh_refused_403() -> None:
    pair = watched()
    pair.peers[0] = ScriptedPeer(always(403))
    pair.run_until(31)
    assert pair.transitions()[2:] == [(30.0, "Ok", "Failed", "forbidden")]
    assert pair.of_kind("state")[-1].detail.startswith("refused: 403")


def test_refresh_timed_out() -> None:
    pair = watched()
    pair.peers[0] = SILENT
    pair.run_until(34)
    assert pair.transitions()[2:] == [(33.2, "Ok", "Failed", "timeout")]  # 30 + Timer F
    detail = pair.of_kind("state")[-1].detail
    assert detail == "timed out: no answer from 127.0.0.1:5060/udp (6 retransmissions)"


def test_refresh_target_unreachable() -> None:
    pair = watched()
    pair.peers[0] = UNREACHABLE
    pair.run_until(31)
    assert pair.transitions()[2:] == [(30.0, "Ok", "Failed", "unreachable")]
    assert "127.0.0.1:5060/udp is unreachable" in pair.of_kind("state")[-1].detail


def test_423_on_a_refresh_raises_the_interval() -> None:
    pair = watched()
    pair.peers[0] = RegistrarPeer(registrar(min_expires=120, max_expires=3600))
    pair.run_until(31)
    changes = pair.of_kind("change")
    assert [(c.time, c.cause, c.new) for c in changes] == [(30.0, "interval-raised", "120")]
    refresh = pair.of_kind("refresh")[-1]
    assert (refresh.granted, refresh.next_in) == (120, 90.0)
    assert pair.transitions() == OK_THEN


def test_423_again_is_a_lapse() -> None:
    pair = watched()
    pair.peers[0] = ScriptedPeer(always(423, ("Min-Expires", "7200")))
    pair.run_until(31)
    assert pair.transitions()[2:] == [(30.0, "Ok", "Failed", "interval-too-brief")]


def test_the_server_shortened_the_granted_expiry() -> None:
    pair = watched()
    pair.peers[0] = RegistrarPeer(registrar(max_expires=20))
    pair.run_until(41)
    change = pair.of_kind("change")[0]
    assert (change.time, change.cause, change.old, change.new) == (
        30.0, "expiry-shortened", "60", "20"
    )  # fmt: skip
    assert [t for _, t in [(d.action, d.record.trace.entries[0].time) for d in pair.done]] == [
        0.0, 30.0, 40.0
    ]  # fmt: skip


def test_our_contact_missing_from_a_200() -> None:
    pair = watched()
    pair.peers[0] = ScriptedPeer(always(200, ("Contact", "<sip:alice@192.0.2.9:5060>;expires=60")))
    pair.run_until(31)
    assert pair.transitions()[2:] == [(30.0, "Ok", "Failed", "contact-missing")]
    assert "does not list our Contact" in pair.of_kind("state")[-1].detail


def test_query_every_finds_the_binding_gone_and_registers_again() -> None:
    # A registrar restart at 15 s: the bindings are gone (and its nonces still valid:
    # the same secret). The query at 20 s says so; registering again follows at once.
    pair = watched(query_every=10)
    pair.peers[0] = RegistrarPeer(registrar())
    pair.run_until(25)
    assert pair.transitions()[2:] == [
        (20.0, "Ok", "Failed", "binding-gone"),
        (20.0, "Failed", "Ok", None),
    ]
    recovered = pair.of_kind("state")[-1]
    assert (recovered.outage, recovered.attempts) == (0.0, 1)
    peer = pair.peers[0]
    assert isinstance(peer, RegistrarPeer)
    assert peer.core.registrar.bindings("sip:alice@127.0.0.1", 21.0)  # registered again


def test_a_query_answered_404_is_the_binding_gone() -> None:
    # ejabberd's answer to a query for an AoR with nothing bound
    pair = watched(query_every=10)
    pair.peers[0] = ScriptedPeer(always(404))
    pair.run_until(20.5)
    assert pair.transitions()[2] == (20.0, "Ok", "Failed", "binding-gone")


def test_a_200_without_any_expiry_grants_what_was_asked() -> None:
    def echo_contact(request: bytes) -> bytes:
        return reply(request, 200, None, ("Contact", header(request, "Contact")))

    pair = WatchPair(client(60), [ScriptedPeer(echo_contact)])
    pair.start()
    pair.run_until(31)
    ok = pair.of_kind("state")[-1]
    assert (ok.state, ok.granted, ok.next_in) == (State.OK, 60, 30.0)
    assert len(pair.of_kind("refresh")) == 1


def test_the_address_the_server_sees_changed() -> None:
    pair = watched()
    pair.nat_port = 41000
    pair.run_until(31)
    change = pair.of_kind("change")[0]
    assert (change.cause, change.old, change.new) == (
        "seen-as-changed", "127.0.0.1:40000", "127.0.0.1:41000"
    )  # fmt: skip
    assert pair.transitions() == OK_THEN


def test_the_resolved_target_changed() -> None:
    pair = WatchPair(client(60), [registrar(), registrar()])
    pair.start()
    pair.run_until(15)
    pair.targets = [pair.targets[0].__class__("127.0.0.1", "127.0.0.1", 5070, "udp")]
    pair.run_until(31)
    change = pair.of_kind("change")[0]
    assert (change.cause, change.old, change.new) == (
        "target-changed", "udp:127.0.0.1:5060", "udp:127.0.0.1:5070"
    )  # fmt: skip


def test_the_server_header_changed() -> None:
    pair = watched()
    pair.peers[0] = RegistrarPeer(registrar(server="sbc-b"))
    pair.run_until(31)
    change = pair.of_kind("change")[0]
    assert (change.cause, change.old, change.new) == ("server-changed", "sipcheck", "sbc-b")


def test_recovery_after_an_outage_with_its_duration_and_attempts() -> None:
    pair = watched()
    peer = pair.peers[0]
    pair.peers[0] = SILENT
    pair.run_until(45)  # fails at 33.2, retries at 34.2 (fails 37.4), 39.4 (fails 42.6)
    pair.peers[0] = peer
    pair.run_until(60)
    assert pair.transitions()[2:] == [
        (33.2, "Ok", "Failed", "timeout"),
        (46.6, "Failed", "Ok", None),  # 42.6 + 4 s
    ]
    back = pair.of_kind("state")[-1]
    assert back.outage == pytest.approx(13.4) and back.attempts == 3
    assert len(pair.of_kind("retry")) == 2


def test_a_first_registration_that_fails() -> None:
    pair = WatchPair(client(60), [ScriptedPeer(always(404))])
    pair.start()
    pair.run_until(0.5)
    assert pair.transitions() == [
        (0.0, "None", "Progress", None),
        (0.0, "Progress", "Failed", "not-found"),
    ]


# ------------------------------------------------------------------ ending


def test_stop_unregisters_and_leaves_no_binding() -> None:
    pair = watched()
    pair.stop()
    peer = pair.peers[0]
    assert isinstance(peer, RegistrarPeer)
    assert peer.core.registrar.bindings("sip:alice@127.0.0.1", 16.0) == []
    assert pair.keeper.state is State.CLEARED


def test_stop_while_the_server_is_gone_reports_the_unregister_failure() -> None:
    pair = watched()
    pair.peers[0] = SILENT
    pair.run_until(34)
    pair.stop()
    cleared = pair.of_kind("state")[-1]
    assert (cleared.state, cleared.cause) == (State.CLEARED, "timeout")
    assert cleared.next_in == pytest.approx(60 - 34 - 3.2)  # the binding lapses then


def test_stop_during_the_first_request_still_unregisters() -> None:
    pair = WatchPair(client(60), [SILENT])
    pair.start()
    pair.run_until(1)
    pair.stop()
    assert pair.done[-1].action.value == "unregister"


def test_stop_with_nothing_held_clears_at_once() -> None:
    pair = WatchPair(client(60), [ScriptedPeer(always(403))])
    pair.start()
    pair.run_until(0.5)
    pair.stop()
    assert pair.transitions()[-1] == (0.5, "Failed", "Cleared", None)
    assert [d.action.value for d in pair.done] == ["register"]


def test_summary_figures() -> None:
    pair = watched()
    peer = pair.peers[0]
    pair.peers[0] = SILENT
    pair.run_until(45)
    pair.peers[0] = peer
    pair.run_until(100)
    pair.stop()
    summary = pair.keeper.tally.summary()
    assert summary.watched == 100.0
    assert summary.registered == pytest.approx(100.0 - 13.4)
    assert summary.availability == pytest.approx(summary.registered)
    assert summary.failures == {"timeout": 3}
    assert summary.outages == 1 and summary.longest_outage == pytest.approx(13.4)
    assert summary.refreshes == 1  # at 76.6 (the one at 30 failed)
    assert summary.rrd_p50 == 0.0 and summary.rrd_max == 0.0
    assert summary.state == "Ok"
