"""The registrar core driven with hand-built requests and a fake clock."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from sipcheck.cli.registrar_run import registrar_config
from sipcheck.errors import ConfigError
from sipcheck.sip.digest.compute import answer_challenge, compute_ha1, compute_response
from sipcheck.sip.digest.nonces import NONCE_LENGTH, NonceManager
from sipcheck.sip.registrar.attempt import MISTAKE_IDS, SEVERITY, Attempt
from sipcheck.sip.registrar.bindings import Binding, BindingStore
from sipcheck.sip.registrar.config import DEFAULT_ALGORITHMS
from sipcheck.sip.registrar.core import Account, Registrar, RegistrarConfig, RegistrarResult
from sipcheck.sip.registrar.responses import http_date, make_response, stamp_via
from sipcheck.sip.registrar.service import RegistrarService
from sipcheck.sip.wire.auth import (
    Challenge,
    Credentials,
    format_credentials,
    parse_challenges,
    parse_credentials,
)
from sipcheck.sip.wire.message import Request, Response
from sipcheck.sip.wire.parser import parse_message
from sipcheck.trace import Address

SECRET = b"0123456789abcdef0123456789abcdef"
SOURCE = ("192.0.2.1", 5060)
LOCAL = Address("192.0.2.254", 5060)
NONCE_RE = re.compile(rf"[A-Za-z0-9_-]{{{NONCE_LENGTH}}}\Z")
T0 = 1000.0


def register(
    cseq: int = 1,
    *,
    branch: str | None = None,
    auth: str | None = None,
    auth_header: str = "Authorization",
    contact: str | None = "<sip:alice@192.0.2.1:5060>",
    expires: str | None = None,
    to: str = "<sip:alice@example.com>",
    call_id: str = "a84b4c76e66710",
    ruri: str = "sip:example.com",
    body: bytes = b"",
    method: str = "REGISTER",
    extra: tuple[str, ...] = (),
) -> Request:
    lines = [
        f"{method} {ruri} SIP/2.0",
        f"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK{branch or f'b{cseq}'}",
        "Max-Forwards: 70",
        f"To: {to}",
        "From: <sip:alice@example.com>;tag=456248",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {method}",
    ]
    if contact is not None:
        lines.append(f"Contact: {contact}")
    if expires is not None:
        lines.append(f"Expires: {expires}")
    if auth is not None:
        lines.append(f"{auth_header}: {auth}")
    lines.extend(extra)
    lines.append(f"Content-Length: {len(body)}")
    message = parse_message(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    assert isinstance(message, Request)
    return message


def make(**config: object) -> Registrar:
    settings: dict[str, object] = {"accounts": {"alice": "secret"}, "algorithms": ("MD5",)}
    settings.update(config)
    return Registrar(RegistrarConfig(**settings), SECRET)  # type: ignore[arg-type]


def send(registrar: Registrar, request: Request, now: float = T0, **kw: object) -> RegistrarResult:
    return registrar.handle(request, now, source=SOURCE, transport="UDP", **kw)  # type: ignore[arg-type]


def response_of(result: RegistrarResult) -> Response:
    assert result.response is not None
    return result.response


def challenges(response: Response, header: str = "WWW-Authenticate") -> list[Challenge]:
    return [c for v in response.headers.get_all(header) for c in parse_challenges(v)]


def answer(
    response: Response,
    *,
    password: str = "secret",
    username: str = "alice",
    nc: int = 1,
    uri: str = "sip:example.com",
    body: bytes = b"",
    header: str = "WWW-Authenticate",
    pick: int = 0,
) -> str:
    challenge = challenges(response, header)[pick]
    creds = answer_challenge(
        challenge, username=username, password=password, method="REGISTER", uri=uri,
        body=body, cnonce="0a4f113b", nc=nc, qop_preference=("auth", "auth-int"),
    )  # fmt: skip
    return format_credentials(creds)


def registered(registrar: Registrar, now: float = T0, **kw: object) -> RegistrarResult:
    """401 then 200 for alice."""
    first = response_of(send(registrar, register(1, **kw), now))  # type: ignore[arg-type]
    assert first.status == 401
    return send(registrar, register(2, auth=answer(first), **kw), now)  # type: ignore[arg-type]


def ids(result: RegistrarResult) -> list[str]:
    return result.attempt.mistake_ids


# --- challenge and answer ------------------------------------------------------------


def test_first_register_is_challenged_with_exact_headers() -> None:
    registrar = make(algorithms=("SHA-256", "MD5"))
    result = send(registrar, register(1))
    response = response_of(result)
    assert response.start_line() == "SIP/2.0 401 Unauthorized"
    names = [n for n, _ in response.headers]
    assert names == [
        "Via", "To", "From", "Call-ID", "CSeq",
        "WWW-Authenticate", "WWW-Authenticate", "Server", "Content-Length",
    ]  # fmt: skip
    assert response.header("Via") == "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb1"
    assert re.fullmatch(r"<sip:alice@example.com>;tag=[0-9a-f]{16}", response.header("To") or "")
    assert response.header("CSeq") == "1 REGISTER"
    assert response.header("Content-Length") == "0"
    assert response.header("Server") == "sipcheck"
    sha, md5 = response.headers.get_all("WWW-Authenticate")
    nonce = challenges(response)[0].nonce
    assert NONCE_RE.match(nonce)
    # RFC 8760 §2.4: one challenge per algorithm, in preference order, same nonce.
    assert sha == f'Digest realm="example.com", nonce="{nonce}", algorithm=SHA-256, qop="auth"'
    assert md5 == f'Digest realm="example.com", nonce="{nonce}", algorithm=MD5, qop="auth"'
    assert ids(result) == ["no-credentials"]
    assert result.attempt.mistakes[0].severity == "info"
    assert (result.attempt.status, result.attempt.aor) == (401, "sip:alice@example.com")


def test_md5_answer_registers_with_binding_expires_and_date() -> None:
    registrar = make()
    first = response_of(send(registrar, register(1, expires="1800")))
    assert first.headers.get_all("WWW-Authenticate") == [
        f'Digest realm="example.com", nonce="{challenges(first)[0].nonce}", algorithm=MD5, '
        'qop="auth"'
    ]
    # Computed independently of answer_challenge: RFC 2617 §3.2.2.1 by hand.
    nonce = challenges(first)[0].nonce
    ha1 = compute_ha1("MD5", "alice", "example.com", "secret")
    digest = compute_response(
        algorithm="MD5", ha1=ha1, nonce=nonce, method="REGISTER", uri="sip:example.com",
        qop="auth", nc="00000001", cnonce="xyz",
    )  # fmt: skip
    auth = (
        f'Digest username="alice", realm="example.com", nonce="{nonce}", '
        f'uri="sip:example.com", response="{digest}", algorithm=MD5, cnonce="xyz", qop=auth, '
        "nc=00000001"
    )
    result = send(registrar, register(2, auth=auth, expires="1800"), T0 + 1, wall_time=0.0)
    response = response_of(result)
    assert response.start_line() == "SIP/2.0 200 OK"
    assert response.headers.get_all("Contact") == ["<sip:alice@192.0.2.1:5060>;expires=1800"]
    assert response.header("Date") == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert result.attempt.auth_user == "alice" and ids(result) == []
    assert result.attempt.accepted
    [binding] = registrar.bindings("sip:alice@example.com", T0 + 1)
    assert binding == Binding(
        "sip:alice@192.0.2.1:5060", (), T0 + 1 + 1800, "a84b4c76e66710", 2, SOURCE, "UDP"
    )


def test_sha256_answer_to_the_first_of_two_challenges() -> None:
    registrar = make(algorithms=("SHA-256", "MD5"))
    first = response_of(send(registrar, register(1)))
    auth = answer(first, pick=0)
    assert "algorithm=SHA-256" in auth
    assert response_of(send(registrar, register(2, auth=auth))).status == 200
    # MD5 answers the same nonce just as well.
    first = response_of(send(registrar, register(3)))
    assert response_of(send(registrar, register(4, auth=answer(first, pick=1)))).status == 200


def test_proxy_mode_uses_407_and_proxy_headers() -> None:
    registrar = make(challenge="proxy")
    first = response_of(send(registrar, register(1)))
    assert first.start_line() == "SIP/2.0 407 Proxy Authentication Required"
    assert first.header("WWW-Authenticate") is None
    auth = answer(first, header="Proxy-Authenticate")
    wrong = send(registrar, register(2, auth=auth))
    assert response_of(wrong).status == 407 and ids(wrong) == ["wrong-auth-header"]
    result = send(registrar, register(3, auth=auth, auth_header="Proxy-Authorization"))
    assert response_of(result).status == 200


def test_wrong_password_is_challenged_again() -> None:
    registrar = make()
    first = response_of(send(registrar, register(1)))
    result = send(registrar, register(2, auth=answer(first, password="guess")))
    response = response_of(result)
    assert response.start_line() == "SIP/2.0 401 Unauthorized"
    assert challenges(response)[0].nonce != challenges(first)[0].nonce
    assert not challenges(response)[0].stale
    [mistake] = result.attempt.mistakes
    assert (mistake.id, mistake.severity) == ("wrong-password", "error")
    assert mistake.message == (
        "wrong password for auth user alice (the digest response did not match; "
        "user and realm were right)"
    )
    assert registrar.bindings("sip:alice@example.com", T0) == []


def test_stale_nonce_after_lifetime_sets_stale_true() -> None:
    registrar = make(nonce_lifetime=30.0)
    first = response_of(send(registrar, register(1)))
    late = send(registrar, register(2, auth=answer(first)), T0 + 31)
    response = response_of(late)
    assert response.status == 401 and ids(late) == ["stale-nonce"]
    assert challenges(response)[0].stale
    assert ", stale=true" in (response.header("WWW-Authenticate") or "")
    # RFC 7616 §3.3: stale only when the digest itself was right.
    wrong = send(registrar, register(3, auth=answer(first, password="x")), T0 + 31)
    assert ids(wrong) == ["wrong-password"]
    assert not challenges(response_of(wrong))[0].stale
    fresh = send(registrar, register(4, auth=answer(response)), T0 + 32)
    assert response_of(fresh).status == 200


def test_without_qop_a_nonce_is_bound_to_its_call_id_and_a_rising_cseq() -> None:
    """A REGISTER captured with qop none, replayed with its CSeq or Call-ID edited: the
    digest covers neither, so only the nonce's first Call-ID and CSeq can tell."""
    registrar = make(qop=None)
    first = response_of(send(registrar, register(1)))
    assert challenges(first)[0].qop_options == ()
    auth = answer(first)
    assert "qop=" not in auth
    assert response_of(send(registrar, register(2, auth=auth))).status == 200

    def over_tcp(request: Request) -> RegistrarResult:
        # (over UDP the same bytes again are a retransmission: answered from the cache)
        return registrar.handle(request, T0 + 1, source=SOURCE, transport="TCP")

    refused = {
        "same request again": register(2, auth=auth),
        "another Call-ID": register(2, auth=auth, call_id="edited-call-id"),
        "another Call-ID and CSeq": register(7, auth=auth, call_id="edited-call-id"),
        "a lower CSeq": register(1, auth=auth, branch="lower"),
    }
    for what, request in refused.items():
        result = over_tcp(request)
        assert response_of(result).status == 401, what
        assert ids(result) == ["nonce-reused"], what
        assert not challenges(response_of(result))[0].stale, what
    # The client's own refresh (same Call-ID, higher CSeq) keeps working with the nonce;
    # a replay shaped like one cannot be told from it (the --qop help says so).
    assert response_of(over_tcp(register(3, auth=auth))).status == 200
    assert ids(over_tcp(register(3, auth=auth, branch="again"))) == ["nonce-reused"]
    # A fresh challenge answered in another Call-ID is fine.
    other = response_of(send(registrar, register(1, call_id="second", branch="s1"), T0 + 2))
    fresh = send(registrar, register(2, auth=answer(other), call_id="second", branch="s2"), T0 + 2)
    assert response_of(fresh).status == 200


