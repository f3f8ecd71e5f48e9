"""`sipcheck watch` without a network: usage errors, the accounts file, the words and
JSON of every event, the summary, the status line, the --on-change runner, exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.main import cli
from sipcheck.cli.watch_accounts import from_file
from sipcheck.diagnosis.exit import cause_exit_status
from sipcheck.exit_status import ExitStatus
from sipcheck.net.on_change import Change, ChangeHook
from sipcheck.render import watch_events as render
from sipcheck.sip.client.keeper import State, WatchEvent
from sipcheck.sip.client.refresh import Action
from sipcheck.sip.client.watch_stats import Summary, percentile
from tests.support.cli import cli_runner

NONE, PROG, OK, FAIL, GONE = State.NONE, State.PROGRESS, State.OK, State.FAILED, State.CLEARED


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = cli_runner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------ usage errors


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([], "give an AOR or --accounts FILE"),
        (["alice@example.com", "--accounts", "x.toml"], "give an AOR or --accounts FILE"),
        (["alice@example.com", "--only", "a"], "--only names accounts of --accounts"),
        (["--accounts", "missing.toml"], "cannot read"),
        (["alice@example.com", "--query-every", "0"], "--query-every"),
        (["alice@example.com", "--refresh-margin", "-1"], "--refresh-margin"),
    ],
)
def test_usage_errors_exit_2(args: list[str], says: str) -> None:
    status, stdout, stderr = run("watch", *args)
    assert status == 2 and says in stderr and stdout == ""


def accounts(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "trunks.toml"
    path.write_text(body)
    path.chmod(0o600)
    return path


TRUNKS = """\
[defaults]
server = "127.0.0.1:5099"
password_env = "TRUNK_PW"
[[account]]
name = "one"
aor = "alice@example.com"
expires = 120
[[account]]
name = "two"
aor = "bob@example.com"
auth_user = "bob-auth"
credentials = [{ realm = "proxy", auth_user = "bob-proxy", password_env = "PROXY_PW" }]
[[account]]
name = "ping"
aor = "sip.example.com"
mode = "options"
"""


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--password-env", "PW"), ("--user", "carol"), ("--auth-user", "x"), ("--realm", "r")],
)
def test_identity_flags_are_refused_next_to_an_accounts_file(
    tmp_path: Path, flag: str, value: str
) -> None:
    path = accounts(tmp_path, TRUNKS)
    status, _, stderr = run("watch", "--accounts", str(path), flag, value)
    assert status == 2 and f"{flag} cannot be used with --accounts" in stderr


def test_contact_is_refused_next_to_an_accounts_file(tmp_path: Path) -> None:
    path = accounts(tmp_path, TRUNKS)
    status, _, stderr = run("watch", "--accounts", str(path), "--contact", "sip:a@192.0.2.1")
    assert status == 2 and "--contact cannot be used with --accounts" in stderr


def test_an_unknown_only_name_exits_2(tmp_path: Path) -> None:
    path = accounts(tmp_path, TRUNKS)
    status, _, stderr = run("watch", "--accounts", str(path), "--only", "nobody")
    assert status == 2 and "no account named 'nobody'" in stderr


def test_a_file_with_nothing_to_register_exits_2(tmp_path: Path) -> None:
    path = accounts(tmp_path, TRUNKS)
    status, _, stderr = run("watch", "--accounts", str(path), "--only", "ping")
    assert status == 2 and "none of the selected accounts registers" in stderr
    assert "ping: mode = 'options'" in stderr


def test_the_accounts_file_becomes_register_settings(tmp_path: Path) -> None:
    path = accounts(tmp_path, TRUNKS)
    notes: list[str] = []
    env = {"TRUNK_PW": "trunk-secret", "PROXY_PW": "proxy-secret"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        made = from_file(str(path), (), ClientOptions(t1=0.05), expires=None, warn=notes.append)
    assert [m.name for m in made] == ["one", "two"]
    one, two = (m.settings for m in made)
    assert (one.resolve_host, one.resolve_port) == ("127.0.0.1", 5099)
    assert one.config.expires == 120 and two.config.expires == 3600
    assert one.config.timers.t1 == 0.05
    assert [(c.auth_user, c.password, c.realm) for c in two.config.accounts] == [
        ("bob-auth", "trunk-secret", None),
        ("bob-proxy", "proxy-secret", "proxy"),
    ]
    assert any("ping" in n for n in notes)
    assert "trunk-secret" not in repr(made)


# ------------------------------------------------------------ the words


def event(kind: str, previous: State, state: State, **extra: object) -> WatchEvent:
    return WatchEvent(10.0, "trunk1", kind, previous, state, **extra)  # type: ignore[arg-type]


TIMEOUT = "timed out: no answer from 203.0.113.7:5060/udp (3 retransmissions)"


@pytest.mark.parametrize(
    ("item", "text"),
    [
        (event("state", NONE, PROG, detail="registering"), "None -> Progress  registering"),
        (
            event("state", PROG, OK, action=Action.REGISTER, granted=60, next_in=30.0),
            "Progress -> Ok  registered: 60 s granted, next refresh in 30 s",
        ),
        (
            event("refresh", OK, OK, action=Action.REFRESH, granted=3600, next_in=3570.2),
            "Ok  refreshed: 3600 s granted, next refresh in 59 min 30 s",
        ),
        (
            event("state", OK, FAIL, cause="timeout", action=Action.REFRESH, detail=TIMEOUT,
                  next_in=1.0, attempts=1),
            f"Ok -> Failed  refresh {TIMEOUT}; retry in 1 s",
        ),
        (
            event("retry", FAIL, FAIL, cause="timeout", action=Action.REGISTER, detail=TIMEOUT,
                  next_in=3.5, attempts=3),
            f"Failed  attempt 3 {TIMEOUT}; next retry in 3.5 s",
        ),
        (
            event("state", FAIL, OK, action=Action.REGISTER, granted=60, next_in=30.0,
                  outage=134.0, attempts=5),
            "Failed -> Ok  after 2 min 14 s, 5 attempts: 60 s granted, next refresh in 30 s",
        ),
        (
            event("state", OK, FAIL, cause="contact-missing", action=Action.REFRESH,
                  detail="the 200 does not list our Contact", next_in=1.0),
            "Ok -> Failed  refresh: the 200 does not list our Contact; retry in 1 s",
        ),
        (
            event("state", OK, FAIL, cause="binding-gone", action=Action.QUERY,
                  detail="the registrar no longer lists our Contact", next_in=0.0),
            "Ok -> Failed  query: the registrar no longer lists our Contact; registering again now",
        ),
        (
            event("change", OK, OK, cause="server-changed", old="sbc-a", new="sbc-b"),
            "Ok  Server header changed: 'sbc-a' -> 'sbc-b' (a failover to another box?)",
        ),
        (
            event("change", OK, OK, cause="seen-as-changed", old="198.51.100.1:5060",
                  new="198.51.100.1:6000"),
            "Ok  the registrar sees us at 198.51.100.1:6000 now, not 198.51.100.1:5060 "
            "(NAT rebinding?)",
        ),
        (
            event("change", OK, OK, cause="target-changed", old="udp:192.0.2.1:5060",
                  new="udp:192.0.2.2:5060"),
            "Ok  target changed: udp:192.0.2.1:5060 -> udp:192.0.2.2:5060 (DNS or a failover)",
        ),
        (
            event("change", OK, OK, cause="expiry-shortened", old="3600", new="600"),
            "Ok  the registrar shortened the expiry: 600 s granted, 3600 s before",
        ),
        (
            event("change", PROG, PROG, cause="interval-raised", new="120"),
            "Progress  423 Interval Too Brief: asking for 120 s (the registrar's Min-Expires) now",
        ),
        (
            event("state", OK, GONE, action=Action.UNREGISTER),
            "Ok -> Cleared  unregistered: no binding of ours left",
        ),
        (
            event("state", OK, GONE, cause="timeout", action=Action.UNREGISTER, detail=TIMEOUT,
                  next_in=42.0),
            f"Ok -> Cleared  unregister {TIMEOUT}; the binding lapses by itself in 42 s",
        ),
        (
            event("state", OK, GONE, cause="binding-not-removed", action=Action.UNREGISTER,
                  granted=30),
            "Ok -> Cleared  unregister answered 200, but our Contact is still bound (30 s)",
        ),
    ],
)  # fmt: skip
def test_event_lines(item: WatchEvent, text: str) -> None:
    line = render.event_line(item, 0.0)
    assert line[:8].count(":") == 2 and line[8:] == f" trunk1 {text}"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0, "0 s"), (0.25, "0.2 s"), (1.75, "1.8 s"), (9.96, "10 s"), (29.4, "29 s"),
     (60, "1 min"), (134, "2 min 14 s"), (3600, "1 h"), (3_900, "1 h 5 min")],
)  # fmt: skip
def test_spoken_durations(seconds: float, text: str) -> None:
    assert render.spoken(seconds) == text


def test_json_event_keys_and_values() -> None:
    item = event("state", OK, FAIL, cause="timeout", action=Action.REFRESH, detail=TIMEOUT,
                 next_in=1.0, attempts=1)  # fmt: skip
    data = render.event_json(item, 1_700_000_000.25)
    assert list(data) == [
        "schema_version", "event", "time", "account", "previous", "state", "cause",
        "message", "action", "granted_s", "next_in_s", "outage_s", "attempts", "old", "new",
    ]  # fmt: skip
    assert data["time"] == "2023-11-14T22:13:20.250+00:00"
    assert (data["event"], data["previous"], data["state"], data["cause"]) == (
        "state", "Ok", "Failed", "timeout"
    )  # fmt: skip
    assert data["message"] == f"refresh {TIMEOUT}; retry in 1 s"
    json.dumps(data)


SUMMARY = Summary(
    account="trunk1", state="Ok", watched=600.0, registered=586.0, refreshes=20,
    failures={"timeout": 3}, rrd_p50=0.002, rrd_p95=0.005, rrd_max=0.0071,
    outages=1, longest_outage=14.0,
)  # fmt: skip


def test_summary_line_and_json() -> None:
    assert render.summary_line(SUMMARY) == (
        "trunk1: registered 9 min 46 s of 10 min (97.7 %); 20 refreshes; failures: timeout 3; "
        "RRD p50 2 ms, p95 5 ms, max 7.1 ms; longest outage 14 s (1 in all)"
    )
    data = render.summary_json([SUMMARY], 0.0, 0)
    assert (data["event"], data["exit_status"]) == ("summary", 0)
    assert data["accounts"] == [
        {
            "account": "trunk1", "state": "Ok", "watched_s": 600.0, "registered_s": 586.0,
            "availability_percent": 97.667, "refreshes": 20, "failures": {"timeout": 3},
            "rrd_ms": {"p50": 2.0, "p95": 5.0, "max": 7.1}, "outages": 1,
            "longest_outage_s": 14.0,
        }
    ]  # fmt: skip


def test_percentiles_are_nearest_rank() -> None:
    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert [percentile(values, p) for p in (50, 95, 100)] == [3.0, 5.0, 5.0]
    assert percentile([], 50) is None


def test_status_line() -> None:
    rows = [
        ("a", OK, 12.3, Action.REFRESH),
        ("b", FAIL, 3.0, Action.REGISTER),
        ("c", OK, None, None),
    ]
    assert render.status_line(rows) == "2 Ok, 1 Failed; next: b register in 3 s"


# ------------------------------------------------------------ exit statuses


@pytest.mark.parametrize(
    ("cause", "status"),
    [
        ("credentials-rejected", ExitStatus.AUTH_FAILED),
        ("forbidden", ExitStatus.AUTH_FAILED),
        ("timeout", ExitStatus.TIMEOUT),
        ("unreachable", ExitStatus.NETWORK),
        ("server-error", ExitStatus.SERVER_FAILURE),
        ("status-480", ExitStatus.CLIENT_FAILURE),
        ("interval-too-brief", ExitStatus.CLIENT_FAILURE),
        ("contact-missing", ExitStatus.CLIENT_FAILURE),
        ("binding-gone", ExitStatus.CLIENT_FAILURE),
    ],
)
def test_cause_exit_status(cause: str, status: ExitStatus) -> None:
    assert cause_exit_status(cause) is status


# ------------------------------------------------------------ --on-change


def hook_script(path: Path) -> list[str]:
    code = (
        "import os, sys; v = os.environ; open(sys.argv[1], 'a').write('|'.join(v[k] for k in "
        "('SIPCHECK_ACCOUNT', 'SIPCHECK_PREVIOUS_STATE', 'SIPCHECK_STATE', 'SIPCHECK_CAUSE', "
        "'SIPCHECK_DIAGNOSIS')) + chr(10))"
    )
    return [sys.executable, "-c", code, str(path)]


def test_on_change_gets_the_change_in_its_environment_in_order(tmp_path: Path) -> None:
    log = tmp_path / "log"
    warnings: list[str] = []

    async def go() -> None:
        hook = ChangeHook(hook_script(log), warnings.append)
        hook.submit(Change("trunk1", "Progress", "Ok", None, "registered"))
        hook.submit(Change("trunk1", "Ok", "Failed", "timeout", "refresh timed out; $HOME"))
        await hook.close(10)

    asyncio.run(go())
    assert log.read_text().splitlines() == [
        "trunk1|Progress|Ok||registered",
        "trunk1|Ok|Failed|timeout|refresh timed out; $HOME",  # no shell: nothing expanded
    ]
    assert warnings == []


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([sys.executable, "-c", "import sys; sys.exit(4)"], "exited with status 4"),
        (["/nonexistent/notify"], "cannot run it"),
        ([sys.executable, "-c", "import time; time.sleep(30)"], "still running after 0.3 s"),
    ],
)
def test_on_change_failures_are_reported_and_later_runs_go_on(
    tmp_path: Path, argv: list[str], says: str
) -> None:
    warnings: list[str] = []
    log = tmp_path / "log"

    async def go() -> None:
        bad = ChangeHook(argv, warnings.append, timeout=0.3)
        bad.submit(Change("trunk1", "Ok", "Failed", "timeout", "x"))
        await bad.close(10)
        good = ChangeHook(hook_script(log), warnings.append)
        good.submit(Change("trunk1", "Failed", "Ok", None, "back"))
        await good.close(10)

    asyncio.run(go())
    assert len(warnings) == 1 and says in warnings[0] and "trunk1 Failed" in warnings[0]
    assert log.read_text().startswith("trunk1|Failed|Ok")
