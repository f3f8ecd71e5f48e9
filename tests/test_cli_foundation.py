"""The CLI edge: exit statuses, stdout/stderr split, JSON shape, colour, start-up cost."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from sipcheck.cli.lint import MAX_BYTES, read_input
from sipcheck.cli.main import SipcheckGroup, cli, exit_status_for
from sipcheck.cli.options import OutputOptions, make_console, output_options
from sipcheck.errors import (
    ConfigError,
    DigestError,
    ResolutionError,
    SipcheckError,
    TLSFailure,
    TransportError,
)
from sipcheck.exit_status import ExitStatus
from sipcheck.sip.knowledge.codes import all_codes
from tests.support.cli import cli_runner
from tests.support.processes import registrar

DATA = Path(__file__).parent / "data" / "rfc4475"
INSUF = DATA / "insuf.dat"
VALID = DATA / "regaut01.dat"
ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {"NO_COLOR": "", "FORCE_COLOR": "", "SIPCHECK_DEBUG": ""}


@pytest.fixture
def runner() -> CliRunner:
    return cli_runner()


def run(
    runner: CliRunner, *args: str, env: dict[str, str] | None = None, input: bytes | None = None
) -> Result:
    return runner.invoke(cli, list(args), env={**CLEAN_ENV, **(env or {})}, input=input)


def test_exit_statuses_are_the_documented_ones() -> None:
    # The README's table; scripts depend on these numbers.
    assert {s.name: int(s) for s in ExitStatus} == {
        "SUCCESS": 0, "INTERNAL_ERROR": 1, "USAGE": 2, "AUTH_FAILED": 3,
        "CLIENT_FAILURE": 4, "SERVER_FAILURE": 5, "GLOBAL_FAILURE": 6, "TIMEOUT": 7,
        "NETWORK": 8, "LINT_ERRORS": 10, "INTERRUPTED": 130, "BROKEN_PIPE": 141,
    }  # fmt: skip
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for status in ExitStatus:
        assert f"| {int(status)} |" in readme, f"exit status {int(status)} missing from README"


# ------------------------------------------------------------------ explain


def test_explain_407_names_both_challenge_headers(runner: CliRunner) -> None:
    result = run(runner, "explain", "407")
    assert result.exit_code == 0, result.output
    assert "WWW-Authenticate" in result.stdout
    assert "Proxy-Authenticate" in result.stdout
    assert result.stderr == ""


def test_explain_non_integer_is_a_usage_error(runner: CliRunner) -> None:
    result = run(runner, "explain", "abc")
    assert result.exit_code == ExitStatus.USAGE
    assert "'abc' is not a SIP response code" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("code", ["99", "700"])
def test_explain_out_of_range_is_a_usage_error(runner: CliRunner, code: str) -> None:
    result = run(runner, "explain", code)
    assert result.exit_code == 2
    assert "not a SIP status code" in result.stderr
    assert "hint:" in result.stderr


@pytest.mark.parametrize("args", [[], ["407", "--list"]])
def test_explain_needs_exactly_one_of_code_and_list(runner: CliRunner, args: list[str]) -> None:
    assert run(runner, "explain", *args).exit_code == 2


def test_explain_list_is_one_line_per_code(runner: CliRunner) -> None:
    result = run(runner, "explain", "--list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    codes = all_codes()
    assert len(lines) == len(codes)
    assert [line.split()[0] for line in lines] == [str(info.code) for info in codes]
    assert "407 Proxy Authentication Required" in lines


def test_explain_unregistered_code_gives_the_class_meaning(runner: CliRunner) -> None:
    result = run(runner, "explain", "499")
    assert result.exit_code == 0
    assert "Request Failure" in result.stdout
    assert "400 Bad Request" in result.stdout  # RFC 3261 §8.1.3.2: handled as x00


def test_explain_json(runner: CliRunner) -> None:
    result = run(runner, "explain", "401", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["schema_version"] == 1 and doc["code"] == 401
    listing = json.loads(run(runner, "explain", "--list", "--json").stdout)
    assert len(listing["codes"]) == len(all_codes())


# --------------------------------------------------------------------- lint


def test_lint_insufficient_headers_exits_10(runner: CliRunner) -> None:
    result = run(runner, "lint", str(INSUF))
    assert result.exit_code == ExitStatus.LINT_ERRORS
    for name in ("To", "From", "Call-ID", "Max-Forwards"):
        assert f"mandatory header {name} is missing" in result.stdout
    assert "missing-header" in result.stdout
    assert "4 errors" in result.stdout
    assert "Content-Length: 152" in result.stdout  # `l:` shown in long form
    assert "body: 152 bytes" in result.stdout


def test_lint_valid_message_exits_0(runner: CliRunner) -> None:
    result = run(runner, "lint", str(VALID))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("REGISTER sip:example.com SIP/2.0\n")
    assert "well-formed" in result.stdout
    assert "Call-ID: regaut01.0ha0isndaksdj" in result.stdout


def test_lint_reads_stdin(runner: CliRunner) -> None:
    result = run(runner, "lint", "-", input=VALID.read_bytes())
    assert result.exit_code == 0
    assert "stdin: well-formed" in result.stdout
    bad = run(runner, "lint", "-", input=INSUF.read_bytes())
    assert bad.exit_code == 10


def test_lint_problem_lines_show_line_and_column(runner: CliRunner) -> None:
    message = VALID.read_bytes().replace(b"CSeq: 9338 REGISTER", b"CSeq: 9338 INVITE")
    result = run(runner, "lint", "-", input=message)
    assert result.exit_code == 10
    line = next(x for x in result.stdout.splitlines() if "cseq-method" in x)
    assert line.split()[:3] == ["error", "6", "cseq-method"]


def test_lint_json_is_one_object_and_nothing_else(runner: CliRunner) -> None:
    result = run(runner, "lint", "--json", str(INSUF))
    assert result.exit_code == 10
    doc = json.loads(result.stdout)  # fails on any extra text
    assert result.stderr == ""
    assert set(doc) == {
        "schema_version", "ok", "start_line", "headers", "body_length", "problems",
    }  # fmt: skip
    assert doc["schema_version"] == 1 and doc["ok"] is False
    assert doc["start_line"] == "INVITE sip:user@example.com SIP/2.0"
    assert ["Content-Length", "152"] in doc["headers"]
    assert doc["body_length"] == 152
    assert {p["code"] for p in doc["problems"]} == {"missing-header"}
    assert set(doc["problems"][0]) == {"severity", "code", "message", "line", "column"}
    ok = json.loads(run(runner, "lint", "--json", str(VALID)).stdout)
    assert ok["ok"] is True and ok["problems"] == []


def test_lint_json_of_garbage(runner: CliRunner) -> None:
    result = run(runner, "lint", "--json", "-", input=b"\xff\x00 not sip\r\n\r\n")
    assert result.exit_code == 10
    doc = json.loads(result.stdout)
    assert doc["start_line"] is None and doc["headers"] == [] and doc["body_length"] == 0
    assert doc["problems"][0]["code"] == "parse-error"


def test_lint_missing_file_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "lint", str(tmp_path / "nope.sip"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and "nope.sip" in result.stderr
    assert result.stdout == ""


def test_lint_unreadable_file_is_a_usage_error(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # chmod 0 stops every user but root, so access() is made to answer as it would
    # for them: the test means the same as root and as anyone else.
    path = tmp_path / "secret.sip"
    path.write_bytes(VALID.read_bytes())
    path.chmod(0)
    real_access = os.access

    def access(target: str | Path, mode: int, **kwargs: bool) -> bool:
        if os.fspath(target) == str(path) and mode & os.R_OK:
            return False
        return real_access(target, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)
    result = run(runner, "lint", str(path))
    assert result.exit_code == 2
    assert f"'{path}' is not readable" in result.stderr
    assert result.stdout == ""


def test_lint_file_that_fails_to_open_is_a_usage_error(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # access() may say yes and open() still fail (root on NFS with root_squash, a
    # security module): the read itself is refused, and that is exit 2 too.
    import sipcheck.cli.lint as lint_module

    path = tmp_path / "secret.sip"
    path.write_bytes(VALID.read_bytes())
    opened: list[str] = []

    def refuse(file: str, mode: str = "r") -> object:
        opened.append(file)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), file)

    monkeypatch.setattr(lint_module, "open", refuse, raising=False)
    result = run(runner, "lint", str(path))
    assert opened == [str(path)]
    assert result.exit_code == 2
    assert f"error: cannot read '{path}': Permission denied" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr


def test_read_input_errors_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        read_input(str(tmp_path))  # a directory: open() fails even for root
    big = tmp_path / "big"
    big.write_bytes(b"x" * (MAX_BYTES + 1))
    with pytest.raises(ConfigError, match="larger than"):
        read_input(str(big))


def test_read_input_without_a_binary_stdin_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdin", None)  # what Python sets when fd 0 is closed
    with pytest.raises(ConfigError, match="cannot read stdin: there is no binary"):
        read_input("-")
    monkeypatch.setattr(sys, "stdin", io.StringIO("REGISTER"))  # text only, no .buffer
    with pytest.raises(ConfigError, match="cannot read stdin: there is no binary"):
        read_input("-")


def _lint_process(stdin: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """``sipcheck lint -`` as a real process; ``stdin`` is a bash redirection."""
    return subprocess.run(
        ["bash", "-c", f'exec "$0" -m sipcheck lint - {stdin}', sys.executable],
        input=input, capture_output=True, cwd=ROOT, env={**os.environ, **CLEAN_ENV},
        check=False,
    )  # fmt: skip


def test_lint_reads_the_stdin_of_a_real_process() -> None:
    valid = _lint_process("", input=VALID.read_bytes())
    assert valid.returncode == 0, valid.stderr
    assert valid.stderr == b""
    insufficient = _lint_process("", input=INSUF.read_bytes())
    assert insufficient.returncode == 10, insufficient.stderr
    closed = _lint_process("<&-")
    assert closed.returncode == 2, closed.stderr
    assert b"cannot read stdin: there is no binary standard input" in closed.stderr
    assert b"Traceback" not in closed.stderr


def test_lint_escapes_terminal_control_characters(runner: CliRunner) -> None:
    message = VALID.read_bytes().replace(b"NoOneKnowsThisScheme", b"\x1b[2J\x1b]0;pwned\x07\xff")
    result = run(runner, "lint", "-", input=message)
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    assert "\\x1b[2J" in result.stdout and "\\xff" in result.stdout


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=400), as_json=st.booleans())
def test_lint_never_crashes_on_any_bytes(data: bytes, as_json: bool) -> None:
    args = ["lint", "--json", "-"] if as_json else ["lint", "-"]
    result = cli_runner().invoke(cli, args, input=data, env=CLEAN_ENV)
    assert result.exit_code in (0, 10), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    if as_json:
        json.loads(result.stdout)


@settings(max_examples=60, deadline=None)
@given(data=st.lists(st.sampled_from(VALID.read_bytes().split(b"\r\n")), max_size=12))
def test_lint_never_crashes_on_shuffled_headers(data: list[bytes]) -> None:
    result = cli_runner().invoke(cli, ["lint", "-"], input=b"\r\n".join(data), env=CLEAN_ENV)
    assert result.exit_code in (0, 10), result.output


# ------------------------------------------------------------ colour, width


def test_no_color_env_wins_over_forced_terminal(runner: CliRunner) -> None:
    forced = run(runner, "lint", str(INSUF), env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced.stdout  # the control: colour really can be forced
    for env in ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, {"FORCE_COLOR": "1", "NO_COLOR": "x"}):
        result = run(runner, "lint", str(INSUF), env=env)
        assert "\x1b" not in result.stdout
        assert result.exit_code == 10
    flag = run(runner, "lint", "--no-color", str(INSUF), env={"FORCE_COLOR": "1"})
    assert "\x1b" not in flag.stdout
    explain = run(runner, "explain", "407", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b" not in explain.stdout


def test_make_console_is_built_at_call_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert make_console(False).color_system is not None
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_console(False).color_system is None  # read now, not at import
    monkeypatch.delenv("NO_COLOR")
    assert make_console(True).color_system is None
    monkeypatch.delenv("FORCE_COLOR")
    piped = make_console(False, stderr=True)  # pytest captures: not a terminal
    assert piped.color_system is None and piped.width == 100 and piped.file is sys.stderr


def test_output_options_reach_the_command(runner: CliRunner) -> None:
    seen: list[OutputOptions] = []

    @click.command()
    @output_options
    def probe(output: OutputOptions) -> None:
        seen.append(output)

    runner.invoke(probe, ["--json", "-vv", "--no-color"], catch_exceptions=False)
    assert seen == [OutputOptions(json=True, no_color=True, verbose=2)]
    help_text = runner.invoke(probe, ["--help"]).stdout
    assert help_text.index("--json") < help_text.index("--no-color") < help_text.index("-v")


# ------------------------------------------------------------- error edge


def _group_raising(exc: BaseException | None, status: int | None = None) -> click.Group:
    group = SipcheckGroup(name="sipcheck", params=list(cli.params))

    @group.command()
    def boom() -> int | None:
        if exc is not None:
            raise exc
        return status

    @group.command()
    @click.pass_context
    def leave(ctx: click.Context) -> None:
        ctx.exit(5)

    return group


class _Decided(SipcheckError):
    exit_status = ExitStatus.AUTH_FAILED


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (ConfigError("bad account", hint="write user@domain"), 2),
        (TransportError("connection refused"), 8),
        (TLSFailure("certificate expired"), 8),
        (ResolutionError("no SRV records"), 8),
        (DigestError("unsupported algorithm"), 1),
        (SipcheckError("something"), 1),
        (_Decided("403 after the answer"), 3),
    ],
)
def test_sipcheck_errors_map_to_exit_statuses(
    runner: CliRunner, exc: SipcheckError, status: int
) -> None:
    assert exit_status_for(exc) == status
    result = runner.invoke(_group_raising(exc), ["boom"], env=CLEAN_ENV)
    assert result.exit_code == status
    assert f"error: {exc}" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    if exc.hint:
        assert f"hint: {exc.hint}" in result.stderr


def test_unexpected_exception_is_an_internal_error_without_traceback(runner: CliRunner) -> None:
    result = runner.invoke(_group_raising(ValueError("oops")), ["boom"], env=CLEAN_ENV)
    assert result.exit_code == 1
    assert "internal error: ValueError: oops" in result.stderr
    assert "--debug" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "env"), [(["--debug", "boom"], {}), (["boom"], {"SIPCHECK_DEBUG": "1"})]
)
def test_debug_shows_the_traceback(runner: CliRunner, args: list[str], env: dict[str, str]) -> None:
    group = _group_raising(ValueError("oops"))
    result = runner.invoke(group, args, env={**CLEAN_ENV, **env})
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr
    assert "ValueError: oops" in result.stderr
    # The flag does not leak into the next run.
    again = runner.invoke(group, ["boom"], env=CLEAN_ENV)
    assert "Traceback" not in again.stderr


def test_keyboard_interrupt_is_130(runner: CliRunner) -> None:
    result = runner.invoke(_group_raising(KeyboardInterrupt()), ["boom"], env=CLEAN_ENV)
    assert result.exit_code == ExitStatus.INTERRUPTED
    assert "interrupted" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_decide_their_exit_status(runner: CliRunner) -> None:
    assert runner.invoke(_group_raising(None, ExitStatus.TIMEOUT), ["boom"]).exit_code == 7
    assert runner.invoke(_group_raising(None, None), ["boom"]).exit_code == 0
    assert runner.invoke(_group_raising(None), ["leave"]).exit_code == 5


def test_usage_errors_are_2(runner: CliRunner) -> None:
    for args in (["no-such-command"], ["lint", "--no-such-option", "x"], ["lint"]):
        result = run(runner, *args)
        assert result.exit_code == 2, args
        assert "Usage:" in result.stderr and "Traceback" not in result.stderr


def test_version_and_help(runner: CliRunner) -> None:
    from sipcheck import __version__

    assert run(runner, "--version").stdout.strip() == f"sipcheck, version {__version__}"
    help_text = run(runner, "--help").stdout
    assert "explain" in help_text and "lint" in help_text


# --------------------------------------------------------------- start-up


def _modules_after(argv: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from sipcheck.cli.main import cli\n"
        f"status = cli.main({argv!r}, prog_name='sipcheck', standalone_mode=False)\n"
        "sys.stderr.write('\\n'.join(sorted(sys.modules)))\n"
        "sys.exit(status)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stderr.splitlines())


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        *(
            [cmd, "--help"]
            for cmd in (
                "explain",
                "lint",
                "register",
                "unregister",
                "query",
                "options",
                "registrar",
            )
        ),
    ],
)
def test_help_imports_no_scapy_dns_or_rich(argv: list[str]) -> None:
    modules = _modules_after(argv)
    heavy = {m.split(".")[0] for m in modules} & {"scapy", "dns", "rich", "asyncio"}
    assert not heavy, f"`sipcheck {' '.join(argv)}` imported {sorted(heavy)}"


@pytest.mark.parametrize("json_output", [True, False], ids=["json", "ladder"])
def test_register_over_udp_to_a_numeric_server_imports_no_tls_dns_or_asyncio(
    json_output: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-shot path (net.blocking): a blocking UDP socket, no DNS (--server is
    numeric), no TLS, no event loop; rich only to draw the ladder, never for --json."""
    monkeypatch.setenv("SIPCHECK_TEST_PW", "pw")
    with registrar(["--account", "alice:pw"]) as server:
        where = f"127.0.0.1:{server.ports['udp']}"
        json_flag = ["--json"] if json_output else []
        argv = ["register", "alice@example.com", "--server", where, "--password-env",
                "SIPCHECK_TEST_PW", *json_flag]  # fmt: skip
        modules = _modules_after(argv)
    ran = {"sipcheck.net.client", "sipcheck.net.blocking", "sipcheck.sip.digest.compute"}
    assert ran <= modules
    heavy = {m.split(".")[0] for m in modules} & {"asyncio", "ssl", "_ssl", "dns", "scapy", "rich"}
    assert heavy == (set() if json_output else {"rich"})
    # the knowledge base (every code's text) is for the ladder's summaries
    assert ("sipcheck.sip.knowledge.codes" in modules) is not json_output


