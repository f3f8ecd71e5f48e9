"""`sipcheck watch` (a real process) against `sipcheck registrar` on loopback: several
accounts, fault injection (--drop, --busy), a restart that loses the bindings,
SIGINT and SIGTERM, --exit-on-failure, --on-change, the status line on a terminal.

The registrar grants 3 s at most: refreshes every 1.5 s; T1 = 0.05 s (Timer F 3.2 s).
"""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.processes import SIPCHECK, registrar, sipcheck
from tests.support.watching import watching

ENV = {"ALICE_PW": "alice-pw", "BOB_PW": "bob-pw"}
ACCOUNTS = ["--account", "alice:alice-pw", "--account", "bob:bob-pw"]
LIMITS = ["--min-expires", "1", "--max-expires", "3"]
FAST = ["--t1", "0.05"]


def refreshed(account: str) -> Callable[[dict[str, object]], bool]:
    return lambda event: event.get("account") == account and event["event"] == "refresh"


def recovered(event: dict[str, object]) -> bool:
    return event.get("previous") == "Failed" and event.get("state") == "Ok"


def alice(port: int, *extra: str) -> list[str]:
    return ["alice@127.0.0.1", "--server", f"127.0.0.1:{port}", "--password-env", "ALICE_PW",
            *FAST, *extra]  # fmt: skip


def bindings(port: int, user: str) -> list[object]:
    run = sipcheck(
        "query", f"{user}@127.0.0.1", "--server", f"127.0.0.1:{port}",
        "--password-env", f"{user.upper()}_PW", "--json", "--timeout", "5", env=ENV,
    )  # fmt: skip
    assert run.status == 0, run.stdout
    found = run.json()["bindings"]
    assert isinstance(found, list)
    return found


