"""WWW-Authenticate / Authorization values: parsing (lenient) and formatting (exact)."""

from __future__ import annotations

import string
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipcheck.errors import LocalProtocolError, SipParseError
from sipcheck.sip.wire.auth import (
    Challenge,
    Credentials,
    format_challenge,
    format_credentials,
    parse_challenges,
    parse_credentials,
)

# --- challenges seen on the wire (tests/../shared/testdata/pcaps, see SOURCES.md) -------


def test_heplify_challenge_algorithm_first() -> None:
    [c] = parse_challenges('Digest algorithm=MD5, realm="user", nonce="113e25a8"')
    assert c == Challenge(
        scheme="Digest",
        realm="user",
        nonce="113e25a8",
        algorithm="MD5",
        params=(("algorithm", "MD5"), ("realm", "user"), ("nonce", "113e25a8")),
    )


def test_huawei_challenge_domain_and_stale_false() -> None:
    [c] = parse_challenges(
        'Digest realm="Huawei",nonce="18c8db501108b585bab3243e2a09509d",'
        'domain="sip:Huawei.com",stale=false,algorithm=MD5'
    )
    assert (c.realm, c.nonce, c.domain, c.stale, c.algorithm) == (
        "Huawei",
        "18c8db501108b585bab3243e2a09509d",
        "sip:Huawei.com",
        False,
        "MD5",
    )
    assert c.qop_options == () and c.opaque is None and not c.proxy


def test_asterisk_challenge_lower_case_md5_and_slash_in_nonce() -> None:
    [c] = parse_challenges(
        'Digest  realm="asterisk",nonce="1523308183/23d1e78e4f2c005e6803c9da783a5262",'
        'opaque="650356c623b5b8cc",algorithm=md5,qop="auth"'
    )
    assert c.nonce == "1523308183/23d1e78e4f2c005e6803c9da783a5262"
    assert (c.algorithm, c.qop_options, c.opaque) == ("md5", ("auth",), "650356c623b5b8cc")


def test_cybercity_proxy_challenge() -> None:
    [c] = parse_challenges(
        'Digest realm="sip.cybercity.dk",nonce="1701b4767d49c41117c7b73a255a353",'
        'opaque="1701a1351f70795",stale=false,algorithm=MD5',
        proxy=True,
    )
    assert c.proxy is True
    assert c.opaque == "1701a1351f70795"
    assert [n for n, _ in c.params] == ["realm", "nonce", "opaque", "stale", "algorithm"]


def test_polycom_challenge_without_algorithm() -> None:
    [c] = parse_challenges('Digest realm="157.161.10.73", nonce="ab1XJmm9VfqJWXWUxRAskN6H0saIwGH/"')
    assert c.algorithm is None  # absent means MD5
    assert c.nonce == "ab1XJmm9VfqJWXWUxRAskN6H0saIwGH/"


def test_rfc3261_20_44_example() -> None:
    [c] = parse_challenges(
        'Digest realm="atlanta.com",\r\n  domain="sip:boxesbybob.com", qop="auth",\r\n'
        '  nonce="f84f1cec41e6cbe5aea9c8e88d359",\r\n  opaque="", stale=FALSE, algorithm=MD5'
    )
    assert c.realm == "atlanta.com"
    assert c.domain == "sip:boxesbybob.com"
    assert c.qop_options == ("auth",)
    assert c.opaque == ""  # present but empty, not absent
    assert c.stale is False
    assert c.algorithm == "MD5"


def test_rfc7616_challenge_with_qop_list_and_userhash() -> None:
    [c] = parse_challenges(
        'Digest\r\n realm="api@example.org",\r\n qop="auth, auth-int",\r\n'
        " algorithm=SHA-512-256,\r\n"
        ' nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",\r\n'
        ' opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",\r\n'
        " charset=UTF-8,\r\n userhash=true"
    )
    assert c.qop_options == ("auth", "auth-int")
    assert (c.algorithm, c.charset, c.userhash) == ("SHA-512-256", "UTF-8", True)


# --- grammar ----------------------------------------------------------------------------


