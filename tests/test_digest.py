"""Digest arithmetic against the published vectors, and the client/server helpers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipcheck.errors import DigestError
from sipcheck.sip.digest import compute as digest
from sipcheck.sip.digest.compute import (
    ChallengeUnsupported,
    NonceCounter,
    answer_challenge,
    choose_challenge,
    compute_ha1,
    compute_response,
    expected_response,
    hash_username,
    session_ha1,
    verify_credentials,
)
from sipcheck.sip.wire.auth import (
    Challenge,
    Credentials,
    format_credentials,
    parse_challenges,
    parse_credentials,
)

VECTORS_FILE = Path(__file__).parent / "data" / "digest" / "digest-vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vectors"]
BY_ID = {v["id"]: v for v in VECTORS}

# Vectors whose challenge had no algorithm parameter (MD5 by default).
NO_ALGORITHM_IN_CHALLENGE = {"smith-3.1-md5-noqop", "smith-3.2-md5-auth-noalg"}


def vector_params(ids: list[str] | None = None) -> pytest.MarkDecorator:
    chosen = VECTORS if ids is None else [BY_ID[i] for i in ids]
    return pytest.mark.parametrize("v", chosen, ids=[v["id"] for v in chosen])


def challenge_for(v: dict[str, Any], *, proxy: bool = False) -> Challenge:
    return Challenge(
        scheme="Digest",
        realm=v["realm"],
        nonce=v["nonce"],
        algorithm=None if v["id"] in NO_ALGORITHM_IN_CHALLENGE else v["algorithm"],
        qop_options=(v["qop"],) if v["qop"] else (),
        opaque=v["opaque"],
        userhash=v["userhash"],
        charset=v.get("charset"),
        proxy=proxy,
    )


def answer_vector(v: dict[str, Any], **overrides: Any) -> Credentials:
    kwargs: dict[str, Any] = {
        "username": v["username"],
        "password": v["password"],
        "method": v["method"],
        "uri": v["uri"],
        "body": v["body"].encode(),
        "cnonce": v["cnonce"] or "ignored-cnonce",
        "nc": int(v["nc"], 16) if v["nc"] else 1,
    }
    kwargs.update(overrides)
    return answer_challenge(challenge_for(v), **kwargs)


def test_all_24_vectors_are_loaded() -> None:
    assert len(VECTORS) == 24
    assert len(BY_ID) == 24
    assert all(v["verified"] for v in VECTORS)


@vector_params()
def test_vector_compute(v: dict[str, Any]) -> None:
    ha1 = compute_ha1(v["algorithm"], v["username"], v["realm"], v["password"])
    if "expected_ha1" in v:
        got = session_ha1(v["algorithm"], ha1, nonce=v["nonce"], cnonce=v["cnonce"])
        assert got == v["expected_ha1"]
    if "expected_body_hash" in v:
        assert hashlib.md5(v["body"].encode()).hexdigest() == v["expected_body_hash"]
    if "expected_username_hash" in v:
        assert (
            hash_username(v["algorithm"], v["username"], v["realm"]) == v["expected_username_hash"]
        )
    response = compute_response(
        algorithm=v["algorithm"],
        ha1=ha1,
        nonce=v["nonce"],
        method=v["method"],
        uri=v["uri"],
        qop=v["qop"],
        nc=v["nc"],
        cnonce=v["cnonce"],
        body=v["body"].encode(),
    )
    assert response == v["expected_response"]


@vector_params()
def test_vector_answer_challenge(v: dict[str, Any]) -> None:
    creds = answer_vector(v)
    assert creds.response == v["expected_response"]
    assert creds.scheme == "Digest"
    assert creds.realm == v["realm"]
    assert creds.nonce == v["nonce"]
    assert creds.uri == v["uri"]
    assert creds.qop == v["qop"]
    assert creds.nc == v["nc"]
    assert creds.opaque == v["opaque"]
    assert creds.userhash is v["userhash"]
    if v["qop"] is not None or v["algorithm"].lower().endswith("-sess"):
        assert creds.cnonce == v["cnonce"]
    else:
        assert creds.cnonce is None  # RFC 2617 §3.2.2: no cnonce without qop
    if v["id"] in NO_ALGORITHM_IN_CHALLENGE:
        assert creds.algorithm is None
    else:
        assert creds.algorithm == v["algorithm"]
    if v["userhash"]:
        assert creds.username == v["expected_username_hash"]
    else:
        assert creds.username == v["username"]


@vector_params()
def test_vector_answer_with_precomputed_ha1(v: dict[str, Any]) -> None:
    ha1 = compute_ha1(v["algorithm"], v["username"], v["realm"], v["password"])
    creds = answer_vector(v, password=None, ha1=ha1)
    assert creds.response == v["expected_response"]


@vector_params()
def test_vector_verify(v: dict[str, Any]) -> None:
    creds = answer_vector(v)
    plain = v["username"] if v["userhash"] else None
    body = v["body"].encode()
    kw: dict[str, Any] = {"method": v["method"], "body": body, "username": plain}
    assert verify_credentials(creds, password=v["password"], **kw)
    assert not verify_credentials(creds, password=v["password"] + "x", **kw)
    ha1 = compute_ha1(v["algorithm"], v["username"], v["realm"], v["password"])
    assert verify_credentials(creds, ha1=ha1, method=v["method"], body=body)
    assert (
        expected_response(creds, ha1=ha1, method=v["method"], body=body) == (v["expected_response"])
    )
    # Through the wire form and back, as a registrar would see it.
    wire = parse_credentials(format_credentials(creds))
    assert verify_credentials(wire, password=v["password"], **kw)
    assert not verify_credentials(wire, password=v["password"], **{**kw, "method": "BYE"})


@vector_params([v["id"] for v in VECTORS if v["qop"] == "auth-int"])
def test_auth_int_covers_the_body(v: dict[str, Any]) -> None:
    creds = answer_vector(v)
    assert not verify_credentials(
        creds, password=v["password"], method=v["method"], body=v["body"].encode() + b"x"
    )


def test_response_hex_case_does_not_matter_to_the_server() -> None:
    v = BY_ID["rfc2617-3.5"]
    creds = answer_vector(v)
    upper = replace(creds, response=creds.response.upper())
    assert verify_credentials(upper, password=v["password"], method="GET")


def test_userhash_verify_checks_the_user() -> None:
    v = BY_ID["rfc7616-3.9.2-sha512-256-userhash-erratum4897"]
    creds = answer_vector(v)
    with pytest.raises(DigestError, match="plain username"):
        verify_credentials(creds, password=v["password"], method="GET")
    assert not verify_credentials(creds, password=v["password"], method="GET", username="Jason")


def test_non_userhash_verify_checks_the_user_when_given() -> None:
    v = BY_ID["rfc2617-3.5"]
    creds = answer_vector(v)
    assert verify_credentials(creds, password=v["password"], method="GET", username="Mufasa")
    assert not verify_credentials(creds, password=v["password"], method="GET", username="Simba")


# --- SHA-512-256 is SHA-512/256, not truncated SHA-512 --------------------------------

PRINTED_7616_USERHASH = "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec"
PRINTED_7616_RESPONSE = "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd"


def _truncated_sha512(text: str) -> str:
    return hashlib.sha512(text.encode()).hexdigest()[:64]


def test_sha512_256_is_not_truncated_sha512() -> None:
    v = BY_ID["rfc7616-3.9.2-sha512-256-userhash-erratum4897"]
    user, realm, pw = v["username"], v["realm"], v["password"]
    # The RFC's printed values are what truncated SHA-512 gives...
    assert _truncated_sha512(f"{user}:{realm}") == PRINTED_7616_USERHASH
    t_ha1 = _truncated_sha512(f"{user}:{realm}:{pw}")
    t_ha2 = _truncated_sha512(f"{v['method']}:{v['uri']}")
    t_resp = _truncated_sha512(f"{t_ha1}:{v['nonce']}:{v['nc']}:{v['cnonce']}:{v['qop']}:{t_ha2}")
    assert t_resp == PRINTED_7616_RESPONSE
    # ...and we give Erratum 4897's values instead.
    assert hash_username("SHA-512-256", user, realm) == v["expected_username_hash"]
    assert hash_username("SHA-512-256", user, realm) != PRINTED_7616_USERHASH
    creds = answer_vector(v)
    assert creds.response == v["expected_response"] != PRINTED_7616_RESPONSE


@pytest.mark.parametrize("size", [0, 1, 3, 111, 112, 127, 128, 129, 239, 240, 1000])
def test_pure_sha512_256_matches_hashlib(size: int) -> None:
    data = bytes(range(256)) * 4
    message = data[:size]
    assert digest._sha512_256_pure(message) == hashlib.new("sha512_256", message).digest()


def test_pure_sha512_256_known_answer() -> None:
    # FIPS 180-4 example "abc" for SHA-512/256.
    assert digest._sha512_256_pure(b"abc").hex() == (
        "53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23"
    )


@given(st.binary(max_size=300))
def test_pure_sha512_256_matches_hashlib_property(message: bytes) -> None:
    assert digest._sha512_256_pure(message) == hashlib.new("sha512_256", message).digest()


def test_fallback_used_when_openssl_lacks_sha512_256(monkeypatch: pytest.MonkeyPatch) -> None:
    real_new = hashlib.new

    def no_sha512_256(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.lower().replace("-", "_").replace("/", "_") == "sha512_256":
            raise ValueError("unsupported hash type " + name)
        return real_new(name, *args, **kwargs)

    monkeypatch.setattr(hashlib, "new", no_sha512_256)
    picked = digest._pick_sha512_256()
    assert picked is digest._fallback_sha512_256
    monkeypatch.setitem(digest._HASHES, "SHA-512-256", picked)
    for vid in ("jssip-sha512-256-auth", "rfc7616-3.9.2-sha512-256-userhash-erratum4897"):
        assert answer_vector(BY_ID[vid]).response == BY_ID[vid]["expected_response"]


# --- choose_challenge -------------------------------------------------------------------

MD5 = Challenge(scheme="Digest", realm="r", nonce="n1", algorithm="MD5", qop_options=("auth",))
SHA256 = Challenge(scheme="Digest", realm="r", nonce="n2", algorithm="SHA-256")
SHA512 = Challenge(scheme="Digest", realm="r", nonce="n3", algorithm="SHA-512-256")
NOALG = Challenge(scheme="Digest", realm="r", nonce="n4")
BASIC = Challenge(scheme="Basic", realm="r", nonce="", params=(("realm", "r"),))


@pytest.mark.parametrize("order", [(MD5, SHA256), (SHA256, MD5)])
def test_choose_prefers_sha256_over_md5(order: tuple[Challenge, Challenge]) -> None:
    assert choose_challenge(order) is SHA256


def test_choose_default_prefers_sha512_256() -> None:
    assert choose_challenge([MD5, SHA512, SHA256]) is SHA512


def test_choose_custom_preference() -> None:
    assert choose_challenge([SHA256, MD5], preference=("MD5", "SHA-256")) is MD5
    assert choose_challenge([SHA512, SHA256], preference=("sha-256",)) is SHA256


def test_choose_absent_algorithm_is_md5() -> None:
    assert choose_challenge([BASIC, NOALG]) is NOALG
    assert choose_challenge([NOALG, SHA256]) is SHA256
    assert choose_challenge([SHA256, NOALG], preference=("MD5",)) is NOALG


def test_choose_sess_ranks_with_its_base() -> None:
    sess = Challenge(scheme="Digest", realm="r", nonce="s", algorithm="SHA-256-sess")
    assert choose_challenge([MD5, sess]) is sess
    assert choose_challenge([sess, SHA256]) is sess  # a tie: the first offered
    assert choose_challenge([SHA256, sess]) is SHA256
    assert choose_challenge([sess, MD5], preference=("MD5-sess",)) is MD5


def test_choose_skips_challenges_with_unsupported_qop() -> None:
    conf = Challenge(
        scheme="Digest", realm="r", nonce="c", algorithm="SHA-256", qop_options=("auth-conf",)
    )
    assert choose_challenge([conf, MD5]) is MD5


def test_choose_reads_parsed_headers() -> None:
    [a, b] = parse_challenges(
        'Digest realm="x", nonce="1", algorithm=MD5, qop="auth", '
        'Digest realm="x", nonce="2", algorithm=SHA-256, qop="auth"'
    )
    assert choose_challenge([a, b]) is b


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        ('Digest realm="r", nonce="n", algorithm=SHA-1', "SHA-1"),
        ('Digest realm="r", nonce="n", qop="auth-conf"', "auth-conf"),
        ('Basic realm="r"', "Basic"),
        ('Digest realm="r", nonce="n", algorithm=AKAv1-MD5, Basic realm="r"', "AKAv1-MD5"),
    ],
)
def test_choose_raises_when_nothing_is_answerable(header: str, needle: str) -> None:
    with pytest.raises(ChallengeUnsupported) as info:
        choose_challenge(parse_challenges(header))
    err = info.value
    assert isinstance(err, DigestError)
    assert needle in str(err)
    assert "SHA-256" in str(err) and "MD5" in str(err) and "auth-int" in str(err)
    assert any(needle in o for o in err.offered)
    assert "SHA-512-256-sess" in err.supported_algorithms
    assert "auth" in err.supported_qops


def test_choose_says_what_the_preference_allowed() -> None:
    with pytest.raises(ChallengeUnsupported) as info:
        choose_challenge([SHA256], preference=("MD5",))
    assert info.value.supported_algorithms == ("MD5", "MD5-sess")
    assert "SHA-256" in str(info.value)


def test_choose_empty_and_bad_preference() -> None:
    with pytest.raises(ChallengeUnsupported, match="nothing"):
        choose_challenge([])
    with pytest.raises(DigestError, match="SHA-1"):
        choose_challenge([MD5], preference=("SHA-1",))
    with pytest.raises(DigestError, match="auth-conf"):
        choose_challenge([MD5], qop_preference=("auth-conf",))


# --- answer_challenge -------------------------------------------------------------------


def _answer(c: Challenge, **kw: Any) -> Credentials:
    base: dict[str, Any] = {
        "username": "alice",
        "password": "secret",
        "method": "REGISTER",
        "uri": "sip:example.com",
        "cnonce": "abc123",
        "nc": 1,
    }
    return answer_challenge(c, **{**base, **kw})


@pytest.mark.parametrize(
    ("offered", "preference", "chosen"),
    [
        (("auth", "auth-int"), ("auth", "auth-int"), "auth"),
        (("auth-int", "auth"), ("auth", "auth-int"), "auth"),
        (("auth-int",), ("auth", "auth-int"), "auth-int"),
        (("auth", "auth-int"), ("auth-int", "auth"), "auth-int"),
        (("auth", "auth-conf"), ("auth", "auth-int"), "auth"),
        (("Auth",), ("auth",), "Auth"),  # echoed as the server spelled it
    ],
)
def test_answer_qop_choice(
    offered: tuple[str, ...], preference: tuple[str, ...], chosen: str
) -> None:
    c = Challenge(scheme="Digest", realm="r", nonce="n", qop_options=offered)
    creds = _answer(c, qop_preference=preference)
    assert creds.qop == chosen
    assert creds.nc == "00000001"
    assert creds.cnonce == "abc123"
    assert verify_credentials(creds, password="secret", method="REGISTER")


@pytest.mark.parametrize(
    ("offered", "preference"),
    [(("auth-conf",), ("auth", "auth-int")), (("auth-int",), ("auth",))],
)
def test_answer_qop_unsupported(offered: tuple[str, ...], preference: tuple[str, ...]) -> None:
    c = Challenge(scheme="Digest", realm="r", nonce="n", qop_options=offered)
    with pytest.raises(ChallengeUnsupported, match=offered[0]):
        _answer(c, qop_preference=preference)


def test_answer_rfc2069_form_sends_no_nc_or_cnonce() -> None:
    creds = _answer(Challenge(scheme="Digest", realm="r", nonce="n"))
    assert (creds.qop, creds.nc, creds.cnonce, creds.algorithm) == (None, None, None, None)
    assert format_credentials(creds) == (
        f'Digest username="alice", realm="r", nonce="n", uri="sip:example.com", '
        f'response="{creds.response}"'
    )


def test_answer_sess_without_qop_still_sends_cnonce() -> None:
    c = Challenge(scheme="Digest", realm="r", nonce="n", algorithm="MD5-sess")
    creds = _answer(c)
    assert creds.cnonce == "abc123" and creds.nc is None and creds.qop is None
    assert verify_credentials(creds, password="secret", method="REGISTER")


def test_answer_echoes_algorithm_spelling_opaque_and_proxy() -> None:
    [c] = parse_challenges(
        'Digest  realm="asterisk",nonce="1523308183/23d1e78e4f2c005e6803c9da783a5262",'
        'opaque="650356c623b5b8cc",algorithm=md5,qop="auth"',
        proxy=True,
    )
    creds = _answer(c, nc=10)
    assert creds.algorithm == "md5"
    assert creds.opaque == "650356c623b5b8cc"
    assert creds.proxy is True
    assert creds.nc == "0000000a"
    assert creds == creds.canonical()
    empty_opaque = _answer(Challenge(scheme="Digest", realm="r", nonce="n", opaque=""))
    assert empty_opaque.opaque == ""


def test_answer_userhash() -> None:
    c = Challenge(scheme="Digest", realm="r", nonce="n", algorithm="SHA-256", userhash=True)
    creds = _answer(c)
    assert creds.userhash is True
    assert creds.username == hashlib.sha256(b"alice:r").hexdigest()
    assert format_credentials(creds).endswith(", userhash=true")
    assert verify_credentials(creds, password="secret", method="REGISTER", username="alice")


def test_answer_input_errors() -> None:
    c = Challenge(scheme="Digest", realm="r", nonce="n", qop_options=("auth",))
    with pytest.raises(DigestError, match="exactly one"):
        _answer(c, ha1="00")
    with pytest.raises(DigestError, match="exactly one"):
        _answer(c, password=None)
    for bad_nc in (0, 0x1_0000_0000):
        with pytest.raises(DigestError, match="nonce count"):
            _answer(c, nc=bad_nc)
    with pytest.raises(ChallengeUnsupported, match="Basic"):
        _answer(BASIC)
    sha1 = Challenge(scheme="Digest", realm="r", nonce="n", algorithm="SHA-1")
    with pytest.raises(ChallengeUnsupported, match="SHA-1"):
        _answer(sha1)


def test_compute_response_input_errors() -> None:
    common: dict[str, Any] = {
        "ha1": "x",
        "nonce": "n",
        "method": "REGISTER",
        "uri": "sip:a",
        "body": b"",
    }
    with pytest.raises(DigestError, match="nc and cnonce"):
        compute_response(algorithm="MD5", qop="auth", nc=None, cnonce="c", **common)
    with pytest.raises(DigestError, match="nc and cnonce"):
        compute_response(algorithm="MD5", qop="auth", nc=1, cnonce=None, **common)
    with pytest.raises(DigestError, match="auth-conf"):
        compute_response(algorithm="MD5", qop="auth-conf", nc=1, cnonce="c", **common)
    with pytest.raises(DigestError, match="cnonce"):
        compute_response(algorithm="MD5-sess", qop=None, nc=None, cnonce=None, **common)
    with pytest.raises(DigestError, match="SHA-1"):
        compute_ha1("SHA-1", "u", "r", "p")


def test_algorithm_names_are_case_insensitive() -> None:
    for name in ("md5", "Md5-Sess", "sha-256", "SHA-512-256-SESS"):
        assert digest.is_supported_algorithm(name)
    assert digest.is_supported_algorithm(None)
    assert not digest.is_supported_algorithm("SHA-512")
    assert compute_ha1("sha-256", "u", "r", "p") == compute_ha1("SHA-256", "u", "r", "p")


# --- server side errors -------------------------------------------------------------------


def test_verify_rejects_uncheckable_credentials() -> None:
    creds = Credentials(
        scheme="Digest",
        username="u",
        realm="r",
        nonce="n",
        uri="sip:a",
        response="00",
        algorithm="SHA-1",
    )
    with pytest.raises(DigestError, match="SHA-1"):
        verify_credentials(creds, password="p", method="REGISTER")
    basic = Credentials(scheme="Basic", username="", realm="", nonce="", uri="", response="")
    with pytest.raises(DigestError, match="Basic"):
        verify_credentials(basic, password="p", method="REGISTER")
    no_nc = replace(creds, algorithm=None, qop="auth", cnonce="c")
    with pytest.raises(DigestError, match="nc"):
        verify_credentials(no_nc, password="p", method="REGISTER")


def test_verify_non_ascii_response_is_false_not_an_error() -> None:
    v = BY_ID["rfc2617-3.5"]
    creds = answer_vector(v)
    odd = replace(creds, response="ünïcode")
    assert not verify_credentials(odd, password=v["password"], method="GET")


def test_verify_real_capture_shape_nc_quoted_without_qop() -> None:
    # wireshark aaa.pcap: nc="00000001" quoted, no qop, no cnonce: RFC 2069 form.
    creds = parse_credentials(
        'Digest username="voi18062",realm="sip.cybercity.dk",uri="sip:192.168.1.2",'
        'nonce="1701b16a2a09bc3847cfd2015612fe2",opaque="1701a1351f70795",'
        'nc="00000001",response="29cd776112a709cb9cbe978baff5e478"'
    )
    assert creds.nc == "00000001" and creds.qop is None
    # The password is not public; the shape must still be checkable without error.
    assert not verify_credentials(creds, password="guess", method="REGISTER")


# --- NonceCounter -------------------------------------------------------------------------


def test_nonce_counter() -> None:
    counter = NonceCounter()
    assert [counter.next("a"), counter.next("a"), counter.next("b"), counter.next("a")] == [
        1,
        2,
        1,
        3,
    ]
    assert counter.current("a") == 3
    assert counter.current("zzz") == 0
    counter.forget("a")
    assert counter.next("a") == 1


def test_nonce_counter_exhaustion() -> None:
    counter = NonceCounter()
    counter._counts["n"] = digest.MAX_NC
    with pytest.raises(DigestError, match="exhausted"):
        counter.next("n")


# --- property: whatever we answer, a server with the password accepts --------------------

_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)


@given(
    username=_text,
    password=_text,
    realm=_text,
    nonce=_text,
    uri=_text,
    method=st.sampled_from(["REGISTER", "INVITE", "OPTIONS"]),
    body=st.binary(max_size=50),
    algorithm=st.sampled_from([None, *digest.SUPPORTED_ALGORITHMS, "sha-256", "md5-SESS"]),
    qops=st.sampled_from([(), ("auth",), ("auth-int",), ("auth", "auth-int")]),
    userhash=st.booleans(),
    cnonce=_text.filter(bool),
    nc=st.integers(1, digest.MAX_NC),
)
def test_answer_then_verify_property(
    username: str,
    password: str,
    realm: str,
    nonce: str,
    uri: str,
    method: str,
    body: bytes,
    algorithm: str | None,
    qops: tuple[str, ...],
    userhash: bool,
    cnonce: str,
    nc: int,
) -> None:
    c = Challenge(
        scheme="Digest",
        realm=realm,
        nonce=nonce,
        algorithm=algorithm,
        qop_options=qops,
        userhash=userhash,
    )
    creds = answer_challenge(
        c,
        username=username,
        password=password,
        method=method,
        uri=uri,
        body=body,
        cnonce=cnonce,
        nc=nc,
    )
    wire = parse_credentials(format_credentials(creds))
    assert wire == creds
    kw: dict[str, Any] = {"method": method, "body": body, "username": username}
    assert verify_credentials(wire, password=password, **kw)
    assert not verify_credentials(wire, password=password + "!", **kw)
