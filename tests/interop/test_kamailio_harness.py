"""Self-test of the Kamailio registrar harness, with raw sockets and real clients.

sipcheck's own client is not used here: requests are built by hand and digest
answers computed inline with hashlib, so a failure points at the harness.
"""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.interop.conftest import KamailioFactory
from tests.interop.kamailio_server import KamailioServer, Transport, sip_exchange

pytestmark = pytest.mark.interop

SCENARIOS = Path(__file__).parent / "kamailio"


# --- a minimal hand-made UAC -------------------------------------------------


@dataclass
class Response:
    raw: bytes
    status: int
    reason: str
    headers: list[tuple[str, str]]

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        head = raw.split(b"\r\n\r\n", 1)[0].decode()
        first, *lines = head.split("\r\n")
        _, code, reason = first.split(" ", 2)
        headers = []
        for line in lines:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        return cls(raw, int(code), reason, headers)

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    def one(self, name: str) -> str:
        values = self.all(name)
        assert len(values) == 1, (name, self.raw)
        return values[0]

    def challenge(self, name: str) -> dict[str, str]:
        return parse_digest(self.one(name))


def parse_digest(value: str) -> dict[str, str]:
    scheme, _, rest = value.partition(" ")
    assert scheme.lower() == "digest", value
    return {
        m.group(1).lower(): m.group(3) if m.group(3) is not None else m.group(2)
        for m in re.finditer(r'([\w-]+)=("([^"]*)"|[^\s,]*)', rest)
    }


def _hash(algorithm: str, data: bytes) -> str:
    name = {"MD5": "md5", "SHA-256": "sha256"}[algorithm.upper()]
    return hashlib.new(name, data).hexdigest()


def digest_answer(
    challenge: dict[str, str],
    *,
    username: str,
    password: str,
    uri: str,
    method: str = "REGISTER",
    body: bytes = b"",
    qop: str | None = "offered",
    algorithm: str | None = None,
    realm: str | None = None,
    nc: str = "00000001",
    cnonce: str = "0a4f113b",
    body_for_hash: bytes | None = None,
) -> str:
    """RFC 2617 / RFC 7616 credentials; ``qop="offered"`` takes the first offered."""
    algorithm = algorithm or challenge.get("algorithm", "MD5")
    realm = challenge["realm"] if realm is None else realm
    if qop == "offered":
        offered = [q.strip() for q in challenge.get("qop", "").split(",") if q.strip()]
        qop = offered[0] if offered else None
    ha1 = _hash(algorithm, f"{username}:{realm}:{password}".encode())
    a2 = f"{method}:{uri}"
    if qop == "auth-int":
        entity = body if body_for_hash is None else body_for_hash
        a2 += ":" + _hash(algorithm, entity)
    ha2 = _hash(algorithm, a2.encode())
    nonce = challenge["nonce"]
    kd = f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}" if qop else f"{ha1}:{nonce}:{ha2}"
    response = _hash(algorithm, kd.encode())
    parts = [
        f'username="{username}"',
        f'realm="{realm}"',
        f'nonce="{nonce}"',
        f'uri="{uri}"',
        f'response="{response}"',
        f"algorithm={algorithm}",
    ]
    if qop:
        parts += [f"qop={qop}", f"nc={nc}", f'cnonce="{cnonce}"']
    if "opaque" in challenge:
        parts.append(f'opaque="{challenge["opaque"]}"')
    return "Digest " + ", ".join(parts)


