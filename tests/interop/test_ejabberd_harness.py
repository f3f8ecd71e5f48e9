"""Self-test of the ejabberd (mod_sip) registrar harness, and what mod_sip does.

The first tests run the real sipcheck CLI against the harness; the raw ones
build requests by hand (digest answers from test_kamailio_harness, computed
inline with hashlib) and pin the behaviour that tests/interop/ejabberd/README.md
describes, so a new ejabberd that changes it fails here first.
"""

from __future__ import annotations

import re
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.interop.conftest import EjabberdAccount, EjabberdFactory
from tests.interop.ejabberd_server import MIN_EXPIRES, EjabberdServer, probe_request
from tests.interop.test_kamailio_harness import Response, digest_answer
from tests.support.processes import Run, sipcheck

pytestmark = pytest.mark.interop

PW_ENV = "SIPCHECK_TEST_PW"


def run(*args: str, password: str | None = None) -> Run:
    """sipcheck with the password in the environment, never on the command line."""
    env = {PW_ENV: password} if password is not None else {}
    extra = ("--password-env", PW_ENV) if password is not None else ()
    return sipcheck(*args, *extra, "--json", env=env)


def statuses(result: Run) -> list[int]:
    """Status codes of the responses sipcheck received, in order."""
    out = []
    for message in result.json()["messages"]:
        if message["direction"] == "in":
            out.append(int(message["start_line"].split()[1]))
    return out


def diagnosis_ids(result: Run) -> list[str]:
    return [item["id"] for item in result.json()["diagnosis"]]


# --- sipcheck against the harness --------------------------------------------


def test_sipcheck_registers_alice(ejabberd_shared: EjabberdServer) -> None:
    server = ejabberd_shared
    result = run(
        "register",
        server.aor("alice"),
        "--server",
        server.hostport(),
        password=server.users["alice"],
    )
    assert result.status == 0, result.stdout + result.stderr
    data = result.json()
    assert data["result"] == "registered"
    assert data["final_status"] == 200
    assert statuses(result) == [401, 200]
    assert data["server"].startswith("ejabberd ")
    assert data["bindings"] == [{"contact": data["contact_sent"], "expires": 3600}]


def test_sipcheck_wrong_password_is_exit_3(ejabberd_shared: EjabberdServer) -> None:
    server = ejabberd_shared
    result = run("register", server.aor("alice"), "--server", server.hostport(), password="nope")
    assert result.status == 3, result.stdout + result.stderr
    data = result.json()
    assert (data["result"], data["final_status"]) == ("failed", 401)
    # mod_sip answers bad credentials with a fresh challenge: 401, 401
    assert statuses(result) == [401, 401]
    assert "credentials-rejected" in diagnosis_ids(result)


def test_sipcheck_unknown_user_is_exit_3(ejabberd_shared: EjabberdServer) -> None:
    server = ejabberd_shared
    result = run(
        "register", server.aor("nobody"), "--server", server.hostport(), password="whatever"
    )
    assert result.status == 3, result.stdout + result.stderr
    assert result.json()["final_status"] == 401
    assert "credentials-rejected" in diagnosis_ids(result)


def test_sipcheck_query_without_bindings_gets_404(ejabberd_account: EjabberdAccount) -> None:
    account = ejabberd_account
    result = run(
        "query", account.aor, "--server", account.server.hostport(), password=account.password
    )
    # what sipcheck does today with mod_sip's 404 to a query of an empty AoR
    assert result.status == 4, result.stdout + result.stderr
    data = result.json()
    assert (data["result"], data["final_status"]) == ("failed", 404)
    assert statuses(result) == [401, 404]
    assert diagnosis_ids(result) == ["not-found"]


