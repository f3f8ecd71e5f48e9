"""The ladder at 80 and 140 columns, and at every width from 60 to 160.

Snapshots are the exact text a person sees (rich ``Console(no_color=True, width=N,
record=True)``, ``export_text()``), kept in ``tests/data/snapshots/ladder-*.txt``.
After a deliberate change to the ladder, regenerate them and read the diff:

    SIPCHECK_UPDATE_SNAPSHOTS=1 python -m pytest tests/test_ladder_width.py

Every Trace here is built from whole SIP messages as they cross the wire, with a
fixed ``wall_start`` so the header's clock time is part of the snapshot.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from sipcheck.render.annotate import annotate
from sipcheck.render.ladder import MAX_WIDTH, format_wall, render_ladder, wrap_raw
from sipcheck.sip.digest.compute import compute_ha1, compute_response
from sipcheck.trace import Address, Outcome, Trace, TraceEntry

SNAPSHOTS = Path(__file__).parent / "data" / "snapshots"
UPDATE = os.environ.get("SIPCHECK_UPDATE_SNAPSHOTS") == "1"

WALL = 1_796_162_254.123  # 2026-12-01 21:57:34.123 UTC
LOCAL = Address("192.168.1.10", 5060)
SERVER = Address("203.0.113.1", 5060)
BACKUP = Address("203.0.113.2", 5060)
REALM = "example.com"
NONCE = "Y2ZmNjE4ZWYtNGFkZS00ZWU1LWE1OTgtMGQ0ZTE4YWYzNzc3"
NONCE2 = "ZjA0NDI5ZGItYmJkNi00ZmM3LWFiMjUtNDU2OWE0MzQxNDNm"
CNONCE = "0a4f113b"
OPAQUE = "5ccc069c403ebaf9f0171e9517f40e41"
CALL_ID = "3c26700a8f1b4d0c@192.168.1.10"
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


# --- messages ------------------------------------------------------------------------


def crlf(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def register(cseq: int, branch: str, *extra: str, transport: str = "UDP") -> bytes:
    return crlf(
        "REGISTER sip:example.com SIP/2.0",
        f"Via: SIP/2.0/{transport} 192.168.1.10:5060;branch=z9hG4bK{branch};rport",
        "Max-Forwards: 70",
        "From: <sip:alice@example.com>;tag=8f3a1c",
        "To: <sip:alice@example.com>",
        f"Call-ID: {CALL_ID}",
        f"CSeq: {cseq} REGISTER",
        "Contact: <sip:alice@192.168.1.10:5060>",
        "Expires: 3600",
        *extra,
        "User-Agent: sipcheck/0.1.0",
        "Content-Length: 0",
    )


def response(status: str, cseq: int, branch: str, *extra: str, transport: str = "UDP") -> bytes:
    return crlf(
        f"SIP/2.0 {status}",
        f"Via: SIP/2.0/{transport} 192.168.1.10:5060;branch=z9hG4bK{branch};rport=6060"
        ";received=198.51.100.7",
        "From: <sip:alice@example.com>;tag=8f3a1c",
        "To: <sip:alice@example.com>;tag=as5e2b",
        f"Call-ID: {CALL_ID}",
        f"CSeq: {cseq} REGISTER",
        *extra,
        "Server: Kamailio (5.7.4 (x86_64/linux))",
        "Content-Length: 0",
    )


def challenge(header: str = "WWW-Authenticate", nonce: str = NONCE, stale: bool = False) -> str:
    """Two header lines, SHA-256 then MD5, as Kamailio and the embedded registrar send."""
    extra = ", stale=true" if stale else ""
    return "\r\n".join(
        f'{header}: Digest realm="{REALM}", nonce="{nonce}", algorithm={algorithm}, '
        f'qop="auth"{extra}'
        for algorithm in ("SHA-256", "MD5")
    )


def answer(header: str = "Authorization", password: str = "secret", nc: int = 1) -> str:
    ha1 = compute_ha1("SHA-256", "alice", REALM, password)
    digest = compute_response(
        algorithm="SHA-256",
        ha1=ha1,
        nonce=NONCE,
        method="REGISTER",
        uri="sip:example.com",
        qop="auth",
        nc=nc,
        cnonce=CNONCE,
    )
    return (
        f'{header}: Digest username="alice", realm="{REALM}", nonce="{NONCE}", '
        f'uri="sip:example.com", response="{digest}", algorithm=SHA-256, '
        f'cnonce="{CNONCE}", qop=auth, nc={nc:08x}'
    )


def at(
    direction: str, time: float, raw: bytes, remote: Address = SERVER, **kw: object
) -> TraceEntry:
    transport = str(kw.pop("transport", "udp"))
    return TraceEntry(direction, time, LOCAL, remote, transport, raw, **kw)  # type: ignore[arg-type]


def outcome(result: str, status: int | None, reason: str | None, **kw: object) -> Outcome:
    return Outcome(
        "register",
        "sip:alice@example.com",
        result,
        status,
        reason,
        target=dict(TARGET),
        **kw,  # type: ignore[arg-type]
    )


# --- the flows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    trace: Trace
    outcome: Outcome
    verbose: int = 0


def flow_401() -> Flow:
    """A typical registration: 401 with SHA-256 and MD5, answered, 200."""
    trace = Trace(wall_start=WALL)
    trace.note(0.0, "connect", "UDP 192.168.1.10:5060 -> 203.0.113.1:5060")
    trace.add(at("out", 0.0, register(1, "a1")))
    trace.add(at("in", 0.0213, response("401 Unauthorized", 1, "a1", challenge())))
    trace.add(at("out", 0.0225, register(2, "b2", answer())))
    ok = response("200 OK", 2, "b2", "Contact: <sip:alice@192.168.1.10:5060>;expires=3600")
    trace.add(at("in", 0.0451, ok))
    return Flow(trace, outcome("registered", 200, "OK"))


def flow_407_wrong_password() -> Flow:
    """407, answered with a wrong password, 407 again: the credentials refused."""
    proxy = "Proxy-Authenticate"
    trace = Trace(wall_start=WALL)
    trace.note(0.0, "connect", "UDP 192.168.1.10:5060 -> 203.0.113.1:5060")
    denied = "407 Proxy Authentication Required"
    trace.add(at("out", 0.0, register(1, "p1")))
    trace.add(at("in", 0.0187, response(denied, 1, "p1", challenge(proxy))))
    trace.add(at("out", 0.0199, register(2, "p2", answer("Proxy-Authorization", "wrong"))))
    trace.add(at("in", 0.0402, response(denied, 2, "p2", challenge(proxy, NONCE2))))
    return Flow(trace, outcome("failed", 407, "Proxy Authentication Required", exit_status=3))


def flow_long_headers() -> Flow:
    """``-v`` with long header lines: they wrap after a comma or semicolon."""
    contact = (
        "Contact: <sip:alice@192.168.1.10:5060;transport=udp;ob>;reg-id=1;"
        '+sip.instance="<urn:uuid:00000000-0000-1000-8000-00a0c91e6bf6>";expires=3600'
    )
    trace = Trace(wall_start=WALL)
    trace.add(at("out", 0.0, register(1, "v1", "Supported: path, gruu, outbound")))
    trace.add(at("in", 0.0213, response("401 Unauthorized", 1, "v1", challenge())))
    trace.add(at("out", 0.0225, register(2, "v2", answer(), "Supported: path, gruu, outbound")))
    ok = response(
        "200 OK",
        2,
        "v2",
        contact,
        "Path: <sip:edge1.example.com;lr;ob>, <sip:core2.example.com;lr>",
        "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO",
    )
    trace.add(at("in", 0.0451, ok))
    return Flow(trace, outcome("registered", 200, "OK"), verbose=1)


def flow_failure_with_notes() -> Flow:
    """TCP: the first target does not answer the connect, the next says 503."""
    tcp = {"transport": "tcp"}
    trace = Trace(wall_start=WALL)
    trace.note(0.0, "timeout", "TCP connect to 203.0.113.1:5060 timed out after 2.0 s", "connect")
    trace.note(2.001, "connect", "TCP 192.168.1.10:49152 -> 203.0.113.2:5060")
    trace.add(at("out", 2.002, register(1, "n1", transport="TCP"), BACKUP, **tcp))
    unavailable = response(
        "503 Service Unavailable",
        1,
        "n1",
        "Retry-After: 300 (maintenance)",
        'Warning: 399 core2.example.com "Registrations are paused for a database upgrade '
        'until 23:00 UTC"',
        transport="TCP",
    )
    trace.add(at("in", 2.0309, unavailable, BACKUP, **tcp))
    trace.note(2.031, "error", "no more targets: every candidate failed (2 tried)", "send")
    failed = outcome("failed", 503, "Service Unavailable", exit_status=6)
    failed.target = {
        "steps": [
            "_sip._tcp.example.com SRV 10 60 5060 sip1.example.com",
            "_sip._tcp.example.com SRV 20 60 5060 sip2.example.com",
        ],
        "candidates": ["tcp:203.0.113.1:5060", "tcp:203.0.113.2:5060"],
        "address": "203.0.113.2:5060",
        "transport": "tcp",
        "host": "sip2.example.com",
    }
    return Flow(trace, failed)


FLOWS: dict[str, Callable[[], Flow]] = {
    "401": flow_401,
    "407-wrong-password": flow_407_wrong_password,
    "long-headers-v": flow_long_headers,
    "failure-with-notes": flow_failure_with_notes,
}


def draw(flow: Flow, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, no_color=True, record=True)
    console.print(render_ladder(flow.trace, flow.outcome, verbose=flow.verbose, width=width))
    return console.export_text()


# --- snapshots --------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 140])
@pytest.mark.parametrize("name", list(FLOWS))
def test_snapshot(name: str, width: int) -> None:
    text = draw(FLOWS[name](), width)
    path = SNAPSHOTS / f"ladder-{name}-{width}.txt"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: run with SIPCHECK_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if the change is meant, regenerate with "
        "SIPCHECK_UPDATE_SNAPSHOTS=1 and review the diff"
    )


# --- the right lane at every width ----------------------------------------------------------


def lane_rows(text: str) -> tuple[list[int], list[str]]:
    """The lane columns (from the first row of bars only) and every row below it."""
    lines = text.rstrip("\n").split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip() and set(line) <= {" ", "│"})
    bars = [x for x, ch in enumerate(lines[first]) if ch == "│"]
    return bars, lines[first:]


def three_lanes() -> Flow:
    trace = Trace(wall_start=WALL)
    trace.add(at("out", 0.0, register(1, "r1")))
    moved = response("302 Moved Temporarily", 1, "r1", "Contact: <sip:203.0.113.2:5060>")
    trace.add(at("in", 0.010, moved))
    trace.add(at("out", 0.011, register(2, "r2"), BACKUP))
    trace.add(at("in", 0.020, response("401 Unauthorized", 2, "r2", challenge()), BACKUP))
    trace.add(at("out", 0.021, register(3, "r3", answer()), BACKUP))
    trace.add(at("in", 0.040, response("423 Interval Too Brief", 3, "r3"), BACKUP))
    return Flow(trace, outcome("failed", 423, "Interval Too Brief"), verbose=1)


def seven_lanes() -> Flow:
    """More lanes than their labels fit: a legend, lanes as close as 4 columns."""
    trace = Trace(wall_start=WALL)
    for i in range(6):
        remote = Address(f"2001:db8::{i + 1}", 5061)
        busy = response("503 Service Unavailable", 1, f"m{i}", "Retry-After: 30")
        trace.add(at("out", i * 0.1, register(1, f"m{i}"), remote, transport="tls"))
        trace.add(at("in", i * 0.1 + 0.05, busy, remote, transport="tls"))
    return Flow(trace, outcome("failed", 503, "Service Unavailable"))


ALL_FLOWS = [*FLOWS.values(), three_lanes, seven_lanes]


def test_narrow_consoles_still_render() -> None:
    # Below 60 columns the lanes may come too close for text; it still draws, no error.
    for make in ALL_FLOWS:
        for width in range(10, 60):
            text = draw(make(), width)
            assert width < 30 or "│" in text


@pytest.mark.parametrize("make", ALL_FLOWS, ids=[*FLOWS, "three-lanes", "seven-lanes"])
def test_right_lane_is_never_overwritten(make: Callable[[], Flow]) -> None:
    flow = make()
    for verbose in sorted({flow.verbose, 0, 1}):
        shown = Flow(flow.trace, flow.outcome, verbose)
        for width in range(60, 161):
            bars, rows = lane_rows(draw(shown, width))
            right = bars[-1]
            assert right < width
            for row in rows:
                # The right lane's bar, in the same column, on every row; nothing past it.
                assert len(row) == right + 1 and row[right] == "│", (width, row)
                assert row[bars[0]] == "│", (width, row)
                # No word split at a hyphen: no annotation line ends in one. (A raw
                # line keeps its own hyphens, and may be cut after one.)
                if verbose == 0:
                    assert not row[:right].rstrip().endswith("-"), (width, row)


@settings(max_examples=60, deadline=None)
@given(
    width=st.integers(60, 160),
    reason=st.text(st.sampled_from("abc-XYZ ;,=\"'.<>:@"), min_size=1, max_size=90),
    warning=st.text(st.sampled_from("aé-_ ,;=x0"), max_size=200),
)
def test_right_lane_holds_for_any_text(width: int, reason: str, warning: str) -> None:
    trace = Trace(wall_start=WALL)
    trace.add(at("out", 0.0, register(1, "h1")))
    extra = [f'Warning: 399 x "{warning}"'] if warning.strip() else []
    trace.add(at("in", 0.01, response(f"500 {reason.strip() or 'x'}", 1, "h1", *extra)))
    trace.note(0.02, "error", reason * 3)
    for verbose in (0, 1):
        bars, rows = lane_rows(draw(Flow(trace, outcome("failed", 500, reason), verbose), width))
        assert all(len(row) == bars[-1] + 1 and row[bars[-1]] == "│" for row in rows)


def test_width_is_used_up_to_the_maximum() -> None:
    flow = flow_401()
    widths = {}
    for width in (80, 100, 140, MAX_WIDTH, 220):
        bars, rows = lane_rows(draw(flow, width))
        widths[width] = bars[-1] + 1
        assert max(len(row) for row in rows) == bars[-1] + 1
    # The right lane's label (20 columns) is centred on it: the lane sits 11 from the edge.
    assert widths == {80: 70, 100: 90, 140: 130, MAX_WIDTH: MAX_WIDTH - 10, 220: MAX_WIDTH - 10}


# --- what the rows say ---------------------------------------------------------------------


def flat(text: str) -> str:
    """The ladder's words, lanes and wrapping taken out."""
    return " ".join(" ".join(line.strip(" │").split()) for line in text.split("\n"))


