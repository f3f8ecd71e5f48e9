"""The client core in memory with a fake clock: exact schedules and flows."""

from __future__ import annotations

import random

import pytest

from sipcheck.sip.client.config import Credential, Mode, RegistrationConfig, parse_aor
from sipcheck.sip.client.events import ChallengeAnswered, PasswordNeeded, StrayIgnored, TargetFailed
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.client.transaction import ClientTransaction, Timers, TxState
from sipcheck.sip.digest.compute import verify_credentials
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.auth import parse_credentials
from sipcheck.sip.wire.headers import Headers
from sipcheck.sip.wire.message import Request, Response
from sipcheck.sip.wire.parser import parse_message

AOR = parse_aor("alice@example.com")
LOCAL = ("192.0.2.10", 5070)


def make(mode: Mode = Mode.REGISTER, **kw: object) -> Registration:
    config = RegistrationConfig(
        aor=AOR,
        mode=mode,
        accounts=(Credential("alice", password="secret"),),
        **kw,  # type: ignore[arg-type]
    )
    reg = Registration(config, rng=random.Random(7), now=0.0)
    reg.connect(*LOCAL, "udp")
    return reg


def reply(request: bytes, status: int, reason: str, *extra: tuple[str, str]) -> bytes:
    req = parse_message(request)
    assert isinstance(req, Request)
    h = Headers()
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in req.headers.get_all(name):
            h.add(name, value)
    for name, value in extra:
        h.add(name, value)
    h.add("Content-Length", "0")
    return Response(status, reason, h).to_bytes()


def sent(reg: Registration) -> list[bytes]:
    return [o.data for o in reg.take_outgoing()]


def test_transaction_timer_e_schedule_over_udp() -> None:
    tx = ClientTransaction(
        b"x", branch="b", method="REGISTER", cseq=1, reliable=False, timers=Timers(), now=0.0
    )
    fired: list[float] = []
    now = 0.0
    while tx.state is not TxState.TERMINATED:
        timer = tx.next_timer()
        assert timer is not None
        now = timer
        tx.handle_timer(now)
        fired.extend(now for o in tx.take_outgoing() if o.retransmission)
    # RFC 3261 §17.1.2.2: T1, then doubling to T2 (4 s), Timer F at 64*T1 = 32 s.
    assert fired == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    assert now == 32.0 and tx.timed_out


def test_transaction_proceeding_uses_t2_and_tcp_never_retransmits() -> None:
    tx = ClientTransaction(
        b"x", branch="b", method="REGISTER", cseq=1, reliable=False, timers=Timers(), now=0.0
    )
    tx.handle_timer(0.5)
    tx.receive(Response(100, "Trying"), 0.6)
    assert tx.state is TxState.PROCEEDING
    tx.handle_timer(1.5)  # E was armed at 1.5 before the 100; next interval is T2
    assert tx.next_timer() == 5.5
    tcp = ClientTransaction(
        b"x", branch="b", method="REGISTER", cseq=1, reliable=True, timers=Timers(), now=0.0
    )
    assert tcp.next_timer() == 32.0
    tcp.receive(Response(200, "OK"), 1.0)
    assert tcp.state is TxState.TERMINATED  # Timer K = 0 on reliable transports


def test_register_request_bytes_follow_rfc3261_10_2() -> None:
    reg = make()
    reg.start(0.0)
    (data,) = sent(reg)
    req = parse_message(data)
    assert isinstance(req, Request)
    assert req.start_line() == "REGISTER sip:example.com SIP/2.0"
    assert req.headers.get("To") == "<sip:alice@example.com>"
    frm = fields.address(req.headers, "From")
    assert frm is not None and str(frm.uri) == "sip:alice@example.com" and frm.tag
    (via,) = fields.vias(req.headers)
    assert via.branch is not None and via.branch.startswith("z9hG4bK") and via.has_param("rport")
    assert (via.host, via.port) == LOCAL
    assert req.headers.get("Contact") == "<sip:alice@192.0.2.10:5070>"
    assert req.headers.get("Expires") == "3600"
    assert req.headers.get("CSeq") == "1 REGISTER"
    assert req.headers.get("Max-Forwards") == "70"
    assert (req.headers.get("User-Agent") or "").startswith("sipcheck/")


