"""The CI outputs wired into ``check``, ``register`` and ``options``: ``--nagios`` with
``-w``/``-c`` (statuses, exit codes, perfdata read by Monitoring::Plugin, per-account
thresholds over the flags, every error UNKNOWN with one line on stdout) and
``--junit FILE`` (valid against junit-10.xsd, read back by junitparser).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlschema
from junitparser import Failure, JUnitXml, Skipped, TestCase, TestSuite

from tests.support.accounts_file import write_accounts
from tests.support.capture import CapturingRegistrar
from tests.support.plugin_output import EXIT, read_plugin_output
from tests.test_check_command import ENV, PW_ALICE, accounts_file, invoke, server

XSD = Path(__file__).parent / "data" / "junit" / "junit-10.xsd"
__all__ = ["server"]  # the fixture, shared with tests/test_check_command.py


def good_file(tmp_path: Path, server: CapturingRegistrar) -> Path:
    return write_accounts(
        tmp_path / "good.toml",
        [
            {"name": "alice", "aor": "alice@127.0.0.1", "password_env": "PW_ALICE"},
            {
                "name": "carol",
                "aor": "carol@127.0.0.1",
                "password_env": "PW_ALICE",
                "warning": "100000",
            },
            {"name": "trunk", "aor": server.where, "mode": "options"},
        ],
        {"server": server.where, "timeout": 5},
    )


def test_nagios_ok_with_perfdata_for_every_account(
    tmp_path: Path, server: CapturingRegistrar
) -> None:
    result = invoke(
        "check", str(good_file(tmp_path, server)), "--nagios", "-w", "500", "-c", "2000"
    )
    plugin = read_plugin_output(result.stdout)
    assert result.exit_code == EXIT[plugin.status] == 0
    assert (plugin.service, plugin.text) == ("SIP REGISTER", "2/2 registered, 1/1 reachable")
    assert plugin.long_output == [] and result.stderr == ""
    assert list(plugin.perfdata) == [
        "alice_rrd", "alice_total", "alice_retransmissions", "alice_registered",
        "carol_rrd", "carol_total", "carol_retransmissions", "carol_registered",
        "trunk_total", "trunk_retransmissions", "trunk_reachable",
    ]  # fmt: skip
    value, uom, warning, critical, minimum, _ = plugin.perfdata["alice_rrd"]
    assert value is not None and 0 < float(value) < 500
    assert (uom, warning, critical, minimum) == ("ms", "500", "2000", "0")
    assert plugin.perfdata["carol_rrd"][2] == "100000"  # the account's own warning wins
    assert plugin.perfdata["alice_registered"][0] == "1"


def test_nagios_warning_and_the_account_threshold_winning(
    tmp_path: Path, server: CapturingRegistrar
) -> None:
    result = invoke("check", str(good_file(tmp_path, server)), "--nagios", "-w", "0.001")
    plugin = read_plugin_output(result.stdout)
    assert (result.exit_code, plugin.status) == (1, "WARNING")
    assert plugin.text.endswith("; warning: alice, trunk")  # carol's own range: 0..100000
    assert [line.split(":")[0:2] for line in plugin.long_output] == [
        ["WARNING", " alice"],
        ["WARNING", " trunk"],
    ]


def test_nagios_critical_lists_the_failed_accounts(
    tmp_path: Path, server: CapturingRegistrar
) -> None:
    result = invoke("check", str(accounts_file(tmp_path, server)), "--nagios")
    plugin = read_plugin_output(result.stdout)
    assert (result.exit_code, plugin.status) == (2, "CRITICAL")
    assert plugin.text == ("2/4 registered, 1/1 reachable, 1 skipped; critical: bob, dead")
    assert plugin.long_output[0].startswith("CRITICAL: bob: credentials-rejected: ")
    assert plugin.long_output[1].startswith("CRITICAL: dead: unreachable: ")
    assert plugin.perfdata["bob_registered"][0] == "0"
    assert "'bob_rrd'=U;;;0" in plugin.raw_perfdata.split()  # no RRD: the guidelines' U


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["check", "{dir}/missing.toml", "--nagios"], "missing.toml: cannot read"),
        (["check", "{file}", "--nagios", "-w", "10:5"], "'-w' / '--warning'"),
        (["check", "{file}", "--nagios", "--json"], "--nagios and --json"),
        (["check", "{file}", "--nagios", "--concurrency", "0"], "'--concurrency'"),
        (["check", "{file}", "--nagios", "--only", "nobody"], "no account named 'nobody'"),
        (["check", "{file}", "--nagios", "--bogus"], "--bogus"),
        (["register", "alice@127.0.0.1", "--nagios", "-c", "x"], "'-c' / '--critical'"),
        (["options", "127.0.0.1:1", "--nagios", "--transport", "ws"], "'--transport'"),
    ],
)
def test_nagios_unknown_is_one_line_and_exit_3(
    tmp_path: Path, server: CapturingRegistrar, args: list[str], said: str
) -> None:
    path = accounts_file(tmp_path, server)
    argv = [a.format(dir=tmp_path, file=path) for a in args]
    result = invoke(*argv)
    assert result.exit_code == 3
    service = "SIP OPTIONS" if argv[0] == "options" else "SIP REGISTER"
    assert result.stdout.startswith(f"{service} UNKNOWN - ") and said in result.stdout
    assert result.stdout.count("\n") == 1 and "|" not in result.stdout
    assert result.stderr == ""
    assert server.received == []  # refused before anything was sent


def test_thresholds_without_nagios_are_a_usage_error(
    tmp_path: Path, server: CapturingRegistrar
) -> None:
    for argv in (["check", str(accounts_file(tmp_path, server)), "-w", "5"],
                 ["register", "alice@127.0.0.1", "-c", "5"]):  # fmt: skip
        result = invoke(*argv)
        assert result.exit_code == 2 and "goes with --nagios" in result.stderr


def test_register_and_options_as_a_plugin(server: CapturingRegistrar) -> None:
    where = ["--server", server.where, "--timeout", "5"]
    good = invoke("register", "alice@127.0.0.1", *where, "--password-env", "PW_ALICE",
                  "--nagios", "-w", "500", "-c", "2000")  # fmt: skip
    plugin = read_plugin_output(good.stdout)
    assert (good.exit_code, plugin.status, plugin.text) == (0, "OK", "1/1 registered")
    assert plugin.perfdata["alice@127.0.0.1_rrd"][2:4] == ["500", "2000"]
    bad = invoke("register", "alice@127.0.0.1", *where, "--password-env", "PW_WRONG", "--nagios")
    plugin = read_plugin_output(bad.stdout)
    assert (bad.exit_code, plugin.status) == (2, "CRITICAL")
    assert plugin.long_output[0].startswith("CRITICAL: alice@127.0.0.1: credentials-rejected")
    ping = invoke("options", server.where, "--timeout", "5", "--nagios")
    plugin = read_plugin_output(ping.stdout)
    assert (ping.exit_code, plugin.service, plugin.text) == (0, "SIP OPTIONS", "1/1 reachable")
    assert PW_ALICE not in good.stdout + bad.stdout + good.stderr + bad.stderr


def read_junit(path: Path) -> list[TestCase]:
    xmlschema.XMLSchema(XSD).validate(str(path))
    (suite,) = list(JUnitXml.fromfile(str(path)))
    assert isinstance(suite, TestSuite) and suite.name == "sipcheck"
    return list(suite)


def test_check_junit_report(tmp_path: Path, server: CapturingRegistrar) -> None:
    report = tmp_path / "report.xml"
    result = invoke("check", str(accounts_file(tmp_path, server)), "--junit", str(report))
    assert result.exit_code == 8  # the exit status is check's own; the report is extra
    assert "┃" in result.stdout  # and the table is still printed
    cases = {case.name: case for case in read_junit(report)}
    assert list(cases) == ["alice", "1001", "bob", "trunk", "dead", "off"]
    assert {c.classname for c in cases.values()} == {"sipcheck.register", "sipcheck.options"}
    assert cases["trunk"].classname == "sipcheck.options"
    (failure,) = cases["bob"].result
    assert isinstance(failure, Failure) and failure.type == "credentials-rejected"
    assert "401 Unauthorized" in (failure.text or "")
    assert isinstance(cases["off"].result[0], Skipped)
    assert cases["alice"].result == [] and "REGISTER" in (cases["alice"].system_out or "")
    assert not list(tmp_path.glob("*.partial"))


def test_register_and_options_junit(tmp_path: Path, server: CapturingRegistrar) -> None:
    report = tmp_path / "one.xml"
    run = invoke("register", "alice@127.0.0.1", "--server", server.where,
                 "--password-env", "PW_ALICE", "--json", "--junit", str(report))  # fmt: skip
    assert run.exit_code == 0 and run.stdout.startswith("{")
    (case,) = read_junit(report)
    assert (case.classname, case.name, case.result) == ("sipcheck.register", "alice@127.0.0.1", [])
    run = invoke("options", "127.0.0.1:1", "--timeout", "2", "--junit", str(report))
    assert run.exit_code == 8
    (case,) = read_junit(report)
    assert case.classname == "sipcheck.options" and case.result[0].type == "unreachable"


def test_junit_into_a_missing_directory_is_refused(
    tmp_path: Path, server: CapturingRegistrar
) -> None:
    path = accounts_file(tmp_path, server)
    result = invoke("check", str(path), "--junit", str(tmp_path / "no" / "r.xml"))
    assert result.exit_code == 2 and "'--junit'" in result.stderr
    assert server.received == []
    assert ENV["NO_COLOR"] == "1"
