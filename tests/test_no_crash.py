"""End to end: the inputs a fuzzing run found crashing the client core, the registrar
core and ``sipcheck lint`` now end in a failure, a response or a lint status."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sipcheck.cli.main import cli
from sipcheck.exit_status import ExitStatus
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.wire.message import Response
from sipcheck.sip.wire.parser import parse_message
from tests.support.cores import challenge_for, deliver, registrar_service, started_registration


@pytest.mark.parametrize(
    "realm",
    [b'"a\x01b"', b'"\xff"', b'"a\\\x01b"', b"a\x01b", b"\xff"],
    ids=["control", "not-utf8", "escaped-control", "bare-control", "bare-not-utf8"],
)
def test_a_challenge_with_a_bad_realm_ends_the_registration_in_a_failure(realm: bytes) -> None:
    reg, request = started_registration()
    reg.receive(challenge_for(request, [b"Digest realm=" + realm + b', nonce="abc"']), 0.1)
    assert reg.done
    assert reg.result.failure is Failure.CHALLENGE_UNSUPPORTED
    # The diagnosis says the challenge does not parse, not that there is none.
    assert (reg.result.unsupported or "").startswith(
        "the challenge does not parse: WWW-Authenticate: "
    )
    assert reg.take_outgoing() == []  # nothing answered it
    assert reg.next_timer() is None


def test_a_good_challenge_next_to_a_bad_one_is_still_answered() -> None:
    reg, request = started_registration()
    value = b'Digest realm="a\x01b", nonce="x", Digest realm="example.com", nonce="abc"'
    reg.receive(challenge_for(request, [value]), 0.1)
    # One header value is one parse: a bad challenge spoils its whole value...
    assert reg.done and reg.result.failure is Failure.CHALLENGE_UNSUPPORTED
    reg, request = started_registration()
    good = b'Digest realm="example.com", nonce="abc"'
    data = challenge_for(request, [b'Digest realm="a\x01b", nonce="x"', good])
    reg.receive(data, 0.1)
    # ...but not the other header fields.
    assert not reg.done
    [out] = reg.take_outgoing()
    assert b'realm="example.com"' in out.data


def _register(cseq: str, extra: bytes = b"") -> bytes:
    return (
        b"REGISTER sip:example.com SIP/2.0\r\n"
        b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
        b"Max-Forwards: 70\r\nTo: <sip:alice@example.com>\r\n"
        b"From: <sip:alice@example.com>;tag=1\r\nCall-ID: c1\r\n"
        b"CSeq: " + cseq.encode() + b" REGISTER\r\n"
        b"Contact: <sip:alice@192.0.2.1>\r\n" + extra + b"Content-Length: 0\r\n\r\n"
    )


def _status(data: bytes, transport: str) -> int:
    out = deliver(registrar_service(), data, transport)
    [send] = out.sends
    response = parse_message(send.data)
    assert isinstance(response, Response)
    return response.status


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("cseq", ["¹", "٣", "9" * 5000, "0" * 5000 + "1"])
def test_registrar_answers_400_to_a_cseq_that_is_no_number(cseq: str, transport: str) -> None:
    assert _status(_register(cseq), transport) == (401 if cseq == "0" * 5000 + "1" else 400)


@pytest.mark.parametrize("bad", [b"\xfc", b"\x01"])
def test_registrar_refuses_credentials_with_bad_octets(bad: bytes) -> None:
    auth = (
        b'Authorization: Digest username="alice", realm="example.com", nonce="n", '
        b'uri="sip:example.com", response="0", cnonce="c' + bad + b'", qop=auth, nc=00000001\r\n'
    )
    assert _status(_register("1", auth), "udp") in (400, 401)


@pytest.mark.parametrize(
    "header", ["Max-Forwards: ¹", "Max-Forwards: " + "9" * 5000, "Expires: ²", "CSeq: ³ OPTIONS"]
)
def test_lint_reports_unicode_digits_with_the_lint_status(header: str) -> None:
    message = (
        "OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
        "To: <sip:a@example.com>\r\nFrom: <sip:b@example.com>;tag=1\r\nCall-ID: x\r\n"
        f"CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n{header}\r\nContent-Length: 0\r\n\r\n"
    )
    lines = message.split("\r\n")
    name = header.partition(":")[0]
    # The header replaces the one of the same name (one CSeq, one Max-Forwards).
    lines = [line for line in lines if not line.startswith(f"{name}:")]
    lines.insert(1, header)
    result = CliRunner().invoke(
        cli, ["lint", "-"], input="\r\n".join(lines).encode(), env={"NO_COLOR": "1"}
    )
    assert result.exit_code == ExitStatus.LINT_ERRORS, result.output
    assert "internal" not in result.output
    assert "bad-" in result.output
