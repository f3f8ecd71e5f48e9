"""``sipcheck check`` through click's CliRunner against sipcheck's registrar core on
127.0.0.1 (tests/support/capture.py): selection, the table, the JSON document, the
exit status of many accounts, the unregister after each check and --keep, and no
password (nor password command) anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from sipcheck.check.results import SEVERITY, worst_exit_status
from sipcheck.cli.main import cli
from sipcheck.exit_status import ExitStatus
from sipcheck.sip.registrar.authenticator import Account
from tests.support.accounts_file import Value, write_accounts
from tests.support.capture import CapturingRegistrar
from tests.support.cli import cli_runner

PW_ALICE = "chk-alice-Pw-1"
PW_BOB = "chk-bob-Pw-2"
PW_1001 = "chk-1001-Pw-3"  # given by a password command, as its argument
ENV = {
    "NO_COLOR": "1", "FORCE_COLOR": "", "SIPCHECK_DEBUG": "", "CI": "true",
    "PW_ALICE": PW_ALICE, "PW_BOB": PW_BOB, "PW_WRONG": "not-the-password",
}  # fmt: skip
SECRETS = (PW_ALICE, PW_BOB, PW_1001, "not-the-password")


@pytest.fixture
def server() -> Iterator[CapturingRegistrar]:
    accounts: dict[str, Account | str] = {
        "alice": PW_ALICE,
        "bob": PW_BOB,
        "carol": PW_ALICE,
        "1001-auth": Account(PW_1001, frozenset({"1001"})),
    }
    with CapturingRegistrar(accounts) as registrar:
        yield registrar


def accounts(where: str) -> list[dict[str, Value]]:
    """Six accounts: good, an auth user that differs, a wrong password, a trunk,
    nothing listening, and one disabled."""
    return [
        {"name": "alice", "aor": "alice@127.0.0.1", "password_env": "PW_ALICE",
         "tags": ["pbx"]},
        {"name": "1001", "aor": "1001@127.0.0.1", "auth_user": "1001-auth",
         "password_command": ["printf", "%s", PW_1001], "tags": ["pbx", "carrier"]},
        {"name": "bob", "aor": "bob@127.0.0.1", "password_env": "PW_WRONG"},
        {"name": "trunk", "aor": where, "mode": "options", "tags": ["carrier"]},
        {"name": "dead", "aor": "alice@127.0.0.1", "server": "127.0.0.1:1",
         "password_env": "PW_ALICE"},
        {"name": "off", "aor": "off@127.0.0.1", "register": False},
    ]  # fmt: skip


def accounts_file(tmp_path: Path, server: CapturingRegistrar, **defaults: Value) -> Path:
    return write_accounts(
        tmp_path / "trunks.toml",
        accounts(server.where),
        {"server": server.where, "timeout": 5, **defaults},
    )


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return cli_runner().invoke(cli, list(args), env={**ENV, **(env or {})})


def check_json(path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = invoke("check", str(path), "--json", *args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)


def by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in document["accounts"]}


def bindings(server: CapturingRegistrar, user: str) -> list[dict[str, Any]]:
    result = invoke(
        "query", f"{user}@127.0.0.1", "--server", server.where,
        "--password-env", "PW_ALICE", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    found: list[dict[str, Any]] = json.loads(result.stdout)["bindings"]
    return found


def test_every_account_checked_in_one_run(tmp_path: Path, server: CapturingRegistrar) -> None:
    status, document = check_json(accounts_file(tmp_path, server))
    found = by_name(document)
    assert list(found) == ["alice", "1001", "bob", "trunk", "dead", "off"]  # file order
    results = {
        name: (a["result"], a["final_status"], a["exit_status"]) for name, a in found.items()
    }
    assert results == {
        "alice": ("registered", 200, 0),
        "1001": ("registered", 200, 0),
        "bob": ("failed", 401, 3),
        "trunk": ("reachable", 200, 0),
        "dead": ("failed", None, 8),
        "off": ("skipped", None, 0),
    }
    assert found["bob"]["diagnosis"][0]["id"] == "credentials-rejected"
    assert found["dead"]["diagnosis"][0]["id"] == "unreachable"
    sent = [m["raw"] for m in found["1001"]["messages"] if m["direction"] == "out"]
    assert 'username="1001-auth"' in sent[-1]
    call_ids = {
        line for a in found.values() for m in a["messages"] if m["direction"] == "out"
        for line in m["raw"].split("\r\n") if line.startswith("Call-ID:")
    }  # fmt: skip
    assert len(call_ids) == 5  # one per account run: its own transport and Call-ID
    assert status == document["summary"]["exit_status"] == 8  # the worst: nothing listening
    assert document["summary"]["counts"] == {
        "registered": 2, "reachable": 1, "failed": 2, "skipped": 1,
    }  # fmt: skip


def test_the_binding_is_removed_afterwards(tmp_path: Path, server: CapturingRegistrar) -> None:
    _, document = check_json(accounts_file(tmp_path, server), "--only", "alice")
    (alice,) = document["accounts"]
    assert alice["result"] == "registered" and alice["kept"] is False
    cleanup = alice["unregister"]
    assert (cleanup["command"], cleanup["result"], cleanup["final_status"]) == (
        "unregister", "unregistered", 200,
    )  # fmt: skip
    assert cleanup["contact_sent"] == alice["contact_sent"]
    out = [m["raw"] for m in cleanup["messages"] if m["direction"] == "out"]
    assert f"Contact: <{alice['contact_sent']}>" in out[0] and "Expires: 0" in out[0]
    assert bindings(server, "alice") == []


def test_keep_leaves_the_binding(tmp_path: Path, server: CapturingRegistrar) -> None:
    path = write_accounts(
        tmp_path / "keep.toml",
        [{"name": "carol", "aor": "carol@127.0.0.1", "password_env": "PW_ALICE"}],
        {"server": server.where},
    )
    _, document = check_json(path, "--keep")
    (carol,) = document["accounts"]
    assert (carol["result"], carol["unregister"], carol["kept"]) == ("registered", None, True)
    kept = carol["contact_sent"]
    assert [b["contact"] for b in bindings(server, "carol")] == [kept]
    # A second check removes its own binding only: the kept one (a phone's, say) stays.
    result = invoke("check", str(path), "--json")
    (again,) = json.loads(result.stdout)["accounts"]
    cleanup = again["unregister"]
    assert (again["result"], again["exit_status"], result.exit_code) == ("registered", 0, 0)
    assert cleanup["diagnosis"][0]["id"] == "bindings-remain"
    assert [b["contact"] for b in cleanup["bindings"]] == [kept]
    assert "warning" not in result.stderr
    assert [b["contact"] for b in bindings(server, "carol")] == [kept]


def test_selection_by_name_and_tag(tmp_path: Path, server: CapturingRegistrar) -> None:
    path = accounts_file(tmp_path, server)
    _, document = check_json(path, "--only", "trunk", "--only", "alice")
    assert [a["name"] for a in document["accounts"]] == ["alice", "trunk"]
    _, document = check_json(path, "--tag", "carrier")
    assert [a["name"] for a in document["accounts"]] == ["1001", "trunk"]
    _, document = check_json(path, "--tag", "pbx", "--only", "1001")
    assert [a["name"] for a in document["accounts"]] == ["1001"]
    for args, said in ((("--only", "nobody"), "no account named 'nobody'"),
                       (("--tag", "nope"), "no account has the tag 'nope'")):  # fmt: skip
        result = invoke("check", str(path), *args)
        assert result.exit_code == 2 and said in result.stderr
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1


def test_table_and_verbose_ladders(tmp_path: Path, server: CapturingRegistrar) -> None:
    path = accounts_file(tmp_path, server)
    result = invoke("check", str(path))
    assert result.exit_code == 8
    rows = {line.split("│")[0].strip(): line for line in result.stdout.splitlines() if "│" in line}
    assert "registered" in rows["alice"] and " 200 " in rows["alice"]
    assert "credentials-rejected" in rows["bob"] and " 401 " in rows["bob"]
    assert "skipped" in rows["off"] and "reachable" in rows["trunk"]
    assert "6 accounts: 2 registered, 1 reachable, 2 failed, 1 skipped" in result.stdout
    assert "REGISTER sip:127.0.0.1" not in result.stdout  # ladders only with -v
    verbose = invoke("check", str(path), "-v").stdout
    assert verbose.count("sipcheck register sip:bob@127.0.0.1") == 1  # bob's ladder
    assert "sipcheck register sip:1001@127.0.0.1" not in verbose  # not for passed ones
    assert "\x1b[" not in result.stdout + verbose


def test_no_password_and_no_password_command_anywhere(
    tmp_path: Path, server: CapturingRegistrar
) -> None:
    path = accounts_file(tmp_path, server)
    junit = tmp_path / "report.xml"
    runs = [
        invoke("check", str(path)),
        invoke("check", str(path), "-vv"),
        invoke("check", str(path), "--json", "-v"),
        invoke("check", str(path), "--nagios", "--junit", str(junit)),
    ]
    texts = [r.stdout + r.stderr for r in runs] + [junit.read_text()]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
        assert "printf" not in text and "PW_ALICE" not in text  # the sources, neither
    for secret in SECRETS:
        assert secret.encode() not in server.wire


def test_a_bad_file_is_refused_before_anything_is_sent(
    tmp_path: Path, server: CapturingRegistrar
) -> None:
    path = accounts_file(tmp_path, server)
    unset = invoke("check", str(path), env={"PW_WRONG": ""})
    assert unset.exit_code == 2
    assert unset.stderr.strip() == (
        f"error: {path}: account 'bob': key 'password_env': the environment variable "
        "PW_WRONG is set but empty"
    )
    bad = tmp_path / "bad.toml"
    bad_account: dict[str, Value] = {"name": "x", "aor": "x@127.0.0.1", "transport": "sctp"}
    write_accounts(bad, [{**bad_account, "password_env": "PW_ALICE"}])
    refused = invoke("check", str(bad))
    assert refused.exit_code == 2 and "key 'transport'" in refused.stderr
    assert server.received == []


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        ((), 0),
        ((0, 0), 0),
        ((0, 3), 3),
        ((3, 4, 5, 6), 6),
        ((3, 7), 7),
        ((7, 8, 3), 8),
        ((8, 2), 2),
        ((2, 1, 8), 1),
    ],
)
def test_worst_exit_status(statuses: tuple[int, ...], worst: int) -> None:
    assert worst_exit_status(statuses) == worst


def test_every_flow_status_is_ranked() -> None:
    flow = {s for s in ExitStatus if s not in (ExitStatus.LINT_ERRORS, ExitStatus.INTERRUPTED,
                                                 ExitStatus.BROKEN_PIPE)}  # fmt: skip
    assert set(SEVERITY) == flow and len(SEVERITY) == len(flow)


def test_worst_of_an_auth_failure_alone_is_3(tmp_path: Path, server: CapturingRegistrar) -> None:
    status, document = check_json(
        accounts_file(tmp_path, server), "--only", "bob", "--only", "alice"
    )
    assert status == 3 and document["summary"]["exit_status"] == 3
    status, document = check_json(accounts_file(tmp_path, server), "--only", "off")
    assert status == 0 and document["summary"]["counts"]["skipped"] == 1


def test_the_readme_shows_the_full_example_file() -> None:
    root = Path(__file__).parents[1]
    example = (root / "tests" / "data" / "check" / "trunks.toml").read_text().rstrip("\n")
    readme = (root / "README.md").read_text()
    assert f"```toml\n{example}\n```" in readme
    assert "sipcheck check trunks.toml --nagios -w 500 -c 2000" in readme
    assert "sipcheck check trunks.toml --junit report.xml" in readme


def test_json_shape_is_register_json_per_account(
    tmp_path: Path, server: CapturingRegistrar
) -> None:
    _, document = check_json(accounts_file(tmp_path, server))
    assert list(document) == ["schema_version", "command", "summary", "accounts"]
    assert (document["schema_version"], document["command"]) == (1, "check")
    summary = document["summary"]
    assert list(summary) == ["accounts", "counts", "exit_status", "wall_ms"]
    assert summary["accounts"] == 6 and 0 < summary["wall_ms"] < 10_000
    single = invoke(
        "register", "alice@127.0.0.1", "--server", server.where, "--password-env", "PW_ALICE",
        "--json",
    )  # fmt: skip
    register_keys = [k for k in json.loads(single.stdout) if k != "schema_version"]
    for account in document["accounts"]:
        assert list(account) == ["name", "mode", *register_keys, "unregister", "kept"]
        cleanup = account["unregister"]
        if cleanup is not None:
            assert list(cleanup) == register_keys
    found = by_name(document)
    assert (found["trunk"]["mode"], found["trunk"]["command"]) == ("options", "options")
    assert (found["off"]["result"], found["off"]["messages"], found["off"]["timings"]) == (
        "skipped", [], {"total_ms": None, "rrd_ms": None},
    )  # fmt: skip