@dataclass
class UA:
    server: KamailioServer
    transport: Transport = "udp"
    ipv6: bool = False
    user: str = "alice"
    call_id: str = field(default_factory=lambda: uuid.uuid4().hex + "@harness-test")
    cseq: int = 0

    @property
    def host(self) -> str:
        host = self.server.address(self.transport, ipv6=self.ipv6)[0]
        return f"[{host}]" if ":" in host else host

    @property
    def uri(self) -> str:
        return f"sip:{self.server.hostport(self.transport, ipv6=self.ipv6)}"

    def request(
        self,
        method: str = "REGISTER",
        *,
        headers: Sequence[str] = (),
        contact: str | None = "default",
        expires: int | None = 3600,
        body: bytes = b"",
        to_user: str | None = None,
    ) -> bytes:
        self.cseq += 1
        to_user = to_user or self.user
        aor = f"sip:{to_user}@{self.host}"
        lines = [
            f"{method} {self.uri} SIP/2.0",
            f"Via: SIP/2.0/{self.transport.upper()} {self.host}:9;"
            f"branch=z9hG4bK{uuid.uuid4().hex[:16]};rport",
            "Max-Forwards: 70",
            f"From: <{aor}>;tag=harness{self.cseq}",
            f"To: <{aor}>",
            f"Call-ID: {self.call_id}",
            f"CSeq: {self.cseq} {method}",
        ]
        if method == "REGISTER" and contact is not None:
            if contact == "default":
                contact = f"<sip:{to_user}@{self.host}:5999;transport={self.transport}>"
            lines.append(f"Contact: {contact}")
        if method == "REGISTER" and expires is not None:
            lines.append(f"Expires: {expires}")
        lines += list(headers)
        if body:
            lines.append("Content-Type: text/plain")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def send(
        self,
        method: str = "REGISTER",
        *,
        headers: Sequence[str] = (),
        contact: str | None = "default",
        expires: int | None = 3600,
        body: bytes = b"",
    ) -> Response:
        data = self.request(method, headers=headers, contact=contact, expires=expires, body=body)
        host, port = self.server.address(self.transport, ipv6=self.ipv6)
        return Response.parse(sip_exchange(host, port, self.transport, data, timeout=3))

    def answer(
        self,
        challenge: dict[str, str],
        *,
        username: str | None = None,
        password: str = "secret",
        body: bytes = b"",
        qop: str | None = "offered",
        algorithm: str | None = None,
        realm: str | None = None,
        nc: str = "00000001",
        body_for_hash: bytes | None = None,
    ) -> str:
        return digest_answer(
            challenge,
            username=username or self.user,
            password=password,
            uri=self.uri,
            body=body,
            qop=qop,
            algorithm=algorithm,
            realm=realm,
            nc=nc,
            body_for_hash=body_for_hash,
        )


def register_www(
    ua: UA,
    password: str = "secret",
    *,
    contact: str | None = "default",
    expires: int | None = 3600,
) -> Response:
    """The usual two round trips: unauthenticated REGISTER, 401, answered REGISTER."""
    first = ua.send(contact=contact, expires=expires)
    assert first.status == 401, first.raw
    auth = ua.answer(first.challenge("WWW-Authenticate"), password=password)
    return ua.send(headers=[f"Authorization: {auth}"], contact=contact, expires=expires)


def contact_expires(response: Response) -> dict[str, int]:
    """Contact URI -> expires of a 200 OK to REGISTER."""
    found = {}
    for value in response.all("contact"):
        for item in value.split(","):
            match = re.search(r"<([^>]*)>.*;expires=(\d+)", item)
            assert match, value
            found[match.group(1)] = int(match.group(2))
    return found


# --- www mode and the transports ----------------------------------------------

TRANSPORT_CASES = [
    pytest.param("udp", False, id="udp"),
    pytest.param("tcp", False, id="tcp"),
    pytest.param("tls", False, id="tls"),
    pytest.param("udp", True, id="udp6"),
    pytest.param("tcp", True, id="tcp6"),
    pytest.param("tls", True, id="tls6"),
]