def test_python_dash_m_entry_point() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sipcheck", "explain", "abc"],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "not a SIP response code" in proc.stderr


# --------------------------------------------------------------------- demo


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_demo_runs_every_scenario_as_expected(runner: CliRunner, transport: str) -> None:
    result = run(runner, "demo", "--transport", transport, "--no-color")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("as expected:") == 4
    assert "NOT as expected" not in result.stdout


def test_demo_drives_net_and_the_core_not_other_commands_runners() -> None:
    modules = _modules_after(["demo"])
    assert {"sipcheck.net.server", "sipcheck.net.client", "sipcheck.cli.client_settings"} <= modules
    assert not modules & {"sipcheck.cli.client_run", "sipcheck.cli.registrar_run"}


# --------------------------------------------------------------------- JSON


def test_emit_json_is_the_one_writer(capsys: pytest.CaptureFixture[str]) -> None:
    from sipcheck.cli.options import emit_json

    emit_json({"schema_version": 1, "text": "Grüße \udcff"})
    emit_json({"b": 2, "a": [1]}, line=True)
    out = capsys.readouterr().out
    assert out.isascii()
    first, second = out.split("\n}\n")
    assert json.loads(first + "}") == {"schema_version": 1, "text": "Grüße \udcff"}
    assert second == '{"b": 2, "a": [1]}\n'  # one line, keys in the order given
