"""sipcheck.entry: the console script prints the top-level help without click,
exactly as click prints it, and leaves everything else (and narrow terminals) to click."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sipcheck.cli.completions import HELP_TEXT, REGENERATE
from sipcheck.cli.static_help import render_help

ROOT = Path(__file__).resolve().parent.parent

CLICK_MAIN = "import sys; from sipcheck.cli.main import main; main()"
ENTRY_MAIN = (  # at exit (click exits by itself), which of click and rich were imported
    "import atexit, sys; from sipcheck.entry import main; "
    "atexit.register(lambda: sys.stderr.write("
    "' '.join(m for m in ('click', 'rich') if m in sys.modules))); main()"
)


def _run(code: str, *args: str, columns: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_the_packaged_help_is_what_click_renders() -> None:
    text = (ROOT / HELP_TEXT).read_text(encoding="utf-8")
    assert text == render_help(), f"{HELP_TEXT} is stale: run `{REGENERATE}` and commit it"
    assert text.startswith("Usage: sipcheck [OPTIONS] COMMAND [ARGS]...\n")


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("columns", [80, 200])
def test_help_without_click_is_byte_for_byte_clicks(flag: str, columns: int) -> None:
    by_click = _run(CLICK_MAIN, flag, columns=columns)
    by_entry = _run(ENTRY_MAIN, flag, columns=columns)
    assert by_click.returncode == by_entry.returncode == 0
    assert by_entry.stdout == by_click.stdout
    assert by_entry.stderr == ""  # neither click nor rich was imported


def test_a_narrow_terminal_and_other_arguments_go_to_click() -> None:
    narrow = _run(ENTRY_MAIN, "--help", columns=60)
    assert narrow.stdout == _run(CLICK_MAIN, "--help", columns=60).stdout
    assert narrow.stderr == "click"
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60
    version = _run(ENTRY_MAIN, "--version", columns=120)
    assert version.returncode == 0 and version.stdout.startswith("sipcheck")
    assert "click" in version.stderr
    bad = _run(ENTRY_MAIN, "--nope", columns=120)
    assert bad.returncode == 2 and "No such option" in bad.stderr


def test_the_console_script_and_python_dash_m_enter_here() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'sipcheck = "sipcheck.entry:main"' in pyproject
    assert '"help.txt"' in pyproject  # shipped in the package
    proc = subprocess.run(
        [sys.executable, "-m", "sipcheck", "-h"], capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "COLUMNS": "100"},
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stdout == render_help()


def test_every_command_has_its_own_short_help() -> None:
    # click shortens a missing short help differently from release to release;
    # with every command's own, help.txt is the same under every click we allow.
    import click

    from sipcheck.cli.main import cli

    ctx = click.Context(cli, info_name="sipcheck")
    missing = [n for n in cli.list_commands(ctx) if not cli.get_command(ctx, n).short_help]  # type: ignore[union-attr]
    assert missing == []
