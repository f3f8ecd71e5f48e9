"""The RFC 3261 §25.1 basic rules in sipcheck.sip.wire.grammar, and that every wire
module uses them (one token, quoted-string, number and host:port rule)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest

from sipcheck.errors import LocalProtocolError, SipParseError
from sipcheck.sip.wire import grammar
from sipcheck.sip.wire.auth import parse_challenges, parse_credentials
from sipcheck.sip.wire.fields import parse_cseq, parse_delta_seconds, parse_via
from sipcheck.sip.wire.framing import BoundedFramer
from sipcheck.sip.wire.grammar import (
    is_digits,
    is_hostname,
    is_http_token,
    is_token,
    is_uint,
    parse_hostport,
    parse_port,
    parse_uint,
    quote,
    read_quoted,
    split_hostport,
    unquote,
)
from sipcheck.sip.wire.parser import parse_message
from sipcheck.sip.wire.uri import parse_name_addr, parse_uri

WIRE = Path(grammar.__file__).parent

# --- token ------------------------------------------------------------------------------

SIP_TOKEN = string.ascii_letters + string.digits + "-.!%*_+`'~"


def test_sip_and_http_tokens_differ_by_five_characters() -> None:
    # RFC 3261 §25.1 token vs RFC 7230 §3.2.6 tchar: tchar adds # $ & ^ |.
    printable = [chr(c) for c in range(0x21, 0x7F)]
    sip = {c for c in printable if is_token(c)}
    http = {c for c in printable if is_http_token(c)}
    assert sip == set(SIP_TOKEN)
    assert http - sip == set("#$&^|") and sip <= http
    assert not is_token("") and not is_token("a b") and not is_token("é")


def test_header_names_methods_and_auth_schemes_use_their_token_rule() -> None:
    with pytest.raises(SipParseError, match="bad method"):
        parse_message(b"RE#G sip:a@b SIP/2.0\r\n\r\n")
    # A tchar that is no SIP token is fine in an auth-param name (RFC 7235).
    [c] = parse_challenges('Digest realm="r", nonce="n", x#y=1')
    assert ("x#y", "1") in c.params


def test_only_grammar_defines_the_basic_rules() -> None:
    """No wire module but grammar.py spells the token class, reads quoted strings or
    converts digits by itself."""
    for path in sorted(WIRE.glob("*.py")):
        if path.name == "grammar.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "A-Za-z0-9\\-.!%*_+`'~" not in text, path.name
        assert "'*+\\-.^_`|~" not in text, path.name
        assert ".isdigit()" not in text, path.name
        names = {
            node.name for node in ast.walk(ast.parse(text)) if isinstance(node, ast.FunctionDef)
        }
        for helper in ("read_quoted", "quote_string", "_quote", "_unquote", "split_host_port",
                       "_parse_port", "validate_host", "numeric_host"):  # fmt: skip
            assert helper not in names, f"{path.name} defines {helper}"


# --- numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["¹", "²³", "٣", "５０６０", "1¹", "", " 1", "1 ", "+1", "-1", "0x1"]
)
def test_numbers_are_ascii_digits_only(text: str) -> None:
    assert not is_digits(text) and not is_uint(text)
    with pytest.raises(SipParseError, match="is not a non-negative integer"):
        parse_uint(text, "Value")


def test_huge_numbers_are_parse_errors_not_int_limit_errors() -> None:
    huge = "9" * 5000
    with pytest.raises(SipParseError, match="is larger than") as info:
        parse_uint(huge, "Value")
    assert len(str(info.value)) < 200  # the value is cut in the message
    assert parse_uint("0" * 5000 + "42", "Value") == 42  # leading zeros do not count
    assert not is_uint(huge) and is_uint("0" * 5000 + "1")
    assert parse_uint("9999999999", "Value") == 9999999999
    with pytest.raises(SipParseError):
        parse_uint("10000000000", "Value")
    assert parse_uint("255", "Max-Forwards", maximum=255) == 255
    with pytest.raises(SipParseError, match="Max-Forwards 256 is larger than 255"):
        parse_uint("256", "Max-Forwards", maximum=255)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: parse_cseq("¹ REGISTER"), "is not 'NUMBER METHOD'"),
        (lambda: parse_cseq("9" * 5000 + " REGISTER"), "not below 2**31"),
        (lambda: parse_delta_seconds("²"), "not a number of seconds"),
        (lambda: parse_delta_seconds("1" * 4301), "larger than 2**32-1"),
        (lambda: parse_port("５０６０"), "bad port"),
        (lambda: parse_port("0" * 5000 + "70000"), "bad port"),
        (lambda: parse_uri("sip:a@b:¹"), "bad port"),
        (lambda: parse_via("SIP/2.0/UDP host:٣"), "bad port"),
        (lambda: parse_message("SIP/2.0 ¹²³ OK\r\n\r\n".encode()), "three digits"),
        (lambda: parse_message(b"OPTIONS sip:a@b SIP/2.0\r\nl: \xc2\xb9\r\n\r\n"), "Content"),
        (lambda: parse_message(b"OPTIONS sip:a@b SIP/2.0\r\nl: " + b"9" * 5000 + b"\r\n\r\n"),
         "Content-Length"),
    ],
)  # fmt: skip
def test_every_numeric_field_refuses_unicode_and_huge_digits(call: object, words: str) -> None:
    with pytest.raises(SipParseError, match=words.replace("*", r"\*")):
        call()  # type: ignore[operator]


def test_a_huge_content_length_on_a_stream_is_over_the_limit_not_converted() -> None:
    framer = BoundedFramer(65536, 65536)
    assert framer.feed(b"OPTIONS sip:a@b SIP/2.0\r\nl: " + b"9" * 5000 + b"\r\n\r\n") == []
    assert framer.oversized is not None and framer.oversized.what == "body"
    assert framer.oversized.size == "9" * 5000 and framer.oversized.limit == 65536


def test_rport_that_is_no_port_is_none() -> None:
    for value in ("¹", "9" * 5000, "70000", "x"):
        assert parse_via(f"SIP/2.0/UDP h;rport={value}").rport is None
    assert parse_via("SIP/2.0/UDP h;rport=5062").rport == 5062


def test_leading_zeros_stay_legal() -> None:
    # RFC 4475 §3.1.1.1 wsinv.dat: leading zeros in CSeq and Max-Forwards.
    assert parse_cseq("0009 INVITE").number == 9
    assert parse_uri("sip:a@b:005060") == parse_uri("sip:a@b:5060")


# --- quoted-string ----------------------------------------------------------------------


def test_read_quoted_unescapes_and_returns_the_end() -> None:
    assert read_quoted('x"a\\"b\\\\c"y', 1) == ('a"b\\c', 10)
    assert read_quoted('"é\tz"', 0) == ("é\tz", 5)


@pytest.mark.parametrize(
    ("text", "column", "words"),
    [
        ('"a\x01b"', 3, "control character '\\x01'"),
        ('"a\x7f"', 3, "control character '\\x7f'"),
        ('"\udcff"', 2, "octet 0xff that is not UTF-8"),
        ('"ab\\\udcc3"', 5, "octet 0xc3 that is not UTF-8"),
        ('"a\\\r"', 4, "control character '\\r'"),
        ('"abc', 1, "unterminated quoted string"),
        ('"abc\\', 1, "unterminated quoted string"),
    ],
)
def test_read_quoted_refuses_what_qdtext_excludes_naming_the_column(
    text: str, column: int, words: str
) -> None:
    with pytest.raises(SipParseError, match=words.replace("\\", "\\\\")) as info:
        read_quoted(text, 0)
    assert info.value.column == column
    assert f"column {column}" in info.value.message


def test_escaped_control_characters_are_sip_but_not_http_quoted_pairs() -> None:
    # RFC 3261 quoted-pair admits %x00-09 / %x0B-0C / %x0E-7F (RFC 4475 intmeth.dat).
    assert read_quoted('"\\\x00\\\x07"', 0) == ("\x00\x07", 6)
    # RFC 7230 §3.2.6 (the auth headers' rule) does not.
    with pytest.raises(SipParseError, match="control character"):
        read_quoted('"\\\x07"', 0, http=True)


def test_quote_writes_what_both_rules_read_back() -> None:
    for value in ("", "plain", 'a"b', "a\\b", "é\tx"):
        written = quote(value)
        assert read_quoted(written, 0) == (value, len(written))
        assert read_quoted(written, 0, http=True) == (value, len(written))
        assert unquote(written) == value
    for bad in ("a\r\nb", "nul\x00", "del\x7f", "\udcff"):
        with pytest.raises(LocalProtocolError, match="cannot write"):
            quote(bad)


def test_unquote() -> None:
    assert unquote("token") == "token"
    assert unquote('"a\\"b"') == 'a"b'
    with pytest.raises(SipParseError, match="junk after"):
        unquote('"a"b')


@pytest.mark.parametrize(
    ("value", "column"),
    [
        ('Digest realm="a\x01b", nonce="n"', 16),
        ('Digest realm="\udcff", nonce="n"', 15),
        ('Digest realm="a\\\x01b", nonce="n"', 17),
        ('Digest realm=a\x01b, nonce="n"', 15),
        ('Digest realm=\udcff, nonce="n"', 14),
    ],
)
def test_auth_values_refuse_control_characters_and_non_utf8(value: str, column: int) -> None:
    with pytest.raises(SipParseError, match=r"control character|not UTF-8") as info:
        parse_challenges(value)
    assert info.value.column == column
    creds = value.replace("Digest ", 'Digest username="u", uri="sip:x", response="r", ')
    with pytest.raises(SipParseError):
        parse_credentials(creds)


def test_display_names_and_header_params_use_the_same_reader() -> None:
    assert parse_name_addr('"BEL:\\\x07" <sip:a@b>').display_name == "BEL:\x07"
    for text in ('"a\x01" <sip:a@b>', '"\udcff" <sip:a@b>', '<sip:a@b>;x="\x01"'):
        with pytest.raises(SipParseError, match=r"control character|not UTF-8"):
            parse_name_addr(text)


# --- host and host:port -----------------------------------------------------------------


def test_hostname_rule() -> None:
    for good in ("a", "a.b", "a-b.c.", "1.2.3.4.5", "x" * 100):
        assert is_hostname(good)
    for bad in ("", ".", "a..b", "-a", "a-", "a.-b", "a_b", "é.com", "a b"):
        assert not is_hostname(bad), bad
    assert is_hostname("pbx_1.example.com", underscore=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("host", ("host", None)),
        ("host:5060", ("host", "5060")),
        ("[::1]", ("[::1]", None)),
        ("[::1]:5060", ("[::1]", "5060")),
    ],
)
def test_split_hostport(text: str, expected: tuple[str, str | None]) -> None:
    assert split_hostport(text) == expected


def test_split_hostport_options_and_errors() -> None:
    assert split_hostport("h : 5060", lws=True) == ("h", "5060")
    assert split_hostport("[::1] : 1", lws=True) == ("[::1]", "1")
    assert split_hostport("2001:db8::1", bare_ipv6=True) == ("2001:db8::1", None)
    with pytest.raises(SipParseError, match="unterminated IPv6"):
        split_hostport("[::1")
    with pytest.raises(SipParseError, match="junk after host"):
        split_hostport("[::1]x")


def test_parse_hostport_validates_host_and_port() -> None:
    assert parse_hostport("[2001:db8:::1]:5060") == ("[2001:db8:::1]", 5060)  # RFC 5118 §4.10
    for bad in ("a..b:1", "[1.2.3.4]", "h:", "h:65536", "h:¹", "", "[fe80::1%eth0]", '[::1%"\r]'):
        with pytest.raises(SipParseError):
            parse_hostport(bad)