def test_wrong_password_reads_as_refused_in_red() -> None:
    flow = flow_407_wrong_password()
    said = annotate(flow.trace.entries)
    assert [a.kind for a in said] == [None, "challenge", None, "refused"]
    assert said[1].style == "yellow" and said[3].style == "bold red"
    refused = [text for text, _ in said[3].details]
    assert refused[0] == (
        "credentials refused: challenged again after the Proxy-Authorization "
        'for realm "example.com"'
    )
    assert dict(said[3].details)[refused[0]] == "bold red"
    assert all("resend" not in text and "wants credentials" not in text for text in refused)
    text = flat(draw(flow, 80))
    assert text.count("credentials refused") == 1
    assert "A proxy on the path wants credentials in Proxy-Authorization" in text  # the first


def test_stale_rechallenge_is_stale_not_refused() -> None:
    trace = Trace()
    trace.add(at("out", 0.0, register(1, "s1")))
    trace.add(at("in", 0.01, response("401 Unauthorized", 1, "s1", challenge())))
    trace.add(at("out", 0.02, register(2, "s2", answer())))
    trace.add(at("in", 0.03, response("401 Unauthorized", 2, "s2", challenge(stale=True))))
    said = annotate(trace.entries)
    assert said[3].kind == "stale" and said[3].style == "yellow"
    lines = [text for text, _ in said[3].details]
    assert lines[0].startswith("stale nonce: the Authorization for realm")
    assert "stale=true" in lines[1]
    assert not any("refused" in line for line in lines)


