"""URIs, headers, structured fields, datagram parsing and stream framing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sipcheck.errors import SipParseError
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.framing import BoundedFramer
from sipcheck.sip.wire.headers import Headers, canonical_name, split_list
from sipcheck.sip.wire.message import Request, Response
from sipcheck.sip.wire.parser import parse_message
from sipcheck.sip.wire.uri import AbsoluteUri, SipUri, TelUri, parse_name_addr, parse_uri

REGISTER = (
    b"REGISTER sip:example.com SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK776asdhds\r\n"
    b"Max-Forwards: 70\r\n"
    b"t: Alice <sip:alice@example.com>\r\n"
    b'f: "Alice, A." <sip:alice@example.com>;tag=1928301774\r\n'
    b"i: a84b4c76e66710\r\n"
    b"CSeq: 1 REGISTER\r\n"
    b"m: <sip:alice@192.0.2.1:5060;transport=udp>;expires=3600, <sip:alice@[2001:db8::1]>;q=0.5\r\n"
    b"Expires: 7200\r\n"
    b"l: 0\r\n\r\n"
)


def test_uri_components() -> None:
    uri = parse_uri("sips:alice:pw@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi&X=1")
    assert isinstance(uri, SipUri)
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port) == (
        "sips", "alice", "pw", "[2001:db8::1]", 5061,
    )  # fmt: skip
    assert uri.params == (("transport", "tcp"), ("lr", None))
    assert uri.headers == (("Subject", "hi"), ("X", "1"))
    assert uri.transport == "tcp" and uri.has_param("LR") and uri.secure
    assert uri.host_unbracketed == "2001:db8::1"
    assert str(uri) == "sips:alice:pw@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi&X=1"


def test_uri_escapes_and_other_schemes() -> None:
    uri = parse_uri("sip:sips%3Auser%40example.com@example.net")
    assert isinstance(uri, SipUri)
    assert uri.user == "sips%3Auser%40example.com"
    assert uri.user_unescaped == "sips:user@example.com"
    assert parse_uri("tel:+1-201-555-0123;phone-context=example.com") == TelUri(
        "+1-201-555-0123", (("phone-context", "example.com"),)
    )
    assert parse_uri("mailto:a@b") == AbsoluteUri("mailto", "a@b")


@pytest.mark.parametrize(
    "text, words",
    [
        ("sip:alice@", "empty host"),
        ("sip:alice@exa mple.com", "invalid host"),
        ("sip:alice@example.com:99999", "bad port"),
        ("sip:[2001:db8::1", "unterminated IPv6"),
        ("sip:[2001:db8::10:5070:1:2:3:4]", "invalid IPv6 reference"),
        ("sip:alice@example.com;=x", "bad URI parameter"),
        ("nocolon", "missing or bad scheme"),
    ],
)
def test_bad_uris(text: str, words: str) -> None:
    with pytest.raises(SipParseError, match=words):
        parse_uri(text)


def test_request_uri_refuses_headers() -> None:
    with pytest.raises(SipParseError, match="not allowed in a Request-URI"):
        parse_uri("sip:a@b?Route=x", allow_headers=False)


def test_name_addr_forms() -> None:
    na = parse_name_addr('"Alice \\"A\\"" <sip:alice@example.com>;tag=88sja8x')
    assert na.display_name == 'Alice "A"' and na.tag == "88sja8x"
    assert str(na) == '"Alice \\"A\\"" <sip:alice@example.com>;tag=88sja8x'
    bare = parse_name_addr("sip:alice@example.com;tag=1")
    assert isinstance(bare.uri, SipUri) and bare.uri.params == () and bare.tag == "1"
    assert str(bare) == "sip:alice@example.com;tag=1"
    tokens = parse_name_addr("Alice  Liddell <sip:a@b>")
    assert tokens.display_name == "Alice Liddell"


def test_header_names_and_lookup() -> None:
    assert canonical_name("i") == "Call-ID" and canonical_name("www-authenticate") == (
        "WWW-Authenticate"
    )
    assert canonical_name("x-custom-thing") == "X-Custom-Thing"
    h = Headers([("v", "a"), ("VIA", "b, c"), ("Call-ID", "x")])
    assert h.get_all("Via") == ["a", "b, c"]
    assert h.values("via") == ["a", "b", "c"]
    h.set("Via", "z")
    assert list(h) == [("Via", "z"), ("Call-ID", "x")]
    h.remove("i")
    assert "Call-ID" not in h


def test_split_list_respects_quotes_and_brackets() -> None:
    value = '"A, B" <sip:a@b;x=1,2>;q=1, <sip:c@d>, "x\\",y" <sip:e@f>'
    assert split_list(value) == ['"A, B" <sip:a@b;x=1,2>;q=1', "<sip:c@d>", '"x\\",y" <sip:e@f>']
    h = Headers([("WWW-Authenticate", 'Digest realm="a,b", nonce="n"')])
    assert h.values("WWW-Authenticate") == ['Digest realm="a,b", nonce="n"']


def test_structured_fields_of_a_register() -> None:
    msg = parse_message(REGISTER)
    assert isinstance(msg, Request) and msg.method == "REGISTER"
    (via,) = fields.vias(msg.headers)
    assert (via.transport, via.host, via.port, via.branch) == (
        "UDP", "192.0.2.1", 5060, "z9hG4bK776asdhds",
    )  # fmt: skip
    assert via.has_param("rport") and via.rport is None
    assert fields.parse_cseq(msg.headers.get("CSeq") or "") == fields.CSeq(1, "REGISTER")
    frm = fields.address(msg.headers, "From")
    assert frm is not None and frm.display_name == "Alice, A." and frm.tag == "1928301774"
    contacts = fields.contacts(msg.headers)
    assert [c.expires for c in contacts] == [3600, None]
    assert str(contacts[1]) == "<sip:alice@[2001:db8::1]>;q=0.5"
    assert msg.call_id == "a84b4c76e66710"


def test_via_received_rport_from_server() -> None:
    via = fields.parse_via(
        "SIP/2.0/UDP 10.0.0.5:5060;rport=6060;received=203.0.113.5;branch=z9hG4bKx"
    )
    assert (via.received, via.rport) == ("203.0.113.5", 6060)
    assert str(via) == "SIP/2.0/UDP 10.0.0.5:5060;rport=6060;received=203.0.113.5;branch=z9hG4bKx"
    v6 = fields.parse_via("SIP/2.0/TCP [2001:db8::9]:5060;received=2001:db8::9:255;branch=z9hG4bKx")
    assert v6.received == "2001:db8::9:255" and v6.host == "[2001:db8::9]"


def test_contact_star_and_expires_limits() -> None:
    h = Headers([("Contact", "*")])
    assert fields.contacts(h)[0].is_star
    with pytest.raises(SipParseError, match="larger than 2\\*\\*32-1"):
        fields.parse_delta_seconds("4294967296")
    assert fields.parse_delta_seconds("4294967295") == 4294967295


def test_serialize_exact_bytes() -> None:
    resp = Response(200, "OK", Headers([("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("l", "0")]))
    assert (
        resp.to_bytes() == b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nl: 0\r\n\r\n"
    )
    assert resp.to_bytes(canonical_names=True).endswith(b"Content-Length: 0\r\n\r\n")


def test_datagram_body_beyond_content_length_is_dropped() -> None:
    msg = parse_message(REGISTER.replace(b"l: 0\r\n\r\n", b"l: 3\r\n\r\nabcdef"))
    assert msg.body == b"abc"
    assert any("beyond Content-Length" in d for d in msg.defects)


def test_leading_crlf_skipped_and_response_without_reason() -> None:
    msg = parse_message(b"\r\n\r\nSIP/2.0 100\r\nl: 0\r\n\r\n")
    assert isinstance(msg, Response) and (msg.status, msg.reason) == (100, "")


def test_stream_framer_splits_and_counts_pings() -> None:
    framer = BoundedFramer(65536, 65536)
    body = b"SIP/2.0 200 OK\r\nContent-Length: 4\r\n\r\nbody"
    stream = b"\r\n\r\n" + body + REGISTER + b"\r\n\r\n" + body
    got: list[bytes] = []
    for i in range(0, len(stream), 7):  # trickle in 7-octet pieces
        got.extend(framer.feed(stream[i : i + 7]))
    assert got == [body, REGISTER, body]
    assert framer.pings == 2 and framer.buffered == 0


def test_stream_framer_requires_content_length() -> None:
    with pytest.raises(SipParseError, match="required on a stream"):
        BoundedFramer(65536, 65536).feed(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n")
    with pytest.raises(SipParseError, match="required on a stream"):
        parse_message(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n", stream=True)


# ---------------------------------------------------------------- hypothesis


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=600))
def test_parser_raises_only_its_own_error_on_arbitrary_bytes(data: bytes) -> None:
    try:
        parse_message(data)
    except SipParseError:
        pass


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_parser_on_mutated_real_message(data: st.DataObject) -> None:
    raw = bytearray(REGISTER)
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        byte = data.draw(st.sampled_from(list(b' \t\r\n:;,<>"@[]%\x00\xff0aZ')))
        if action == "flip":
            raw[pos] = byte
        elif action == "delete":
            del raw[pos]
        else:
            raw.insert(pos, byte)
    try:
        msg = parse_message(bytes(raw))
    except SipParseError:
        return
    for func in (fields.vias, fields.contacts):
        try:
            func(msg.headers)
        except SipParseError:
            pass
    framer = BoundedFramer(65536, 65536)
    try:
        framer.feed(bytes(raw))
    except SipParseError:
        pass


_token = st.text("abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    user=_token,
    host=st.sampled_from(["example.com", "192.0.2.7", "[2001:db8::7]", "h-1.example"]),
    port=st.one_of(st.none(), st.integers(1, 65535)),
    params=st.lists(st.tuples(_token, st.one_of(st.none(), _token)), max_size=3),
    tag=_token,
)
def test_structured_round_trip(
    user: str, host: str, port: int | None, params: list[tuple[str, str | None]], tag: str
) -> None:
    uri = SipUri("sip", host, user, None, port, tuple(params))
    assert parse_uri(str(uri)) == uri
    na = parse_name_addr(f'"Name" <{uri}>;tag={tag}')
    assert parse_name_addr(str(na)) == na
    via = fields.parse_via(f"SIP/2.0/UDP {host}:{port or 5060};branch=z9hG4bK{tag}")
    assert fields.parse_via(str(via)) == via
