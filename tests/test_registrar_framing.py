"""The stream framer (registrar and client): messages and pings however the stream is
split, within limits, in linear time; and what the registrar core answers to a stream
message over a limit."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipcheck.errors import SipParseError
from sipcheck.sip.registrar.attempts import attempt_outcome
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.limits import Limits
from sipcheck.sip.registrar.service import RegistrarService
from sipcheck.sip.wire.framing import BoundedFramer
from sipcheck.sip.wire.message import Response
from sipcheck.sip.wire.parser import parse_message
from sipcheck.trace import Address

CLIENT = Address("192.0.2.1", 40000)
LOCAL = Address("192.0.2.254", 5060)


def options(n: int = 1, body: bytes = b"", *, length: str | None = None) -> bytes:
    lines = [
        "OPTIONS sip:example.com SIP/2.0",
        f"Via: SIP/2.0/TCP 192.0.2.1:40000;branch=z9hG4bKo{n}",
        "To: <sip:example.com>",
        "From: <sip:probe@example.com>;tag=1",
        f"Call-ID: o{n}",
        f"CSeq: {n} OPTIONS",
        f"Content-Length: {len(body) if length is None else length}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def framer(header: int = 65536, body: int = 65536) -> BoundedFramer:
    return BoundedFramer(header, body)


@settings(max_examples=200, deadline=None)
@given(
    bodies=st.lists(st.binary(max_size=40), min_size=1, max_size=4),
    pings=st.lists(st.sampled_from([b"", b"\r\n", b"\r\n\r\n"]), min_size=4, max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_frames_every_message_and_ping_however_the_stream_is_split(
    bodies: list[bytes], pings: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(pings[i] + options(i, body) for i, body in enumerate(bodies))
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    ours = framer()
    got: list[bytes] = []
    for a, b in itertools.pairwise(points):
        got += ours.feed(stream[a:b])
    assert got == [options(i, body) for i, body in enumerate(bodies)]
    # a CRLFCRLF before a message is a ping; a lone CRLF is not
    assert ours.pings == sum(p == b"\r\n\r\n" for p in pings[: len(bodies)])
    assert ours.oversized is None and ours.buffered == 0


def test_bare_lf_header_end_and_the_compact_form() -> None:
    message = b"OPTIONS sip:a SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nl: 3\n\nabc"
    assert framer().feed(message + message[:5]) == [message]


@pytest.mark.parametrize(
    ("value", "error"),
    [(None, "Content-Length is required"), ("¹²", "is not a number"), ("-1", "is not a number")],
)
def test_an_unframeable_stream_is_refused(value: str | None, error: str) -> None:
    data = options(length=value) if value is not None else options().replace(b"Content", b"X")
    with pytest.raises(SipParseError, match=error):
        framer().feed(data)


def test_a_content_length_over_the_limit_stops_at_the_header() -> None:
    f = framer(body=1000)
    first = options(1, b"x" * 1000)
    assert f.feed(first + options(2, length="1001")) == [first]
    assert f.oversized is not None and f.oversized.what == "body"
    assert f.oversized.size == "1001" and f.oversized.head == options(2, length="1001")[:-4]
    assert f.buffered == 0 and f.feed(b"more") == []
    huge = framer()
    assert huge.feed(options(length="9" * 5000)) == []  # past int()'s digit limit: no crash
    assert huge.oversized is not None and huge.oversized.size == "9" * 5000


def test_an_endless_header_stops_at_the_limit_with_its_complete_lines() -> None:
    f = framer(header=1024)
    start = options()[:-40]  # the request line and a few header lines, no empty line
    assert f.feed(start) == []
    lines = start[: start.rfind(b"\n") + 1]
    for _ in range(100):
        assert f.feed(b"A" * 100) == []
        if f.oversized is not None:
            break
    assert f.oversized is not None and f.oversized.what == "header"
    assert f.oversized.head == lines and f.buffered == 0


def test_searching_for_the_header_end_is_linear() -> None:
    """64 KiB of header, one octet per read: one pass, not one per read."""
    f = framer(header=65536)
    started = time.process_time()
    f.feed(b"OPTIONS sip:a SIP/2.0\r\nX: ")
    for _ in range(65000):
        f.feed(b"a")
    assert f.oversized is None
    assert time.process_time() - started < 2.0  # a rescan per read takes minutes


# --- what the registrar answers -------------------------------------------------------------


def service(**limits: int) -> RegistrarService:
    config = RegistrarConfig(accounts={"alice": "secret"}, limits=Limits(**limits))
    return RegistrarService(Registrar(config, b"k" * 32), wall_start=1_700_000_000.0)


def test_a_huge_content_length_is_answered_413_and_the_connection_closed() -> None:
    core = service()
    first = options(1)
    out = core.receive(
        first + options(2, length="999999999"), source=CLIENT, local=LOCAL, transport="tcp",
        now=1.0,
    )  # fmt: skip
    assert out.close
    statuses = [parse_message(s.data) for s in out.sends]
    assert [r.status for r in statuses if isinstance(r, Response)] == [200, 413]
    too_large = statuses[1]
    assert isinstance(too_large, Response) and too_large.reason == "Request Entity Too Large"
    assert too_large.header("Call-ID") == "o2" and too_large.header("CSeq") == "2 OPTIONS"
    assert too_large.header("Via") == "SIP/2.0/TCP 192.0.2.1:40000;branch=z9hG4bKo2"
    [_, log] = out.ended
    [diagnosis] = attempt_outcome(log).diagnoses
    assert diagnosis.id == "message-too-large"
    assert "Content-Length 999999999 is over this registrar's limit of 65536" in diagnosis.message
    assert core.stats.too_large == 1 and core.stats.responses == {200: 1, 413: 1}
    # The connection's framer is gone: a new connection from that address starts clean.
    again = core.receive(first, source=CLIENT, local=LOCAL, transport="tcp", now=2.0)
    assert not again.close and len(again.sends) == 1


def test_an_endless_header_line_is_answered_513_and_the_connection_closed() -> None:
    core = service(max_header_octets=4096)
    # (no Content-Length among the lines before the endless one)
    head = options()[: -len(b"Content-Length: 0\r\n\r\n")] + b"X-Endless: "
    out = core.receive(head, source=CLIENT, local=LOCAL, transport="tcp", now=1.0)
    assert out.sends == () and not out.close
    for _ in range(10):
        out = core.receive(b"a" * 1000, source=CLIENT, local=LOCAL, transport="tcp", now=1.0)
        if out.close:
            break
    assert out.close
    [sent] = out.sends
    response = parse_message(sent.data)
    assert isinstance(response, Response) and (response.status, response.reason) == (
        513,
        "Message Too Large",
    )
    assert response.header("Call-ID") == "o1"
    assert attempt_outcome(out.ended[0]).diagnoses[0].id == "message-too-large"


def test_an_endless_first_line_is_closed_without_an_answer() -> None:
    core = service(max_header_octets=4096)
    out = core.receive(
        b"OPTIONS " + b"a" * 5000, source=CLIENT, local=LOCAL, transport="tcp", now=1
    )
    assert out.close and out.sends == ()
    assert core.stats.too_large == 1
