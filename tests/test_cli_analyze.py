"""``sipcheck analyze`` and ``--pcap`` through the CLI: exit statuses, filters, the
summary, the JSON document, the password check, bad files, and what is imported."""

# scapy builds packets with an untyped "/" operator
# mypy: disable-error-code="operator,no-untyped-call"
from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from sipcheck.cli.main import cli
from tests.support.capture import CapturingRegistrar
from tests.support.cli import cli_runner
from tests.support.pcaps import flow, pcap
from tests.support.processes import sipcheck
from tests.support.required import require_tool

ROOT = Path(__file__).resolve().parent.parent
PCAPS = ROOT / "tests" / "data" / "pcaps"
PW = "cli-capture-pw"


@pytest.fixture
def runner() -> CliRunner:
    return cli_runner()


def run(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(cli, list(args), env={"NO_COLOR": "1", **(env or {})},
                         catch_exceptions=False)  # fmt: skip


def report(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run(runner, "analyze", *args, "--json", env=env)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize(
    ("name", "status"),
    [("heplify-ipip0.pcap", 3), ("sipnab-sip-auth-failure.pcapng", 3),
     ("ndpi-sip-hello.pcapng", 0), ("voipshark-sip-over-tls-rtp.pcap", 0),
     ("wireshark-aaa-sip-only.pcap", 3)],
)  # fmt: skip
def test_exit_status_is_the_last_failed_attempts(runner: CliRunner, name: str, status: int) -> None:
    """The status register would give for the last failed attempt shown (aaa: its
    credentials were refused before the last attempt registered); 0 when none failed."""
    result = run(runner, "analyze", str(PCAPS / name))
    assert result.exit_code == status, result.output
    assert "Traceback" not in result.output


def test_one_attempt_ladder_and_verdict(runner: CliRunner) -> None:
    result = run(runner, "analyze", str(PCAPS / "heplify-ipip0.pcap"))
    out = result.stdout
    assert "skipped  not REGISTER: INVITE 2" in out
    assert "client" in out and "frames     3-8" in out
    assert "credentials-rejected" in out and "FAILED  401 Unauthorized" in out
    assert "attempts" not in out.split("sipcheck register")[0]  # no table for one attempt


def test_summary_filters_and_json(runner: CliRunner) -> None:
    path = str(PCAPS / "wireshark-aaa-sip-only.pcap")
    summary = run(runner, "analyze", path, "--summary").stdout
    assert "sip:voi18063@sip.cybercity.dk" in summary and "FAILED" not in summary
    data = report(runner, path)
    assert list(data) == ["schema_version", "command", "file", "packets", "attempts"]
    assert data["command"] == "analyze" and data["packets"]["total"] == 81
    assert data["packets"]["not_register"] == {"ACK": 7, "CANCEL": 12, "INVITE": 22}
    attempts = data["attempts"]
    assert len(attempts) == 9
    first = attempts[0]
    for key in ("aor", "result", "final_status", "exit_status", "diagnosis", "messages",
                "bindings", "timings", "call_id", "frames"):  # fmt: skip
        assert key in first
    assert len(first["frames"]) == len(first["messages"])
    assert "password_check" not in first
    failed = report(runner, path, "--failed")["attempts"]
    assert failed and all(a["result"] == "failed" for a in failed)
    assert len(failed) == 6
    mine = report(runner, path, "--aor", "35104723")["attempts"]
    assert {a["aor"] for a in mine} == {"sip:35104723@sip.cybercity.dk"} and len(mine) == 4
    by_call = report(runner, path, "--call-id", "29858147")["attempts"]
    assert {a["call_id"] for a in by_call} == {"29858147-465b0752@29858051-465b07b2"}
    none = run(runner, "analyze", path, "--aor", "nobody")
    assert none.exit_code == 0 and "matches" in none.stderr


def test_password_check_in_the_json(runner: CliRunner) -> None:
    data = report(runner, str(PCAPS / "sipnab-sip-auth-failure.pcapng"),
                  "--password-env", "PW", env={"PW": "not-the-one"})  # fmt: skip
    (check,) = data["attempts"][0]["password_check"]
    assert check["frame"] == 3 and check["correct"] is False and check["answered_by"] == 403
    text = run(runner, "analyze", str(PCAPS / "sipnab-sip-auth-failure.pcapng"),
               "--password-env", "PW", env={"PW": "x"}).stdout  # fmt: skip
    assert "password check" in text and "frame 3: Authorization of" in text


def test_bad_input_is_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    not_pcap = tmp_path / "notes.txt"
    not_pcap.write_text("hello")
    result = run(runner, "analyze", str(not_pcap))
    assert result.exit_code == 2 and "not a pcap or pcapng file" in result.stderr
    assert run(runner, "analyze", str(tmp_path / "missing.pcap")).exit_code == 2
    unset = run(runner, "analyze", str(PCAPS / "heplify-ipip0.pcap"), "--password-env", "NOPE_X")
    assert unset.exit_code == 2 and "NOPE_X is not set" in unset.stderr


def test_unparseable_sip_is_shown_not_a_traceback(runner: CliRunner, tmp_path: Path) -> None:
    from scapy.layers.inet import IP, UDP

    bad = b"REGISTER sip:x SIP/2.0\r\nVia SIP/2.0/UDP 10.0.0.1\r\n\r\n"
    packets = [bytes(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=5060, dport=5060) / bad)]
    for from_client, raw in flow():
        ends = ("10.0.0.1", "10.0.0.2") if from_client else ("10.0.0.2", "10.0.0.1")
        packets.append(bytes(IP(src=ends[0], dst=ends[1]) / UDP(sport=5060, dport=5060) / raw))
    path = pcap(tmp_path / "bad.pcap", packets, linktype=101)
    result = run(runner, "analyze", str(path))
    assert "frame 1: unparseable SIP" in result.stdout
    assert result.exit_code == 0 and "registered" in result.stdout.lower()
    data = report(runner, str(path))
    assert data["packets"]["unparseable"][0]["frame"] == 1


def test_register_pcap_then_analyze(runner: CliRunner, tmp_path: Path) -> None:
    capture = tmp_path / "run.pcapng"
    with CapturingRegistrar({"alice": PW}) as registrar:
        live = run(runner, "register", f"alice@{registrar.where}", "--password-env", "PW",
                   "--json", "--pcap", str(capture), env={"PW": PW})  # fmt: skip
    assert live.exit_code == 0, live.output
    assert PW.encode() not in capture.read_bytes()
    live_data = json.loads(live.stdout)
    (attempt,) = report(runner, str(capture), "--password-env", "PW", env={"PW": PW})["attempts"]
    for key in ("result", "final_status", "exit_status", "bindings", "granted_expires"):
        assert attempt[key] == live_data[key], key
    assert attempt["aor"] == "sip:alice@127.0.0.1"  # the To; the port is where it was sent
    assert [d["id"] for d in attempt["diagnosis"]] == [d["id"] for d in live_data["diagnosis"]]
    assert [c["correct"] for c in attempt["password_check"]] == [True]


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from sipcheck.cli.main import cli\n"
        f"status = cli.main({argv!r}, prog_name='sipcheck', standalone_mode=False)\n"
        "sys.stderr.write('\\n'.join(sorted(sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=False)  # fmt: skip
    return set(proc.stderr.splitlines())


def test_analyze_never_imports_scapy_and_its_help_imports_nothing_heavy() -> None:
    for command in ("analyze", "sniff"):
        help_modules = {m.split(".")[0] for m in _modules_after([command, "--help"])}
        assert not help_modules & {"scapy", "dns", "rich", "asyncio"}, command
    modules = _modules_after(["analyze", str(PCAPS / "heplify-ipip0.pcap"), "--no-color"])
    assert "sipcheck.capture.analyze" in modules
    assert not {m.split(".")[0] for m in modules} & {"scapy", "dns"}


def test_writing_a_capture_needs_no_scapy() -> None:
    """``register --pcap`` loads the writer after the run: it must not bring scapy."""
    code = (
        "import sys, sipcheck.capture.writer, sipcheck.cli.capture_options\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scapy', 'rich', 'dns'}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)  # fmt: skip
    assert proc.stdout.strip() == "[]"


def _at_a_terminal(*args: str) -> str:
    """What ``sipcheck ARGS`` writes to a terminal (stdout and stderr on one pty)."""
    import pty

    from tests.support.processes import SIPCHECK

    controller, terminal = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "COLUMNS": "100"}
    proc = subprocess.Popen([*SIPCHECK, *args], stdin=terminal, stdout=terminal,
                            stderr=terminal, env=env)  # fmt: skip
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the process ended: the pty is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode()


def test_a_long_read_shows_how_far_it_is_on_a_terminal_then_clears_it() -> None:
    path = PCAPS / "voipshark-sip-udp-rtp.pcap"  # 5,651 packets: one progress line
    seen = _at_a_terminal("analyze", str(path), "--summary")
    line = re.search(r"\rreading voipshark-sip-udp-rtp\.pcap: (\d+)%, 4,096 packets, "
                     r"(\d+) attempts", seen)  # fmt: skip
    assert line is not None, seen
    assert 0 < int(line.group(1)) < 100
    rest = seen[line.end() :]
    assert rest.startswith("\r" + " " * len(line.group(0).lstrip("\r")) + "\r")  # cleared
    assert "capture " in rest  # then the report


def test_no_progress_when_piped() -> None:
    path = PCAPS / "voipshark-sip-udp-rtp.pcap"
    run = sipcheck("analyze", str(path), "--summary")
    assert run.status == 0 and "reading" not in run.stderr and run.stderr == ""


def _piped(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    from tests.support.processes import SIPCHECK

    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([*SIPCHECK, *args], input=stdin, capture_output=True, env=env,
                          timeout=60)  # fmt: skip


def test_stdin_is_read_like_a_file_plain_or_gzip() -> None:
    path = PCAPS / "wireshark-aaa-sip-only.pcap"
    from_file = json.loads(sipcheck("analyze", str(path), "--json").stdout)
    for data in (path.read_bytes(), gzip.compress(path.read_bytes())):
        run = _piped(["analyze", "-", "--json"], data)
        assert run.returncode == 3, run.stderr  # as for the file: the last failed attempt's
        from_stdin = json.loads(run.stdout)
        assert from_stdin["file"] == "-"
        assert {**from_stdin, "file": str(path)} == {
            **from_file,
            "packets": {**from_file["packets"], "compressed": data[:2] == b"\x1f\x8b"},
        }


def test_a_capture_piped_from_tshark() -> None:
    """tshark writes the capture to a pipe (pcapng, as dumpcap and tcpdump -w - do)."""
    path = PCAPS / "sipnab-sip-auth-failure.pcapng"
    tshark = subprocess.Popen([require_tool("tshark"), "-r", str(path), "-w", "-"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)  # fmt: skip
    from tests.support.processes import SIPCHECK

    run = subprocess.run([*SIPCHECK, "analyze", "-", "--json"], stdin=tshark.stdout,
                         capture_output=True, timeout=60,
                         env={**os.environ, "NO_COLOR": "1"})  # fmt: skip
    assert tshark.wait(timeout=60) == 0
    report = json.loads(run.stdout)
    assert run.returncode == 3
    assert [(a["result"], a["final_status"], a["diagnosis"][0]["id"])
            for a in report["attempts"]] == [("failed", 403, "forbidden")]  # fmt: skip


def test_stdin_refused_at_a_terminal_and_twice() -> None:
    import pty

    from tests.support.processes import SIPCHECK

    controller, terminal = pty.openpty()
    try:
        run = subprocess.run([*SIPCHECK, "analyze", "-"], stdin=terminal, capture_output=True,
                             text=True, timeout=60)  # fmt: skip
    finally:
        os.close(terminal)
        os.close(controller)
    assert (run.returncode, run.stderr) == (
        2, "error: FILE -: stdin is a terminal; pipe a capture in\n")  # fmt: skip
    both = _piped(["analyze", "-", "--password-file", "-"], b"pw\n")
    assert both.returncode == 2
    assert both.stderr.decode().splitlines() == [
        "error: --password-file -: stdin is the capture (FILE -); give the password another "
        "way (--password-env, --password-command)"
    ]