def test_several_challenges_in_one_value() -> None:
    cs = parse_challenges(
        'Digest realm="x", nonce="1", algorithm=SHA-256, qop="auth", '
        'Digest realm="x", nonce="2", algorithm=MD5, qop="auth"'
    )
    assert [(c.nonce, c.algorithm) for c in cs] == [("1", "SHA-256"), ("2", "MD5")]


def test_mixed_schemes_and_token68() -> None:
    cs = parse_challenges(
        'Negotiate YIIC+gYGKwY=, Basic realm="simple", Bearer, Digest realm="d", nonce="n"'
    )
    assert [c.scheme for c in cs] == ["Negotiate", "Basic", "Bearer", "Digest"]
    neg, basic, bearer, dig = cs
    assert neg.params == (("", "YIIC+gYGKwY="),)
    assert (neg.realm, neg.nonce) == ("", "")
    assert basic.realm == "simple" and basic.nonce == ""
    assert bearer.params == ()
    assert not basic.is_digest and dig.is_digest
    assert format_challenge(neg) == "Negotiate YIIC+gYGKwY="
    assert format_challenge(basic) == 'Basic realm="simple"'
    assert format_challenge(bearer) == "Bearer"


def test_commas_inside_quoted_strings() -> None:
    [a, b] = parse_challenges(
        'Digest realm="a, b", nonce="x,y", qop="auth,auth-int", Digest realm="c", nonce="d"'
    )
    assert (a.realm, a.nonce, a.qop_options) == ("a, b", "x,y", ("auth", "auth-int"))
    assert (b.realm, b.nonce) == ("c", "d")


def test_escapes_in_quoted_strings() -> None:
    [c] = parse_challenges(r'Digest realm="say \"hi\" \\ \o/", nonce="\\"')
    assert c.realm == 'say "hi" \\ o/'
    assert c.nonce == "\\"


def test_whitespace_around_equals_and_commas() -> None:
    [c] = parse_challenges(
        'Digest realm = "a" ,nonce= "b"\t,\r\n\talgorithm =MD5 ,  , qop = "auth"'
    )
    assert (c.realm, c.nonce, c.algorithm, c.qop_options) == ("a", "b", "MD5", ("auth",))


def test_case_insensitive_names_spelling_kept() -> None:
    [c] = parse_challenges('DIGEST REALM="a", Nonce="b", STALE=TRUE, Algorithm=sha-256')
    assert c.is_digest and c.scheme == "DIGEST"
    assert (c.realm, c.nonce, c.stale, c.algorithm) == ("a", "b", True, "sha-256")
    assert c.params[0] == ("REALM", "a")


def test_unquoted_values_and_quoted_tokens() -> None:
    [c] = parse_challenges('Digest realm=biloxi.com, nonce=abc/def=, stale="true", userhash=1')
    assert (c.realm, c.nonce, c.stale, c.userhash) == ("biloxi.com", "abc/def=", True, False)


def test_missing_comma_between_params_is_tolerated() -> None:
    [c] = parse_challenges('Digest realm="a" nonce="b"')
    assert (c.realm, c.nonce) == ("a", "b")


def test_duplicate_param_first_wins_both_kept() -> None:
    [c] = parse_challenges('Digest realm="a", nonce="b", realm="z"')
    assert c.realm == "a"
    assert c.params == (("realm", "a"), ("nonce", "b"), ("realm", "z"))


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ('Digest nonce="b"', "realm"),
        ('Digest realm="a"', "nonce"),
        ("Digest", "realm"),
        ('Digest nonce="b", realm="a, x=y', "unterminated"),
        ('Digest realm="a\\', "unterminated"),
        ('realm="a", nonce="b"', "before any auth scheme"),
        ("", "empty"),
        (" , ", "empty"),
        ('Digest realm="a" Basic x', "','"),
        ('Digest realm="a", nonce="b" ; x', "';'"),
        ("Negotiate abc def", "','"),
    ],
)
def test_challenge_errors(value: str, needle: str) -> None:
    with pytest.raises(SipParseError, match=needle):
        parse_challenges(value)


