"""The committed completion scripts match the click tree (both copies: completions/ in
the source tree and sipcheck/completions/ in the package), `sipcheck completion SHELL`
prints the packaged one, and they work in the shells.

A missing shell skips its test on a developer's machine and fails it under CI=true
(scripts/install-test-deps.sh installs zsh and fish).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from sipcheck.cli.completions import DIRECTORIES, FILES, REGENERATE, build_tree, generate_all
from sipcheck.cli.main import cli
from tests.support.cli import cli_runner
from tests.support.required import require_tool

ROOT = Path(__file__).resolve().parent.parent
COMPLETIONS = ROOT / "completions"
SHELLS = {"bash": ["bash", "-n"], "zsh": ["zsh", "-n"], "fish": ["fish", "--no-execute"]}


@pytest.mark.parametrize("directory", DIRECTORIES)
@pytest.mark.parametrize("name", sorted(FILES.values()))
def test_committed_scripts_are_up_to_date(name: str, directory: str) -> None:
    expected = generate_all()[name]
    path = ROOT / directory / name
    assert path.exists(), f"{directory}/{name} is missing: run `{REGENERATE}`"
    assert path.read_text(encoding="utf-8") == expected, (
        f"{directory}/{name} is stale (a command or option changed): run `{REGENERATE}` "
        "from the repository root and commit the result"
    )


@pytest.mark.parametrize("seed", ["0", "1", "2"])
def test_the_scripts_do_not_follow_the_hash_seed(seed: str) -> None:
    # Before click 8.5 the help option's names come out of a set: their order
    # followed PYTHONHASHSEED, and a CI run with another seed saw stale scripts.
    code = (
        "import json; from sipcheck.cli.completions import generate_all as g; "
        "print(json.dumps(g()))"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert json.loads(out) == generate_all()


@pytest.mark.parametrize("shell", sorted(FILES))
def test_completion_prints_the_packaged_script(shell: str) -> None:
    from importlib.resources import files

    result = cli_runner().invoke(cli, ["completion", shell], catch_exceptions=False)
    assert result.exit_code == 0 and result.stderr == ""
    packaged = (files("sipcheck") / "completions" / FILES[shell]).read_text("utf-8")
    assert result.stdout == packaged == generate_all()[FILES[shell]]


def test_the_package_ships_the_scripts() -> None:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "completions/*" in config["tool"]["setuptools"]["package-data"]["sipcheck"]
    assert DIRECTORIES == ("completions", "sipcheck/completions")


def test_completion_refuses_other_shells() -> None:
    result = cli_runner().invoke(cli, ["completion", "tcsh"])
    assert result.exit_code == 2 and "'tcsh' is not one of" in result.stderr


def test_values_are_completed_from_their_source() -> None:
    from sipcheck.sip.digest.compute import SUPPORTED_ALGORITHMS
    from sipcheck.sip.knowledge.codes import all_codes

    tree = build_tree(cli)
    nodes = {child.path[-1]: child for child in tree.children}
    values = {
        (command, name): opt.value
        for command, node in nodes.items()
        for opt in node.options
        for name in opt.names
    }
    client = values[("register", "--algorithm")]
    assert client is not None and client.comma
    assert client.choices == ("MD5", "SHA-256", "SHA-512-256")
    offered = values[("registrar", "--algorithm")]
    assert offered is not None and offered.comma and offered.choices == SUPPORTED_ALGORITHMS
    transport = values[("options", "--transport")]
    assert transport is not None and transport.choices == ("udp", "tcp", "tls")
    ((code, _),) = nodes["explain"].arguments
    assert code.choices == tuple(str(c.code) for c in all_codes())
    ((shell, _),) = nodes["completion"].arguments
    assert shell.choices == ("bash", "zsh", "fish")
    zsh = generate_all()[FILES["zsh"]]
    assert ":algorithms:_sequence compadd - MD5 SHA-256 SHA-512-256'" in zsh
    assert "'1:code:(100 180 181 182 183 199 200 " in zsh


def test_every_command_and_option_is_in_every_script() -> None:
    tree = build_tree(cli)
    assert {child.path[-1] for child in tree.children} == set(cli.list_commands(click.Context(cli)))
    for name, text in generate_all().items():
        for node in [tree, *tree.children]:
            assert node.path[-1] in text, (name, node.path)
            for opt in node.options:
                for opt_name in opt.names:
                    spelled = opt_name
                    if name == FILES["fish"]:
                        long = opt_name.startswith("--")
                        spelled = f"-l {opt_name[2:]}" if long else f"-s {opt_name[1:]}"
                    assert spelled in text, (name, node.path, opt_name)


# A tree with every kind of value, to exercise the branches sipcheck may grow into.
@click.group()
@click.option("--config", type=click.Path())
def fake() -> None:
    """Fake."""


@fake.command()
@click.option("--transport", type=click.Choice(["udp", "tcp", "tls"]), help="Transport.")
@click.option("--password-file", type=click.Path(), help="Password file.")
@click.option("--user", help="User's name: [quoted] 'text'.")
@click.option("-q", "--quiet/--no-quiet", help="Quiet.")
@click.argument("aor")
def register(**_: object) -> None:
    """Register an AoR."""


@fake.group()
def registrar() -> None:
    """Run a registrar."""


@registrar.command()
@click.option("--port", type=int)
@click.argument("mode", type=click.Choice(["open", "digest"]))
def start(**_: object) -> None:
    """Start it."""


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    directory = tmp_path_factory.mktemp("completions")
    for name, text in {**generate_all(), **_fake_scripts()}.items():
        (directory / name).write_text(text, encoding="utf-8")
        out[name] = directory / name
    return out


def _fake_scripts() -> dict[str, str]:
    return {f"fake-{name}": text for name, text in generate_all(fake).items()}


@pytest.mark.parametrize("shell", sorted(SHELLS))
def test_scripts_parse(shell: str, scripts: dict[str, Path]) -> None:
    program, *check = SHELLS[shell]
    executable = require_tool(program)
    name = FILES[shell]
    for path in (scripts[name], scripts[f"fake-{name}"]):
        proc = subprocess.run([executable, *check, str(path)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr


def _bash_complete(script: Path, words: list[str]) -> list[str]:
    array = " ".join(f"'{w}'" for w in words)
    program = (
        f"source '{script}'\nCOMP_WORDS=({array})\nCOMP_CWORD={len(words) - 1}\n"
        '_sipcheck\nprintf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    proc = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return [line for line in proc.stdout.splitlines() if line]


def test_bash_completes(scripts: dict[str, Path]) -> None:
    require_tool("bash")
    real = scripts["sipcheck.bash"]
    assert {"explain", "lint", "--help"} <= set(_bash_complete(real, ["sipcheck", ""]))
    assert _bash_complete(real, ["sipcheck", "li"]) == ["lint"]
    assert _bash_complete(real, ["sipcheck", "--debug", "ex"]) == ["explain"]
    assert _bash_complete(real, ["sipcheck", "explain", "--l"]) == ["--list"]
    assert _bash_complete(real, ["sipcheck", "lint", "--j"]) == ["--json"]
    assert _bash_complete(real, ["sipcheck", "lint", "tests/data/rfc4475/ins"]) == [
        "tests/data/rfc4475/insuf.dat"
    ]
    fake_script = scripts["fake-sipcheck.bash"]
    assert _bash_complete(fake_script, ["sipcheck", "register", "--transport", "t"]) == [
        "tcp",
        "tls",
    ]
    # The value of an option is skipped when looking for the sub-command.
    assert _bash_complete(fake_script, ["sipcheck", "--config", "x", "reg"]) == [
        "register",
        "registrar",
    ]
    assert _bash_complete(fake_script, ["sipcheck", "registrar", "start", "d"]) == ["digest"]
    assert "--no-quiet" in _bash_complete(fake_script, ["sipcheck", "register", "--"])
    files = _bash_complete(fake_script, ["sipcheck", "register", "--password-file", "pyproj"])
    assert files == ["pyproject.toml"]


def test_bash_completes_values(scripts: dict[str, Path]) -> None:
    require_tool("bash")
    real = scripts["sipcheck.bash"]
    algorithm = ["sipcheck", "register", "--algorithm"]
    assert _bash_complete(real, [*algorithm, ""]) == ["MD5", "SHA-256", "SHA-512-256"]
    assert _bash_complete(real, [*algorithm, "S"]) == ["SHA-256", "SHA-512-256"]
    assert _bash_complete(real, [*algorithm, "MD5,SHA-5"]) == ["MD5,SHA-512-256"]
    assert _bash_complete(real, [*algorithm, "SHA-256,"]) == [
        "SHA-256,MD5", "SHA-256,SHA-256", "SHA-256,SHA-512-256",
    ]  # fmt: skip
    assert "SHA-256-sess" in _bash_complete(real, ["sipcheck", "registrar", "--algorithm", "S"])
    assert _bash_complete(real, ["sipcheck", "query", "--transport", "t"]) == ["tcp", "tls"]
    assert _bash_complete(real, ["sipcheck", "explain", "48"]) == [str(c) for c in range(480, 490)]
    assert _bash_complete(real, ["sipcheck", "completion", "z"]) == ["zsh"]
    assert _bash_complete(real, ["sipcheck", "com"]) == ["completion"]
    assert {"-H", "--header", "--ha1-env", "-4", "-6", "--count", "-h"} <= set(
        _bash_complete(real, ["sipcheck", "register", "-"])
    )
    # The value of -H is skipped when looking for what to complete next.
    assert "--count" in _bash_complete(real, ["sipcheck", "register", "-H", "X-A: 1", "--co"])


def _fish_complete(script: Path, line: str) -> list[str]:
    proc = subprocess.run(
        ["fish", "--no-config", "-c", f"source '{script}'; complete -C '{line}'"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return [row.split("\t")[0] for row in proc.stdout.splitlines()]


def test_fish_completes(scripts: dict[str, Path]) -> None:
    require_tool("fish")
    real = scripts["sipcheck.fish"]
    assert {"explain", "lint"} <= set(_fish_complete(real, "sipcheck "))
    assert "--list" in _fish_complete(real, "sipcheck explain --")
    assert "--list" not in _fish_complete(real, "sipcheck lint --")
    assert "tests/data/rfc4475/insuf.dat" in _fish_complete(
        real, "sipcheck lint tests/data/rfc4475/ins"
    )
    fake_script = scripts["fake-sipcheck.fish"]
    assert _fish_complete(fake_script, "sipcheck register --transport t") == ["tcp", "tls"]
    assert "start" in _fish_complete(fake_script, "sipcheck registrar ")
    assert "digest" in _fish_complete(fake_script, "sipcheck registrar start ")


def test_fish_completes_values(scripts: dict[str, Path]) -> None:
    require_tool("fish")
    real = scripts["sipcheck.fish"]
    assert _fish_complete(real, "sipcheck register --algorithm MD5,S") == [
        "MD5,SHA-256", "MD5,SHA-512-256",
    ]  # fmt: skip
    assert _fish_complete(real, "sipcheck register --algorithm ") == [
        "MD5", "SHA-256", "SHA-512-256",
    ]  # fmt: skip
    assert _fish_complete(real, "sipcheck options --transport t") == ["tcp", "tls"]
    assert _fish_complete(real, "sipcheck explain 40") == [str(c) for c in range(400, 410)]
    assert _fish_complete(real, "sipcheck completion ") == ["bash", "fish", "zsh"]