def test_with_qop_a_nonce_may_serve_several_call_ids() -> None:
    registrar = make()
    first = response_of(send(registrar, register(1)))
    assert response_of(send(registrar, register(2, auth=answer(first, nc=1)))).status == 200
    other = send(registrar, register(1, auth=answer(first, nc=2), call_id="other", branch="o"))
    assert response_of(other).status == 200


def test_nonce_count_replay_is_refused() -> None:
    registrar = make()
    first = response_of(send(registrar, register(1)))
    assert response_of(send(registrar, register(2, auth=answer(first, nc=1)))).status == 200
    replay = send(registrar, register(3, auth=answer(first, nc=1)))
    assert response_of(replay).status == 401 and ids(replay) == ["nonce-count-reused"]
    lower = send(registrar, register(4, auth=answer(first, nc=1)))
    assert ids(lower) == ["nonce-count-reused"]
    assert response_of(send(registrar, register(5, auth=answer(first, nc=2)))).status == 200


def test_auth_int_checks_the_body_hash() -> None:
    registrar = make(qop="auth-int")
    body = b"v=0\r\n"
    extra = ("Content-Type: application/sdp",)
    first = response_of(send(registrar, register(1, body=body, extra=extra)))
    assert 'qop="auth-int"' in (first.header("WWW-Authenticate") or "")
    good = answer(first, body=body)
    assert "qop=auth-int" in good
    ok = send(registrar, register(2, auth=good, body=body, extra=extra))
    assert response_of(ok).status == 200
    empty = answer(first, body=b"", nc=2)
    bad = send(registrar, register(3, auth=empty, body=body, extra=extra))
    assert response_of(bad).status == 401 and ids(bad) == ["digest-miscomputed"]
    assert "empty body" in bad.attempt.mistakes[0].message


