"""Each diagnosis against the real peer that produces it: the words use the facts
(who refused us, the auth user we sent, the reason phrase, Retry-After,
Min-Expires, which step of a TLS connection failed), and the exit status is
the README's."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.interop.conftest import EjabberdAccount, KamailioFactory
from tests.support.processes import registrar, sipcheck

PW = "diag-pw-1"


def run(*args: str, password: str = PW) -> tuple[int, dict[str, Any]]:
    result = sipcheck(*args, "--json", "--timeout", "5", env={"SIPCHECK_PW": password})
    data = result.json()
    assert data["exit_status"] == result.status
    assert password not in result.stdout + result.stderr
    return result.status, data


def first(data: dict[str, Any]) -> dict[str, Any]:
    diagnosis: dict[str, Any] = data["diagnosis"][0]
    return diagnosis


def ids(data: dict[str, Any]) -> list[str]:
    return [d["id"] for d in data["diagnosis"]]


def register(where: str, *extra: str, aor: str = "alice@127.0.0.1", password: str = PW) -> Any:
    return run("register", aor, "--server", where, "--password-env", "SIPCHECK_PW", *extra,
               password=password)  # fmt: skip


# --------------------------------------------------------------- Kamailio


def test_wrong_password_behind_407_names_the_proxy(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="proxy", users={"alice": PW})
    status, data = register(server.hostport("udp"), password="not-it")
    d = first(data)
    assert (status, d["id"]) == (3, "credentials-rejected")
    assert d["message"].startswith("the proxy challenged again (407) after our Proxy-Authorization")
    assert d["causes"][0] == "the password is wrong for auth user 'alice'"


def test_wrong_password_behind_401_names_the_registrar(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW})
    status, data = register(server.hostport("udp"), password="not-it")
    d = first(data)
    assert (status, d["id"]) == (3, "credentials-rejected")
    assert d["message"].startswith("the registrar challenged again (401) after our Authorization")
    assert "Proxy" not in d["message"]


def test_the_auth_user_we_sent_is_named(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW})
    status, data = register(server.hostport("udp"), "--auth-user", "nosuchuser")
    d = first(data)
    assert (status, d["id"]) == (3, "credentials-rejected")
    assert d["causes"][:2] == [
        "the password is wrong for auth user 'nosuchuser'",
        "the auth user is wrong: we authenticated as 'nosuchuser' (--auth-user)",
    ]


def test_403_for_a_blocked_account_blames_the_account(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW, "blocked": PW})
    status, data = register(server.hostport("udp"), aor="blocked@127.0.0.1")
    d = first(data)
    assert (status, data["final_status"], d["id"]) == (3, 403, "forbidden")
    assert d["message"] == (
        "403 to our REGISTER with credentials (auth user 'blocked') (the server said 'Forbidden')"
    )
    assert d["causes"][0] == "the account 'blocked' is disabled or blocked on the server"


def test_423_verdict_says_the_expiry_was_raised(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW}, min_expires=120)
    status, data = register(server.hostport("udp"), "--expires", "30")
    assert (status, data["granted_expires"]) == (0, 120)
    (raised,) = [d for d in data["diagnosis"] if d["id"] == "interval-raised"]
    assert raised["message"] == (
        "we asked for 30 s; the server's minimum is 120 s (423 Interval Too Brief, "
        "Min-Expires: 120), so we registered again with 120 s (RFC 3261 §10.2.8)"
    )


def test_tls_to_a_plain_tcp_port_is_a_handshake_failure(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW}, transports=("udp", "tcp"))
    status, data = register(
        server.hostport("tcp"), "--transport", "tls", "--insecure", "--timeout", "2"
    )
    d = first(data)
    assert status == 8 and d["id"] in ("tls-handshake-timeout", "tls-failed")
    assert "nothing is listening" not in d["message"] + " ".join(d["causes"])
    assert "TLS" in d["message"]
    assert d["causes"][0].startswith("the port")  # not a certificate cause


def test_tcp_timeout_does_not_suggest_udp_causes(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="silent", users={"alice": PW}, transports=("udp", "tcp"))
    status, data = register(server.hostport("tcp"), "--transport", "tcp", "--timeout", "1.5")
    d = first(data)
    assert (status, d["id"]) == (7, "timeout")
    assert "UDP" not in " ".join(d["causes"] + d["advice"])
    assert d["causes"][0].startswith("the server accepted the TCP connection but never answered")


def test_unregister_from_a_new_process_leaves_the_binding(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW})
    where = server.hostport("udp")
    status, data = register(where)
    assert status == 0
    registered = data["contact_sent"]
    # A new process sends from a new port: its Contact is not the one bound.
    status, data = run("unregister", "alice@127.0.0.1", "--server", where,
                       "--password-env", "SIPCHECK_PW")  # fmt: skip
    d = first(data)
    assert (status, data["result"], d["id"]) == (4, "failed", "bindings-remain")
    assert registered in d["message"]
    assert d["advice"][0] == "remove every binding with --all (Contact: *)"
    status, data = run("unregister", "alice@127.0.0.1", "--server", where, "--all",
                       "--password-env", "SIPCHECK_PW")  # fmt: skip
    assert (status, data["result"], data["bindings"]) == (0, "unregistered", [])
    status, data = run("query", "alice@127.0.0.1", "--server", where,
                       "--password-env", "SIPCHECK_PW")  # fmt: skip
    assert (status, data["result"], data["bindings"]) == (0, "queried", [])


def test_unregister_with_our_contact_removes_it(kamailio: KamailioFactory) -> None:
    server = kamailio(mode="www", users={"alice": PW})
    where = server.hostport("udp")
    status, data = register(where, "--contact", "sip:alice@127.0.0.1:5999")
    assert status == 0
    status, data = run("unregister", "alice@127.0.0.1", "--server", where,
                       "--contact", "sip:alice@127.0.0.1:5999",
                       "--password-env", "SIPCHECK_PW")  # fmt: skip
    assert (status, data["result"], data["bindings"]) == (0, "unregistered", [])


@pytest.mark.parametrize("command", ["unregister", "query", "options"])
def test_verdicts_other_than_register_do_not_say_registered(
    kamailio: KamailioFactory, command: str
) -> None:
    server = kamailio(mode="www", users={"alice": PW})
    target = "127.0.0.1" if command == "options" else "alice@127.0.0.1"
    extra = ("--all",) if command == "unregister" else ()
    result = sipcheck(
        command, target, "--server", server.hostport("udp"), "--password-env", "SIPCHECK_PW",
        *extra, env={"SIPCHECK_PW": PW, "NO_COLOR": "1", "COLUMNS": "120"},
    )  # fmt: skip
    assert result.status == 0
    verdict = result.stdout[result.stdout.rindex("╭") :]
    words = {"unregister": "UNREGISTERED", "query": "QUERIED", "options": "REACHABLE"}
    assert f"│ {words[command]}  200 OK" in verdict
    assert "│ REGISTERED" not in verdict


# --------------------------------------------------------------- sipcheck registrar


def test_403_for_an_aor_the_auth_user_does_not_own() -> None:
    with registrar(["--account", "1001:alice-auth:" + PW]) as server:
        status, data = register(f"127.0.0.1:{server.ports['udp']}", "--auth-user", "alice-auth",
                                aor="2002@127.0.0.1")  # fmt: skip
    d = first(data)
    assert (status, data["final_status"], d["id"]) == (3, 403, "forbidden")
    assert d["causes"][0].startswith("the auth user 'alice-auth' may not register 2002@127.0.0.1")
    assert f"(the server said {data['final_reason']!r})" in d["message"]


def test_503_quotes_retry_after_and_says_when() -> None:
    with registrar(["--account", "alice:" + PW, "--busy", "1", "--retry-after", "20"]) as server:
        status, data = register(f"127.0.0.1:{server.ports['udp']}")
    d = first(data)
    assert (status, data["final_status"], d["id"]) == (5, 503, "server-error")
    assert "The server asked us to retry after 20 s (Retry-After)." in d["message"]
    assert d["advice"][0].startswith("try again in 20 s (after ")


def test_a_nonce_stale_on_every_answer_is_the_servers_nonce_handling() -> None:
    # Each answer takes longer than the registrar's nonce lifetime: every nonce it
    # issues is stale by the time our answer arrives.
    args = ["--account", "alice:" + PW, "--nonce-lifetime", "1", "--delay", "1.1"]
    with registrar(args) as server:
        status, data = register(f"127.0.0.1:{server.ports['udp']}", "--timeout", "15")
    d = first(data)
    assert (status, d["id"]) == (3, "nonce-always-stale")
    text = d["message"] + " ".join(d["causes"] + d["advice"])
    assert "password is wrong" not in text and "nonce lifetime" in text
    assert "stale-nonce" not in ids(data)


@pytest.fixture
def silent_tcp() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a stuck peer)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    listener.close()


def test_tls_handshake_that_never_completes_says_which_step(silent_tcp: int) -> None:
    status, data = register(f"127.0.0.1:{silent_tcp}", "--transport", "tls", "--timeout", "1.5")
    d = first(data)
    assert (status, d["id"]) == (8, "tls-handshake-timeout")
    assert d["message"].startswith(f"TCP connected to 127.0.0.1:{silent_tcp}, but the TLS")


# --------------------------------------------------------------- ejabberd (mod_sip)


def _ej(command: str, account: EjabberdAccount, *extra: str) -> tuple[int, dict[str, Any]]:
    return run(command, account.aor, "--server", account.server.hostport(),
               "--password-env", "SIPCHECK_PW", *extra, password=account.password)  # fmt: skip


def test_ejabberd_query_with_no_bindings_says_both_readings(
    ejabberd_account: EjabberdAccount,
) -> None:
    status, data = _ej("query", ejabberd_account)
    d = first(data)
    assert (status, data["final_status"], d["id"]) == (4, 404, "not-found")
    assert d["message"] == "404 Not Found to a query after our credentials were accepted"
    assert d["causes"][0].startswith("the AoR has no bindings: some registrars (ejabberd)")
    assert d["causes"][1] == "the registrar does not know the AoR or the domain"


def test_ejabberd_unregister_of_a_contact_not_bound(ejabberd_account: EjabberdAccount) -> None:
    assert _ej("register", ejabberd_account)[0] == 0
    status, data = _ej("unregister", ejabberd_account)  # a new process: a new Contact
    d = first(data)
    assert (status, data["final_status"], d["id"]) == (4, 404, "not-found")
    assert d["causes"][0].startswith(f"our Contact {data['contact_sent']} is not bound")
    assert d["advice"][0].startswith("remove every binding with --all")


def test_ejabberd_lists_only_our_contact_then_all_in_a_query(
    ejabberd_account: EjabberdAccount,
) -> None:
    status, first_run = _ej("register", ejabberd_account)
    assert status == 0
    status, second_run = _ej("register", ejabberd_account)
    assert status == 0
    # mod_sip's 200 lists only the request's own contacts: ours, marked as ours.
    assert [b["contact"] for b in second_run["bindings"]] == [second_run["contact_sent"]]
    status, data = _ej("query", ejabberd_account)
    assert (status, data["result"]) == (0, "queried")
    listed = sorted(b["contact"] for b in data["bindings"])
    assert listed == sorted([first_run["contact_sent"], second_run["contact_sent"]])


def test_ejabberd_unregister_all_shows_the_removed_contacts(
    ejabberd_account: EjabberdAccount,
) -> None:
    status, registered = _ej("register", ejabberd_account)
    assert status == 0
    status, data = _ej("unregister", ejabberd_account, "--all")
    assert (status, data["result"], data["bindings"]) == (0, "unregistered", [])
    assert data["removed"] == [registered["contact_sent"]]  # listed with expires=0
    assert ids(data) == []


def test_ejabberd_options_user_answers_the_challenge(ejabberd_account: EjabberdAccount) -> None:
    server = ejabberd_account.server
    status, data = run("options", f"sip:{server.vhost}", "--server", server.hostport(),
                       "--user", ejabberd_account.user, "--password-env", "SIPCHECK_PW",
                       password=ejabberd_account.password)  # fmt: skip
    statuses = [m["start_line"].split()[1] for m in data["messages"] if m["direction"] == "in"]
    assert statuses == ["407", "200"]
    assert (status, data["result"]) == (0, "reachable")