def test_error_names_the_header() -> None:
    with pytest.raises(SipParseError, match="Proxy-Authenticate"):
        parse_challenges('Digest realm="a"', proxy=True)
    with pytest.raises(SipParseError, match="column 8"):
        parse_challenges('Digest "x"')


# --- credentials ------------------------------------------------------------------------


def test_parse_asterisk_credentials() -> None:
    c = parse_credentials(
        'Digest username="1111", realm="asterisk", '
        'nonce="1523308183/23d1e78e4f2c005e6803c9da783a5262", uri="sip:192.168.20.130", '
        'response="15a22becf0710cf60d9459b49bc25c05", algorithm=md5, '
        'cnonce="1d24a733226c4fbc93a2c721f0211608", opaque="650356c623b5b8cc", qop=auth, '
        "nc=00000001"
    )
    assert (
        c
        == Credentials(
            scheme="Digest",
            username="1111",
            realm="asterisk",
            nonce="1523308183/23d1e78e4f2c005e6803c9da783a5262",
            uri="sip:192.168.20.130",
            response="15a22becf0710cf60d9459b49bc25c05",
            algorithm="md5",
            cnonce="1d24a733226c4fbc93a2c721f0211608",
            opaque="650356c623b5b8cc",
            qop="auth",
            nc="00000001",
        ).canonical()
    )


def test_parse_credentials_without_spaces_and_with_transport_param() -> None:
    c = parse_credentials(
        'Digest username="telephone1",realm="asterisk",nonce="54bd660f",'
        'uri="sip:172.16.98.101;transport=UDP",'
        'response="9d8d8d88f4fbf069f90ebba0f6aa1cb8",algorithm=MD5',
        proxy=True,
    )
    assert c.uri == "sip:172.16.98.101;transport=UDP"
    assert c.proxy is True
    assert c.qop is None and c.nc is None and c.cnonce is None


def test_parse_credentials_quoted_nc_without_qop() -> None:
    c = parse_credentials(
        'Digest username="voi18063",realm="sip.cybercity.dk",uri="sip:192.168.1.2",'
        'nonce="1701af566be182070084c6f740706bb",opaque="1701a1351f70795",'
        'nc="00000001",response="bd79fecae600a2eb79d37ec73214830b"'
    )
    assert c.nc == "00000001" and c.qop is None
    assert c.opaque == "1701a1351f70795"


def test_parse_credentials_username_star() -> None:
    c = parse_credentials(
        "Digest username*=UTF-8''J%C3%A4s%C3%B8n%20Doe, realm=\"api@example.org\", "
        'nonce="n", uri="/doe.json", response="00"'
    )
    assert c.username == "Jäsøn Doe"
    with pytest.raises(SipParseError, match=r"username\*"):
        parse_credentials(
            'Digest username*=UTF-8\'\'%FF, realm="r", nonce="n", uri="u", response="0"'
        )
    with pytest.raises(SipParseError, match=r"username\*"):
        parse_credentials(
            'Digest username*=KOI8-R\'\'x, realm="r", nonce="n", uri="u", response="0"'
        )


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        # RFC 3261 §20.7's example is abbreviated: it has no uri.
        (
            'Digest username="Alice", realm="atlanta.com", '
            'nonce="84a4cc6f3082121f32b42a2187831a9e", '
            'response="7587245234b3434cc3412213e5f113a5432"',
            "uri",
        ),
        ('Digest realm="r", nonce="n", uri="u", response="0"', "username"),
        ('Digest username="u", realm="r", nonce="n", uri="u"', "response"),
        ('Digest username="u", realm="r", nonce="n", uri="u", response="0", Basic x', "found 2"),
        ("", "empty"),
    ],
)
def test_credentials_errors(value: str, needle: str) -> None:
    with pytest.raises(SipParseError, match=needle):
        parse_credentials(value)


