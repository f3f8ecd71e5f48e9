"""The registrar's fast paths give what the general paths give.

Header keys kept per Headers, names and Request-URIs remembered by the parser, the
plain-Via parse and stamp, the copied HMAC of the nonces, the UDP listener that reads
several datagrams per wake-up, and the caches of ``sip/registrar/fast.py``: parsed
values, HA1s, challenge texts, the Date header, held responses, Digest credentials.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import hmac
import socket
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipcheck.errors import SipParseError
from sipcheck.net.udp_server import UdpListener, bind_udp
from sipcheck.sip.digest.compute import compute_ha1
from sipcheck.sip.digest.nonces import NonceManager
from sipcheck.sip.registrar import fast
from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.sip.registrar.responses import http_date, make_response, stamp_via
from sipcheck.sip.wire.auth import (
    Challenge,
    Credentials,
    _parse_items,
    format_challenge,
    format_credentials,
    parse_challenges,
    parse_credentials,
    plain_items,
)
from sipcheck.sip.wire.fields import parse_any_via, parse_via, plain_via
from sipcheck.sip.wire.headers import Headers, header_key
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.parser import parse_message
from sipcheck.sip.wire.uri import parse_name_addr, parse_uri
from sipcheck.trace import Address

# --- Headers keys -----------------------------------------------------------------

_NAMES = ["Via", "v", "VIA", "To", "t", "Contact", "m", "X-A", "x-a", "l", "Content-Length"]


@given(
    st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(["1", "2, 3", ""])), max_size=6),
    st.lists(
        st.tuples(
            st.sampled_from(["add", "set", "remove", "copy", "with"]), st.sampled_from(_NAMES)
        ),
        max_size=8,
    ),
)
def test_header_keys_follow_every_change(
    items: list[tuple[str, str]], ops: list[tuple[str, str]]
) -> None:
    headers = Headers(items)
    for op, name in ops:
        headers.keys()  # computed before the change, so the change must keep it right
        if op == "add":
            headers.add(name, "x")
        elif op == "set":
            headers.set(name, "y")
        elif op == "remove":
            headers.remove(name)
        elif op == "copy":
            headers = headers.copy()
        elif len(headers):
            before = list(headers)
            changed = headers.with_value(0, "z")
            assert list(headers) == before  # a copy: the original is unchanged
            assert list(changed) == [(before[0][0], "z"), *before[1:]]
            headers = changed
        assert headers.keys() == [header_key(n) for n, _ in headers]
        for probe in _NAMES:
            wanted = [v for n, v in headers if header_key(n) == header_key(probe)]
            assert headers.get_all(probe) == wanted
            assert headers.get(probe) == (wanted[0] if wanted else None)
            assert (probe in headers) == bool(wanted)


# --- parser memory ------------------------------------------------------------------

_REQUEST = (
    b"REGISTER sip:example.com SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"
    b"CSeq: 1 REGISTER\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def test_a_remembered_header_name_alone_on_a_line_is_still_refused() -> None:
    parse_message(_REQUEST)  # "CSeq" is now a known good name
    broken = _REQUEST.replace(b"CSeq: 1 REGISTER", b"CSeq")
    for _ in range(2):
        with pytest.raises(SipParseError, match="header line without ':'"):
            parse_message(broken)


def test_a_bad_request_uri_is_refused_every_time() -> None:
    parse_message(_REQUEST)
    bad = _REQUEST.replace(b"sip:example.com", b"sip:exa%mple.com", 1)
    for _ in range(2):
        with pytest.raises(SipParseError, match="bad Request-URI"):
            parse_message(bad)


def test_bare_lf_lines_are_still_noticed() -> None:
    message = parse_message(_REQUEST.replace(b"\r\nCSeq", b"\nCSeq"))
    assert message.defects == ["lines end with a bare LF instead of CRLF"]
    assert message.headers.get("CSeq") == "1 REGISTER"


# --- plain Via ------------------------------------------------------------------------

_host = st.sampled_from(["127.0.0.1", "example.com", "a.b.", "h-1.example.org", "[::1]"])
_port = st.sampled_from(["", ":5060", ":1", ":65535", ":65536", ":05060", ":0"])
_param = st.sampled_from(
    [";rport", ";RPORT", ";rport=9", ";branch=z9hG4bK1", ";received=192.0.2.9", ";Received=x",
     ";lr", ";a=b=c", ';maddr="x;y"', ";ttl=1"]
)  # fmt: skip
_via = st.builds(
    lambda transport, host, port, params: f"SIP/2.0/{transport} {host}{port}{''.join(params)}",
    st.sampled_from(["UDP", "TCP", "tls", "WSS"]),
    _host,
    _port,
    st.lists(_param, max_size=4),
)


def _general(value: str) -> str:
    """The same Via, written so that only the general path can read it."""
    return value.replace(" ", "  ", 1)


@given(_via)
def test_plain_via_splits_what_parse_via_reads(value: str) -> None:
    plain = plain_via(value)
    if plain is None:
        return
    via = parse_via(value)
    head, host, params = plain
    port = "" if via.port is None else f":{via.port}"
    assert (head, host) == (f"{via.protocol}/{via.transport} {via.host}{port}", via.host)
    assert params == [n if v is None else f"{n}={v}" for n, v in via.params]
    assert str(via) == value


@given(_via | st.text(max_size=30).map(lambda t: f"SIP/2.0/UDP {t}"))
def test_parse_via_gives_what_the_general_parse_gives(value: str) -> None:
    try:
        expected: object = parse_any_via(value)
    except SipParseError as exc:
        expected = str(exc)
    try:
        got: object = parse_via(value)
    except SipParseError as exc:
        got = str(exc)
    assert got == expected
    assert type(got) is type(expected)


@given(_via, st.sampled_from([("127.0.0.1", 5060), ("192.0.2.9", 7), ("::1", 9)]))
def test_plain_via_stamp_agrees_with_the_general_stamp(value: str, source: tuple[str, int]) -> None:
    fast = Request("REGISTER", "sip:x", Headers([("Via", value), ("To", "<sip:a@b>")]))
    general = Request("REGISTER", "sip:x", Headers([("Via", _general(value)), ("To", "<sip:a@b>")]))
    stamp_via(fast, *source)
    stamp_via(general, *source)
    if general.headers.get("Via") == _general(value):
        # Nothing to stamp (or unparseable): both left as they were.
        assert fast.headers.get("Via") == value
    else:
        assert fast.headers.get("Via") == general.headers.get("Via")
    assert fast.headers.keys() == ["via", "to"]


# --- nonces -----------------------------------------------------------------------------


def test_nonce_mac_is_hmac_sha256_of_time_serial_and_realm() -> None:
    secret = b"0123456789abcdef"
    nonces = NonceManager(secret, 30.0)
    for realm in ("example.com", "", "other"):
        nonce = nonces.issue(12.5, realm)
        raw = base64.urlsafe_b64decode(nonce)
        expected = hmac.digest(secret, raw[:12] + realm.encode(), "sha256")[:18]
        assert raw[12:] == expected
        assert nonces.check(nonce, 13.0, realm=realm) == "ok"
        assert nonces.check(nonce, 13.0, realm=realm + "x") == "invalid"


# --- UDP listener -------------------------------------------------------------------------


def test_udp_listener_answers_a_burst_read_in_batches() -> None:
    async def run() -> tuple[list[bytes], set[Address], int]:
        loop = asyncio.get_running_loop()
        seen: list[tuple[bytes, Address]] = []

        def handler(
            data: bytes, source: Address, local: Address, transport: str, send: Any
        ) -> None:
            assert transport == "udp" and local.port == listener.local.port
            seen.append((data, source))
            send(b"re:" + data)

        listener = UdpListener(loop, await bind_udp(loop, "127.0.0.1", 0), handler)
        await listener.start()
        client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        client.bind(("127.0.0.1", 0))
        port = client.getsockname()[1]
        try:
            for i in range(200):  # queued before the listener reads any (BATCH is 64)
                client.sendto(b"%d" % i, ("127.0.0.1", listener.local.port))
            answers: list[bytes] = []
            client.setblocking(False)
            while len(answers) < 200:
                await asyncio.sleep(0.01)
                try:
                    while True:
                        answers.append(client.recv(100))
                except BlockingIOError:
                    pass
        finally:
            client.close()
            listener.close()
        return answers, {s for _, s in seen}, port

    answers, sources, port = asyncio.run(asyncio.wait_for(run(), 10))
    assert sorted(answers) == sorted(b"re:%d" % i for i in range(200))
    assert sources == {Address("127.0.0.1", port)}


class _FullSocket:
    """A socket whose send buffer is full until ``drain`` is set."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, Any]] = []
        self.drain = False

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", 5060)

    def fileno(self) -> int:
        return 99

    def sendto(self, data: bytes, addr: Any) -> int:
        if not self.drain:
            raise BlockingIOError
        self.sent.append((data, addr))
        return len(data)


