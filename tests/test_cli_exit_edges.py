"""Exit 1 means a bug in sipcheck, nothing else.

Bad input and contradictory options are exit 2 with one line naming the
flag; --debug works after the command name; Ctrl-C at the password prompt is
130 at once (a real terminal: a pty); a closed stdout is a quiet 141.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sipcheck.cli.main import cli
from sipcheck.exit_status import ExitStatus
from tests.support.capture import CapturingRegistrar

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {"NO_COLOR": "1", "FORCE_COLOR": "", "SIPCHECK_DEBUG": "", "CI": "true"}
NOWHERE = "alice@127.0.0.1:9"  # never reached: every case fails before any I/O
PW = "pw-edges-1"


def _invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={**CLEAN_ENV, **(env or {})}, input=input, catch_exceptions=False
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("tls")
    garbage = tmp / "garbage.pem"
    garbage.write_text("this is not PEM\n")
    out: dict[str, str] = {"garbage": str(garbage)}
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"],
        capture_output=True, check=False,
    )  # fmt: skip
    if made.returncode == 0:
        out.update(cert=str(cert), key=str(key))
    return out


# (args, env, the flag or argument the one line must name, more text it must hold)
USAGE_CASES: dict[str, tuple[list[str], dict[str, str], str, str]] = {
    "ca-file not PEM": (["register", NOWHERE, "--ca-file", "{garbage}"], {}, "--ca-file",
                        "not a PEM file"),
    "cert without key": (["register", NOWHERE, "--cert", "{garbage}"], {}, "--cert", "--key"),
    "key without cert": (["register", NOWHERE, "--key", "{garbage}"], {}, "--key", "--cert"),
    "cert/key not PEM": (["register", NOWHERE, "--cert", "{garbage}", "--key", "{garbage}"], {},
                         "--cert/--key", "not a PEM"),
    "bind not local": (["register", NOWHERE, "--bind", "192.0.2.1"], {}, "--bind",
                       "not an address of this machine"),
    "bind other family": (["register", "alice@[::1]:9", "--bind", "127.0.0.1"], {}, "--bind",
                          "IPv4"),
    "password-env empty": (["register", NOWHERE, "--password-env", "PW_EMPTY"],
                           {"PW_EMPTY": ""}, "--password-env", "PW_EMPTY is set but empty"),
    "password-env unset": (["register", NOWHERE, "--password-env", "PW_NOT_SET_AT_ALL"], {},
                           "--password-env", "is not set"),
    "ipv6 not bracketed": (["register", "alice@::1"], {}, "'AOR'", "in brackets"),
    "ipv6 not bracketed, options": (["options", "::1"], {}, "'TARGET'", "in brackets"),
    "tel: AoR": (["register", "tel:+15551234567"], {}, "'AOR'", "not a SIP address"),
    "tel: target": (["options", "tel:+15551234567"], {}, "'TARGET'", "not a SIP address"),
    "unregister --all --contact": (["unregister", NOWHERE, "--all", "--contact", "sip:a@b"], {},
                                   "--all", "--contact"),
    "server empty": (["register", NOWHERE, "--server", ""], {}, "--server", "empty"),
    "server a URI": (["register", NOWHERE, "--server", "sip:pbx.example.com"], {}, "--server",
                     "URI"),
    "server bad port": (["register", NOWHERE, "--server", "pbx:99999"], {}, "--server", "port"),
    "two password sources": (["register", NOWHERE, "--password-env", "PW", "--password-file",
                              "-"], {"PW": PW}, "--password-env", "--password-file"),
    "address secret and flag": (["register", f"alice:{PW}@127.0.0.1:9", "--password-env", "PW"],
                                {"PW": PW}, "--password-env", "the password in the address"),
    "password-command not found": (["register", NOWHERE, "--password-command",
                                    "/nonexistent/pw-helper x"], {}, "--password-command",
                                   "command not found: /nonexistent"),
    "password-command fails": (["register", NOWHERE, "--password-command", "false"], {},
                               "--password-command", "exited with status 1"),
    "password-command prints nothing": (["register", NOWHERE, "--password-command", "true"], {},
                                        "--password-command", "empty"),
    "password-command unbalanced quote": (["register", NOWHERE, "--password-command",
                                           "pass show 'sip"], {}, "--password-command",
                                          "No closing quotation"),
    "password-command empty": (["register", NOWHERE, "--password-command", " "], {},
                               "--password-command", "empty command"),
    "password-file - empty stdin": (["register", NOWHERE, "--password-file", "-"], {},
                                    "--password-file -", "empty"),
    "user not a user part": (["register", NOWHERE, "--user", "a b"], {}, "--user",
                             "not a valid SIP user part"),
    "contact not a URI": (["register", NOWHERE, "--contact", "garbage"], {}, "--contact",
                          "not a URI"),
    "contact with a password": (["register", NOWHERE, "--contact", "sip:a:pw@host"], {},
                                "--contact", "password"),
    "auth-user empty": (["register", NOWHERE, "--auth-user", ""], {}, "--auth-user", "empty"),
    "no user": (["register", "pbx.example.com"], {}, "--user", "no user part"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(USAGE_CASES))
def test_usage_errors_are_one_line_exit_2(case: str, files: dict[str, str]) -> None:
    args, env, flag, says = USAGE_CASES[case]
    result = _invoke(*(a.format(**files) for a in args), env=env, input="")
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert flag in lines[0] and says in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_insecure_with_ca_file_is_exit_2(files: dict[str, str]) -> None:
    if "cert" not in files:
        pytest.skip("openssl is needed to make a CA certificate")
    result = _invoke("register", NOWHERE, "--insecure", "--ca-file", files["cert"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "error: --insecure and --ca-file cannot be used together: --insecure skips the "
        "verification --ca-file is for"
    ]


def test_a_good_cert_and_key_pass_the_check(files: dict[str, str]) -> None:
    if "cert" not in files:
        pytest.skip("openssl is needed to make a certificate")
    result = _invoke(
        "register", NOWHERE, "--cert", files["cert"], "--key", files["key"], "--ca-file",
        files["cert"], "--timeout", "0.3", "--json",
    )  # fmt: skip
    assert result.exit_code == ExitStatus.NETWORK  # nothing listens on port 9: checked, then sent


def test_the_password_option_is_gone() -> None:
    result = _invoke("register", NOWHERE, "--password", "x")
    assert result.exit_code == 2
    # click's wording moved between releases ("No such option: --password",
    # "No such option '--password'"): hold the meaning, not the punctuation.
    assert re.search(r"No such option:? '?--password\b", result.stderr), result.stderr


# ------------------------------------------------------------------ --debug


@pytest.mark.parametrize(
    "args",
    [
        ["--debug", "register", NOWHERE, "--password-command", "false"],
        ["register", NOWHERE, "--password-command", "false", "--debug"],
        ["register", "--debug", NOWHERE, "--password-command", "false"],
    ],
)
def test_debug_before_or_after_the_command(args: list[str]) -> None:
    result = _invoke(*args)
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "error: --password-command: false exited with status 1" in result.stderr
    quiet = _invoke(*[a for a in args if a != "--debug"])
    assert "Traceback" not in quiet.stderr


@pytest.mark.parametrize("command", ["explain", "lint", "registrar", "demo", "query"])
def test_every_command_takes_debug(command: str) -> None:
    result = _invoke(command, "--debug", "--help")
    assert result.exit_code == 0 and "--debug" in result.stdout


# --------------------------------------------------------------- SIGPIPE


def _with_closed_stdout(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first write, as `| head -0` would
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sipcheck", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env={**os.environ, **CLEAN_ENV, **(env or {})},
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize(
    "args",
    [["explain", "--list"], ["explain", "407"], ["--help"], ["register", "--help"],
     ["lint", str(ROOT / "tests" / "data" / "rfc4475" / "insuf.dat")]],
)  # fmt: skip
def test_a_closed_stdout_is_a_quiet_141(args: list[str]) -> None:
    status, stderr = _with_closed_stdout(*args)
    assert (status, stderr) == (ExitStatus.BROKEN_PIPE, "")


@pytest.mark.parametrize("extra", [[], ["--json"]], ids=["ladder", "json"])
def test_register_into_a_closed_pipe_is_a_quiet_141(extra: list[str]) -> None:
    with CapturingRegistrar({"alice": PW}) as registrar:
        status, stderr = _with_closed_stdout(
            "register", f"alice@{registrar.where}", "--password-env", "PW", *extra,
            env={"PW": PW},
        )  # fmt: skip
    assert registrar.received  # it did run
    assert (status, stderr) == (ExitStatus.BROKEN_PIPE, "")


def test_head_dash_1_in_a_shell() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m sipcheck explain --list | head -1; echo ${{PIPESTATUS[0]}}",
        shell=True, executable="/bin/bash", capture_output=True, text=True, cwd=ROOT,
        check=False, env={**os.environ, **CLEAN_ENV},
    )  # fmt: skip
    first, status = proc.stdout.splitlines()
    assert first == "100 Trying"
    assert status in ("0", "141")  # 0 when everything fit in the pipe before head exited
    assert proc.stderr == ""


# ----------------------------------------------------- Ctrl-C at the prompt


def _spawn_in_pty(args: list[str]) -> tuple[int, int]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(NO_COLOR="1", SIPCHECK_DEBUG="")
    pid, master = pty.fork()
    if pid == 0:  # the child: a session of its own with the pty as its terminal
        try:
            os.chdir(ROOT)
            os.execve(sys.executable, [sys.executable, "-m", "sipcheck", *args], env)
        finally:
            os._exit(127)  # never run the rest of pytest in the child
    return pid, master


def _read_until(master: int, marker: bytes, deadline: float) -> bytes:
    seen = b""
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{marker!r} never came; got {seen!r}")
        ready, _, _ = select.select([master], [], [], left)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child has gone
                break
            if not chunk:
                break
            seen += chunk
    return seen


def _wait(pid: int, master: int, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                os.read(master, 4096)
            except OSError:
                pass
    return None


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def test_ctrl_c_at_the_password_prompt_exits_130_at_once() -> None:
    with CapturingRegistrar({"alice": PW}) as registrar:
        pid, master = _spawn_in_pty(["register", f"alice@{registrar.where}", "--timeout", "20"])
        try:
            _read_until(master, b"Password for alice", time.monotonic() + 20)
            time.sleep(0.2)  # the prompt is reading the terminal now
            pressed = time.monotonic()
            os.write(master, b"\x03")  # Ctrl-C: the terminal sends SIGINT
            status = _wait(pid, master, timeout=5)
            took = time.monotonic() - pressed
        finally:
            _kill(pid)
            os.close(master)
    assert status == ExitStatus.INTERRUPTED
    assert took < 3, f"Ctrl-C took {took:.1f} s"


def test_the_prompt_hides_what_is_typed_and_registers() -> None:
    with CapturingRegistrar({"alice": PW}) as registrar:
        pid, master = _spawn_in_pty(["register", f"alice@{registrar.where}", "--timeout", "20"])
        try:
            before = _read_until(master, b"Password for alice", time.monotonic() + 20)
            time.sleep(0.2)
            os.write(master, PW.encode() + b"\r")
            after = _read_until(master, b"REGISTERED", time.monotonic() + 20)
            status = _wait(pid, master, timeout=10)
        finally:
            _kill(pid)
            os.close(master)
    assert status == 0
    assert PW.encode() not in before + after  # no echo, and never printed
    assert PW.encode() not in registrar.wire