def test_a_new_realm_or_header_kind_is_a_challenge_not_a_refusal() -> None:
    # 407 answered with Proxy-Authorization, then the registrar's own 401 (same realm):
    # a second challenge, not a refusal of the proxy credentials.
    trace = Trace()
    trace.add(at("out", 0.0, register(1, "k1")))
    trace.add(
        at(
            "in",
            0.01,
            response("407 Proxy Authentication Required", 1, "k1", challenge("Proxy-Authenticate")),
        )
    )
    trace.add(at("out", 0.02, register(2, "k2", answer("Proxy-Authorization"))))
    trace.add(at("in", 0.03, response("401 Unauthorized", 2, "k2", challenge())))
    # A 401 whose CSeq matches no request: nothing to compare with.
    trace.add(at("in", 0.04, response("401 Unauthorized", 9, "k9", challenge())))
    assert [a.kind for a in annotate(trace.entries)] == [
        None,
        "challenge",
        None,
        "challenge",
        "challenge",
    ]


def test_connect_notes_and_empty_flags_are_left_out() -> None:
    text = draw(flow_401(), 140)
    assert "connect" not in text
    assert "opaque" not in text and "stale" not in text
    assert 'Digest realm "example.com", algorithm SHA-256 or MD5, qop auth' in flat(text)
    # The failure's notes stay, the connect between them goes.
    notes = draw(flow_failure_with_notes(), 80)
    assert "· timeout: TCP connect to 203.0.113.1:5060 timed out" in flat(notes)
    assert "· error: no more targets" in flat(notes)
    assert "· connect" not in notes