def test_401_then_200() -> None:
    reg = make()
    reg.start(0.0)
    (first,) = sent(reg)
    reg.receive(
        reply(
            first,
            401,
            "Unauthorized",
            (
                "WWW-Authenticate",
                'Digest realm="example.com", nonce="abc", qop="auth", algorithm=MD5, opaque="op"',
            ),
        ),
        0.01,
    )
    (second,) = sent(reg)
    req = parse_message(second)
    assert req.headers.get("CSeq") == "2 REGISTER" and req.call_id == parse_message(first).call_id
    creds = parse_credentials(req.headers.get("Authorization") or "")
    assert (creds.username, creds.realm, creds.uri, creds.nc, creds.qop, creds.opaque) == (
        "alice",
        "example.com",
        "sip:example.com",
        "00000001",
        "auth",
        "op",
    )
    assert verify_credentials(creds, password="secret", method="REGISTER")
    answered = [e for e in reg.take_events() if isinstance(e, ChallengeAnswered)]
    assert len(answered) == 1 and answered[0].auth_user == "alice"
    reg.receive(
        reply(second, 200, "OK", ("Contact", "<sip:alice@192.0.2.10:5070>;expires=1800")), 0.02
    )
    assert reg.done and reg.result.failure is None and reg.result.final is not None
    assert reg.result.final.status == 200


def test_407_then_401_keeps_both_answers() -> None:
    reg = make()
    reg.start(0.0)
    (r1,) = sent(reg)
    reg.receive(
        reply(
            r1,
            407,
            "Proxy Authentication Required",
            ("Proxy-Authenticate", 'Digest realm="proxy", nonce="p1"'),
        ),
        0.01,
    )
    (r2,) = sent(reg)
    assert parse_message(r2).headers.get("Authorization") is None
    p = parse_credentials(parse_message(r2).headers.get("Proxy-Authorization") or "")
    assert p.realm == "proxy" and p.qop is None
    reg.receive(
        reply(
            r2,
            401,
            "Unauthorized",
            ("WWW-Authenticate", 'Digest realm="reg", nonce="w1", qop="auth"'),
        ),
        0.02,
    )
    (r3,) = sent(reg)
    h = parse_message(r3).headers
    assert h.get("Proxy-Authorization") and h.get("Authorization")
    assert parse_credentials(h.get("Authorization") or "").realm == "reg"
    reg.receive(reply(r3, 200, "OK"), 0.03)
    assert reg.done and reg.result.failure is None


def test_wrong_password_stops_after_one_answer() -> None:
    reg = make()
    reg.start(0.0)
    (r1,) = sent(reg)
    challenge = ("WWW-Authenticate", 'Digest realm="example.com", nonce="n1"')
    reg.receive(reply(r1, 401, "Unauthorized", challenge), 0.01)
    (r2,) = sent(reg)
    reg.receive(
        reply(
            r2, 401, "Unauthorized", ("WWW-Authenticate", 'Digest realm="example.com", nonce="n2"')
        ),
        0.02,
    )
    assert reg.done and reg.result.failure == "credentials-rejected"
    assert reg.result.rejected_realm == "example.com" and sent(reg) == []


def test_stale_nonce_is_answered_once_more() -> None:
    reg = make()
    reg.start(0.0)
    (r1,) = sent(reg)
    reg.receive(
        reply(r1, 401, "Unauthorized", ("WWW-Authenticate", 'Digest realm="x", nonce="n1"')), 0.01
    )
    (r2,) = sent(reg)
    reg.receive(
        reply(
            r2,
            401,
            "Unauthorized",
            ("WWW-Authenticate", 'Digest realm="x", nonce="n2", stale=true'),
        ),
        0.02,
    )
    (r3,) = sent(reg)
    assert parse_credentials(parse_message(r3).headers.get("Authorization") or "").nonce == "n2"
    reg.receive(reply(r3, 200, "OK"), 0.03)
    assert reg.done and reg.result.failure is None and reg.result.stale_retries == 1


