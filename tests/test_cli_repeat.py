"""--count N --interval S: repeated runs and their statistics, as sipsak -A and ping.

Against sipcheck's registrar core over loopback UDP (tests/support/capture.py), a
scripted loopback responder (for failures between successes) and a socket that never
answers. Every run after the first is a refresh: same socket, same Call-ID, the next
CSeq, so the registrar keeps one binding.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from sipcheck.cli import client_run
from sipcheck.cli.main import cli
from sipcheck.render.repeat import percentile, summarize
from sipcheck.trace import Diagnosis, Outcome
from tests.support.capture import CapturingRegistrar
from tests.support.pairing import reply

CLEAN_ENV = {"NO_COLOR": "1", "FORCE_COLOR": "", "SIPCHECK_DEBUG": "", "CI": "true"}
PASSWORD = "pw-repeat"
RUN_LINE = re.compile(r"run (\d+): registered, 200 OK, RRD (\d+\.\d{3}) ms")


def invoke(*args: str) -> Result:
    env = {**CLEAN_ENV, "PW": PASSWORD}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def outcome(result: str, ms: float | None = None, command: str = "register") -> Outcome:
    done = Outcome(command=command, aor="sip:a@b", result=result, total_ms=ms, rrd_ms=ms)
    if result == "failed":
        done.exit_status = 7
        done.diagnoses = [Diagnosis("timeout", "error", "no final response")]
    return done


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 95) == 19.0
    assert percentile(values, 100) == 20.0 and percentile(values, 50) == 10.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([3.0, 1.0, 2.0], 95) == 3.0
    with pytest.raises(ValueError):
        percentile([], 95)


def test_summarize_counts_failures_apart() -> None:
    runs = [outcome("registered", 2.0), outcome("failed"), outcome("registered", 4.0)]
    stats = summarize(runs)
    assert (stats.runs, stats.succeeded, stats.failed) == (3, 2, 1)
    assert stats.spread is not None
    assert (stats.spread.min, stats.spread.avg, stats.spread.max, stats.spread.p95) == (
        2.0, 3.0, 4.0, 4.0,
    )  # fmt: skip
    assert [number for number, _ in stats.failures] == [2]
    assert summarize([outcome("failed")]).spread is None


def test_count_registers_n_times_as_refreshes_of_one_binding() -> None:
    with CapturingRegistrar({"alice": PASSWORD}) as registrar:
        result = invoke(
            "register", f"alice@{registrar.where}", "--password-env", "PW",
            "--count", "3", "--interval", "0",
        )  # fmt: skip
        bindings = invoke("query", f"alice@{registrar.where}", "--password-env", "PW", "--json")
    assert result.exit_code == 0, result.output
    runs = RUN_LINE.findall(result.stdout)
    assert [number for number, _ in runs] == ["1", "2", "3"]
    assert "--- sip:alice@" in result.stdout and "register statistics ---" in result.stdout
    assert "3 runs, 3 succeeded, 0 failed (0% failed)" in result.stdout
    spread = re.search(
        r"RRD min/avg/max/p95 = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms", result.stdout
    )
    assert spread is not None
    low, avg, high, p95 = (float(v) for v in spread.groups())
    times = sorted(float(ms) for _, ms in runs)
    assert (low, high, p95) == (times[0], times[-1], times[-1])
    assert low <= avg <= high
    # Every run: the same source port, the same Call-ID, the CSeq going on (401 then 200).
    requests = registrar.received[:6]
    ports = {re.search(rb"Via: SIP/2.0/UDP 127.0.0.1:(\d+)", r).group(1) for r in requests}  # type: ignore[union-attr]
    call_ids = {re.search(rb"Call-ID: (\S+)", r).group(1) for r in requests}  # type: ignore[union-attr]
    cseqs = [int(re.search(rb"CSeq: (\d+) ", r).group(1)) for r in requests]  # type: ignore[union-attr]
    assert len(ports) == 1 and len(call_ids) == 1 and cseqs == [1, 2, 3, 4, 5, 6]
    assert len(json.loads(bindings.stdout)["bindings"]) == 1


def test_count_json_is_one_document_with_the_runs_and_the_stats() -> None:
    with CapturingRegistrar({"alice": PASSWORD}) as registrar:
        result = invoke(
            "register", f"alice@{registrar.where}", "--password-env", "PW",
            "--count", "2", "--interval", "0.05", "--json",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # one document, nothing else on stdout
    assert list(doc) == ["schema_version", "command", "aor", "count", "interval_s",
                         "interrupted", "exit_status", "stats", "runs"]  # fmt: skip
    assert (doc["command"], doc["count"], doc["interval_s"]) == ("register", 2, 0.05)
    assert doc["exit_status"] == 0 and doc["interrupted"] is False
    stats = doc["stats"]
    assert (stats["runs"], stats["succeeded"], stats["failed"], stats["failures"]) == (2, 2, 0, [])
    assert set(stats["rrd_ms"]) == {"min", "avg", "max", "p95"}
    assert [run["result"] for run in doc["runs"]] == ["registered", "registered"]
    assert stats["rrd_ms"]["max"] == max(run["timings"]["rrd_ms"] for run in doc["runs"])
    assert PASSWORD not in result.stdout


@pytest.fixture
def silent() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


def test_count_against_a_silent_server(silent: int) -> None:
    result = invoke(
        "options", f"127.0.0.1:{silent}", "--count", "2", "--interval", "0",
        "--timeout", "0.3", "--json",
    )  # fmt: skip
    assert result.exit_code == 7
    stats = json.loads(result.stdout)["stats"]
    assert stats["response_ms"] is None and stats["failed"] == 2
    assert [f["diagnosis"] for f in stats["failures"]] == [["timeout"], ["timeout"]]
    human = invoke("options", f"127.0.0.1:{silent}", "--count", "2", "--interval", "0",
                   "--timeout", "0.3")  # fmt: skip
    assert "run 1: failed, timeout: " in human.stdout and "run 2: failed" in human.stdout
    assert "2 runs, 0 succeeded, 2 failed (100% failed)" in human.stdout
    assert "response time: no successful run" in human.stdout


class Flaky:
    """A loopback UDP responder answering OPTIONS 200, 503, 200, ... in turn."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.answered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Flaky:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            status = (200, "OK") if self.answered % 2 == 0 else (503, "Service Unavailable")
            self.answered += 1
            self.sock.sendto(reply(data, *status), source)


