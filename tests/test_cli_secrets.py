"""No secret on the screen or the wire.

Every client command, every way of putting a password in the address, human
and JSON output: the command runs against sipcheck's registrar core on
127.0.0.1 (tests/support/capture.py), and the secret must appear nowhere in
stdout, stderr, the JSON document or the octets sent and received. The
commands run in-process (CliRunner), so no password is on any process's
command line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sipcheck.cli.main import cli
from tests.support.capture import CapturingRegistrar

SECRET = "Zq7-canary.9x"  # legal in a registration string and in a URI password
CLEAN_ENV = {"NO_COLOR": "1", "FORCE_COLOR": "", "SIPCHECK_DEBUG": "", "CI": "true"}
COMMANDS = ("register", "unregister", "query", "options")
FORMS = {
    "user:secret@host": "alice:{secret}@{where}",
    "sip:user:secret@host": "sip:alice:{secret}@{where}",
    "registration string /ext": "alice:{secret}@{where}/1001",
}


def _invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(
        cli, list(args), env={**CLEAN_ENV, **(env or {})}, input=input, catch_exceptions=False
    )


def _assert_no_secret(result: Result, registrar: CapturingRegistrar, secret: str) -> None:
    assert registrar.received, "nothing reached the registrar"
    assert result.stdout.count(secret) == 0
    assert result.stderr.count(secret) == 0
    assert registrar.wire.count(secret.encode()) == 0


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("command", COMMANDS)
def test_a_password_in_the_address_is_used_and_never_shown_or_sent(
    command: str, form: str, as_json: bool
) -> None:
    with CapturingRegistrar({"alice": SECRET}) as registrar:
        address = FORMS[form].format(secret=SECRET, where=registrar.where)
        extra = ["--json"] if as_json else ["-vv"]  # -vv: every message in full
        result = _invoke(command, address, "--timeout", "5", *extra)
    _assert_no_secret(result, registrar, SECRET)
    # The secret was the password: the registrar accepted the digest answer.
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "ps" in result.stderr
    if command != "options":
        assert b"Authorization: Digest" in registrar.wire
    if as_json:
        doc = json.loads(result.stdout)
        assert doc["exit_status"] == 0
        assert SECRET not in json.dumps(doc)
        assert doc["aor"] == f"sip:alice@{registrar.where}"


def test_the_extension_of_a_registration_string_is_the_contact_user() -> None:
    with CapturingRegistrar({"alice": SECRET}) as registrar:
        result = _invoke("register", f"alice:{SECRET}@{registrar.where}/1001", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["contact_sent"].startswith("sip:1001@127.0.0.1:")
    assert SECRET not in result.stdout + result.stderr


def test_an_escaped_uri_password_is_unescaped() -> None:
    secret = "p@ss:w0rd"
    with CapturingRegistrar({"alice": secret}) as registrar:
        result = _invoke("register", f"sip:alice:p%40ss%3Aw0rd@{registrar.where}", "--json")
    assert result.exit_code == 0, result.output
    for text in (secret, "p%40ss%3Aw0rd"):
        assert text not in result.stdout + result.stderr
        assert text.encode() not in registrar.wire


def _printer(tmp_path: Path) -> str:
    """A password command that prints $SIPCHECK_TEST_PW: no password in its argv."""
    script = tmp_path / "print-pw.py"
    script.write_text("import os\nprint(os.environ['SIPCHECK_TEST_PW'])\nprint('2nd line')\n")
    return f"{sys.executable} {script}"


@pytest.mark.parametrize("source", ["env", "file", "stdin", "command"])
@pytest.mark.parametrize("command", COMMANDS)
def test_password_sources_register_and_never_show(
    command: str, source: str, tmp_path: Path
) -> None:
    pw_file = tmp_path / "pw"
    pw_file.write_text(f"{SECRET}\nsecond line\n", encoding="utf-8")
    pw_file.chmod(0o600)  # as a password file should be (else: the warning below)
    flags = {
        "env": ["--password-env", "SIPCHECK_TEST_PW"],
        "file": ["--password-file", str(pw_file)],
        "stdin": ["--password-file", "-"],
        "command": ["--password-command", _printer(tmp_path)],
    }[source]
    with CapturingRegistrar({"alice": SECRET}) as registrar:
        result = _invoke(
            command, f"alice@{registrar.where}", "--json", *flags,
            env={"SIPCHECK_TEST_PW": SECRET}, input=f"{SECRET}\n" if source == "stdin" else None,
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    _assert_no_secret(result, registrar, SECRET)
    assert "warning" not in result.stderr
    if command != "options":
        assert b"Authorization: Digest" in registrar.wire


def test_a_wrong_password_in_the_address_is_not_shown_either() -> None:
    with CapturingRegistrar({"alice": "the-right-one"}) as registrar:
        result = _invoke("register", f"alice:{SECRET}@{registrar.where}", "-vv")
    assert result.exit_code == 3
    _assert_no_secret(result, registrar, SECRET)
    assert "credentials-rejected" in result.stdout


def test_bad_addresses_do_not_echo_the_secret() -> None:
    for address in (f"alice:{SECRET}@bad host", f"sip:alice:{SECRET}@bad host/1"):
        result = _invoke("register", address)
        assert result.exit_code == 2
        assert SECRET not in result.stdout + result.stderr


def test_a_password_file_others_may_read_is_used_with_a_warning(tmp_path: Path) -> None:
    pw_file = tmp_path / "pw"
    pw_file.write_text(f"{SECRET}\n", encoding="utf-8")
    pw_file.chmod(0o644)
    with CapturingRegistrar({"alice": SECRET}) as registrar:
        result = _invoke("register", f"alice@{registrar.where}", "--password-file", str(pw_file))
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"warning: --password-file: {pw_file} holds a password and is readable "
        f"by group or others (mode 0644): chmod 600 {pw_file}\n"
    )
    _assert_no_secret(result, registrar, SECRET)


@pytest.mark.parametrize(
    ("flag", "advice"),
    [
        ("--password-file", ", or leave the option out to be asked without echo"),
        ("--ha1-file", ""),  # an HA1 is never asked for
    ],
)
def test_a_secret_from_stdin_at_a_terminal_is_refused_naming_the_flag(
    flag: str, advice: str
) -> None:
    """Nothing is read from a person's terminal by a flag meant for a pipe (the
    password would echo); the password flag points at the prompt instead."""
    import os
    import pty
    import subprocess

    from tests.support.processes import SIPCHECK

    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [*SIPCHECK, "register", "alice@127.0.0.1:9", flag, "-"],
            stdin=terminal, capture_output=True, text=True, timeout=60,
            env={**os.environ, "NO_COLOR": "1"},
        )  # fmt: skip
    finally:
        os.close(terminal)
        os.close(controller)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: {flag} -: stdin is a terminal; pipe it in{advice}"]
    assert proc.stdout == ""