@pytest.mark.parametrize(
    ("change", "mistake"),
    [
        ({"username": "mallory"}, "unknown-user"),
        ({"realm": "other.example"}, "wrong-realm"),
        ({"algorithm": "SHA-512-256"}, "algorithm-not-offered"),
        ({"qop": "auth-int"}, "qop-not-offered"),
        ({"nonce": "A" * NONCE_LENGTH}, "invalid-nonce"),
    ],
)
def test_answer_mistakes_are_named(change: dict[str, Any], mistake: str) -> None:
    registrar = make()
    first = response_of(send(registrar, register(1)))
    creds = replace(parse_credentials(answer(first)), **change)
    result = send(registrar, register(2, auth=format_credentials(creds.canonical())))
    assert response_of(result).status == 401
    assert ids(result) == [mistake]
    assert SEVERITY[mistake] == "error"


def test_digest_uri_mismatch_warns_and_strict_refuses() -> None:
    for strict, status in ((False, 200), (True, 400)):
        registrar = make(strict_uri=strict)
        first = response_of(send(registrar, register(1)))
        auth = answer(first, uri="sip:registrar.example.com")
        result = send(registrar, register(2, auth=auth))
        assert response_of(result).status == status
        assert ids(result) == ["digest-uri-mismatch"]
        assert result.attempt.mistakes[0].severity == "warning"