@pytest.mark.parametrize(("transport", "ipv6"), TRANSPORT_CASES)
def test_www_register_on_every_transport(
    kamailio: KamailioFactory, transport: Transport, ipv6: bool
) -> None:
    server = kamailio(mode="www", transports=(transport,), ipv6=ipv6)
    ua = UA(server, transport, ipv6)
    first = ua.send()
    assert (first.status, first.reason) == (401, "Unauthorized")
    challenge = first.challenge("WWW-Authenticate")
    assert challenge["realm"] == ua.host  # default realm: the To domain
    assert "qop" not in challenge
    assert not first.all("proxy-authenticate")

    ok = ua.send(headers=[f"Authorization: {ua.answer(challenge)}"], expires=300)
    assert ok.status == 200, ok.raw
    contact = f"sip:alice@{ua.host}:5999;transport={transport}"
    assert contact_expires(ok) == {contact: 300}


def test_www_wrong_password_gets_a_new_401(kamailio: KamailioFactory) -> None:
    ua = UA(kamailio(mode="www"))
    rejected = register_www(ua, password="not-the-secret")
    # Kamailio answers bad credentials with a fresh challenge, like the first one
    assert rejected.status == 401
    assert rejected.one("X-Harness-Reject") == "wrong-password"
    retry = rejected.challenge("WWW-Authenticate")
    assert retry["realm"] == "127.0.0.1" and retry["nonce"]
    assert "stale" not in retry
    # the new nonce works with the right password
    ok = ua.send(headers=[f"Authorization: {ua.answer(retry)}"])
    assert ok.status == 200


def test_unknown_user_is_challenged_and_never_accepted(kamailio: KamailioFactory) -> None:
    ua = UA(kamailio(mode="www"), user="mallory")
    rejected = register_www(ua, password="guess")
    assert rejected.status == 401
    assert rejected.one("X-Harness-Reject") == "unknown-user"


def test_options_answered_and_other_methods_refused(kamailio: KamailioFactory) -> None:
    ua = UA(kamailio(mode="www"))
    options = ua.send("OPTIONS")
    assert (options.status, options.reason) == (200, "OK")
    assert "REGISTER" in options.one("Allow")
    assert ua.send("INVITE").status == 405


def test_query_bindings_unlimited_contacts_and_unregister(kamailio: KamailioFactory) -> None:
    ua = UA(kamailio(mode="www"))
    contacts = [f"sip:alice@127.0.0.1:{port}" for port in (6001, 6002, 6003)]
    for contact in contacts:
        assert register_www(ua, contact=f"<{contact}>", expires=600).status == 200

    # REGISTER without Contact: a query; the 200 lists every binding
    query = register_www(ua, contact=None, expires=None)
    assert query.status == 200
    bindings = contact_expires(query)
    assert set(bindings) == set(contacts)
    assert all(0 < expires <= 600 for expires in bindings.values())

    # Contact: * with Expires: 0 removes them all
    gone = register_www(ua, contact="*", expires=0)
    assert gone.status == 200
    assert not gone.all("contact")


# --- proxy, both, both-at-once ------------------------------------------------


def test_proxy_mode_uses_407_and_proxy_authorization(kamailio: KamailioFactory) -> None:
    ua = UA(kamailio(mode="proxy"))
    first = ua.send()
    assert (first.status, first.reason) == (407, "Proxy Authentication Required")
    assert not first.all("www-authenticate")
    challenge = first.challenge("Proxy-Authenticate")

    # the right answer in the wrong header does not count
    wrong_header = ua.send(headers=[f"Authorization: {ua.answer(challenge)}"])
    assert wrong_header.status == 407

    ok = ua.send(headers=[f"Proxy-Authorization: {ua.answer(challenge)}"])
    assert ok.status == 200, ok.raw
    assert contact_expires(ok)


def test_both_mode_wants_407_then_401(kamailio: KamailioFactory) -> None:
    ua = UA(kamailio(mode="both", realm="sipcheck-test"))
    first = ua.send()
    assert first.status == 407 and not first.all("www-authenticate")
    proxy_auth = "Proxy-Authorization: " + ua.answer(first.challenge("Proxy-Authenticate"))

    second = ua.send(headers=[proxy_auth])
    assert second.status == 401 and not second.all("proxy-authenticate")
    www_auth = "Authorization: " + ua.answer(second.challenge("WWW-Authenticate"))

    # both credentials are needed: the Authorization alone gets 407 again
    assert ua.send(headers=[www_auth]).status == 407
    ok = ua.send(headers=[proxy_auth, www_auth])
    assert ok.status == 200, ok.raw