def test_the_exit_status_is_the_last_failures() -> None:
    with Flaky() as flaky:
        result = invoke("options", f"127.0.0.1:{flaky.port}", "--count", "3", "--interval", "0")
    assert result.exit_code == 5, result.output  # run 2's 503
    assert re.search(r"run 1: reachable, 200 OK, time \d+\.\d{3} ms", result.stdout)
    assert "run 2: failed, 503 Service Unavailable, server-error" in result.stdout
    assert "3 runs, 2 succeeded, 1 failed (33% failed)" in result.stdout
    assert re.search(
        r"response time min/avg/max/p95 = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms", result.stdout
    )


def test_dash_v_shows_every_runs_ladder() -> None:
    with CapturingRegistrar({"alice": PASSWORD}) as registrar:
        result = invoke("register", f"alice@{registrar.where}", "--password-env", "PW",
                        "--count", "2", "--interval", "0", "-v")  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout.count("sipcheck register sip:alice@") == 2  # two ladders
    assert "(kept open from the previous run)" not in result.stdout  # a connect note: -vvv


def test_a_typed_password_is_asked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, str]] = []

    async def fake(realm: str, user: str) -> str | None:
        asked.append((realm, user))
        return "typed"

    monkeypatch.setattr(client_run, "_prompt", fake)
    prompt = client_run.remembering_prompt()

    async def three() -> list[str | None]:
        return [await prompt("r", "alice"), await prompt("r", "alice"), await prompt("s", "bob")]

    assert asyncio.run(three()) == ["typed", "typed", "typed"]
    assert asked == [("r", "alice"), ("s", "bob")]


def test_ctrl_c_prints_the_statistics_so_far() -> None:
    with CapturingRegistrar({"alice": PASSWORD}) as registrar:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sipcheck", "register", f"alice@{registrar.where}",
             "--password-env", "PW", "--count", "1000", "--interval", "0.2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, **CLEAN_ENV, "PW": PASSWORD},
        )  # fmt: skip
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        proc.send_signal(signal.SIGINT)
        rest, errors = proc.communicate(timeout=20)
    assert all(RUN_LINE.match(line) for line in lines), lines
    assert proc.returncode == 130, errors
    assert ", interrupted" in rest and "register statistics ---" in rest, (rest, errors)
    assert "Traceback" not in errors