def test_sha256_labelled_but_md5_computed_is_diagnosed() -> None:
    registrar = make(algorithms=("SHA-256",))
    first = response_of(send(registrar, register(1)))
    nonce = challenges(first)[0].nonce
    ha1 = compute_ha1("MD5", "alice", "example.com", "secret")
    digest = compute_response(
        algorithm="MD5", ha1=ha1, nonce=nonce, method="REGISTER", uri="sip:example.com",
        qop="auth", nc=1, cnonce="c",
    )  # fmt: skip
    creds = Credentials(
        "Digest", "alice", "example.com", nonce, "sip:example.com", digest,
        algorithm="SHA-256", cnonce="c", qop="auth", nc="00000001",
    )  # fmt: skip
    result = send(registrar, register(2, auth=format_credentials(creds)))
    assert ids(result) == ["digest-miscomputed"]
    assert "with MD5 although it declared algorithm=SHA-256" in result.attempt.mistakes[0].message


def test_no_qop_answer_is_accepted_with_a_warning() -> None:
    registrar = make(qop=None)
    first = response_of(send(registrar, register(1)))
    assert first.header("WWW-Authenticate") == (
        f'Digest realm="example.com", nonce="{challenges(first)[0].nonce}", algorithm=MD5'
    )
    assert response_of(send(registrar, register(2, auth=answer(first)))).status == 200
    registrar = make(qop="auth")
    first = response_of(send(registrar, register(1)))
    creds = replace(parse_credentials(answer(first)), qop=None, nc=None, cnonce=None)
    ha1 = compute_ha1("MD5", "alice", "example.com", "secret")
    digest = compute_response(
        algorithm="MD5", ha1=ha1, nonce=creds.nonce, method="REGISTER",
        uri="sip:example.com", qop=None, nc=None, cnonce=None,
    )  # fmt: skip
    creds = replace(creds, response=digest).canonical()
    result = send(registrar, register(2, auth=format_credentials(creds)))
    assert response_of(result).status == 200 and ids(result) == ["qop-missing"]


