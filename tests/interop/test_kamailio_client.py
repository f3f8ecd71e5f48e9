"""`sipcheck register` (a real process) against a real Kamailio 5.6 registrar on
loopback: every challenge mode and failure the issue lists, exact exit codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.conftest import KamailioFactory
from tests.support.processes import sipcheck

PW = "kam-pw-1"


def register(
    where: str, *extra: str, aor: str = "alice@127.0.0.1", password: str = PW
) -> tuple[int, dict[str, Any]]:
    run = sipcheck(
        "register", aor, "--server", where, "--password-env", "SIPCHECK_PW",
        "--json", "--timeout", "5", *extra,
        env={"SIPCHECK_PW": password},
    )  # fmt: skip
    data = run.json()
    assert data["exit_status"] == run.status
    assert password not in run.stdout + run.stderr
    return run.status, data


def auth_lines(data: dict[str, Any], header: str) -> list[str]:
    return [
        line
        for m in data["messages"]
        if m["direction"] == "out"
        for line in m["raw"].split("\r\n")
        if line.startswith(header + ":")
    ]


def test_401_md5(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW})
    status, data = register(server.hostport("udp"))
    assert (status, data["result"], data["final_status"]) == (0, "registered", 200)
    assert data["granted_expires"] == 300 or data["granted_expires"] > 0
    assert len(auth_lines(data, "Authorization")) == 1


def test_407_proxy(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="proxy", users={"alice": PW})
    status, data = register(server.hostport("udp"))
    assert status == 0 and data["result"] == "registered"
    assert auth_lines(data, "Proxy-Authorization") and not auth_lines(data, "Authorization")


@pytest.mark.parametrize("mode", ["both", "both-at-once"])
def test_407_and_401_both_answered(kamailio: KamailioFactory, mode: str) -> None:
    server = kamailio(mode=mode, users={"alice": PW})
    status, data = register(server.hostport("udp"))
    assert status == 0 and data["result"] == "registered", data["diagnosis"]
    last_out = [m for m in data["messages"] if m["direction"] == "out"][-1]["raw"]
    assert "\r\nProxy-Authorization:" in last_out and "\r\nAuthorization:" in last_out


def test_realm_differs_from_domain(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", realm="sipcheck-test", users={"alice": PW})
    status, data = register(server.hostport("udp"))
    assert status == 0
    assert 'realm="sipcheck-test"' in auth_lines(data, "Authorization")[0]
    assert "realm-differs" in [d["id"] for d in data["diagnosis"]]


def test_sha256_is_chosen(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", algorithm="SHA-256", users={"alice": PW})
    status, data = register(server.hostport("udp"))
    assert status == 0
    assert "algorithm=SHA-256" in auth_lines(data, "Authorization")[0]


@pytest.mark.parametrize("qop", ["auth", "auth-int"])
def test_qop(kamailio: KamailioFactory, qop: str) -> None:
    server = kamailio(mode="www", qop=qop, users={"alice": PW})
    status, data = register(server.hostport("udp"))
    assert status == 0, data["diagnosis"]
    line = auth_lines(data, "Authorization")[0]
    assert f"qop={qop}," in line + "," and "nc=00000001" in line


def test_auth_user_differs_from_sip_user(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice-auth": PW}, accounts={"1001": "alice-auth"})
    status, data = register(server.hostport("udp"), "--auth-user", "alice-auth",
                            aor="1001@127.0.0.1")  # fmt: skip
    assert status == 0 and data["result"] == "registered"
    assert 'username="alice-auth"' in auth_lines(data, "Authorization")[0]
    # The SIP user as auth user is refused: the diagnosis points at the auth user.
    status, data = register(server.hostport("udp"), aor="1001@127.0.0.1")
    assert status == 3 and data["diagnosis"][0]["id"] == "credentials-rejected"


def test_wrong_password(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW})
    status, data = register(server.hostport("udp"), password="not-it")
    assert (status, data["diagnosis"][0]["id"]) == (3, "credentials-rejected")
    assert len(auth_lines(data, "Authorization")) == 1  # answered once, never looped


def test_423_min_expires(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW}, min_expires=120)
    status, data = register(server.hostport("udp"), "--expires", "30")
    assert status == 0
    starts = [m["start_line"] for m in data["messages"] if m["direction"] == "in"]
    assert "SIP/2.0 423 Interval Too Brief" in starts
    assert data["granted_expires"] == 120


def test_403_after_correct_credentials(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW, "blocked": PW})
    status, data = register(server.hostport("udp"), aor="blocked@127.0.0.1")
    assert (status, data["final_status"], data["diagnosis"][0]["id"]) == (3, 403, "forbidden")


def test_silent_server_times_out(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="silent", users={"alice": PW})
    status, data = register(server.hostport("udp"), "--timeout", "1.5", "--t1", "0.1")
    assert (status, data["diagnosis"][0]["id"]) == (7, "timeout")
    assert "nothing came back at all" in data["diagnosis"][0]["message"]


def test_tcp(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW}, transports=("udp", "tcp"))
    status, data = register(server.hostport("tcp"), "--transport", "tcp")
    assert status == 0 and {m["transport"] for m in data["messages"]} == {"tcp"}


def test_tls_verified(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW}, transports=("udp", "tls"))
    assert server.cert_path is not None
    status, data = register(
        server.hostport("tls"), "--transport", "tls", "--ca-file", str(server.cert_path)
    )
    assert status == 0, data["diagnosis"]
    assert data["tls"]["verified"] is True and data["tls"]["version"].startswith("TLS")
    status, data = register(server.hostport("tls"), "--transport", "tls")
    assert (status, data["diagnosis"][0]["id"]) == (8, "tls-failed")


def test_ipv6(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW}, ipv6=True)
    status, data = register(server.hostport("udp", ipv6=True))
    assert status == 0
    assert data["messages"][0]["remote"].startswith("[::1]:")


def test_query_and_unregister_all(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW})
    where = server.hostport("udp")
    assert register(where)[0] == 0
    assert register(where, "--contact", "sip:alice@192.0.2.9:5060")[0] == 0
    env = {"SIPCHECK_PW": PW}
    common = ("--server", where, "--password-env", "SIPCHECK_PW", "--json")
    query = sipcheck("query", "alice@127.0.0.1", *common, env=env).json()
    assert query["result"] == "queried" and len(query["bindings"]) == 2
    gone = sipcheck("unregister", "alice@127.0.0.1", "--all", *common, env=env)
    assert gone.status == 0 and gone.json()["result"] == "unregistered"
    assert sipcheck("query", "alice@127.0.0.1", *common, env=env).json()["bindings"] == []