class _Loop:
    def __init__(self) -> None:
        self.writers: dict[int, Any] = {}

    def add_writer(self, fd: int, callback: Any) -> None:
        self.writers[fd] = callback

    def remove_writer(self, fd: int) -> None:
        del self.writers[fd]


def test_udp_listener_keeps_answers_until_the_socket_takes_them() -> None:
    sock, loop = _FullSocket(), _Loop()
    listener = UdpListener(loop, sock, lambda *args: None)  # type: ignore[arg-type]
    listener.send(b"one", ("192.0.2.1", 1))
    listener.send(b"two", ("192.0.2.2", 2))
    assert sock.sent == [] and 99 in loop.writers
    sock.drain = True
    loop.writers[99]()
    assert sock.sent == [(b"one", ("192.0.2.1", 1)), (b"two", ("192.0.2.2", 2))]
    assert loop.writers == {}


def test_registrar_command_restores_the_gc_thresholds() -> None:
    from click.testing import CliRunner

    from sipcheck.cli.main import cli

    before = gc.get_threshold()
    result = CliRunner().invoke(
        cli,
        ["registrar", "--account", "a:b", "--quiet", "--listen", "127.0.0.1:0",
         "--duration", "0.2"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert gc.get_threshold() == before


# --- auth-params: the plain shape read by two regexes, as the general scan reads it -----

_PLAIN = [
    'Digest username="alice", realm="example.com", nonce="n", uri="sip:example.com", '
    'response="abc", algorithm=MD5, cnonce="c", qop=auth, nc=00000001',
    'Digest username="a", realm="r", nonce="n", uri="sip:x", response="r", opaque="o"',
    'digest  username = "a" ,realm="r",, nonce="n", uri="sip:a,b", response="r", qop="auth"',
    'Digest username="a", realm="r", nonce="n", uri="sip:x", response="r", userhash=TRUE',
    'Digest username="a", username="b", realm="r", nonce="n", uri="sip:x", response="r"',
    'Digest username*=UTF-8\'\'J%C3%A4s, realm="r", nonce="n", uri="sip:x", response="r"',
    'Digest realm="", nonce="ete\t!", ',
    'Digest realm="r", nonce="n"',  # credentials without uri or response: refused later
    'Basic realm="r"',
]
_NOT_PLAIN = [
    'Digest username="a\\"b", realm="r", nonce="n", uri="sip:x", response="r"',  # escape
    'Digest username="a" realm="r"',  # no comma between parameters
    'Digest realm="r"nonce="n"',
    "Basic YWxhZGRpbjpvcGVuc2VzYW1l",  # token68
    "Digest realm=, nonce=x",  # an empty bare value after the scheme: a token68
    "Digest nonce==, username=x",  # a bare value with '=': maybe a token68
    'Digest username=, realm="r"',
    'Digest realm="r", Digest realm="s"',  # two challenges
    'Digest realm="r", Basic',
    ' Digest realm="r"',
    'Digest\trealm="r"',
    'Digest realm="r",\r\n nonce="n"',
    'Digest realm="bad\x01char"',
    "Digest realm=bare\udcff, nonce=n",
    'Digest realm="", nonce="\u00e9t\u00e9\t!", ',  # not ASCII: UTF-8 text takes the scan
    'Digest realm="unterminated',
    'Digest realm=a"b, nonce=n',
    "Digest",
    "",
]


def test_plain_items_reads_each_parameter_as_written() -> None:
    value = 'Digest username="u6",realm="127.0.0.1",nc=00000001,qop=auth,uri="sip:h:1"'
    assert plain_items(value) == [
        (
            "Digest",
            [("username", "u6"), ("realm", "127.0.0.1"), ("nc", "00000001"), ("qop", "auth"),
             ("uri", "sip:h:1")],
        )
    ]  # fmt: skip


@pytest.mark.parametrize("value", _PLAIN)
def test_plain_items_gives_what_the_scan_gives(value: str) -> None:
    assert plain_items(value) is not None
    assert plain_items(value) == _parse_items(value, "Authorization")


@pytest.mark.parametrize("value", _NOT_PLAIN)
def test_other_shapes_are_left_to_the_scan(value: str) -> None:
    assert plain_items(value) is None


def test_parsers_give_the_same_results_through_the_shortcut() -> None:
    creds = parse_credentials(_PLAIN[0], proxy=True)
    assert creds == Credentials(
        "Digest", "alice", "example.com", "n", "sip:example.com", "abc", algorithm="MD5",
        cnonce="c", qop="auth", nc="00000001", params=tuple(_parse_items(_PLAIN[0], "")[0][1]),
        proxy=True,
    )  # fmt: skip
    assert parse_credentials(_PLAIN[5]).username == "J\u00e4s"
    with pytest.raises(SipParseError, match="no username parameter"):
        parse_credentials(_PLAIN[7])
    assert parse_challenges('Digest realm="r", nonce="n", qop="auth,auth-int", stale=TRUE') == [
        Challenge("Digest", "r", "n", qop_options=("auth", "auth-int"), stale=True,
                  params=(("realm", "r"), ("nonce", "n"), ("qop", "auth,auth-int"),
                          ("stale", "TRUE")))
    ]  # fmt: skip


_text = st.text(st.characters(min_codepoint=32, max_codepoint=126, exclude_characters='"\\'))
_bits = st.sampled_from(
    ["Digest", "Basic", " ", "  ", ",", ", ", " ,", "=", " = ", '"', '""', "\\", "\t", "\r\n",
     "realm", "nonce", "qop", "a", "auth", "x=", "==", "\x01", "\udcff", "\u00e9", "Digest "]
)  # fmt: skip


@settings(max_examples=500)
@given(st.lists(_bits, max_size=14).map("".join))
def test_plain_items_agrees_with_the_scan_on_any_value(value: str) -> None:
    plain = plain_items(value)
    if plain is not None:
        assert plain == _parse_items(value, "WWW-Authenticate")


@given(
    username=_text, realm=_text, nonce=_text, uri=_text, response=_text,
    qop=st.sampled_from([None, "auth", "auth-int"]),
)  # fmt: skip
def test_plain_items_reads_formatted_values(
    username: str, realm: str, nonce: str, uri: str, response: str, qop: str | None
) -> None:
    creds = Credentials(
        "Digest", username, realm, nonce, uri, response, algorithm="MD5", cnonce="c",
        qop=qop, nc="00000001" if qop else None,
    )  # fmt: skip
    value = format_credentials(creds)
    assert plain_items(value) is not None  # quoted values without escapes: the plain shape
    assert parse_credentials(value) == creds.canonical()


# --- the registrar's caches ------------------------------------------------------------------


def test_parsed_values_are_those_of_the_parser() -> None:
    to, aor = fast.to_address("Alice <sip:%61lice@Example.COM;transport=udp>;tag=1")
    assert to == parse_name_addr("Alice <sip:%61lice@Example.COM;transport=udp>;tag=1")
    assert aor == "sip:alice@example.com"
    value = "<sip:alice@192.0.2.1:5060>;expires=60;q=0.5"
    contact = fast.contact(value)
    assert contact.address == parse_name_addr(value)
    assert (contact.uri, contact.expires, contact.params) == (
        "sip:alice@192.0.2.1:5060", "60", (("q", "0.5"),)
    )  # fmt: skip
    for _ in range(2):  # what fails is not kept: it fails again
        with pytest.raises(SipParseError):
            fast.contact("<sip:alice@>")


def test_request_uris_remember_failures_as_none() -> None:
    uris = fast.RequestUris()
    assert uris.get("sip:example.com") == parse_uri("sip:example.com", allow_headers=False)
    assert uris.get("sip:example.com") is uris.get("sip:example.com")
    assert uris.get("sip:exa%mple.com") is None
    assert uris.get("sip:exa%mple.com") is None


def test_date_cache_formats_once_per_second() -> None:
    dates = fast.DateCache()
    assert dates.get(1_700_000_000.2) == http_date(1_700_000_000) == dates.get(1_700_000_000.9)
    assert dates.get(1_700_000_001.0) == http_date(1_700_000_001)


def test_ha1_and_challenge_templates_agree_with_the_digest_code() -> None:
    ha1 = fast.Ha1Cache()
    assert ha1.get("sha-256", "alice", "r", "pw") == compute_ha1("SHA-256", "alice", "r", "pw")
    assert ha1.get("SHA-256", "alice", "r", "other") == compute_ha1("SHA-256", "alice", "r", "pw")
    templates = fast.ChallengeTemplates(("SHA-256", "MD5"), ("auth",))
    for stale in (False, True):
        assert templates.values("example.com", "n0nce", stale) == [
            format_challenge(
                Challenge("Digest", "example.com", "n0nce", algorithm=alg, qop_options=("auth",),
                          stale=stale)
            )
            for alg in ("SHA-256", "MD5")
        ]  # fmt: skip


def test_held_responses_are_replayed_until_timer_j_then_purged() -> None:
    cache = fast.RetransmissionCache()
    request = parse_message(_REQUEST)
    assert isinstance(request, Request)
    wire = make_response(request, 401).to_bytes()
    done = Attempt("REGISTER", ("192.0.2.1", 5060), "UDP", 0.0)
    done.call_id, done.cseq, done.aor, done.auth_user = "c", 1, "sip:a@b", "a"
    cache.hold("k", wire, 401, "Unauthorized", done, 10.0)
    again = Attempt("REGISTER", ("192.0.2.1", 5060), "UDP", 11.0)
    assert cache.replay("k", again, 11.0) is wire
    assert (again.call_id, again.cseq, again.aor, again.auth_user) == ("c", 1, "sip:a@b", "a")
    assert (again.status, again.reason) == (401, "Unauthorized")
    until = 10.0 + fast.RETRANSMISSION_HOLD
    assert cache.replay("k", again, until) is None
    cache.purge(until - 1)
    assert len(cache) == 1
    cache.purge(until)
    assert len(cache) == 0


def test_held_responses_are_bounded_by_count_and_leave_when_they_expire() -> None:
    cache = fast.RetransmissionCache(limit=3)
    done = Attempt("REGISTER", ("192.0.2.1", 5060), "UDP", 0.0)
    for i in range(5):
        cache.hold(f"k{i}", b"SIP/2.0 200 OK\r\n\r\n", 200, "OK", done, float(i))
    assert len(cache) == 3  # the oldest two went first
    assert cache.replay("k0", done, 5.0) is None and cache.replay("k4", done, 5.0) is not None
    # No purge call: holding a new one lets the expired ones go.
    cache.hold("late", b"x", 200, "OK", done, 3.0 + fast.RETRANSMISSION_HOLD)
    assert len(cache) == 2  # k4 (held at 4.0) and late
    # A key held again keeps its newer entry when the older one's time comes.
    again = fast.RetransmissionCache(limit=10)
    again.hold("k", b"old", 200, "OK", done, 0.0)
    again.hold("k", b"new", 200, "OK", done, 20.0)
    again.purge(fast.RETRANSMISSION_HOLD)
    assert again.replay("k", done, fast.RETRANSMISSION_HOLD) == b"new"


def test_via_parts_of_the_plain_and_the_general_shape_agree() -> None:
    plain = "SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1"
    assert fast.via_parts(plain) == fast.via_parts(_general(plain)) == (
        "SIP/2.0/UDP 192.0.2.1:5060", "192.0.2.1", ["rport", "branch=z9hG4bK1"]
    )  # fmt: skip
    assert fast.via_parts("not a via") is None


def test_the_parse_caches_keep_short_texts_only_and_a_bounded_number() -> None:
    from sipcheck.sip.wire import uri as uri_module
    from sipcheck.sip.wire.uri import CACHED, CACHED_TEXT, parse_name_addr, parse_uri

    cached_uri, cached_addr = uri_module._cached_uri, uri_module._cached_name_addr
    assert cached_uri.cache_info().maxsize == cached_addr.cache_info().maxsize == CACHED
    long_user = "u" * CACHED_TEXT
    before = cached_uri.cache_info().currsize, cached_addr.cache_info().currsize
    long_uri = parse_uri(f"sip:{long_user}@example.com")
    long_addr = parse_name_addr(f"<sip:{long_user}@example.com>")
    assert (cached_uri.cache_info().currsize, cached_addr.cache_info().currsize) == before
    assert long_uri == parse_uri(f"sip:{long_user}@example.com")
    assert long_addr.uri == long_uri
    short = parse_name_addr("<sip:alice@example.com>;tag=1")
    assert parse_name_addr("<sip:alice@example.com>;tag=1") is short  # kept
    with pytest.raises(SipParseError):
        parse_name_addr("<sip:alice@example.com")  # a failure is not kept: it fails again
    with pytest.raises(SipParseError):
        parse_name_addr("<sip:alice@example.com")


def test_cseq_values_are_parsed_once_when_short() -> None:
    from sipcheck.sip.wire import fields
    from sipcheck.sip.wire.uri import CACHED

    assert fields._cached_cseq.cache_info().maxsize == CACHED
    first = fields.parse_cseq("7 REGISTER")
    assert first == fields.CSeq(7, "REGISTER")
    assert fields.parse_cseq("7 REGISTER") is first  # kept
    long = "7 " + "R" * fields.CACHED_CSEQ_TEXT
    before = fields._cached_cseq.cache_info().currsize
    assert fields.parse_cseq(long) == fields.CSeq(7, "R" * fields.CACHED_CSEQ_TEXT)
    assert fields._cached_cseq.cache_info().currsize == before  # a long text is not kept
    for bad in ("x REGISTER", "2147483648 REGISTER"):
        for _ in range(2):  # a failure is not kept: it fails again, the same way
            with pytest.raises(SipParseError, match="CSeq"):
                fields.parse_cseq(bad)


def test_a_uri_is_written_once_and_a_changed_copy_anew() -> None:
    from sipcheck.sip.wire.uri import SipUri, parse_uri

    uri = parse_uri("sip:alice@example.com;transport=tcp")
    assert str(uri) == "sip:alice@example.com;transport=tcp"
    assert str(uri) is str(uri)  # kept
    assert isinstance(uri, SipUri)
    moved = uri.with_(port=5070)
    assert str(moved) == "sip:alice@example.com:5070;transport=tcp"
    built = SipUri("sip", "example.com", "alice", port=5070, params=(("transport", "tcp"),))
    assert moved == built and hash(moved) == hash(built)  # the text is no field
    assert repr(moved) == repr(built)


def test_header_lookups_follow_the_fields() -> None:
    headers = Headers([("v", "SIP/2.0/UDP a"), ("Via", "SIP/2.0/UDP b, SIP/2.0/UDP c")])
    assert headers.get("VIA") == "SIP/2.0/UDP a"
    assert headers.get_all("via") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b, SIP/2.0/UDP c"]
    assert headers.values("Via") == ["SIP/2.0/UDP a", "SIP/2.0/UDP b", "SIP/2.0/UDP c"]
    assert "V" in headers and "To" not in headers and headers.get("To") is None
    headers.add("t", "<sip:a@b>")
    assert headers.get("To") == "<sip:a@b>" and "to" in headers
    empty = Headers()
    assert empty.get("To") is None and empty.get_all("To") == [] and "To" not in empty