# --- authorisation and contacts ------------------------------------------------------


def test_aor_not_owned_is_forbidden() -> None:
    registrar = make(accounts={"alice": "secret", "bob": Account("pw", frozenset({"bob"}))})
    first = response_of(send(registrar, register(1, to="<sip:bob@example.com>")))
    result = send(registrar, register(2, auth=answer(first), to="<sip:bob@example.com>"))
    assert response_of(result).start_line() == "SIP/2.0 403 Forbidden"
    assert ids(result) == ["aor-not-allowed"]
    assert "auth user alice may not register sip:bob@example.com" in (
        result.attempt.mistakes[0].message
    )
    shared = make(accounts={"alice": Account("secret", frozenset({"alice", "sales"}))})
    first = response_of(send(shared, register(1, to="<sip:sales@example.com>")))
    ok = send(shared, register(2, auth=answer(first), to="<sip:sales@example.com>"))
    assert response_of(ok).status == 200


def test_interval_too_brief_gets_423_with_min_expires() -> None:
    registrar = make(min_expires=60)
    first = response_of(send(registrar, register(1, expires="30")))
    result = send(registrar, register(2, auth=answer(first), expires="30"))
    response = response_of(result)
    assert response.start_line() == "SIP/2.0 423 Interval Too Brief"
    assert response.header("Min-Expires") == "60"
    assert ids(result) == ["interval-too-brief"]
    assert registrar.bindings("sip:alice@example.com", T0) == []


def test_expires_param_beats_header_and_max_caps() -> None:
    registrar = make(max_expires=3600)
    contact = "<sip:alice@192.0.2.1:5060>;expires=7200, <sip:alice@198.51.100.7>;q=0.5"
    result = registered(registrar, contact=contact, expires="120")
    assert response_of(result).headers.get_all("Contact") == [
        "<sip:alice@192.0.2.1:5060>;expires=3600",
        "<sip:alice@198.51.100.7>;q=0.5;expires=120",
    ]


def test_star_with_expires_zero_clears_and_without_is_400() -> None:
    registrar = make()
    assert response_of(registered(registrar)).status == 200
    first = response_of(send(registrar, register(3, contact="*")))
    bad = send(registrar, register(4, auth=answer(first), contact="*"))
    assert response_of(bad).status == 400 and ids(bad) == ["bad-request"]
    assert len(registrar.bindings("sip:alice@example.com", T0)) == 1
    clear = send(registrar, register(5, auth=answer(first, nc=2), contact="*", expires="0"))
    assert response_of(clear).status == 200
    assert response_of(clear).header("Contact") is None
    assert registrar.bindings("sip:alice@example.com", T0) == []


def test_query_lists_bindings_with_remaining_time_then_they_expire() -> None:
    registrar = make()
    assert response_of(registered(registrar, expires="3600")).status == 200
    first = response_of(send(registrar, register(3, contact=None), T0 + 600))
    query = send(registrar, register(4, auth=answer(first), contact=None), T0 + 600)
    assert response_of(query).headers.get_all("Contact") == [
        "<sip:alice@192.0.2.1:5060>;expires=3000"
    ]
    assert registrar.bindings("sip:alice@example.com", T0 + 3599)
    assert registrar.bindings("sip:alice@example.com", T0 + 3600) == []
    later = T0 + 3700
    first = response_of(send(registrar, register(5, contact=None), later))
    query = send(registrar, register(6, auth=answer(first), contact=None), later)
    assert response_of(query).header("Contact") is None
    registrar.purge(later)
    assert len(registrar.store) == 0


def test_expires_zero_removes_one_binding() -> None:
    registrar = make()
    registered(registrar, contact="<sip:a@192.0.2.1>, <sip:b@192.0.2.1>")
    first = response_of(send(registrar, register(3)))
    result = send(registrar, register(4, auth=answer(first), contact="<sip:a@192.0.2.1>;expires=0"))
    assert response_of(result).headers.get_all("Contact") == ["<sip:b@192.0.2.1>;expires=3600"]