def test_both_mode_with_sha256_qop_auth_and_a_realm(kamailio: KamailioFactory) -> None:
    """The options compose: each stage offers and requires them."""
    ua = UA(kamailio(mode="both", algorithm="SHA-256", qop="auth", realm="sipcheck-test"))
    proxy_challenge = ua.send().challenge("Proxy-Authenticate")
    assert (proxy_challenge["algorithm"], proxy_challenge["qop"]) == ("SHA-256", "auth")
    proxy_auth = "Proxy-Authorization: " + ua.answer(proxy_challenge)
    www = ua.send(headers=[proxy_auth])
    www_challenge = www.challenge("WWW-Authenticate")
    assert www_challenge["realm"] == "sipcheck-test"
    no_qop = "Authorization: " + ua.answer(www_challenge, qop=None)
    refused = ua.send(headers=[proxy_auth, no_qop])
    assert (refused.status, refused.one("X-Harness-Reject")) == (401, "qop-not-auth")
    ok = ua.send(headers=[proxy_auth, "Authorization: " + ua.answer(www_challenge)])
    assert ok.status == 200, ok.raw


def test_both_at_once_mode_sends_one_407_with_two_challenges(
    kamailio: KamailioFactory,
) -> None:
    ua = UA(kamailio(mode="both-at-once"))
    first = ua.send()
    assert first.status == 407
    proxy_challenge = first.challenge("Proxy-Authenticate")
    www_challenge = first.challenge("WWW-Authenticate")
    ok = ua.send(
        headers=[
            f"Proxy-Authorization: {ua.answer(proxy_challenge)}",
            f"Authorization: {ua.answer(www_challenge)}",
        ]
    )
    assert ok.status == 200, ok.raw


# --- realm, algorithm, qop ----------------------------------------------------


def test_realm_differs_from_the_aor_domain(kamailio: KamailioFactory) -> None:
    ua = UA(kamailio(mode="www", realm="sipcheck-test"))
    first = ua.send()
    challenge = first.challenge("WWW-Authenticate")
    assert challenge["realm"] == "sipcheck-test"
    assert ua.host == "127.0.0.1"

    # credentials for the domain instead of the realm are not even looked at
    wrong_realm = ua.send(headers=[f"Authorization: {ua.answer(challenge, realm='127.0.0.1')}"])
    assert wrong_realm.status == 401 and not wrong_realm.all("X-Harness-Reject")
    ok = ua.send(headers=[f"Authorization: {ua.answer(challenge)}"])
    assert ok.status == 200, ok.raw