def test_basic_credentials_keep_token68() -> None:
    c = parse_credentials("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    assert c.params == (("", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),)
    assert format_credentials(c) == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


# --- formatting, exact strings ----------------------------------------------------------

FULL = Credentials(
    scheme="Digest",
    username="bob",
    realm="biloxi.com",
    nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
    uri="sip:bob@biloxi.com",
    response="89eb0059246c02b2f6ee02c7961d5ea3",
    algorithm="MD5",
    cnonce="0a4f113b",
    opaque="5ccc069c403ebaf9f0171e9517f40e41",
    qop="auth",
    nc="00000001",
)


def test_format_credentials_full() -> None:
    assert format_credentials(FULL) == (
        'Digest username="bob", realm="biloxi.com", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", '
        'response="89eb0059246c02b2f6ee02c7961d5ea3", algorithm=MD5, cnonce="0a4f113b", '
        'opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001'
    )


def test_format_credentials_minimal() -> None:
    c = Credentials(scheme="Digest", username="a", realm="r", nonce="n", uri="sip:r", response="0f")
    assert format_credentials(c) == (
        'Digest username="a", realm="r", nonce="n", uri="sip:r", response="0f"'
    )


def test_format_credentials_userhash_extensions_and_escapes() -> None:
    c = Credentials(
        scheme="Digest",
        username='we"ird\\name',
        realm="r",
        nonce="n",
        uri="sip:r",
        response="0f",
        algorithm="SHA-256",
        userhash=True,
        params=(("realm", "ignored"), ("auts", "AAEC"), ("x-note", "a, b")),
    )
    assert format_credentials(c) == (
        'Digest username="we\\"ird\\\\name", realm="r", nonce="n", uri="sip:r", '
        'response="0f", algorithm=SHA-256, userhash=true, auts="AAEC", x-note="a, b"'
    )
    back = parse_credentials(format_credentials(c))
    assert back == c.canonical()
    assert back.username == 'we"ird\\name'


def test_format_quotes_bare_fields_that_are_not_tokens() -> None:
    c = Credentials(
        scheme="Digest",
        username="a",
        realm="r",
        nonce="n",
        uri="u",
        response="0",
        algorithm="MD5 x",
        nc="",
    )
    text = format_credentials(c)
    assert text.endswith('algorithm="MD5 x", nc=""')
    assert parse_credentials(text) == c.canonical()


def test_format_challenge_exact() -> None:
    c = Challenge(
        scheme="Digest",
        realm="atlanta.com",
        nonce="f84f1cec41e6cbe5aea9c8e88d359",
        algorithm="SHA-256",
        qop_options=("auth", "auth-int"),
        opaque="",
        stale=True,
        domain="sip:boxesbybob.com",
    )
    assert format_challenge(c) == (
        'Digest realm="atlanta.com", nonce="f84f1cec41e6cbe5aea9c8e88d359", '
        'algorithm=SHA-256, qop="auth,auth-int", opaque="", domain="sip:boxesbybob.com", '
        "stale=true"
    )


def test_format_challenge_minimal_and_rfc7616_fields() -> None:
    assert format_challenge(Challenge(scheme="Digest", realm="r", nonce="n")) == (
        'Digest realm="r", nonce="n"'
    )
    c = Challenge(
        scheme="Digest",
        realm="api@example.org",
        nonce="n",
        algorithm="SHA-512-256",
        qop_options=("auth",),
        charset="UTF-8",
        userhash=True,
    )
    assert format_challenge(c) == (
        'Digest realm="api@example.org", nonce="n", algorithm=SHA-512-256, qop="auth", '
        "charset=UTF-8, userhash=true"
    )


def test_format_then_parse_real_challenge() -> None:
    value = (
        'Digest realm="sip.cybercity.dk",nonce="1701b4767d49c41117c7b73a255a353",'
        'opaque="1701a1351f70795",stale=false,algorithm=MD5'
    )
    [c] = parse_challenges(value)
    assert format_challenge(c) == (
        'Digest realm="sip.cybercity.dk", nonce="1701b4767d49c41117c7b73a255a353", '
        'algorithm=MD5, opaque="1701a1351f70795"'
    )
    assert parse_challenges(format_challenge(c)) == [c.canonical()]


@pytest.mark.parametrize("bad", ["a\r\nb", "a\nb", "nul\x00", "del\x7f"])
def test_format_refuses_control_characters(bad: str) -> None:
    c = Credentials(scheme="Digest", username=bad, realm="r", nonce="n", uri="u", response="0")
    with pytest.raises(LocalProtocolError, match="control character"):
        format_credentials(c)


def test_format_refuses_bad_names() -> None:
    c = Challenge(scheme="Digest", realm="r", nonce="n", params=(("bad name", "x"),))
    with pytest.raises(LocalProtocolError, match="not a token"):
        format_challenge(c)
    with pytest.raises(LocalProtocolError, match="not a token"):
        format_challenge(Challenge(scheme="Dig est", realm="r", nonce="n"))
    with pytest.raises(LocalProtocolError, match="not a token"):
        format_challenge(Challenge(scheme="Digest", realm="r", nonce="n", params=(("", "x"),)))


# --- properties ---------------------------------------------------------------------------

TCHARS = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
tokens = st.text(TCHARS, min_size=1, max_size=12)
safe_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=24)
maybe_text = st.none() | safe_text
bare_value = st.none() | tokens | safe_text
CRED_NAMES = {
    "username",
    "username*",
    "realm",
    "nonce",
    "uri",
    "response",
    "algorithm",
    "cnonce",
    "opaque",
    "qop",
    "nc",
    "userhash",
}
CHAL_NAMES = {
    "realm",
    "nonce",
    "algorithm",
    "qop",
    "opaque",
    "domain",
    "stale",
    "charset",
    "userhash",
}