def test_same_call_id_lower_cseq_is_refused() -> None:
    registrar = make()
    registered(registrar)  # CSeq 2
    first = response_of(send(registrar, register(1, branch="x")))
    result = send(registrar, register(2, branch="y", auth=answer(first)))
    assert response_of(result).status == 500 and ids(result) == ["cseq-out-of-order"]
    other = send(registrar, register(1, branch="z", auth=answer(first, nc=2), call_id="new"))
    assert response_of(other).status == 200


def test_retransmission_gets_the_same_response() -> None:
    registrar = make()
    first = response_of(send(registrar, register(1)))
    request = register(2, auth=answer(first))
    ok = send(registrar, request)
    again = send(registrar, register(2, auth=answer(first)), T0 + 0.5)
    assert again.wire is not None and again.wire == ok.wire and again.attempt.retransmission
    assert again.response is not None and ok.response is not None
    assert again.response.to_bytes() == ok.wire == ok.response.to_bytes()
    assert ids(again) == ["retransmission"]
    over_tcp = registrar.handle(request, T0 + 1, source=SOURCE, transport="TCP")
    assert ids(over_tcp) == ["nonce-count-reused"]


def test_open_registrar_without_accounts() -> None:
    registrar = make(accounts=None)
    result = send(registrar, register(1))
    assert response_of(result).status == 200 and result.attempt.auth_user is None


# --- other requests ------------------------------------------------------------------


def test_options_and_other_methods() -> None:
    registrar = make()
    options = response_of(send(registrar, register(1, method="OPTIONS", contact=None)))
    assert options.start_line() == "SIP/2.0 200 OK"
    assert options.header("Allow") == "REGISTER, OPTIONS"
    assert options.header("Supported") == "path"
    assert options.header("Accept") == "application/sdp"
    result = send(registrar, register(1, method="SUBSCRIBE"))
    assert response_of(result).start_line() == "SIP/2.0 405 Method Not Allowed"
    assert response_of(result).header("Allow") == "REGISTER, OPTIONS"
    assert ids(result) == ["method-not-allowed"]
    assert send(registrar, register(1, method="ACK")).response is None


def test_version_require_domain_and_bad_requests() -> None:
    registrar = make(domains=frozenset({"example.com"}))
    data = register(1).to_bytes().replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1)
    old = parse_message(data)
    assert isinstance(old, Request)
    assert response_of(send(registrar, old)).start_line() == "SIP/2.0 505 Version Not Supported"
    ext = send(registrar, register(1, branch="e", extra=("Require: foo, path",)))
    assert response_of(ext).status == 420 and response_of(ext).header("Unsupported") == "foo"
    other = send(registrar, register(1, branch="o", ruri="sip:example.net"))
    assert response_of(other).status == 404 and ids(other) == ["domain-not-served"]
    cseq = send(registrar, register(1, branch="c", extra=("CSeq: 9 REGISTER",)))
    assert response_of(cseq).start_line() == "SIP/2.0 400 Several CSeq headers"
    garbage = RegistrarService(registrar).receive(
        b"HELLO\r\n\r\n", source=Address(*SOURCE), local=LOCAL, transport="udp", now=T0
    )
    assert garbage.sends == () and garbage.handled[0].mistake_ids == ["bad-request"]
    to = send(registrar, register(1, branch="t", to="<sip:bob@example.net>"))
    assert response_of(to).status == 401  # authentication comes before the AoR check
    assert isinstance(to.attempt, Attempt) and to.attempt.aor == "sip:bob@example.net"


def test_to_outside_the_served_domains_is_404_after_authentication() -> None:
    registrar = make(domains=frozenset({"Example.com"}))
    to = "<sip:alice@example.net>"
    first = response_of(send(registrar, register(1, to=to)))
    result = send(registrar, register(2, auth=answer(first), to=to))
    assert response_of(result).start_line() == "SIP/2.0 404 Not Found"
    assert ids(result) == ["aor-not-found"]


def test_bad_contact_is_400_after_authentication() -> None:
    registrar = make()
    first = response_of(send(registrar, register(1, contact="<sip:alice@>")))
    result = send(registrar, register(2, auth=answer(first), contact="<sip:alice@>"))
    assert response_of(result).status == 400 and ids(result) == ["bad-request"]


def test_one_md5_challenge_is_the_default() -> None:
    assert RegistrarConfig().algorithms == DEFAULT_ALGORITHMS == ("MD5",)
    assert registrar_config({"accounts": ["alice:pw"]}).algorithms == ("MD5",)