def test_header_says_when_the_first_message_went() -> None:
    assert format_wall(WALL) == "2026-12-01 21:57:34.123 UTC"
    assert format_wall(WALL + 0.0996) == "2026-12-01 21:57:34.223 UTC"
    assert format_wall(1_796_162_254.9996) == "2026-12-01 21:57:35.000 UTC"
    lines = draw(flow_failure_with_notes(), 80).split("\n")
    assert lines[1] == "  time       2026-12-01 21:57:36.125 UTC at +2.002s"
    assert (
        draw(flow_401(), 80).split("\n")[1] == "  time       2026-12-01 21:57:34.123 UTC at +0.000s"
    )
    unknown = flow_401()
    unknown.trace.wall_start = 0.0  # a Trace built by hand: no clock, no line
    assert "  time " not in draw(unknown, 80)


def test_long_headers_wrap_after_separators() -> None:
    lines = draw(flow_long_headers(), 80).split("\n")
    rows = [line[21:].strip(" │") for line in lines]
    via = rows.index("Via: SIP/2.0/UDP 192.168.1.10:5060;")
    assert rows[via + 1 : via + 3] == ["branch=z9hG4bKv1;rport", "Max-Forwards: 70"]
    path = next(i for i, row in enumerate(rows) if row.startswith("Path:"))
    assert rows[path : path + 2] == [
        "Path: <sip:edge1.example.com;lr;ob>,",
        "<sip:core2.example.com;lr>",
    ]


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(st.sampled_from('ab=;, "x-y'), max_size=160),
    width=st.integers(8, 60),
)
def test_wrap_raw_keeps_every_character(text: str, width: int) -> None:
    lines = wrap_raw(text, width)
    assert all(len(line) <= width for line in lines)
    assert all(line.startswith("    ") for line in lines[1:])
    joined = "".join(line[4:] if i else line for i, line in enumerate(lines))
    # Only spaces at a break are dropped.
    assert re.sub(" ", "", joined) == re.sub(" ", "", text)
