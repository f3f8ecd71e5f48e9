"""``sipcheck check`` (a real process) over six and more accounts at once, against
real Kamailio 5.6 registrars (one challenging with 401, one with 407) and against
``sipcheck registrar`` processes: per-account results and diagnosis ids, nothing left
registered afterwards, the Nagios first line read by Monitoring::Plugin, the JUnit
report valid against junit-10.xsd.

Every password is in the environment of the check process; none is on a command line
of sipcheck's (the registrars read theirs from an accounts file).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xmlschema
from junitparser import Failure, JUnitXml, TestSuite

from tests.interop.conftest import KamailioFactory
from tests.interop.test_embedded_registrar import _make_cert as make_cert
from tests.support.accounts_file import Value, registrar_accounts, write_accounts
from tests.support.plugin_output import read_plugin_output
from tests.support.processes import RegistrarProcess, Run, registrar, sipcheck

pytestmark = pytest.mark.interop

XSD = Path(__file__).parents[1] / "data" / "junit" / "junit-10.xsd"
PASSWORDS = {
    "PW_ALICE": "ic-alice-Pw1", "PW_1001": "ic-1001-Pw2", "PW_BOB": "ic-bob-Pw3",
    "PW_BLOCKED": "ic-blocked-Pw4", "PW_WRONG": "ic-wrong-Pw5",
}  # fmt: skip
PW = PASSWORDS


def six_accounts(www: str, proxy: str, *, blocked: dict[str, Value]) -> list[dict[str, Value]]:
    """A good one, 407, an auth user that differs, a wrong password, a refused user
    (``blocked``: how this registrar says 403) and an OPTIONS trunk."""
    return [
        {"name": "good", "aor": "alice@127.0.0.1", "server": www, "password_env": "PW_ALICE"},
        {"name": "proxy 407", "aor": "alice@127.0.0.1", "server": proxy,
         "password_env": "PW_ALICE"},
        {"name": "auth user differs", "aor": "1001@127.0.0.1", "server": www,
         "auth_user": "alice-auth", "password_env": "PW_1001"},
        {"name": "wrong password", "aor": "bob@127.0.0.1", "server": www,
         "password_env": "PW_WRONG"},
        {"name": "blocked", "server": www, **blocked},
        {"name": "trunk", "aor": www, "mode": "options"},
        {"name": "spare", "aor": "spare@127.0.0.1", "register": False},
    ]  # fmt: skip


EXPECTED = {  # name -> result, final status, exit status, first diagnosis id
    "good": ("registered", 200, 0, None),
    "proxy 407": ("registered", 200, 0, None),
    "auth user differs": ("registered", 200, 0, None),
    "wrong password": ("failed", 401, 3, "credentials-rejected"),
    "blocked": ("failed", 403, 3, "forbidden"),
    "trunk": ("reachable", 200, 0, None),
    "spare": ("skipped", None, 0, None),
}


def check(path: Path, *args: str) -> Run:
    run = sipcheck("check", str(path), "--timeout", "5", *args, env=PASSWORDS)
    for secret in PASSWORDS.values():
        assert secret not in run.stdout + run.stderr
    return run


def first_error(account: dict[str, Any]) -> str | None:
    errors = [d["id"] for d in account["diagnosis"] if d["severity"] == "error"]
    return errors[0] if errors else None


def assert_matrix(path: Path) -> dict[str, dict[str, Any]]:
    run = check(path, "--json")
    document = run.json()
    found = {a["name"]: a for a in document["accounts"]}
    got = {
        name: (a["result"], a["final_status"], a["exit_status"], first_error(a))
        for name, a in found.items()
    }
    assert got == EXPECTED
    assert run.status == document["summary"]["exit_status"] == 3
    proxied = [m["raw"] for m in found["proxy 407"]["messages"] if m["direction"] == "out"]
    assert "\r\nProxy-Authorization:" in proxied[-1]
    differs = [m["raw"] for m in found["auth user differs"]["messages"]]
    assert 'username="alice-auth"' in differs[-2]
    for name in ("good", "proxy 407", "auth user differs"):
        cleanup = found[name]["unregister"]
        assert (cleanup["result"], cleanup["final_status"]) == ("unregistered", 200), name
    return found


def assert_plugin_and_junit(path: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    run = check(path, "--nagios", "-w", "500", "-c", "2000", "--junit", str(report))
    plugin = read_plugin_output(run.stdout)
    assert (run.status, plugin.status) == (2, "CRITICAL")
    assert plugin.text == (
        "3/5 registered, 1/1 reachable, 1 skipped; critical: wrong password, blocked"
    )
    assert [line.split(": ")[:3] for line in plugin.long_output] == [
        ["CRITICAL", "wrong password", "credentials-rejected"],
        ["CRITICAL", "blocked", "forbidden"],
    ]
    for label in ("good_rrd", "proxy 407_rrd", "auth user differs_rrd"):
        value, uom, warning, critical, minimum, _ = plugin.perfdata[label]
        assert value is not None and 0 < float(value) < 2000
        assert (uom, warning, critical, minimum) == ("ms", "500", "2000", "0")
    assert plugin.perfdata["trunk_reachable"][0] == "1"
    assert plugin.perfdata["blocked_registered"][0] == "0"
    xmlschema.XMLSchema(XSD).validate(str(report))
    (suite,) = list(JUnitXml.fromfile(str(report)))
    assert isinstance(suite, TestSuite)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (7, 2, 0, 1)
    failures = {c.name: c.result[0] for c in suite if c.result and isinstance(c.result[0], Failure)}
    assert {n: f.type for n, f in failures.items()} == {
        "wrong password": "credentials-rejected",
        "blocked": "forbidden",
    }


def bindings_left(where: str, user: str, password_env: str, *extra: str) -> list[dict[str, Any]]:
    run = sipcheck(
        "query", f"{user}@127.0.0.1", "--server", where, "--password-env", password_env,
        "--json", "--timeout", "5", *extra, env=PASSWORDS,
    )  # fmt: skip
    assert run.status == 0, run.stderr
    found: list[dict[str, Any]] = run.json()["bindings"]
    return found


def test_check_against_kamailio(kamailio: KamailioFactory, tmp_path: Path) -> None:
    users = {
        "alice": PW["PW_ALICE"], "alice-auth": PW["PW_1001"], "bob": PW["PW_BOB"],
        "blocked": PW["PW_BLOCKED"],
    }  # fmt: skip
    www = kamailio(mode="www", users=users, accounts={"1001": "alice-auth"})
    proxy = kamailio(mode="proxy", users={"alice": PW["PW_ALICE"]})
    blocked: dict[str, Value] = {"aor": "blocked@127.0.0.1", "password_env": "PW_BLOCKED"}
    accounts = six_accounts(www.hostport("udp"), proxy.hostport("udp"), blocked=blocked)
    path = write_accounts(tmp_path / "kamailio.toml", accounts)
    assert_matrix(path)
    assert bindings_left(www.hostport("udp"), "alice", "PW_ALICE") == []
    assert bindings_left(www.hostport("udp"), "1001", "PW_1001", "--auth-user", "alice-auth") == []
    assert bindings_left(proxy.hostport("udp"), "alice", "PW_ALICE") == []
    assert_plugin_and_junit(path, tmp_path)


@pytest.fixture
def registrars(tmp_path: Path) -> Iterator[tuple[RegistrarProcess, RegistrarProcess]]:
    users = {
        "alice": (None, PW["PW_ALICE"]), "1001": ("alice-auth", PW["PW_1001"]),
        "bob": (None, PW["PW_BOB"]), "mallory": (None, PW["PW_BLOCKED"]),
    }  # fmt: skip
    file = registrar_accounts(tmp_path / "registrar.toml", users)
    with (
        registrar(["--accounts-file", str(file), "--quiet"]) as www,
        registrar(["--accounts-file", str(file), "--challenge", "proxy", "--quiet"]) as proxy,
    ):
        yield www, proxy


def test_check_against_sipcheck_registrar(
    registrars: tuple[RegistrarProcess, RegistrarProcess], tmp_path: Path
) -> None:
    www, proxy = (f"127.0.0.1:{r.ports['udp']}" for r in registrars)
    # sipcheck's registrar says 403 to an auth user registering an AoR not its own.
    blocked: dict[str, Value] = {
        "aor": "alice@127.0.0.1", "auth_user": "mallory", "password_env": "PW_BLOCKED",
    }  # fmt: skip
    path = write_accounts(tmp_path / "embedded.toml", six_accounts(www, proxy, blocked=blocked))
    assert_matrix(path)
    for where in (www, proxy):
        assert bindings_left(where, "alice", "PW_ALICE") == []
    assert bindings_left(www, "1001", "PW_1001", "--auth-user", "alice-auth") == []
    assert_plugin_and_junit(path, tmp_path)


def test_check_over_tcp_and_tls_with_the_file_s_tls_settings(tmp_path: Path) -> None:
    """transport, ca_file (relative to the accounts file), insecure: the same TLS
    settings register takes from --transport, --ca-file and --insecure."""
    cert, key = make_cert(tmp_path)
    users = {"alice": (None, PW["PW_ALICE"])}
    file = registrar_accounts(tmp_path / "registrar.toml", users)
    args = ["--accounts-file", str(file), "--cert", str(cert), "--key", str(key), "--quiet"]
    with registrar(args) as server:
        tcp, tls = (f"127.0.0.1:{server.ports[t]}" for t in ("tcp", "tls"))
        alice: dict[str, Value] = {"aor": "alice@127.0.0.1", "password_env": "PW_ALICE"}
        accounts: list[dict[str, Value]] = [
            {"name": "tcp", **alice, "server": tcp, "transport": "tcp"},
            {"name": "tls verified", **alice, "server": tls, "transport": "tls",
             "ca_file": cert.name},
            {"name": "tls unverified", **alice, "server": tls, "transport": "tls"},
            {"name": "tls insecure", **alice, "server": tls, "transport": "tls",
             "insecure": True},
        ]  # fmt: skip
        path = write_accounts(tmp_path / "streams.toml", accounts)
        run = check(path, "--json")
        found = {a["name"]: a for a in run.json()["accounts"]}
        assert bindings_left(tcp, "alice", "PW_ALICE", "--transport", "tcp") == []
    assert {n: (a["result"], first_error(a)) for n, a in found.items()} == {
        "tcp": ("registered", None),
        "tls verified": ("registered", None),
        "tls unverified": ("failed", "tls-failed"),
        "tls insecure": ("registered", None),
    }
    assert found["tls verified"]["tls"]["verified"] is True
    assert found["tls insecure"]["tls"]["verified"] is False
    assert {m["transport"] for m in found["tcp"]["messages"]} == {"tcp"}
    for name in ("tcp", "tls verified", "tls insecure"):  # one AoR: while others are
        cleanup = found[name]["unregister"]  # still bound, ours alone goes
        ids = [d["id"] for d in cleanup["diagnosis"]]
        assert cleanup["result"] == "unregistered" or ids[0] == "bindings-remain", ids
        assert found[name]["contact_sent"] not in [b["contact"] for b in cleanup["bindings"]]
    assert run.status == 8