def test_423_retried_once_with_min_expires() -> None:
    reg = make(expires=30)
    reg.start(0.0)
    (r1,) = sent(reg)
    reg.receive(reply(r1, 423, "Interval Too Brief", ("Min-Expires", "120")), 0.01)
    (r2,) = sent(reg)
    assert parse_message(r2).headers.get("Expires") == "120"
    reg.receive(reply(r2, 423, "Interval Too Brief", ("Min-Expires", "600")), 0.02)
    assert reg.done and reg.result.failure == "interval-too-brief"
    assert reg.result.min_expires_retry == 120


def test_redirect_asks_for_a_new_target() -> None:
    reg = make()
    reg.start(0.0)
    (r1,) = sent(reg)
    reg.receive(
        reply(r1, 302, "Moved Temporarily", ("Contact", "<sip:registrar2.example.com:5080>")), 0.01
    )
    events = reg.take_events()
    failed = [e for e in events if isinstance(e, TargetFailed)]
    assert failed and failed[0].reason is Failure.REDIRECTED and failed[0].redirect_to is not None
    assert failed[0].redirect_to.host == "registrar2.example.com"
    reg.connect("192.0.2.10", 5071, "udp")
    reg.resume(0.02)
    (r2,) = sent(reg)
    assert parse_message(r2).start_line() == "REGISTER sip:registrar2.example.com:5080 SIP/2.0"


def test_503_then_next_target() -> None:
    reg = make()
    reg.start(0.0)
    (r1,) = sent(reg)
    reg.receive(reply(r1, 503, "Service Unavailable", ("Retry-After", "30")), 0.01)
    assert any(
        isinstance(e, TargetFailed) and e.reason is Failure.SERVER_ERROR for e in reg.take_events()
    )
    reg.resume(0.02)
    (r2,) = sent(reg)
    reg.receive(reply(r2, 200, "OK"), 0.03)
    assert reg.done and reg.result.final is not None and reg.result.final.status == 200


def test_loss_duplication_and_strays() -> None:
    reg = make()
    reg.start(0.0)
    (r1,) = sent(reg)  # lost
    reg.handle_timer(0.5)
    (again,) = reg.take_outgoing()
    assert again.retransmission and again.data == r1
    stray = reply(r1, 200, "OK").replace(b"branch=z9hG4bK", b"branch=z9hG4bKother")
    reg.receive(stray, 0.6)
    ok = reply(r1, 200, "OK")
    reg.receive(reply(r1, 100, "Trying"), 0.7)
    reg.receive(ok, 0.8)
    reg.receive(ok, 0.9)  # duplicate final, absorbed
    events = reg.take_events()
    assert [e.reason[:6] for e in events if isinstance(e, StrayIgnored)] == ["branch"]
    assert reg.done and reg.result.provisional_seen


def test_total_loss_times_out_at_timer_f() -> None:
    reg = make()
    reg.start(0.0)
    now = 0.0
    while not reg.done:
        timer = reg.next_timer()
        assert timer is not None
        now = timer
        reg.handle_timer(now)
        reg.take_outgoing()
        if any(isinstance(e, TargetFailed) for e in reg.take_events()):
            reg.give_up(now)
    assert now == 32.0 and reg.result.failure == "timeout"


def test_password_is_asked_for_only_when_challenged() -> None:
    config = RegistrationConfig(aor=AOR)
    reg = Registration(config, rng=random.Random(1), now=0.0)
    reg.connect(*LOCAL, "udp")
    reg.start(0.0)
    (r1,) = sent(reg)
    reg.receive(
        reply(r1, 401, "Unauthorized", ("WWW-Authenticate", 'Digest realm="r", nonce="n"')), 0.01
    )
    need = [e for e in reg.take_events() if isinstance(e, PasswordNeeded)]
    assert need and (need[0].realm, need[0].auth_user) == ("r", "alice")
    reg.provide_password("r", "pw", 0.5)
    (r2,) = sent(reg)
    creds = parse_credentials(parse_message(r2).headers.get("Authorization") or "")
    assert verify_credentials(creds, password="pw", method="REGISTER")