@pytest.mark.parametrize("mode", ["www", "proxy"])
def test_sha256(kamailio: KamailioFactory, mode: str) -> None:
    ua = UA(kamailio(mode=mode, algorithm="SHA-256"))
    first = ua.send()
    header = "WWW-Authenticate" if mode == "www" else "Proxy-Authenticate"
    answer_header = "Authorization" if mode == "www" else "Proxy-Authorization"
    challenge = first.challenge(header)
    assert challenge["algorithm"] == "SHA-256"
    assert len(challenge["nonce"]) > 0

    as_md5 = ua.send(headers=[f"{answer_header}: {ua.answer(challenge, algorithm='MD5')}"])
    assert as_md5.status == first.status
    ok = ua.send(headers=[f"{answer_header}: {ua.answer(challenge)}"])
    assert ok.status == 200, ok.raw


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_qop_auth_is_offered_and_required(kamailio: KamailioFactory, algorithm: str) -> None:
    ua = UA(kamailio(mode="www", qop="auth", algorithm=algorithm))
    challenge = ua.send().challenge("WWW-Authenticate")
    assert challenge["qop"] == "auth"

    # an RFC 2069 answer (no qop) to a qop challenge: Kamailio 5.6 alone would accept it
    no_qop = ua.send(headers=[f"Authorization: {ua.answer(challenge, qop=None)}"])
    assert no_qop.status == 401
    assert no_qop.one("X-Harness-Reject") == "qop-not-auth"

    wrong = ua.send(headers=[f"Authorization: {ua.answer(challenge, password='nope')}"])
    assert (wrong.status, wrong.one("X-Harness-Reject")) == (401, "wrong-password")

    ok = ua.send(headers=[f"Authorization: {ua.answer(challenge)}"])
    assert ok.status == 200, ok.raw


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_qop_auth_int_checks_the_body(kamailio: KamailioFactory, algorithm: str) -> None:
    ua = UA(kamailio(mode="www", qop="auth-int", algorithm=algorithm))
    challenge = ua.send().challenge("WWW-Authenticate")
    assert challenge["qop"] == "auth-int"

    def send(
        body: bytes,
        nc: str,
        *,
        qop: str | None = "offered",
        password: str = "secret",
        body_for_hash: bytes | None = None,
    ) -> Response:
        auth = ua.answer(
            challenge, body=body, nc=nc, qop=qop, password=password, body_for_hash=body_for_hash
        )
        return ua.send(headers=[f"Authorization: {auth}"], body=body)

    assert send(b"", "00000001").status == 200
    assert send(b"a body the digest covers\r\n", "00000002").status == 200

    other_body = send(b"sent body", "00000003", body_for_hash=b"hashed body")
    assert (other_body.status, other_body.one("X-Harness-Reject")) == (
        401,
        "wrong-password-or-body",
    )
    wrong_password = send(b"", "00000004", password="nope")
    assert wrong_password.one("X-Harness-Reject") == "wrong-password-or-body"
    plain_auth = send(b"", "00000005", qop="auth")
    assert plain_auth.one("X-Harness-Reject") == "qop-not-auth-int"
    no_qop = send(b"", "00000006", qop=None)
    assert no_qop.one("X-Harness-Reject") == "qop-not-auth-int"


def test_auth_int_refuses_nonces_kamailio_did_not_issue(kamailio: KamailioFactory) -> None:
    """auth-int leans on Kamailio for the nonce check; make sure it still happens."""
    ua = UA(kamailio(mode="www", qop="auth-int"))
    challenge = ua.send().challenge("WWW-Authenticate")
    nonce = challenge["nonce"]
    # a tampered signature is invalid ...
    flipped = nonce[:-3] + ("A" if nonce[-3] != "A" else "B") + nonce[-2:]
    tampered = ua.send(headers=[f"Authorization: {ua.answer(dict(challenge, nonce=flipped))}"])
    assert tampered.status == 401
    assert tampered.one("X-Harness-Reject") == "invalid-credentials-rc-1"
    # ... and one that does not decode to a live expiry time reads as stale
    garbage = dict(challenge, nonce="Zm9yZ2VkLW5vbmNlLXRoYXQta2FtYWlsaW8tbmV2ZXItaXNzdWVk")
    stale = ua.send(headers=[f"Authorization: {ua.answer(garbage)}"])
    assert stale.one("X-Harness-Reject") == "stale-nonce"
    assert stale.challenge("WWW-Authenticate")["stale"].lower() == "true"


# --- accounts: auth user, blocked ---------------------------------------------