def test_sipcheck_query_then_unregister_all(ejabberd_account: EjabberdAccount) -> None:
    account = ejabberd_account
    target = ("--server", account.server.hostport())
    contact = "sip:" + account.user + "@127.0.0.1:5999"
    first = run("register", account.aor, *target, "--contact", contact, password=account.password)
    assert first.status == 0, first.stdout + first.stderr
    second = run("register", account.aor, *target, password=account.password)
    assert second.status == 0, second.stdout + second.stderr
    # the 200 of a REGISTER lists only that request's contact ...
    assert [b["contact"] for b in second.json()["bindings"]] == [second.json()["contact_sent"]]
    # ... a query lists them all
    query = run("query", account.aor, *target, password=account.password)
    assert query.status == 0, query.stdout + query.stderr
    assert sorted(b["contact"] for b in query.json()["bindings"]) == sorted(
        [contact, second.json()["contact_sent"]]
    )
    gone = run("unregister", account.aor, *target, "--all", password=account.password)
    assert gone.status == 0, gone.stdout + gone.stderr
    assert gone.json()["result"] == "unregistered"
    assert {b["expires"] for b in gone.json()["bindings"]} == {0}
    empty = run("query", account.aor, *target, password=account.password)
    assert (empty.status, empty.json()["final_status"]) == (4, 404)


def test_sipcheck_unregister_needs_the_bound_contact(ejabberd_account: EjabberdAccount) -> None:
    account = ejabberd_account
    target = ("--server", account.server.hostport())
    contact = "sip:" + account.user + "@127.0.0.1:5998"
    bound = run("register", account.aor, *target, "--contact", contact, password=account.password)
    assert bound.status == 0, bound.stdout + bound.stderr
    # a new sipcheck process has a new port, so a new default contact: not bound -> 404
    other = run("unregister", account.aor, *target, password=account.password)
    assert (other.status, other.json()["final_status"]) == (4, 404), other.stdout
    mine = run("unregister", account.aor, *target, "--contact", contact, password=account.password)
    assert mine.status == 0, mine.stdout + mine.stderr
    assert mine.json()["bindings"] == [{"contact": contact, "expires": 0}]


def test_sipcheck_follows_423_to_min_expires(ejabberd_account: EjabberdAccount) -> None:
    account = ejabberd_account
    result = run(
        "register",
        account.aor,
        "--server",
        account.server.hostport(),
        "--expires",
        "30",
        password=account.password,
    )
    assert result.status == 0, result.stdout + result.stderr
    assert statuses(result) == [401, 423, 200]
    assert result.json()["granted_expires"] == MIN_EXPIRES


def test_sipcheck_registers_over_tcp(ejabberd_account: EjabberdAccount) -> None:
    account = ejabberd_account
    result = run(
        "register",
        account.aor,
        "--server",
        account.server.hostport("tcp"),
        "--transport",
        "tcp",
        password=account.password,
    )
    assert result.status == 0, result.stdout + result.stderr
    assert result.json()["target"]["transport"] == "tcp"


def test_sipcheck_registers_over_tls(ejabberd: EjabberdFactory) -> None:
    server = ejabberd(transports=("udp", "tls"))
    result = run(
        "register",
        server.aor("alice"),
        "--server",
        server.hostport("tls"),
        "--transport",
        "tls",
        "--insecure",
        password=server.users["alice"],
    )
    assert result.status == 0, result.stdout + result.stderr
    assert result.json()["tls"] is not None


# --- the harness itself -------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    name: str
    state: str
    pgid: int


def processes() -> Iterator[Proc]:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        yield Proc(int(entry.name), name, fields[0], int(fields[2]))


