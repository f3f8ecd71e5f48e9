"""What the client core puts on the wire for the sipsak/sipexer-style overrides:
extra headers, User-Agent, From/To/Request-URI, Max-Forwards, the Call-ID and CSeq
of a refresh, the algorithm preference, an HA1. Exact bytes, seeded rng."""

from __future__ import annotations

import random

from sipcheck.sip.client.config import Credential, Mode, RegistrationConfig, parse_aor
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.client.transaction import ClientTransaction, Timers
from sipcheck.sip.digest.compute import compute_ha1, verify_credentials
from sipcheck.sip.wire.auth import parse_credentials
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.parser import parse_message
from sipcheck.sip.wire.uri import parse_sip_uri
from tests.support.pairing import reply

AOR = parse_aor("alice@example.com")
LOCAL = ("192.0.2.10", 5070)


def first_request(config: RegistrationConfig, transport: str = "udp") -> bytes:
    reg = Registration(config, rng=random.Random(7), now=0.0)
    reg.connect(*LOCAL, transport)
    reg.start(0.0)
    return reg.take_outgoing()[0].data


def test_every_override_on_the_wire_exactly() -> None:
    config = RegistrationConfig(
        aor=AOR,
        request_uri=parse_sip_uri("sip:registrar.example.com"),
        user_agent="Yealink SIP-T46S 66.86.0.15",
        max_forwards=5,
        from_address='"Ops" <sip:ops@example.com>',
        to_address="<sip:alice@sbc.example.com>",
        headers=(("X-Tenant", "42"), ("Route", "<sip:edge.example.com;lr>")),
        call_id="kept@sipcheck",
        first_cseq=7,
    )
    assert first_request(config) == (
        b"REGISTER sip:registrar.example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.10:5070;rport;branch=z9hG4bKa6a3a4506513270e\r\n"
        b"Max-Forwards: 5\r\n"
        b'From: "Ops" <sip:ops@example.com>;tag=269e0d37\r\n'
        b"To: <sip:alice@sbc.example.com>\r\n"
        b"Call-ID: kept@sipcheck\r\n"
        b"CSeq: 7 REGISTER\r\n"
        b"Contact: <sip:alice@192.0.2.10:5070>\r\n"
        b"Expires: 3600\r\n"
        b"Allow: OPTIONS\r\n"
        b"User-Agent: Yealink SIP-T46S 66.86.0.15\r\n"
        b"X-Tenant: 42\r\n"
        b"Route: <sip:edge.example.com;lr>\r\n"
        b"Content-Length: 0\r\n\r\n"
    )


def test_defaults_are_unchanged_and_a_given_call_id_draws_the_same_numbers() -> None:
    plain = first_request(RegistrationConfig(aor=AOR))
    assert b"User-Agent: sipcheck/" in plain and b"Max-Forwards: 70\r\n" in plain
    assert b"From: <sip:alice@example.com>;tag=269e0d37\r\n" in plain
    assert b"To: <sip:alice@example.com>\r\n" in plain
    assert b"CSeq: 1 REGISTER\r\n" in plain
    # The rng is drawn for a Call-ID either way, so branch and tag stay the same.
    kept = first_request(RegistrationConfig(aor=AOR, call_id="x@y"))
    assert plain.replace(plain.split(b"Call-ID: ")[1].split(b"\r\n")[0], b"x@y") == kept


def test_no_user_agent_header_when_told_so() -> None:
    assert b"User-Agent" not in first_request(RegistrationConfig(aor=AOR, user_agent=None))


def test_options_to_defaults_to_the_request_uri_and_takes_an_override() -> None:
    target = parse_sip_uri("sip:sip.carrier.net")
    ping = RegistrationConfig(aor=target, mode=Mode.OPTIONS, request_uri=target)
    assert b"To: <sip:sip.carrier.net>\r\n" in first_request(ping)
    odd = RegistrationConfig(
        aor=target, mode=Mode.OPTIONS, request_uri=target, to_address="<sip:probe@carrier.net>"
    )
    assert b"To: <sip:probe@carrier.net>\r\n" in first_request(odd)


def challenge(*algorithms: str) -> tuple[tuple[str, str], ...]:
    value = 'Digest realm="example.com", nonce="n-{0}", algorithm={0}, qop="auth"'
    return tuple(("WWW-Authenticate", value.format(a)) for a in algorithms)


def answer_to(config: RegistrationConfig, *algorithms: str) -> bytes:
    reg = Registration(config, rng=random.Random(7), now=0.0)
    reg.connect(*LOCAL, "udp")
    reg.start(0.0)
    request = reg.take_outgoing()[0].data
    reg.receive(reply(request, 401, "Unauthorized", *challenge(*algorithms)), 0.1)
    return reg.take_outgoing()[0].data


def _authorization(request: bytes) -> str:
    message = parse_message(request)
    assert isinstance(message, Request)
    value = message.headers.get("Authorization")
    assert value is not None
    return value


def test_the_algorithm_preference_picks_the_challenge_to_answer() -> None:
    account = (Credential("alice", password="secret"),)
    default = RegistrationConfig(aor=AOR, accounts=account)
    assert "algorithm=SHA-256" in _authorization(answer_to(default, "MD5", "SHA-256"))
    md5_first = RegistrationConfig(aor=AOR, accounts=account, algorithm_preference=("MD5",))
    assert "algorithm=MD5" in _authorization(answer_to(md5_first, "SHA-256", "MD5"))


def test_an_ha1_answers_as_the_password_would_and_is_never_sent() -> None:
    ha1 = compute_ha1("MD5", "alice", "example.com", "secret")
    config = RegistrationConfig(
        aor=AOR, accounts=(Credential("alice", ha1=ha1),), algorithm_preference=("MD5",)
    )
    request = answer_to(config, "MD5")
    assert ha1.encode() not in request
    creds = parse_credentials(_authorization(request))
    assert verify_credentials(creds, password="secret", method="REGISTER")
    # Neither secret shows in the configuration's repr (logs, tracebacks).
    shown = repr(RegistrationConfig(aor=AOR, accounts=(Credential("a", "pw-canary", ha1),)))
    assert "pw-canary" not in shown and ha1 not in shown


def test_the_transaction_names_its_running_timers() -> None:
    tx = ClientTransaction(
        b"x", branch="b", method="REGISTER", cseq=1, reliable=False, timers=Timers(), now=1.0
    )
    assert tx.armed() == [("E", 1.5), ("F", 33.0)]
    reliable = ClientTransaction(
        b"x", branch="b", method="REGISTER", cseq=1, reliable=True, timers=Timers(), now=0.0
    )
    assert reliable.armed() == [("F", 32.0)]