@pytest.mark.parametrize(
    ("given", "offered"),
    [
        (("SHA-256,MD5",), ("SHA-256", "MD5")),
        (("md5,sha-256",), ("SHA-256", "MD5")),  # RFC 8760 §2.4: strongest first
        (("MD5", "SHA-512-256"), ("SHA-512-256", "MD5")),
        (("sha-256-sess, SHA-256 ,md5,MD5",), ("SHA-256-sess", "SHA-256", "MD5")),
        (("SHA-256",), ("SHA-256",)),
    ],
)
def test_algorithm_option_is_a_list_offered_strongest_first(
    given: tuple[str, ...], offered: tuple[str, ...]
) -> None:
    config = registrar_config({"accounts": ["alice:pw"], "algorithms": given})
    assert config.algorithms == offered
    registrar = Registrar(config, SECRET)
    first = response_of(send(registrar, register(1)))
    assert [c.algorithm for c in challenges(first)] == list(offered)


def test_an_unknown_algorithm_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="SHA-1"):
        registrar_config({"accounts": ["alice:pw"], "algorithms": ("SHA-1,MD5",)})


def test_config_is_checked() -> None:
    with pytest.raises(ConfigError):
        RegistrarConfig(algorithms=("SHA-1",))
    with pytest.raises(ConfigError):
        RegistrarConfig(qop="auth-conf")
    with pytest.raises(ConfigError):
        RegistrarConfig(min_expires=100, max_expires=50)
    assert set(MISTAKE_IDS) >= {
        "no-credentials", "wrong-password", "unknown-user", "wrong-realm",
        "algorithm-not-offered", "qop-not-offered", "digest-uri-mismatch",
        "nonce-count-reused", "stale-nonce", "interval-too-brief", "aor-not-allowed",
        "bad-request",
    }  # fmt: skip


# --- responses ---------------------------------------------------------------------


def test_make_response_copies_the_rfc_3261_headers() -> None:
    request = register(1, extra=("Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp",))
    response = make_response(request, 480, to_tag="t1", headers=[("Retry-After", "5")])
    assert response.to_bytes().decode() == (
        "SIP/2.0 480 Temporarily Unavailable\r\n"
        "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb1\r\n"
        "To: <sip:alice@example.com>;tag=t1\r\n"
        "From: <sip:alice@example.com>;tag=456248\r\n"
        "Call-ID: a84b4c76e66710\r\n"
        "CSeq: 1 REGISTER\r\n"
        "Via: SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp\r\n"
        "Retry-After: 5\r\n"
        "Content-Length: 0\r\n\r\n"
    )
    assert make_response(request, 499).reason == "Bad Request"  # RFC 3261 §21: as x00
    assert response.headers.get_all("Via") == [
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb1",
        "SIP/2.0/TCP proxy.example.com;branch=z9hG4bKp",
    ]
    assert response.header("To") == "<sip:alice@example.com>;tag=t1"
    assert [n for n, _ in response.headers][-2:] == ["Retry-After", "Content-Length"]
    tagged = register(1, to="<sip:alice@example.com>;tag=abc")
    assert make_response(tagged, 200).header("To") == "<sip:alice@example.com>;tag=abc"
    assert make_response(request, 100).header("To") == "<sip:alice@example.com>"
    a, b = make_response(request, 200), make_response(request, 200)
    assert a.header("To") == b.header("To")  # derived: same for a retransmission


def test_stamp_via_received_and_rport() -> None:
    request = register(1, extra=())
    stamp_via(request, "192.0.2.1", 5060)
    assert request.header("Via") == "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb1"
    stamp_via(request, "203.0.113.9", 40000)
    assert request.header("Via") == (
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb1;received=203.0.113.9"
    )
    data = register(1).to_bytes().replace(b";branch=", b";rport;branch=")
    nat = parse_message(data)
    assert isinstance(nat, Request)
    stamp_via(nat, "192.0.2.1", 61000)
    assert nat.header("Via") == (
        "SIP/2.0/UDP 192.0.2.1:5060;rport=61000;branch=z9hG4bKb1;received=192.0.2.1"
    )
    v6 = parse_message(
        register(1)
        .to_bytes()
        .replace(b"192.0.2.1:5060;branch=z9hG4bKb1", b"[2001:db8::1]:5060;branch=z9hG4bKb1, "
                 b"SIP/2.0/UDP p.example.com;branch=z9hG4bKq")
    )  # fmt: skip
    assert isinstance(v6, Request)
    stamp_via(v6, "2001:db8:0::1", 5060)
    assert v6.headers.get_all("Via") == [
        "SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bKb1, SIP/2.0/UDP p.example.com;branch=z9hG4bKq"
    ]
    named = parse_message(register(1).to_bytes().replace(b"192.0.2.1:5060;", b"pc.example.com;"))
    assert isinstance(named, Request)
    stamp_via(named, "192.0.2.1", 5060)
    assert named.header("Via") == "SIP/2.0/UDP pc.example.com;branch=z9hG4bKb1;received=192.0.2.1"


