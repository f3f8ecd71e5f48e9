"""The regex tokenizer of auth-param lists gives what the character scanner it replaced
gave (``tests/support/reference_auth.py``): the same items, and for bad input the same
SipParseError, message and column."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from sipcheck.errors import SipParseError
from sipcheck.sip.wire.auth import _parse_items, parse_challenges, parse_credentials
from tests.support.reference_auth import parse_items as reference_items


def _outcome(parse: object, value: str) -> object:
    try:
        return parse(value, "Authorization")  # type: ignore[operator]
    except SipParseError as exc:
        return ("error", str(exc), exc.column)


def _same(value: str) -> None:
    assert _outcome(_parse_items, value) == _outcome(reference_items, value)


_CASES = [
    "",
    " , ,",
    'Digest username="alice", realm="example.com", nonce="n", uri="sip:x", response="r"',
    'Digest realm="a\\"b\\\\c", nonce="\\x"',  # escaped quote, backslash, letter
    'Digest realm="", nonce=""',  # empty quoted values
    "Digest realm=, nonce=x",  # an empty bare value after the scheme: a token68
    "Digest nonce=x, realm=",  # an empty bare value at the end
    "Digest nonce=x, realm= ,opaque=o",
    'Digest realm = "r" ,\r\n\tnonce\t=\t"n"',  # odd whitespace around '=' and ','
    'Digest realm="r" nonce="n"',  # no comma between parameters
    'Digest realm="r"nonce="n"',
    'Digest realm="r", Digest realm="s"',  # two challenges
    'Digest realm="r" Digest realm="s"',  # a second scheme without a comma
    'realm="r"',  # a parameter before any scheme
    "Negotiate YIIC+/==",
    "Negotiate YIIC+/== , Digest realm=x",
    "Basic",
    'Digest realm="unterminated',
    'Digest realm= "unterminated',
    'Digest realm="bad\x01char"',
    'Digest realm="bad escape \\\x01"',
    'Digest realm="ends in a backslash\\',
    "Digest realm=bare\x01ctl, nonce=n",
    "Digest realm=bare\udcff, nonce=n",
    "Digest realm=tab\tthen, nonce=n",
    'Digest realm=a"b, nonce=n',  # a quote inside a bare value
    'Digest realm="a"b',
    "Digest @",
    "Digest realm=x, @",
    "Digest realm=x, =y",
    "=x",
    "Digest, , realm=x",
    'Digest realm="\u00e9t\u00e9", nonce="\U0001f600"',
    "Digest username*=UTF-8''J%C3%A4s, realm=\"r\"",
]


@pytest.mark.parametrize("value", _CASES)
def test_tokenizer_agrees_with_the_reference(value: str) -> None:
    _same(value)


def test_exact_items_and_errors() -> None:
    assert _parse_items('Digest realm="a\\"b", nonce=n, qop="auth,auth-int"', "X") == [
        ("Digest", [("realm", 'a"b'), ("nonce", "n"), ("qop", "auth,auth-int")])
    ]
    assert _parse_items("Digest realm=, nonce=x", "X") == [
        ("Digest", [("", "realm="), ("nonce", "x")])
    ]
    with pytest.raises(SipParseError, match="unterminated quoted string") as info:
        _parse_items('Digest realm= "r', "X")
    assert info.value.column == 15
    with pytest.raises(SipParseError, match="control character") as info:
        _parse_items("Digest realm=ab\x01", "X")
    assert info.value.column == 16


_pieces = st.sampled_from(
    [
        "Digest", "Basic", "realm", "nonce", "qop", "=", ",", " ", "\t", "\r\n", '"', "\\",
        '"auth"', '"a\\"b"', "x", "/", "YIIC+/==", "\x01", "\udcff", "é", "@", ";", "''",
    ]
)  # fmt: skip


@settings(max_examples=2000)
@given(st.lists(_pieces, max_size=14).map("".join))
@example('Digest realm="r", nonce="n"')
def test_tokenizer_agrees_on_generated_values(value: str) -> None:
    _same(value)


@given(st.text(max_size=40))
def test_tokenizer_agrees_on_any_text(value: str) -> None:
    _same(value)


def test_parsers_still_read_the_usual_values() -> None:
    [challenge] = parse_challenges('Digest realm="r", nonce="n", qop="auth", stale=TRUE')
    assert (challenge.realm, challenge.qop_options, challenge.stale) == ("r", ("auth",), True)
    creds = parse_credentials(
        'Digest username="u", realm="r", nonce="n", uri="sip:r", response="x", nc=00000001'
    )
    assert (creds.username, creds.nc) == ("u", "00000001")