def test_auth_user_differs_from_the_sip_user(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice-auth": "secret"}, accounts={"1001": "alice-auth"})
    ua = UA(server, user="1001")
    challenge = ua.send().challenge("WWW-Authenticate")

    as_sip_user = ua.send(headers=[f"Authorization: {ua.answer(challenge)}"])
    assert (as_sip_user.status, as_sip_user.one("X-Harness-Reject")) == (
        401,
        "auth-user-mismatch",
    )
    ok = ua.send(headers=[f"Authorization: {ua.answer(challenge, username='alice-auth')}"])
    assert ok.status == 200, ok.raw
    assert "sip:1001@127.0.0.1:5999;transport=udp" in contact_expires(ok)


def test_blocked_user_gets_403_after_authenticating(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": "secret", "blocked": "secret"})
    blocked = UA(server, user="blocked")
    wrong = register_www(blocked, password="nope")
    assert wrong.status == 401
    forbidden = register_www(blocked)
    assert (forbidden.status, forbidden.reason) == (403, "Forbidden")
    assert register_www(UA(server)).status == 200


# --- Min-Expires ----------------------------------------------------------------


def test_min_expires_gets_423_once(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", min_expires=120)
    ua = UA(server)
    challenge = ua.send(expires=30).challenge("WWW-Authenticate")
    request = ua.request(headers=[f"Authorization: {ua.answer(challenge)}"], expires=30)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(request, server.address("udp"))
        too_brief = Response.parse(sock.recv(65535))
        assert (too_brief.status, too_brief.reason) == (423, "Interval Too Brief")
        assert too_brief.one("Min-Expires") == "120"
        # exactly one reply: save() answered, the script sent nothing more
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(65535)

    ok = ua.send(headers=[f"Authorization: {ua.answer(challenge)}"], expires=120)
    assert ok.status == 200
    assert list(contact_expires(ok).values()) == [120]


def test_without_min_expires_short_expiry_is_kept(kamailio: KamailioFactory) -> None:
    ua = UA(kamailio(mode="www"))
    ok = register_www(ua, expires=5)
    assert ok.status == 200
    assert list(contact_expires(ok).values()) == [5]


# --- open and silent ------------------------------------------------------------


def test_open_mode_registers_without_auth(kamailio: KamailioFactory) -> None:
    ok = UA(kamailio(mode="open")).send()
    assert ok.status == 200
    assert contact_expires(ok)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_silent_mode_answers_nothing(kamailio: KamailioFactory, transport: Transport) -> None:
    ua = UA(kamailio(mode="silent"), transport)
    for method in ("REGISTER", "OPTIONS"):
        started = time.monotonic()
        with pytest.raises((TimeoutError, socket.timeout)):
            host, port = ua.server.address(transport)
            sip_exchange(host, port, transport, ua.request(method), timeout=0.7)
        assert time.monotonic() - started >= 0.6


# --- third-party clients ----------------------------------------------------------


def test_sipsak_registers_against_www_mode(kamailio: KamailioFactory, sipsak: str) -> None:
    server = kamailio(mode="www")
    target = f"sip:alice@127.0.0.1:{server.port}"
    base = [sipsak, "-U", "-s", target, "-u", "alice", "-H", "127.0.0.1", "-vv"]
    good = subprocess.run([*base, "-a", "secret"], capture_output=True, text=True, timeout=30)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "All usrloc tests completed successful" in good.stdout
    bad = subprocess.run([*base, "-a", "wrong"], capture_output=True, text=True, timeout=30)
    assert bad.returncode != 0, bad.stdout + bad.stderr
    assert "X-Harness-Reject: wrong-password" in bad.stdout + bad.stderr
    assert "authorization failed" in bad.stdout + bad.stderr


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize("mode", ["www", "proxy"])
def test_sipp_registers(kamailio: KamailioFactory, sipp: str, mode: str, tmp_path: Path) -> None:
    server = kamailio(mode=mode, realm="sipcheck-test")
    scenario = SCENARIOS / "sipp-register.xml"
    command = [
        sipp, f"127.0.0.1:{server.port}", "-sf", str(scenario),
        "-i", "127.0.0.1", "-p", str(_free_udp_port()), "-m", "1", "-timeout", "10s",
        "-au", "alice", "-ap", "secret", "-s", "alice",
        "-trace_err", "-error_file", str(tmp_path / "sipp-errors.log"),
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=tmp_path)
    errors = (tmp_path / "sipp-errors.log").read_text() if run.returncode else ""
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr + errors