def test_unsupported_challenge_is_reported() -> None:
    reg = make()
    reg.start(0.0)
    (r1,) = sent(reg)
    reg.receive(
        reply(
            r1,
            401,
            "Unauthorized",
            ("WWW-Authenticate", 'Digest realm="r", nonce="n", algorithm=SHA-1'),
        ),
        0.01,
    )
    assert reg.done and reg.result.failure == "challenge-unsupported"
    assert reg.result.unsupported and "SHA-1" in reg.result.unsupported


@pytest.mark.parametrize(
    "mode, contact, expires",
    [
        (Mode.UNREGISTER, "<sip:alice@192.0.2.10:5070>", "0"),
        (Mode.UNREGISTER_ALL, "*", "0"),
        (Mode.QUERY, None, None),
    ],
)
def test_lifecycle_modes(mode: Mode, contact: str | None, expires: str | None) -> None:
    reg = make(mode)
    reg.start(0.0)
    (r1,) = sent(reg)
    h = parse_message(r1).headers
    assert (h.get("Contact"), h.get("Expires")) == (contact, expires)


def test_per_realm_accounts() -> None:
    config = RegistrationConfig(
        aor=AOR,
        accounts=(
            Credential("bob-proxy", password="p1", realm="proxy"),
            Credential("alice-reg", password="p2"),
        ),
    )
    reg = Registration(config, rng=random.Random(1), now=0.0)
    reg.connect(*LOCAL, "tcp")
    reg.start(0.0)
    (r1,) = sent(reg)
    assert b"SIP/2.0/TCP" in r1 and b";transport=tcp>" in r1
    reg.receive(
        reply(
            r1,
            407,
            "x",
            ("Proxy-Authenticate", 'Digest realm="proxy", nonce="a"'),
            ("WWW-Authenticate", 'Digest realm="home", nonce="b"'),
        ),
        0.01,
    )
    (r2,) = sent(reg)
    h = parse_message(r2).headers
    assert parse_credentials(h.get("Proxy-Authorization") or "").username == "bob-proxy"
    assert parse_credentials(h.get("Authorization") or "").username == "alice-reg"


def test_time_at_the_password_prompt_is_not_protocol_time() -> None:
    from sipcheck.outcome import RunRecord, build_outcome
    from sipcheck.trace import Trace

    reg = Registration(RegistrationConfig(aor=AOR), rng=random.Random(1), now=0.0)
    reg.connect(*LOCAL, "udp")
    reg.start(0.0)
    (r1,) = sent(reg)
    challenge = ("WWW-Authenticate", 'Digest realm="r", nonce="n"')
    reg.receive(reply(r1, 401, "Unauthorized", challenge), 0.010)
    reg.provide_password("r", "pw", 2.010)  # a person typed for 2 s
    (r2,) = sent(reg)
    reg.receive(reply(r2, 200, "OK"), 2.015)
    outcome = build_outcome(RunRecord("register", reg, Trace(), None, None))
    assert outcome.total_ms == pytest.approx(15.0)
    assert outcome.info["password_prompt_ms"] == pytest.approx(2000.0)


def test_challenge_for_another_realm_than_given_is_an_auth_failure() -> None:
    from sipcheck.outcome import RunRecord, build_outcome
    from sipcheck.trace import Trace

    config = RegistrationConfig(aor=AOR, accounts=(Credential("alice", "pw", realm="home"),))
    reg = Registration(config, rng=random.Random(1), now=0.0)
    reg.connect(*LOCAL, "udp")
    reg.start(0.0)
    (r1,) = sent(reg)
    reg.receive(reply(r1, 401, "x", ("WWW-Authenticate", 'Digest realm="other", nonce="n"')), 0.01)
    assert reg.done and sent(reg) == []
    outcome = build_outcome(RunRecord("register", reg, Trace(), None, None))
    assert outcome.exit_status == 3
    assert outcome.diagnoses[0].id == "no-credentials-for-realm"
    assert "'other'" in outcome.diagnoses[0].message