def accounts_file(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "trunks.toml"
    path.write_text(
        "[defaults]\n"
        f'server = "127.0.0.1:{port}"\n'
        "expires = 60\n"
        "[[account]]\n"
        'name = "trunk-alice"\n'
        'aor = "alice@127.0.0.1"\n'
        'password_env = "ALICE_PW"\n'
        "[[account]]\n"
        'name = "trunk-bob"\n'
        'aor = "bob@127.0.0.1"\n'
        'password_env = "BOB_PW"\n'
        "[[account]]\n"
        'name = "spare"\n'
        'aor = "carol@127.0.0.1"\n'
        "register = false\n"
    )
    return path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_accounts_file_several_bindings_and_a_signal_unregisters_them(
    tmp_path: Path, sig: int
) -> None:
    with registrar([*ACCOUNTS, *LIMITS]) as server:
        port = server.ports["udp"]
        path = accounts_file(tmp_path, port)
        with watching(["--accounts", str(path), *FAST], env=ENV) as watch:
            for name in ("trunk-alice", "trunk-bob"):
                watch.wait_for(refreshed(name))
            assert len(bindings(port, "alice")) == 1 and len(bindings(port, "bob")) == 1
            watch.interrupt(sig)
        assert watch.status == 0, watch.stderr
        cleared = [e["account"] for e in watch.events if e.get("state") == "Cleared"]
        assert sorted(cleared) == ["trunk-alice", "trunk-bob"]
        assert "spare: register = false" in watch.stderr
        assert [a["account"] for a in watch.summary["accounts"]] == ["trunk-alice", "trunk-bob"]
        assert bindings(port, "alice") == [] and bindings(port, "bob") == []


def test_only_picks_one_account(tmp_path: Path) -> None:
    with registrar([*ACCOUNTS, *LIMITS]) as server:
        path = accounts_file(tmp_path, server.ports["udp"])
        with watching(["--accounts", str(path), "--only", "trunk-bob", *FAST], env=ENV) as watch:
            watch.wait_for(lambda e: e.get("state") == "Ok")
    assert {e["account"] for e in watch.events if "account" in e} == {"trunk-bob"}


def test_a_restart_that_loses_the_bindings_is_found_by_query_every() -> None:
    # 60 s granted: no refresh comes before the query notices. A query that meets the
    # registrar while it restarts is (rightly) "unreachable", and the watch registers
    # again at once: nothing is lost to find then, so the restart is tried again.
    server_args = [*ACCOUNTS, "--min-expires", "1"]
    with registrar(server_args) as first:
        port = first.ports["udp"]
        with watching(alice(port, "--expires", "60", "--query-every", "1"), env=ENV) as watch:
            watch.wait_for(lambda e: e.get("state") == "Ok")
            server, causes = first, []
            for _ in range(4):
                before = {id(e) for e in watch.events}
                server.stop()
                with registrar(server_args, listen=f"127.0.0.1:{port}") as server:

                    def new_lapse(e: dict[str, object], seen: set[int] = before) -> bool:
                        return id(e) not in seen and e.get("state") == "Failed"

                    lapse = watch.wait_for(new_lapse, timeout=15)[0]
                    causes.append(lapse["cause"])
                    back = watch.wait_for(lambda e, s=before: id(e) not in s and recovered(e))
                    assert back[0]["attempts"] >= 1
                    if lapse["cause"] == "binding-gone":
                        assert lapse.get("previous") == "Ok" and lapse["action"] == "query"
                        assert len(bindings(port, "alice")) == 1
                        break
            assert causes[-1] == "binding-gone", causes
            assert set(causes[:-1]) <= {"unreachable"}, causes
    assert watch.status == 0


def test_a_registrar_that_drops_everything_is_a_timeout_lapse() -> None:
    with registrar([*ACCOUNTS, *LIMITS]) as first:
        port = first.ports["udp"]
        with watching(alice(port), env=ENV) as watch:
            watch.wait_for(lambda e: e["event"] == "refresh")
            first.stop()
            drop = [*ACCOUNTS, *LIMITS, "--drop", "1"]
            with registrar(drop, listen=f"127.0.0.1:{port}"):
                lapse = watch.wait_for(lambda e: e.get("cause") == "timeout", timeout=15)[0]
            assert "no answer from 127.0.0.1" in lapse["message"]
            assert "retransmissions" in lapse["message"]
            with registrar([*ACCOUNTS, *LIMITS], listen=f"127.0.0.1:{port}"):
                watch.wait_for(recovered)
                watch.interrupt()
                watch.finish()
    assert watch.status == 0 and watch.transitions()[-1][1] == "Cleared"


def test_busy_registrar_honours_retry_after_and_the_exit_status_says_5() -> None:
    busy = [*ACCOUNTS, *LIMITS, "--busy", "1", "--retry-after", "1"]
    with registrar(busy) as server, watching(alice(server.ports["udp"]), env=ENV) as watch:
        failed = watch.wait_for(lambda e: e.get("state") == "Failed")[0]
        assert failed["cause"] == "server-error" and failed["next_in_s"] >= 1.0
        retries = watch.wait_for(lambda e: e["event"] == "retry", count=2, timeout=10)
        gap = watch.seen_at(retries[1]) - watch.seen_at(retries[0])
        assert gap >= 1.0  # Retry-After: 1, though the backoff alone is 2 s by then
    assert watch.status == 5  # Failed at the stop: the cause's exit status
    assert watch.summary["accounts"][0]["failures"]["server-error"] >= 3


def test_exit_on_failure_exits_with_the_cause_status() -> None:
    wrong = ["--account", "alice:another-pw", *LIMITS]
    args = ["--exit-on-failure"]
    with registrar(wrong) as server, watching(alice(server.ports["udp"], *args), env=ENV) as w:
        w.finish(timeout=15)
    watch = w
    assert watch.status == 3  # credentials rejected: authentication failed
    assert watch.transitions()[1] == ("Progress", "Failed", "credentials-rejected")
    assert watch.summary["exit_status"] == 3
    assert "alice-pw" not in watch.stderr + json.dumps(watch.events)


def test_on_change_runs_a_command_per_state_change(tmp_path: Path) -> None:
    log = tmp_path / "changes.log"
    script = (
        "import os, sys; v = os.environ; "
        "open(sys.argv[1], 'a').write(' '.join([v['SIPCHECK_ACCOUNT'], v['SIPCHECK_STATE'], "
        "v['SIPCHECK_CAUSE'] or '-', str(bool(v['SIPCHECK_DIAGNOSIS']))]) + '\\n')"
    )
    command = f'{sys.executable} -c "{script}" {log}'
    hook = ["--on-change", command]
    with (
        registrar([*ACCOUNTS, *LIMITS]) as server,
        watching(alice(server.ports["udp"], *hook), env=ENV) as watch,
    ):
        watch.wait_for(lambda e: e["event"] == "refresh")
    assert watch.status == 0, watch.stderr
    lines = log.read_text().splitlines()
    assert lines == [
        "sip:alice@127.0.0.1 Progress - True",
        "sip:alice@127.0.0.1 Ok - True",
        "sip:alice@127.0.0.1 Cleared - True",
    ]


def test_a_failing_on_change_command_is_reported_and_the_watch_goes_on() -> None:
    command = f"{sys.executable} -c 'import sys; sys.exit(3)'"
    hook = ["--on-change", command]
    with (
        registrar([*ACCOUNTS, *LIMITS]) as server,
        watching(alice(server.ports["udp"], *hook), env=ENV) as watch,
    ):
        watch.wait_for(lambda e: e["event"] == "refresh", count=2)
    assert watch.status == 0
    assert "exited with status 3" in watch.stderr


def test_piped_output_is_events_only_and_a_terminal_gets_a_status_line() -> None:
    with registrar([*ACCOUNTS, *LIMITS]) as server:
        args = ["watch", *alice(server.ports["udp"], "--duration", "2.5")]
        piped = sipcheck(*args, env=ENV)
        assert piped.status == 0, piped.stderr
        lines = piped.stdout.splitlines()
        assert lines[0].endswith("None -> Progress  registering")
        assert "next:" not in piped.stdout and "\x1b" not in piped.stdout
        assert lines[-2] == "summary" and lines[-1].startswith("sip:alice@127.0.0.1: registered")
        screen = _on_a_terminal([*SIPCHECK, *args], {**os.environ, **ENV})
    assert "Progress -> Ok" in screen
    assert "1 Ok; next: sip:alice@127.0.0.1 refresh in" in screen


def _on_a_terminal(argv: list[str], env: dict[str, str], timeout: float = 15) -> str:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal,
                            env={**env, "COLUMNS": "160", "TERM": "xterm"})  # fmt: skip
    os.close(terminal)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                data = os.read(controller, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=5)
    os.close(controller)
    assert proc.returncode == 0
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_the_registrar_sees_one_socket_one_call_id_and_increasing_cseq(transport: str) -> None:
    with registrar([*ACCOUNTS, *LIMITS, "--json"]) as server:
        args = alice(server.ports[transport], "--transport", transport)
        with watching(args, env=ENV) as watch:
            watch.wait_for(lambda e: e["event"] == "refresh", count=3)
            watch.interrupt()
        out, _ = server.stop()
    assert watch.status == 0, watch.stderr
    attempts = [json.loads(line) for line in out.splitlines()]
    assert len(attempts) >= 5  # register, 3 refreshes, unregister
    assert len({a["target"]["client"] for a in attempts}) == 1  # one socket: one Contact
    requests = [m["raw"] for a in attempts for m in a["messages"] if m["direction"] == "in"]
    headers = [dict(_header_lines(raw)) for raw in requests]
    assert len({h["Call-ID"] for h in headers}) == 1
    cseqs = [int(h["CSeq"].split()[0]) for h in headers]
    assert cseqs == sorted(cseqs) and len(set(cseqs)) == len(cseqs)
    assert headers[-1]["Expires"] == "0"
    assert {a["target"]["transport"] for a in attempts} == {transport}


def _header_lines(raw: str) -> list[tuple[str, str]]:
    lines = raw.split("\r\n")[1:]
    return [(n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines) if v]
