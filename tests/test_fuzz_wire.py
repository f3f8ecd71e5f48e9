"""Property: every wire parser, on any text, returns or raises SipParseError; the message
parser, the framer, lint and the two cores take any bytes without another exception.

The values are built to hit what crashed before: Unicode digits (``'¹'.isdigit()``),
numbers past Python's 4300-digit conversion limit, control characters and octets that
are not UTF-8 (lone surrogates after surrogateescape) inside quoted strings. A longer
run of the same idea over the RFC 4475/5118 messages is ``scripts/fuzz_wire.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipcheck.errors import SipParseError
from sipcheck.sip.knowledge.lint import lint_bytes
from sipcheck.sip.wire import fields, grammar
from sipcheck.sip.wire.auth import _parse_items, parse_challenges, parse_credentials, plain_items
from sipcheck.sip.wire.framing import BoundedFramer
from sipcheck.sip.wire.headers import Headers
from sipcheck.sip.wire.parser import content_length, parse_message
from sipcheck.sip.wire.uri import parse_header_params, parse_name_addr, parse_uri
from tests.support.cores import challenge_for, deliver, registrar_service, started_registration

DATA = Path(__file__).parent / "data"
SEEDS = [p.read_bytes() for p in sorted((DATA / "rfc4475").glob("*.dat"))] + [
    p.read_bytes() for p in sorted((DATA / "rfc5118" / "archive").glob("*.dat"))
]
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of SIP syntax and the characters that broke parsers.
FRAGMENTS = [
    "sip:", "sips:", "tel:", "alice", "@", "example.com", "[::1]", "[2001:db8::1", ":",
    "5060", "65536", ";", "=", ",", "<", ">", '"', "\\", " ", "\t", "SIP/2.0/UDP ",
    "branch=z9hG4bK", "rport", "received", "expires=", "tag=", "?", "&", "%41", "%",
    "Digest ", "Basic ", "realm=", "nonce=", "username=", "uri=", "response=", "qop=",
    "auth", "nc=", "00000001", "cnonce=", "algorithm=", "MD5", "stale=", "true",
    "username*=UTF-8''", "*", "REGISTER", "INVITE", "0", "0009", "4294967296",
    "2147483648", "¹", "²³", "٣", "５", "9" * 5000, "0" * 4400 + "1",
    "\x00", "\x01", "\x1f", "\x7f", "\udcff", "\udcc3", "é", "\u2003", "\r\n", "\n",
]  # fmt: skip
nasty_text = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=14).map("".join),
    st.text(max_size=40),
    st.text(st.sampled_from([*'0123456789 \t;:,="\\<>[]@', "¹", "\x01", "\udcff"]), max_size=30),
)


def _contact(value: str) -> object:
    return [(c.expires, str(c)) for c in fields.contacts(Headers([("Contact", value)]))]


def _via(value: str) -> object:
    via = fields.parse_via(value)
    return via.rport, via.branch, str(via)


def _credentials(value: str) -> object:
    creds = parse_credentials(value)
    return creds, parse_credentials(value, proxy=True)


def _plain_auth(value: str) -> object:
    plain = plain_items(value)
    if plain is not None:
        # What the shortcut accepts, the general scan accepts identically.
        assert plain == _parse_items(value, "Authorization")
    return plain


def _address(value: str) -> object:
    addr = parse_name_addr(value)
    return str(addr), fields.params_dict(addr.params)


FIELD_PARSERS: dict[str, Callable[[str], object]] = {
    "Via": _via,
    "plain Via": fields.plain_via,
    "CSeq": fields.parse_cseq,
    "Contact": _contact,
    "Expires": fields.parse_delta_seconds,
    "Content-Length": lambda v: content_length(Headers([("Content-Length", v)])),
    "Max-Forwards": lambda v: grammar.parse_uint(v, "Max-Forwards", maximum=255),
    "port": grammar.parse_port,
    "rport": lambda v: fields.parse_via(f"SIP/2.0/UDP h;rport={v}").rport,
    "host:port": lambda v: grammar.parse_hostport(v, lws=True),
    "URI": parse_uri,
    "Request-URI": lambda v: parse_uri(v, allow_headers=False),
    "name-addr": _address,
    "header params": lambda v: fields.params_dict(parse_header_params(v, v)),
    "WWW-Authenticate": parse_challenges,
    "Proxy-Authenticate": lambda v: parse_challenges(v, proxy=True),
    "Authorization": _credentials,
    "plain auth-params": _plain_auth,
    "quoted-string": lambda v: grammar.read_quoted('"' + v, 0),
    "unquote": grammar.unquote,
}


@pytest.mark.parametrize("name", sorted(FIELD_PARSERS))
@FUZZ
@given(value=nasty_text)
def test_field_parser_returns_or_raises_sip_parse_error(name: str, value: str) -> None:
    try:
        FIELD_PARSERS[name](value)
    except SipParseError:
        pass


def _mutate(data: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    buf = bytearray(data)
    for at, piece in edits:
        at %= len(buf) + 1
        buf[at : at + len(piece) % 3] = piece
    return bytes(buf)


piece = st.sampled_from([f.encode("utf-8", "surrogateescape") for f in FRAGMENTS]) | st.binary(
    max_size=6
)
messages = st.one_of(
    st.binary(max_size=200),
    st.builds(
        _mutate,
        st.sampled_from(SEEDS),
        st.lists(st.tuples(st.integers(0, 2000), piece), min_size=1, max_size=6),
    ),
)


@FUZZ
@given(data=messages)
def test_message_parser_framer_and_lint_take_any_bytes(data: bytes) -> None:
    for stream in (False, True):
        try:
            parse_message(data, stream=stream)
        except SipParseError:
            pass
    framer = BoundedFramer(65536, 65536)
    try:
        framer.feed(data[: len(data) // 2])
        framer.feed(data[len(data) // 2 :])
    except SipParseError:
        pass
    report = lint_bytes(data)  # never raises, and never hides a crash as internal-error
    assert not any(p.code == "internal-error" for p in report.problems), report.problems


REGISTRAR = registrar_service()


@FUZZ
@given(data=messages)
def test_registrar_core_takes_any_bytes(data: bytes) -> None:
    for transport in ("udp", "tcp"):
        deliver(REGISTRAR, data, transport)


@FUZZ
@given(challenges=st.lists(nasty_text, min_size=1, max_size=2), status=st.sampled_from([401, 407]))
def test_client_core_takes_any_challenge(challenges: list[str], status: int) -> None:
    reg, request = started_registration()
    values = [c.encode("utf-8", "surrogateescape") for c in challenges]
    reg.receive(challenge_for(request, values, status), 0.1)
    answered = len(reg.take_outgoing())
    while not reg.done and (timer := reg.next_timer()) is not None:
        reg.handle_timer(timer)
    # Answered, refused, or (a value that breaks the message) ignored until Timer F.
    assert answered == 1 or reg.result.failure is not None
