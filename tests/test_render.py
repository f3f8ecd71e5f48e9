"""Ladder, verdict and JSON renderers: pure functions of hand-built Traces and Outcomes."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console, RenderableType

from sipcheck.render.json_out import dumps, outcome_to_json
from sipcheck.render.ladder import format_delta, format_time, render_ladder
from sipcheck.render.verdict import render_verdict
from sipcheck.sip.digest.compute import compute_ha1, compute_response
from sipcheck.sip.knowledge import codes
from sipcheck.trace import (
    Address,
    BoundContact,
    Diagnosis,
    Outcome,
    TlsInfo,
    Trace,
    TraceEntry,
)

PASSWORD = "Tr0ub4dor&3-never-print-me"
USER = "alice"
REALM = "example.com"
NONCE = "Y2ZmNjE4ZWYtNGFkZS00ZWU1LWE1OTgtMGQ0ZTE4YWYzNzc3"
CNONCE = "0a4f113b"
OPAQUE = "5ccc069c403ebaf9f0171e9517f40e41"

LOCAL = Address("192.168.1.10", 5060)
SERVER = Address("203.0.113.1", 5060)
CONTACT = "<sip:alice@192.168.1.10:5060;transport=udp>"


def render(renderable: RenderableType, width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, no_color=True, force_terminal=False)
    console.print(renderable)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(out, str)
    return "\n".join(line.rstrip() for line in out.splitlines())


def crlf(*lines: str, body: str = "") -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def register(cseq: int, branch: str, *extra: str) -> bytes:
    return crlf(
        "REGISTER sip:example.com SIP/2.0",
        f"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK{branch};rport",
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=8f3a1c",
        "To: <sip:alice@example.com>",
        "Call-ID: 3c26700a8f1b4d0c@192.168.1.10",
        f"CSeq: {cseq} REGISTER",
        f"Contact: {CONTACT}",
        "Expires: 3600",
        *extra,
        "User-Agent: sipcheck/0.1.0",
        "Content-Length: 0",
    )


def response(status: str, cseq: int, branch: str, *extra: str) -> bytes:
    return crlf(
        f"SIP/2.0 {status}",
        f"Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK{branch};rport=6060"
        ";received=198.51.100.7",
        "From: <sip:alice@example.com>;tag=8f3a1c",
        "To: <sip:alice@example.com>;tag=as5e2b",
        "Call-ID: 3c26700a8f1b4d0c@192.168.1.10",
        f"CSeq: {cseq} REGISTER",
        *extra,
        "Server: Kamailio (5.7.4 (x86_64/linux))",
        "Content-Length: 0",
    )


def digest_response() -> str:
    ha1 = compute_ha1("MD5", USER, REALM, PASSWORD)
    return compute_response(
        algorithm="MD5",
        ha1=ha1,
        nonce=NONCE,
        method="REGISTER",
        uri="sip:example.com",
        qop="auth",
        nc=1,
        cnonce=CNONCE,
    )


CHALLENGE = (
    f'WWW-Authenticate: Digest realm="{REALM}", nonce="{NONCE}", '
    f'opaque="{OPAQUE}", algorithm=MD5, qop="auth,auth-int"'
)


def authorization() -> str:
    return (
        f'Authorization: Digest username="{USER}", realm="{REALM}", nonce="{NONCE}", '
        f'uri="sip:example.com", response="{digest_response()}", algorithm=MD5, '
        f'cnonce="{CNONCE}", opaque="{OPAQUE}", qop=auth, nc=00000001'
    )


def entry(direction: str, time: float, raw: bytes, **kw: object) -> TraceEntry:
    remote = kw.pop("remote", SERVER)
    assert isinstance(remote, Address)
    return TraceEntry(direction, time, LOCAL, remote, "udp", raw, **kw)  # type: ignore[arg-type]


TARGET: dict[str, object] = {
    "steps": [
        "example.com: NAPTR none",
        "_sip._udp.example.com SRV 10 60 5060 sip.example.com",
        "sip.example.com A 203.0.113.1",
    ],
    "address": "203.0.113.1:5060",
    "transport": "udp",
    "server_name": "sip.example.com",
}


def auth_trace() -> Trace:
    trace = Trace(wall_start=1_700_000_000.0)
    trace.note(0.0, "resolve", "sip.example.com -> 203.0.113.1:5060/UDP")
    trace.add(entry("out", 0.0, register(1, "a1")))
    trace.add(entry("in", 0.0213, response("401 Unauthorized", 1, "a1", CHALLENGE)))
    trace.add(entry("out", 0.0225, register(2, "b2", authorization())))
    ok = response(
        "200 OK", 2, "b2", f"Contact: {CONTACT};expires=3600", "Date: Tue, 21 Nov 2026 10:00:00 GMT"
    )
    trace.add(entry("in", 0.0451, ok))
    return trace


def auth_outcome() -> Outcome:
    return Outcome(
        command="register",
        aor="sip:alice@example.com",
        result="registered",
        final_status=200,
        final_reason="OK",
        exit_status=0,
        diagnoses=[
            Diagnosis(
                "nat-detected",
                "warning",
                "You are behind NAT: the registrar saw a different address than your Contact.",
                causes=("A home router or firewall rewrites your source address.",),
                advice=("Enable rport / keep-alives, or use --contact with the public address.",),
            )
        ],
        bindings=[
            BoundContact("<sip:alice@192.168.1.10:5060;transport=udp>", 3600, ours=True),
            BoundContact("<sip:alice@10.0.0.2:5062>", 1200),
        ],
        granted_expires=3600,
        server="Kamailio (5.7.4 (x86_64/linux))",
        seen_as=Address("198.51.100.7", 6060),
        contact_sent=CONTACT,
        total_ms=45.1,
        rrd_ms=22.6,
        target=dict(TARGET),
    )


def timeout_trace() -> Trace:
    trace = Trace()
    raw = register(1, "t1")
    times = [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    for i, t in enumerate(times):
        trace.add(entry("out", t, raw, retransmission=i > 0))
    trace.note(32.0, "error", "no response within 32 s (Timer F)")
    return trace


def timeout_outcome() -> Outcome:
    return Outcome(
        command="register",
        aor="sip:alice@example.com",
        result="failed",
        exit_status=7,
        diagnoses=[
            Diagnosis(
                "timeout",
                "error",
                "No response from 203.0.113.1:5060 over UDP in 32 s.",
                causes=(
                    "A firewall drops SIP (UDP 5060) on the way.",
                    "Wrong server address or port.",
                    "The server is down.",
                ),
                advice=("Try --transport tcp.", "Check the address with `dig`."),
            )
        ],
        total_ms=32000.0,
        target=dict(TARGET),
    )


# --- formatting helpers --------------------------------------------------------------


def test_time_and_delta_formats() -> None:
    assert format_time(0.0) == "+0.000s"
    assert format_time(0.0213) == "+0.021s"
    assert format_time(12.3456) == "+12.346s"
    assert format_delta(0.0123) == "Δ12.3ms"
    assert format_delta(0.5) == "Δ500.0ms"
    assert format_delta(4.0) == "Δ4.000s"


# --- ladder ---------------------------------------------------------------------------


def test_two_message_snapshot() -> None:
    trace = Trace()
    trace.add(entry("out", 0.0, register(1, "s1")))
    trace.add(entry("in", 0.0123, response("403 Forbidden", 1, "s1")))
    outcome = Outcome("register", "sip:alice@example.com", "failed", 403, "Forbidden", 3)
    text = render(render_ladder(trace, outcome, width=90), width=90)
    assert text.split("\n") == [
        "sipcheck register sip:alice@example.com",
        "",
        "                 sipcheck",
        "           192.168.1.10:5060/UDP                                     203.0.113.1:5060/UDP",
        "                     │" + " " * 57 + "│",
        "+0.000s              │────────────────────────REGISTER────────────────────────▶│",
        "+0.012s Δ12.3ms      │◀─────────────────────403 Forbidden──────────────────────│",
        # The summary wraps between the lanes; the right lane stays drawn.
        "                     │  Refused; credentials will not help (account, ACL or    │",
        "                     │    policy)                                              │",
    ]
    assert (
        codes.lookup(403).summary == "Refused; credentials will not help (account, ACL or policy)"
    )


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.split("\n") if needle in line]


def test_auth_flow_ladder() -> None:
    text = render(render_ladder(auth_trace(), auth_outcome()))
    lines = text.split("\n")
    # Header: command, AoR, resolution path, where we sent.
    assert lines[0] == "sipcheck register sip:alice@example.com"
    assert "  server     sip.example.com" in lines
    assert "             _sip._udp.example.com SRV 10 60 5060 sip.example.com" in lines
    assert "  sending to 203.0.113.1:5060 over UDP" in lines
    # The resolve note comes before the first REGISTER (same time: notes first).
    (note,) = [i for i, line in enumerate(lines) if line.startswith("+0.000s              │  ·")]
    assert "· resolve: sip.example.com -> 203.0.113.1:5060/UDP" in lines[note]
    first = next(i for i, line in enumerate(lines) if "REGISTER─" in line)
    assert note < first
    # Times and deltas.
    assert lines[first].startswith("+0.000s              │──")
    (unauth,) = lines_with(text, "401 Unauthorized")
    assert unauth.startswith("+0.021s Δ21.3ms      │◀──")
    assert unauth.endswith("──│")
    (ok,) = lines_with(text, "200 OK")
    assert ok.startswith("+0.045s Δ22.6ms      │◀──")
    assert lines_with(text, "REGISTER─")[1].startswith("+0.022s Δ1.2ms       │──")
    # The knowledge-base line right under the 401, then the challenge.
    at = lines.index(unauth)
    assert lines[at + 1].startswith("                     │  " + codes.lookup(401).summary)
    flat = " ".join(line.strip(" │") for line in lines)
    assert 'challenge (WWW-Authenticate): Digest realm "example.com", algorithm MD5' in flat
    # opaque and stale are said only when there: "opaque no, stale no" told nothing.
    assert "qop auth,auth-int, with opaque" in flat
    assert "stale" not in flat
    # How we answered, on the second REGISTER.
    assert (
        'answered (Authorization): user "alice", realm "example.com", algorithm MD5, '
        "uri sip:example.com, qop auth, nc 00000001"
    ) in flat
    assert codes.lookup(200).summary in text


def test_no_secret_in_output() -> None:
    ha1 = compute_ha1("MD5", USER, REALM, PASSWORD)
    for verbose in (0, 1, 2):
        text = render(render_ladder(auth_trace(), auth_outcome(), verbose=verbose))
        text += render(render_verdict(auth_outcome()))
        assert PASSWORD not in text
        assert ha1 not in text
        # The response hash is shown only as part of the raw message in verbose mode.
        assert (digest_response() in text) == (verbose >= 1)
    blob = dumps(outcome_to_json(auth_trace(), auth_outcome()))
    assert PASSWORD not in blob
    assert ha1 not in blob


def test_verbose_shows_raw_messages() -> None:
    quiet = render(render_ladder(auth_trace(), auth_outcome()))
    loud = render(render_ladder(auth_trace(), auth_outcome(), verbose=1))
    assert "Call-ID: 3c26700a8f1b4d0c@192.168.1.10" not in quiet
    assert "                     │    Call-ID: 3c26700a8f1b4d0c@192.168.1.10" in loud
    assert "│    SIP/2.0 401 Unauthorized" in loud
    assert "│    REGISTER sip:example.com SIP/2.0" in loud
    # Long header lines are folded between the lanes after a separator, continuation
    # indented; the right lane stays drawn.
    lines = loud.split("\n")
    assert all(len(line) <= 100 for line in lines)
    via = next(i for i, line in enumerate(lines) if "received=" in line) - 1
    assert lines[via] == (
        "                     │    Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKa1;           │"
    )
    assert lines[via + 1] == (
        "                     │      rport=6060;received=198.51.100.7                             │"
    )
    assert OPAQUE in "".join(line.strip(" │") for line in lines)


def test_timeout_ladder() -> None:
    text = render(render_ladder(timeout_trace(), timeout_outcome()))
    rows = lines_with(text, "REGISTER")
    assert len(rows) == 11
    assert "(retransmission)" not in rows[0]
    assert all("REGISTER (retransmission)" in row for row in rows[1:])
    assert [row.split("│")[0].rstrip() for row in rows[:5]] == [
        "+0.000s",
        "+0.500s Δ500.0ms",
        "+1.500s Δ1.000s",
        "+3.500s Δ2.000s",
        "+7.500s Δ4.000s",
    ]
    assert rows[-1].startswith("+31.500s Δ4.000s")
    assert text.split("\n")[-1].startswith(
        "+32.000s             │  · error: no response within 32 s (Timer F)  "
    )


def test_timeout_verdict() -> None:
    text = render(render_verdict(timeout_outcome()))
    assert "FAILED  no final response" in text
    assert "✗ [error] timeout: No response from 203.0.113.1:5060 over UDP in 32 s." in text
    assert "total 32.00 s" in text
    causes = [text.index(c) for c in ("1. A firewall", "2. Wrong server", "3. The server is")]
    assert causes == sorted(causes)
    assert text.index("Most likely causes:") < causes[0] < text.index("What to try:")
    assert "- Try --transport tcp." in text
    assert "REGISTERED" not in text


def test_forbidden() -> None:
    trace = Trace()
    trace.add(entry("out", 0.0, register(1, "f1")))
    trace.add(entry("in", 0.030, response("401 Unauthorized", 1, "f1", CHALLENGE)))
    trace.add(entry("out", 0.031, register(2, "f2", authorization())))
    trace.add(entry("in", 0.062, response("403 Forbidden", 2, "f2")))
    outcome = Outcome(
        "register",
        "sip:alice@example.com",
        "failed",
        403,
        "Forbidden",
        3,
        diagnoses=[
            Diagnosis(
                "credentials-rejected",
                "error",
                "The registrar refused the credentials.",
                causes=("Wrong password.", "Wrong auth user."),
                advice=("Check the password.",),
            ),
            Diagnosis("realm-differs", "warning", 'The realm "example.com" is not the domain.'),
        ],
    )
    ladder = render(render_ladder(trace, outcome))
    assert lines_with(ladder, "403 Forbidden")[0].startswith("+0.062s Δ31.0ms")
    assert codes.lookup(403).summary in ladder
    verdict = render(render_verdict(outcome))
    assert "FAILED  403 Forbidden" in verdict
    assert "✗ [error] credentials-rejected: The registrar refused the credentials." in verdict
    assert '! [warning] realm-differs: The realm "example.com" is not the domain.' in verdict
    assert verdict.index("credentials-rejected") < verdict.index("realm-differs")
    assert "1. Wrong password." in verdict and "2. Wrong auth user." in verdict


REDIRECTED = Address("203.0.113.2", 5060)


def redirect_trace() -> Trace:
    trace = Trace()
    trace.add(entry("out", 0.0, register(1, "r1")))
    moved = response("302 Moved Temporarily", 1, "r1", "Contact: <sip:203.0.113.2:5060>")
    trace.add(entry("in", 0.010, moved))
    trace.add(entry("out", 0.011, register(2, "r2"), remote=REDIRECTED))
    trace.add(
        entry("in", 0.020, response("401 Unauthorized", 2, "r2", CHALLENGE), remote=REDIRECTED)
    )
    trace.add(entry("out", 0.021, register(3, "r3", authorization()), remote=REDIRECTED))
    trace.add(entry("in", 0.040, response("200 OK", 3, "r3"), remote=REDIRECTED))
    return trace


def test_three_lane_redirect() -> None:
    text = render(render_ladder(redirect_trace(), auth_outcome()))
    lines = text.split("\n")
    (labels,) = lines_with(text, "192.168.1.10:5060/UDP")
    assert "203.0.113.1:5060/UDP" in labels and "203.0.113.2:5060/UDP" in labels
    bars = lines[lines.index(labels) + 1]
    xs = [i for i, ch in enumerate(bars) if ch == "│"]
    assert len(xs) == 3
    assert all(len(line) <= 100 for line in lines)

    def arrow(needle: str) -> str:
        return next(line for line in lines if needle in line and ("▶" in line or "◀" in line))

    # To the first server: ends at lane 1, lane 2 untouched.
    first = arrow("REGISTER")
    assert first[xs[1] - 1 : xs[1] + 1] == "▶│" and first[xs[2]] == "│"
    moved = arrow("302 Moved Temporarily")
    assert moved[xs[0] : xs[0] + 2] == "│◀" and moved[xs[1]] == "│"
    # To the redirect target: the arrow crosses lane 1.
    ok = arrow("200 OK")
    assert ok[xs[0] : xs[0] + 2] == "│◀" and ok[xs[1]] != "│" and ok[xs[2]] == "│"
    assert "│  Contact: <sip:203.0.113.2:5060>" in text
    assert codes.lookup(302).summary in text


def test_many_lanes_use_a_legend() -> None:
    trace = Trace()
    for i in range(6):
        remote = Address(f"2001:db8::{i + 1}", 5061)
        trace.add(TraceEntry("out", i * 0.1, LOCAL, remote, "tls", register(1, f"m{i}")))
    text = render(render_ladder(trace, timeout_outcome()))
    assert "  [0] sipcheck 192.168.1.10:5060/TLS" in text
    assert "  [6] [2001:db8::6]:5061/TLS" in text
    assert all(len(line) <= 100 for line in text.split("\n"))
    assert len(lines_with(text, "▶")) == 6


def test_stray_and_unparseable_entries() -> None:
    trace = auth_trace()
    stray = response("200 OK", 7, "zz")
    trace.add(entry("in", 0.050, stray, note="stray response: no transaction matches"))
    trace.add(entry("in", 0.060, b"\x16\x03\x01 garbage"))
    trace.add(entry("in", 0.070, b"\r\n\r\n"))
    text = render(render_ladder(trace, auth_outcome()))
    assert "│  not used: stray response: no transaction matches" in text
    assert "│  this message does not parse" in text
    assert "keep-alive" in text
    assert "\\x16\\x03\\x01 garbage" in text  # control octets shown escaped, never raw
    assert "\x16" not in text


def test_control_characters_are_escaped() -> None:
    trace = Trace()
    trace.add(entry("in", 0.0, response("403 Go\x1b[2Jaway", 1, "c1")))
    outcome = Outcome("register", "sip:alice@example.com", "failed", 403, "Go\x1b[2Jaway", 3)
    text = render(render_ladder(trace, outcome)) + render(render_verdict(outcome))
    assert "\x1b" not in text
    assert "Go\\x1b[2Jaway" in text


def test_tls_header() -> None:
    trace = auth_trace()
    trace.tls = TlsInfo(
        "TLSv1.3",
        "TLS_AES_256_GCM_SHA384",
        "CN=sip.example.com",
        "CN=R11,O=Let's Encrypt,C=US",
        "2027-02-01T00:00:00Z",
        verified=False,
        server_name="sip.example.com",
    )
    text = render(render_ladder(trace, auth_outcome()))
    assert "  TLS        TLSv1.3 TLS_AES_256_GCM_SHA384, certificate NOT verified" in text
    assert "subject CN=sip.example.com" in text
    assert "issuer CN=R11,O=Let's Encrypt,C=US" in text
    assert "expires 2027-02-01T00:00:00Z" in text


def test_no_messages() -> None:
    trace = Trace()
    trace.note(0.0, "resolve", "example.com: no SRV, no A records")
    trace.note(0.2, "error", "cannot resolve example.com")
    outcome = Outcome("register", "sip:alice@example.com", "failed", exit_status=8)
    text = render(render_ladder(trace, outcome))
    assert "+0.200s             · error: cannot resolve example.com" in text
    assert "no SIP message was sent or received" in text


# --- verdict --------------------------------------------------------------------------


def test_success_verdict() -> None:
    text = render(render_verdict(auth_outcome()))
    assert "REGISTERED  200 OK  expires in 3600 s" in text
    (ours,) = lines_with(text, "<sip:alice@192.168.1.10:5060;transport=udp>")
    assert "3600 s" in ours and "← ours" in ours
    (other,) = lines_with(text, "<sip:alice@10.0.0.2:5062>")
    assert "1200 s" in other and "ours" not in other
    assert "server   Kamailio (5.7.4 (x86_64/linux))" in text
    assert "timings  total 45.1 ms, registration request delay (RRD) 22.6 ms" in text
    # The NAT warning is said once, by its diagnosis (it used to be printed twice).
    assert "NAT" not in text.replace("behind NAT", "")
    assert text.count("! [warning] nat-detected:") == 1
    assert "FAILED" not in text


@pytest.mark.parametrize(
    ("result", "word"),
    [("unregistered", "UNREGISTERED"), ("queried", "QUERIED"), ("reachable", "REACHABLE")],
)
def test_other_result_words(result: str, word: str) -> None:
    outcome = Outcome("options", "sip:example.com", result, 200, "OK")
    assert render(render_verdict(outcome)).split("\n")[1].startswith(f"│ {word}  200 OK")


# --- JSON -----------------------------------------------------------------------------

KEYS = [
    "schema_version",
    "command",
    "aor",
    "target",
    "result",
    "final_status",
    "exit_status",
    "diagnosis",
    "messages",
    "bindings",
    "removed",
    "timings",
    "final_reason",
    "granted_expires",
    "server",
    "seen_as",
    "contact_sent",
    "tls",
    "notes",
]
MESSAGE_KEYS = [
    "direction",
    "time_ms",
    "local",
    "remote",
    "transport",
    "start_line",
    "raw",
    "retransmission",
]


def test_json_shape() -> None:
    obj = outcome_to_json(auth_trace(), auth_outcome())
    assert list(obj) == KEYS
    assert obj["schema_version"] == 1
    assert obj["command"] == "register"
    assert obj["aor"] == "sip:alice@example.com"
    assert obj["target"] == TARGET
    assert obj["result"] == "registered"
    assert obj["final_status"] == 200
    assert obj["exit_status"] == 0 and type(obj["exit_status"]) is int
    assert obj["diagnosis"] == [
        {
            "id": "nat-detected",
            "severity": "warning",
            "message": "You are behind NAT: the registrar saw a different address than your "
            "Contact.",
            "causes": ["A home router or firewall rewrites your source address."],
            "advice": ["Enable rport / keep-alives, or use --contact with the public address."],
        }
    ]
    messages = obj["messages"]
    assert isinstance(messages, list) and len(messages) == 4
    for message in messages:
        assert isinstance(message, dict)
        assert list(message) == MESSAGE_KEYS
        assert message["direction"] in ("out", "in")
        assert isinstance(message["time_ms"], float)
        assert message["local"] == "192.168.1.10:5060"
        assert message["remote"] == "203.0.113.1:5060"
        assert message["transport"] == "udp"
        assert message["retransmission"] is False
        assert isinstance(message["raw"], str)
    assert messages[1]["time_ms"] == 21.3  # type: ignore[index,call-overload]
    assert messages[1]["start_line"] == "SIP/2.0 401 Unauthorized"  # type: ignore[index,call-overload]
    assert messages[0]["raw"] == register(1, "a1").decode()  # type: ignore[index,call-overload]
    assert obj["bindings"] == [
        {"contact": "<sip:alice@192.168.1.10:5060;transport=udp>", "expires": 3600},
        {"contact": "<sip:alice@10.0.0.2:5062>", "expires": 1200},
    ]
    assert obj["timings"] == {"total_ms": 45.1, "rrd_ms": 22.6}
    assert obj["granted_expires"] == 3600
    assert obj["server"] == "Kamailio (5.7.4 (x86_64/linux))"
    assert obj["seen_as"] == "198.51.100.7:6060"
    assert obj["contact_sent"] == CONTACT
    assert obj["tls"] is None
    assert obj["notes"] == [
        {"time_ms": 0.0, "kind": "resolve", "text": "sip.example.com -> 203.0.113.1:5060/UDP"}
    ]


def test_json_round_trip_and_order() -> None:
    obj = outcome_to_json(auth_trace(), auth_outcome())
    text = dumps(obj)
    assert json.loads(text) == obj
    assert list(json.loads(text)) == KEYS  # documented order, not sorted
    assert text.startswith('{\n  "schema_version": 1,\n  "command": "register",')


def test_json_timeout_ipv6_and_bad_octets() -> None:
    trace = timeout_trace()
    v6 = Address("2001:db8::10", 5060)
    bad = b"SIP/2.0 200 \xff\xfe OK\r\nContent-Length: 0\r\n\r\n"
    trace.add(TraceEntry("in", 31.9, Address("2001:db8::1", 5070), v6, "udp", bad))
    trace.tls = TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", "CN=a", "CN=b", "2027-01-01", True)
    obj = json.loads(dumps(outcome_to_json(trace, timeout_outcome())))
    assert list(obj) == KEYS
    assert obj["final_status"] is None
    assert obj["exit_status"] == 7
    assert obj["bindings"] == []
    assert obj["timings"] == {"total_ms": 32000.0, "rrd_ms": None}
    assert [m["retransmission"] for m in obj["messages"][:11]] == [False] + [True] * 10
    assert [m["time_ms"] for m in obj["messages"][:3]] == [0.0, 500.0, 1500.0]
    last = obj["messages"][-1]
    assert last["local"] == "[2001:db8::1]:5070"
    assert last["remote"] == "[2001:db8::10]:5060"
    assert "\ufffd" in last["raw"] and "\ufffd" in last["start_line"]
    assert obj["tls"]["verified"] is True and obj["tls"]["server_name"] is None
    assert obj["notes"][0]["kind"] == "error"


def test_header_reads_the_target_as_outcome_builds_it() -> None:
    outcome = auth_outcome()
    outcome.target = {
        "steps": ["NAPTR example.com: no answer"],
        "candidates": ["udp:203.0.113.1:5060", "tcp:203.0.113.1:5060"],
        "host": "sip.example.com",
        "address": "203.0.113.1:5060",
        "transport": "udp",
    }
    text = render(render_ladder(auth_trace(), outcome))
    assert "  server     sip.example.com" in text
    assert "  candidates udp:203.0.113.1:5060, tcp:203.0.113.1:5060" in text
    (titles,) = lines_with(text, "sipcheck  ")
    assert titles.rstrip().endswith("sip.example.com")  # the lane of the chosen target
    # The registrar side records who the client was.
    outcome.target = {"client": "192.168.1.10:5060", "transport": "udp"}
    text = render(render_ladder(auth_trace(), outcome))
    assert "  client     192.168.1.10:5060" in text