def test_http_date() -> None:
    assert http_date(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert http_date(1_289_690_940.9) == "Sat, 13 Nov 2010 23:29:00 GMT"  # RFC 3261 §20.17
    assert http_date(1_700_000_000) == "Tue, 14 Nov 2023 22:13:20 GMT"


# --- nonces and bindings ---------------------------------------------------------------


def test_nonce_manager() -> None:
    nonces = NonceManager(SECRET, 30.0)
    a, b = nonces.issue(T0, "r"), nonces.issue(T0, "r")
    assert a != b and NONCE_RE.match(a)
    assert nonces.check(a, T0 + 30, realm="r") == "ok"
    assert nonces.check(a, T0 + 30.5, realm="r") == "stale"
    assert nonces.check(a, T0, realm="other") == "invalid"
    assert nonces.check(a[:-1] + ("A" if a[-1] != "A" else "B"), T0, realm="r") == "invalid"
    assert nonces.check("short", T0, realm="r") == "invalid"
    assert NonceManager(b"other", 30.0).check(a, T0, realm="r") == "invalid"
    assert nonces.check(a, T0, realm="r", nc=1) == "ok"
    nonces.use(a, 1, T0)
    assert nonces.check(a, T0, realm="r", nc=1) == "replay"
    assert nonces.check(a, T0, realm="r", nc=2) == "ok"
    assert len(nonces) == 1
    nonces.purge(T0 + 31)
    assert len(nonces) == 0
    # Without qop (nc None): bound to the first Call-ID, and to a rising CSeq.
    b = nonces.issue(T0, "r")
    assert nonces.check(b, T0, realm="r", call_id="c1", cseq=1) == "ok"
    nonces.use(b, None, T0, call_id="c1", cseq=1)
    assert nonces.check(b, T0, realm="r", call_id="c2", cseq=2) == "reused"
    assert nonces.check(b, T0, realm="r", call_id="c1", cseq=1) == "reused"
    assert nonces.check(b, T0, realm="r", call_id="c1", cseq=2) == "ok"
    nonces.use(b, None, T0, call_id="c1", cseq=2)
    assert nonces.check(b, T0, realm="r", call_id="c1", cseq=2) == "reused"
    assert nonces.check(b, T0, realm="r", nc=1) == "ok"  # qop answers count on their own


def test_nonce_eviction_never_allows_a_replay() -> None:
    nonces = NonceManager(SECRET, 30.0, max_tracked=2)
    issued = [nonces.issue(T0 + i) for i in range(3)]
    for i, nonce in enumerate(issued):
        nonces.use(nonce, 1, T0 + 3 + i)
    assert len(nonces) == 2
    assert nonces.check(issued[0], T0 + 6, nc=1) == "stale"  # forgotten: stale, not "ok"
    assert nonces.check(issued[2], T0 + 6, nc=1) == "replay"
    assert nonces.check(issued[2], T0 + 6, nc=2) == "ok"


def test_binding_store_purge() -> None:
    store = BindingStore()
    b = Binding("sip:a@h", (), 10.0, "c", 1, SOURCE, "UDP")
    store.put("sip:a@x", "k", b)
    store.put("sip:b@x", "k", replace(b, expires_at=20.0))
    assert store.bindings("sip:a@x", 9.9) == [b] and store.bindings("sip:a@x", 10.0) == []
    assert store.purge(15.0) == 1 and len(store) == 1 and list(store.aors()) == ["sip:b@x"]
    assert b.contact_value(9.6) == "<sip:a@h>;expires=1"