def extensions(known: set[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    names = tokens.filter(lambda n: n.lower() not in known)
    return st.lists(st.tuples(names, safe_text), max_size=3)


credentials = st.builds(
    Credentials,
    scheme=st.sampled_from(["Digest", "digest", "DIGEST"]),
    username=safe_text,
    realm=safe_text,
    nonce=safe_text,
    uri=safe_text,
    response=safe_text,
    algorithm=bare_value,
    cnonce=maybe_text,
    opaque=maybe_text,
    qop=bare_value,
    nc=st.none() | st.from_regex(r"\A[0-9a-f]{8}\Z") | safe_text,
    userhash=st.booleans(),
    params=extensions(CRED_NAMES).map(tuple),
    proxy=st.booleans(),
)

challenges = st.builds(
    Challenge,
    scheme=st.sampled_from(["Digest", "digest"]),
    realm=safe_text,
    nonce=safe_text,
    algorithm=bare_value,
    qop_options=st.lists(tokens, max_size=3).map(tuple),
    opaque=maybe_text,
    stale=st.booleans(),
    domain=maybe_text,
    userhash=st.booleans(),
    charset=bare_value,
    params=extensions(CHAL_NAMES).map(tuple),
    proxy=st.booleans(),
)


@given(credentials)
def test_credentials_round_trip(c: Credentials) -> None:
    canonical = c.canonical()
    assert parse_credentials(format_credentials(c), proxy=c.proxy) == canonical
    assert parse_credentials(format_credentials(canonical), proxy=c.proxy) == canonical
    assert canonical.canonical() == canonical


@given(st.lists(challenges, min_size=1, max_size=3))
def test_challenges_round_trip(cs: list[Challenge]) -> None:
    proxy = cs[0].proxy
    cs = [replace(c, proxy=proxy) for c in cs]
    value = ", ".join(format_challenge(c) for c in cs)
    assert parse_challenges(value, proxy=proxy) == [c.canonical() for c in cs]


SYNTAX = st.text(st.sampled_from(list('Digest realm nonce=",\\ \t\r\nBasic abc=+/;')), max_size=40)


@given(st.text(max_size=80) | SYNTAX)
def test_parse_challenges_only_raises_sip_parse_error(value: str) -> None:
    try:
        result = parse_challenges(value)
    except SipParseError:
        return
    assert result


@given(st.text(max_size=80) | SYNTAX)
def test_parse_credentials_only_raises_sip_parse_error(value: str) -> None:
    try:
        parse_credentials(value)
    except SipParseError:
        return


def test_format_refuses_qop_options_that_are_not_tokens() -> None:
    c = Challenge(scheme="Digest", realm="r", nonce="n", qop_options=("auth,auth-int",))
    with pytest.raises(LocalProtocolError, match="qop option"):
        format_challenge(c)