def started_from(proc: Proc, workdir: Path) -> bool:
    """Whether the process inherited the environment of that server's VM (its HOME)."""
    try:
        environ = (Path("/proc") / str(proc.pid) / "environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"HOME={workdir}".encode() in environ


def test_harness_leaves_no_process_behind(ejabberd: EjabberdFactory) -> None:
    server = ejabberd()
    group = server.proc.pid
    running = [p for p in processes() if p.pgid == group and p.state != "Z"]
    assert "beam.smp" in [p.name for p in running]
    assert all(started_from(p, server.workdir) for p in running)  # the epmd check below works
    # no Erlang distribution: no node name, no epmd, no cookie file
    assert "nonode@nohost" in server.log()
    assert not (server.workdir / ".erlang.cookie").exists()
    ports = (server.port, server.api_port)
    server.stop()
    assert not server.running()
    left = [p for p in processes() if p.pgid == group and p.state != "Z"]
    assert left == [], left
    # an epmd the VM had started would have daemonized out of the group, with its HOME
    assert not [p for p in processes() if p.name == "epmd" and started_from(p, server.workdir)]
    for port in ports:  # every listener is closed
        for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            with socket.socket(socket.AF_INET, kind) as sock:
                # (SO_REUSEADDR: connections in TIME_WAIT do not count, a listener would)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind(("127.0.0.1", port))
    print(f"ejabberd started in {server.startup_seconds:.2f} s")


def test_harness_listens_on_loopback_only(ejabberd_shared: EjabberdServer) -> None:
    config = (ejabberd_shared.workdir / "ejabberd.yml").read_text()
    addresses = set(re.findall(r'^\s+ip: "([^"]+)"', config, re.M))
    assert addresses == {"127.0.0.1"}
    assert "ejabberd_c2s" not in config and "ejabberd_s2s_in" not in config


def test_accounts_come_and_go(ejabberd_shared: EjabberdServer) -> None:
    user, _ = ejabberd_shared.new_user("acct")
    assert user in ejabberd_shared.registered_users()
    ejabberd_shared.remove_user(user)
    assert user not in ejabberd_shared.registered_users()


# --- mod_sip, request by request ------------------------------------------------


class RawUac:
    """REGISTER/OPTIONS by hand over UDP from one loopback port."""

    def __init__(self, server: EjabberdServer) -> None:
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(3)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()

    def contact(self, user: str, port_offset: int = 0) -> str:
        return f"<sip:{user}@127.0.0.1:{self.port + port_offset}>"

    def request(
        self,
        user: str,
        *,
        method: str = "REGISTER",
        ruri: str | None = None,
        from_uri: str | None = None,
        to_uri: str | None = None,
        headers: tuple[str, ...] = (),
        call_id: str | None = None,
        cseq: int = 1,
    ) -> Response:
        vhost = self.server.vhost
        lines = [
            f"{method} {ruri or 'sip:' + vhost} SIP/2.0",
            f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch=z9hG4bK{uuid.uuid4().hex[:16]};rport",
            "Max-Forwards: 70",
            f"From: <{from_uri or f'sip:{user}@{vhost}'}>;tag={uuid.uuid4().hex[:8]}",
            f"To: <{to_uri or f'sip:{user}@{vhost}'}>",
            f"Call-ID: {call_id or uuid.uuid4().hex}",
            f"CSeq: {cseq} {method}",
            *headers,
            "Content-Length: 0",
            "",
            "",
        ]
        self.sock.sendto("\r\n".join(lines).encode(), self.server.address())
        return Response.parse(self.sock.recv(65535))

    def register(
        self,
        user: str,
        password: str,
        *headers: str,
        answer: dict[str, str] | None = None,
    ) -> tuple[Response, Response]:
        """REGISTER, answer the 401 (``answer``: digest_answer overrides); both replies."""
        call_id = uuid.uuid4().hex
        first = self.request(user, headers=headers, call_id=call_id)
        assert first.status == 401, first.raw
        challenge = first.challenge("www-authenticate")
        options: dict[str, Any] = {"username": user, "password": password, **(answer or {})}
        credentials = digest_answer(challenge, uri=f"sip:{self.server.vhost}", **options)
        second = self.request(
            user, headers=(*headers, f"Authorization: {credentials}"), call_id=call_id, cseq=2
        )
        return first, second


@pytest.fixture
def uac(ejabberd_shared: EjabberdServer) -> Iterator[RawUac]:
    client = RawUac(ejabberd_shared)
    yield client
    client.close()


def contacts(response: Response) -> list[str]:
    """Every Contact value, comma-separated ones split."""
    return [c.strip() for value in response.all("contact") for c in value.split(",")]


def test_challenge_is_401_md5_qop_auth_realm_vhost(
    uac: RawUac, ejabberd_account: EjabberdAccount
) -> None:
    first = uac.request(ejabberd_account.user, headers=("Expires: 300",))
    assert (first.status, first.reason) == (401, "Unauthorized")
    assert first.one("server").startswith("ejabberd ")
    value = first.one("www-authenticate")
    challenge = first.challenge("www-authenticate")
    assert set(challenge) == {"realm", "qop", "nonce"}, value  # no algorithm, opaque, stale
    assert challenge["realm"] == ejabberd_account.server.vhost
    assert 'qop="auth"' in value
    assert re.fullmatch(r"[0-9a-f]{40}", challenge["nonce"])
    assert not first.all("proxy-authenticate")


def test_200_lists_the_request_contacts_a_query_lists_all(
    uac: RawUac, ejabberd_account: EjabberdAccount
) -> None:
    user, password = ejabberd_account.user, ejabberd_account.password
    one, two = uac.contact(user), uac.contact(user, 1)
    _, ok1 = uac.register(user, password, f"Contact: {one}", "Expires: 300")
    assert ok1.status == 200 and contacts(ok1) == [f"{one};expires=300"]
    _, ok2 = uac.register(user, password, f"Contact: {two}", "Expires: 600")
    assert contacts(ok2) == [f"{two};expires=600"]  # not the binding of `one`
    _, query = uac.register(user, password)
    assert query.status == 200
    assert sorted(contacts(query)) == sorted([f"{one};expires=300", f"{two};expires=600"])
    # no Expires at all: 3600; a Contact expires parameter wins over the header
    _, default = uac.register(user, password, f"Contact: {one}")
    assert contacts(default) == [f"{one};expires=3600"]
    _, param = uac.register(user, password, f"Contact: {one};expires=120", "Expires: 300")
    assert contacts(param) == [f"{one};expires=120"]
    # no upper bound on the expiry
    _, long = uac.register(user, password, f"Contact: {one}", "Expires: 100000")
    assert contacts(long) == [f"{one};expires=100000"]


def test_min_expires_is_60(uac: RawUac, ejabberd_account: EjabberdAccount) -> None:
    user, password = ejabberd_account.user, ejabberd_account.password
    for headers in (
        (f"Contact: {uac.contact(user)}", "Expires: 59"),
        (f"Contact: {uac.contact(user)};expires=30", "Expires: 300"),
    ):
        _, brief = uac.register(user, password, *headers)
        assert (brief.status, brief.reason) == (423, "Interval Too Brief")
        assert brief.one("min-expires") == str(MIN_EXPIRES)
    _, ok = uac.register(user, password, f"Contact: {uac.contact(user)}", "Expires: 60")
    assert ok.status == 200


def test_unregister_and_contact_star(uac: RawUac, ejabberd_account: EjabberdAccount) -> None:
    user, password = ejabberd_account.user, ejabberd_account.password
    one, two, three = (uac.contact(user, n) for n in range(3))
    for contact in (one, two, three):
        uac.register(user, password, f"Contact: {contact}", "Expires: 300")
    _, removed = uac.register(user, password, f"Contact: {one}", "Expires: 0")
    assert removed.status == 200
    assert contacts(removed) == [f"{one};expires=0"]  # the removed one, not what is left
    _, query = uac.register(user, password)
    assert sorted(contacts(query)) == sorted([f"{two};expires=300", f"{three};expires=300"])
    _, unknown = uac.register(user, password, f"Contact: {one}", "Expires: 0")
    assert unknown.status == 404  # removing a contact that is not bound
    _, bad_star = uac.register(user, password, "Contact: *", "Expires: 300")
    assert bad_star.status == 400
    _, star = uac.register(user, password, "Contact: *", "Expires: 0")
    assert star.status == 200
    assert sorted(contacts(star)) == sorted([f"{two};expires=0", f"{three};expires=0"])
    _, empty = uac.register(user, password)
    assert (empty.status, empty.reason) == (404, "Not Found")
    assert not empty.all("contact")
    _, again = uac.register(user, password, "Contact: *", "Expires: 0")
    assert again.status == 404


def test_bad_credentials_get_a_fresh_401(uac: RawUac, ejabberd_account: EjabberdAccount) -> None:
    user, password = ejabberd_account.user, ejabberd_account.password
    contact = (f"Contact: {uac.contact(user)}", "Expires: 300")
    other_user, _ = ejabberd_account.server.new_user("other")
    cases: list[tuple[str, str, dict[str, str]]] = [
        ("wrong password", user, {"password": "wrong"}),
        ("unknown user", "nobody-" + uuid.uuid4().hex[:6], {}),
        ("username is not the To user", user, {"username": other_user}),
        ("realm is not the To host", user, {"realm": "elsewhere.invalid"}),
    ]
    for label, aor_user, answer in cases:
        first, second = uac.register(aor_user, password, *contact, answer=answer)
        assert second.status == 401, (label, second.raw)
        again = second.challenge("www-authenticate")
        assert again["nonce"] != first.challenge("www-authenticate")["nonce"], label
        assert "stale" not in again, label


def test_nonces_are_not_checked(uac: RawUac, ejabberd_account: EjabberdAccount) -> None:
    """mod_sip keeps no nonce state: any nonce, reused or made up, is accepted."""
    user, password = ejabberd_account.user, ejabberd_account.password
    invented = {"realm": ejabberd_account.server.vhost, "nonce": "0123456789abcdef", "qop": "auth"}
    credentials = digest_answer(
        invented, username=user, password=password, uri=f"sip:{ejabberd_account.server.vhost}"
    )
    headers = (f"Contact: {uac.contact(user)}", "Expires: 300", f"Authorization: {credentials}")
    for cseq in (1, 2):  # the same credentials twice: no replay protection either
        response = uac.request(user, headers=headers, cseq=cseq)
        assert response.status == 200, response.raw
    # an RFC 2069 answer (no qop) to a qop="auth" challenge is accepted too
    _, no_qop = uac.register(
        user, password, f"Contact: {uac.contact(user)}", "Expires: 300", answer={"qop": ""}
    )
    assert no_qop.status == 200, no_qop.raw


def test_options_and_other_requests(uac: RawUac, ejabberd_account: EjabberdAccount) -> None:
    server, user = ejabberd_account.server, ejabberd_account.user
    vhost = server.vhost
    uac.sock.sendto(probe_request(vhost, "127.0.0.1", "udp"), server.address())
    probe = Response.parse(uac.sock.recv(65535))
    assert probe.status == 200
    assert probe.one("allow") == "OPTIONS, REGISTER"
    assert probe.one("supported") == "path, outbound"
    # From at the served domain: challenged as a proxy request
    local = uac.request(user, method="OPTIONS", to_uri=f"sip:{vhost}")
    assert local.status == 407
    assert local.challenge("proxy-authenticate")["realm"] == vhost
    # to a user with no binding (one with a binding would be proxied to it)
    absent = uac.request(
        user, method="OPTIONS", ruri=f"sip:{user}@{vhost}", from_uri="sip:x@elsewhere.invalid"
    )
    assert (absent.status, absent.reason) == (480, "Temporarily Unavailable")
    # REGISTER with a user part in the Request-URI goes down the proxy path
    user_ruri = uac.request(user, ruri=f"sip:{user}@{vhost}")
    assert user_ruri.status == 407
    # REGISTER for a domain that is not served
    foreign = uac.request(user, ruri="sip:elsewhere.invalid")
    assert foreign.status == 403
    # an extension it does not know
    required = uac.request(user, headers=("Require: foo",))
    assert (required.status, required.one("unsupported")) == (420, "foo")


def test_max_user_sessions_gives_503(ejabberd: EjabberdFactory) -> None:
    server = ejabberd(max_user_sessions=1)
    client = RawUac(server)
    try:
        password = server.users["alice"]
        _, ok = client.register("alice", password, f"Contact: {client.contact('alice')}")
        assert ok.status == 200
        _, full = client.register("alice", password, f"Contact: {client.contact('alice', 1)}")
        assert (full.status, full.reason) == (503, "Too Many Registered Sessions")
        # refreshing the binding it has is fine
        _, refresh = client.register("alice", password, f"Contact: {client.contact('alice')}")
        assert refresh.status == 200
    finally:
        client.close()


def test_no_dns_configured(ejabberd_shared: EjabberdServer) -> None:
    """The VM resolves from /etc/hosts only and has no name server to ask."""
    text = (ejabberd_shared.workdir.parent / "inetrc").read_text()
    assert "{lookup, [file]}." in text and '{resolv_conf, ""}.' in text
