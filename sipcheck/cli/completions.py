"""Static shell completion (bash, zsh, fish) generated from the click command tree.

The scripts list every command, option and choice, so completion needs no
call back into Python (no start-up delay per Tab) and a command or option that
is added without regenerating shows up as a diff in tests/test_completions.py.

The same scripts are shipped in the package (``sipcheck/completions/``, read by
``sipcheck completion SHELL``), so pip and pipx users have them too; the
generator writes both copies. Regenerate from the repository root::

    python -m sipcheck.cli.completions          # writes completions/*, sipcheck/completions/*
                                                # and sipcheck/help.txt (sipcheck.entry)
    python -m sipcheck.cli.completions --check  # exit 1 when a file is stale
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import click

PROG = "sipcheck"
REGENERATE = "python -m sipcheck.cli.completions"
FILES = {"bash": "sipcheck.bash", "zsh": "_sipcheck", "fish": "sipcheck.fish"}
# The copies the generator keeps in step: the source tree's and the package's.
DIRECTORIES = ("completions", "sipcheck/completions")
HELP_TEXT = "sipcheck/help.txt"  # sipcheck --help without click (sipcheck.entry)
_WORD = re.compile(r"[A-Za-z0-9_.:/+=@%,-]+\Z")
_HEADER = (
    f"Static completion for {PROG}, generated from its click commands by\n"
    f"  {REGENERATE}\nDo not edit: regenerate instead."
)


@dataclass(frozen=True)
class Value:
    """What a value (of an option or argument) completes to."""

    files: bool = False
    choices: tuple[str, ...] = ()
    metavar: str = "value"
    comma: bool = False  # a comma list of the choices: MD5,SHA-256


def _algorithms(with_sess: bool) -> Value:
    from sipcheck.sip.digest.compute import SUPPORTED_ALGORITHMS

    names = [a for a in SUPPORTED_ALGORITHMS if with_sess or not a.endswith("-sess")]
    return Value(choices=tuple(names), metavar="algorithm", comma=True)


def _codes() -> Value:
    from sipcheck.sip.knowledge.codes import all_codes

    return Value(choices=tuple(str(c.code) for c in all_codes()), metavar="code")


# Values that plain click parameters (no type to ask) complete to: (command, param name).
KNOWN_VALUES: dict[tuple[str, str], Callable[[], Value]] = {
    ("explain", "code"): _codes,
    ("registrar", "algorithms"): lambda: _algorithms(with_sess=True),
}


@dataclass(frozen=True)
class Opt:
    names: tuple[str, ...]
    help: str
    value: Value | None  # None: a flag
    repeatable: bool


@dataclass
class Node:
    path: tuple[str, ...]
    help: str
    options: list[Opt] = field(default_factory=list)
    arguments: list[tuple[Value, bool]] = field(default_factory=list)  # (value, variadic)
    children: list[Node] = field(default_factory=list)


def _word(text: str) -> str:
    if not _WORD.match(text):
        raise ValueError(f"{text!r} cannot appear unquoted in a completion script")
    return text


def _short(text: str | None, limit: int = 72) -> str:
    text = " ".join((text or "").split())
    text = re.split(r",? \(?e\.g\. ", text, maxsplit=1)[0]  # an example is no description
    text = re.split(r"(?<=[a-z0-9)])\. ", text, maxsplit=1)[0].rstrip(".")
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _value(param: click.Parameter, command: str) -> Value:
    ptype = param.type
    metavar = (param.name or "value").replace("_", "-").lower()
    known = KNOWN_VALUES.get((command, param.name or ""))
    if known is not None:
        return known()
    words = getattr(ptype, "completion_words", None)
    if callable(words):  # a sipcheck type that knows its values (e.g. --algorithm)
        choices = tuple(_word(str(w)) for w in words())
        return Value(
            choices=choices, metavar=metavar, comma=bool(getattr(ptype, "comma_separated", False))
        )
    if isinstance(ptype, click.Choice):
        return Value(choices=tuple(_word(str(c)) for c in ptype.choices), metavar=metavar)
    if isinstance(ptype, click.Path | click.File):
        return Value(files=True, metavar=metavar)
    return Value(metavar=metavar)


def _summary(command: click.Command) -> str:
    """The command's short help, or its help's first paragraph.

    Not click's get_short_help_str, whose truncation differs between click
    releases: the scripts must not depend on which click is installed.
    """
    if command.short_help:
        return command.short_help
    paragraph = (command.help or "").strip().split("\n\n", 1)[0]
    return paragraph.replace("\b\n", "")


def _names(param: click.Option) -> tuple[str, ...]:
    """The option's names, short before long as ``--help`` lists them.

    Click builds the help option's names from a set, so their order follows the
    string hash seed; sorting (stably, by prefix length) keeps the scripts stable.
    """
    names = (*param.opts, *param.secondary_opts)
    return tuple(_word(n) for n in sorted(names, key=lambda n: len(n) - len(n.lstrip("-"))))


def build_tree(
    command: click.Command, path: tuple[str, ...] = (PROG,), parent: click.Context | None = None
) -> Node:
    """The completion model of ``command`` and, for a group, its sub-commands."""
    # As make_context does: the command's context_settings (-h beside --help) apply.
    ctx = click.Context(command, info_name=path[-1], parent=parent, **command.context_settings)
    node = Node(path=path, help=_short(_summary(command)))
    for param in command.get_params(ctx):
        if isinstance(param, click.Option) and not param.hidden:
            flag = param.is_flag or param.count
            node.options.append(
                Opt(
                    names=_names(param),
                    help=_short(param.help),
                    value=None if flag else _value(param, path[-1]),
                    repeatable=bool(param.count or param.multiple),
                )
            )
        elif isinstance(param, click.Argument):
            node.arguments.append((_value(param, path[-1]), param.nargs < 0))
    if isinstance(command, click.Group):
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            if sub is not None and not sub.hidden:
                node.children.append(build_tree(sub, (*path, _word(sub_name)), ctx))
    return node


def _walk(node: Node) -> list[Node]:
    out = [node]
    for child in node.children:
        out.extend(_walk(child))
    return out


def _comment(prefix: str = "# ") -> str:
    return "".join(f"{prefix}{line}".rstrip() + "\n" for line in _HEADER.splitlines())


def _value_opts(node: Node) -> list[tuple[str, Value]]:
    return [(n, o.value) for o in node.options if o.value is not None for n in o.names]


def _option_words(node: Node) -> list[str]:
    return [n for o in node.options for n in o.names]


# ---------------------------------------------------------------- bash


def _bash_value(value: Value) -> str:
    if value.files:
        return "_sipcheck_files"
    if value.choices and value.comma:
        return f'_sipcheck_list "{" ".join(value.choices)}"'
    if value.choices:
        return f'_sipcheck_words "{" ".join(value.choices)}"'
    return ":"  # free text: nothing to offer


def _bash_patterns(patterns: Iterable[str]) -> str:
    """A case arm's pattern list, one pattern per line."""
    return " |\\\n".join(f"            {p}" for p in patterns) + ")"


def bash(tree: Node) -> str:
    nodes = _walk(tree)
    out = [_comment(), "# Install: source this file, or copy it to\n"]
    out.append("#   ~/.local/share/bash-completion/completions/sipcheck\n\n")
    out.append("_sipcheck() {\n")
    out.append('    local cur="${COMP_WORDS[COMP_CWORD]}" path="sipcheck" word="" skip=0 i\n')
    out.append("    COMPREPLY=()\n")
    out.append("    for ((i = 1; i < COMP_CWORD; i++)); do\n")
    out.append('        word="${COMP_WORDS[i]}"\n')
    out.append("        if ((skip)); then\n            skip=0\n            continue\n        fi\n")
    out.append('        case "$path $word" in\n')
    children = [" ".join(c.path) for n in nodes for c in n.children]
    if children:
        out.append(_bash_patterns(f'"{c}"' for c in children) + ' path="$path $word" ;;\n')
    takes_value = [f'"{" ".join(n.path)} {name}"' for n in nodes for name, _ in _value_opts(n)]
    if takes_value:
        out.append(_bash_patterns(takes_value) + " skip=1 ;;\n")
    out.append("            *) ;;\n        esac\n    done\n")
    out.append("    if ((skip)); then\n")
    out.append('        case "$path ${COMP_WORDS[COMP_CWORD - 1]}" in\n')
    for n in nodes:
        for name, value in _value_opts(n):
            out.append(f'            "{" ".join(n.path)} {name}") {_bash_value(value)} ;;\n')
    out.append("            *) ;;\n        esac\n        return 0\n    fi\n")
    out.append('    case "$path" in\n')
    for n in nodes:
        words = _option_words(n) + [c.path[-1] for c in n.children]
        arg_files = any(v.files for v, _ in n.arguments)
        for value, _ in n.arguments:
            words.extend(value.choices)
        line = f'_sipcheck_words "{" ".join(words)}"'
        if arg_files:
            options = f'_sipcheck_words "{" ".join(_option_words(n))}"'
            line = f'if [[ "$cur" == -* ]]; then {options}; else _sipcheck_files; fi'
        out.append(f'        "{" ".join(n.path)}") {line} ;;\n')
    out.append("        *) ;;\n    esac\n    return 0\n}\n\n")
    out.append("_sipcheck_words() {\n")
    out.append('    mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")\n}\n\n')
    out.append("_sipcheck_list() {\n")
    out.append("    # A comma list: complete the item after the last comma.\n")
    out.append('    local head=""\n')
    out.append('    [[ "$cur" == *,* ]] && head="${cur%,*},"\n')
    out.append('    mapfile -t COMPREPLY < <(compgen -W "$1" -P "$head" -- "${cur##*,}")\n')
    out.append("    compopt -o nospace 2>/dev/null\n}\n\n")
    out.append("_sipcheck_files() {\n    compopt -o filenames 2>/dev/null\n")
    out.append('    mapfile -t COMPREPLY < <(compgen -f -- "$cur")\n}\n\n')
    out.append("complete -F _sipcheck sipcheck\n")
    return "".join(out)


# ---------------------------------------------------------------- zsh


def _zsh_escape(text: str) -> str:
    """For inside a single-quoted _arguments spec or _describe item."""
    text = text.replace("\\", "\\\\")
    for ch in "[]:":
        text = text.replace(ch, "\\" + ch)
    return text.replace("'", "'\\''")


def _zsh_action(value: Value) -> str:
    if value.files:
        return f"{value.metavar}:_files"
    if value.choices and value.comma:
        return f"{value.metavar}:_sequence compadd - {' '.join(value.choices)}"
    if value.choices:
        return f"{value.metavar}:({' '.join(value.choices)})"
    return f"{value.metavar}: "


def _zsh_func(node: Node) -> str:
    return "_" + "_".join(part.replace("-", "_") for part in node.path)


def _zsh_specs(node: Node) -> list[str]:
    specs = []
    for opt in node.options:
        exclusive = f"({' '.join(opt.names)})" if len(opt.names) > 1 else ""
        prefix = "*" if opt.repeatable else exclusive
        if {"--help", "--version"} & set(opt.names):  # nothing else makes sense after them
            prefix = "(- *)"
        action = f":{_zsh_action(opt.value)}" if opt.value is not None else ""
        for name in opt.names:
            specs.append(f"'{prefix}{name}[{_zsh_escape(opt.help)}]{action}'")
    for index, (value, variadic) in enumerate(node.arguments, start=1):
        specs.append(f"'{'*' if variadic else index}:{_zsh_action(value)}'")
    return specs


def zsh(tree: Node) -> str:
    out = ["#compdef sipcheck\n", _comment(), "# Install: copy to a directory in $fpath\n"]
    out.append("# (e.g. ~/.zfunc, with fpath+=(~/.zfunc) before compinit), named _sipcheck.\n")
    for node in _walk(tree):
        func = _zsh_func(node)
        specs = _zsh_specs(node)
        out.append(f"\n{func}() {{\n")
        if node.children:
            out.append('  local curcontext="$curcontext" state line\n  typeset -A opt_args\n')
            specs += [f"'1: :{func}_commands'", "'*:: :->args'"]
            out.append("  _arguments -C -s \\\n    " + " \\\n    ".join(specs) + "\n")
            out.append("  case $state in\n    (args)\n      case $words[1] in\n")
            for child in node.children:
                out.append(f"        ({child.path[-1]}) {_zsh_func(child)} ;;\n")
            out.append("      esac\n      ;;\n  esac\n}\n")
            out.append(f"\n{func}_commands() {{\n  local -a commands\n  commands=(\n")
            for child in node.children:
                item = _zsh_escape(child.path[-1]) + ":" + child.help.replace("'", "'\\''")
                out.append(f"    '{item}'\n")
            out.append(
                f"  )\n  _describe -t commands '{' '.join(node.path)} command' commands\n}}\n"
            )
        else:
            out.append("  _arguments -s \\\n    " + " \\\n    ".join(specs) + "\n}\n")
    out.append('\n_sipcheck "$@"\n')
    return "".join(out)


# ---------------------------------------------------------------- fish


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_condition(node: Node, siblings_of_children: bool) -> str:
    parts = [f"__fish_seen_subcommand_from {p}" for p in node.path[1:]]
    if siblings_of_children and node.children:
        names = " ".join(c.path[-1] for c in node.children)
        parts.append(f"not __fish_seen_subcommand_from {names}")
    if not node.path[1:] and node.children:
        parts = ["__fish_use_subcommand"]
    return _fish_quote("; and ".join(parts)) if parts else ""


def _fish_names(names: tuple[str, ...]) -> str:
    out = []
    for name in names:
        if name.startswith("--"):
            out.append(f"-l {name[2:]}")
        elif len(name) == 2:
            out.append(f"-s {name[1:]}")
        else:
            out.append(f"-o {name[1:]}")
    return " ".join(out)


def _fish_value(value: Value) -> str:
    if value.files:
        return " -r -F"
    if value.choices and value.comma:
        return f" -r -f -a {_fish_quote('(__sipcheck_list ' + ' '.join(value.choices) + ')')}"
    if value.choices:
        return f" -r -f -a {_fish_quote(' '.join(value.choices))}"
    return " -r -f"


def fish(tree: Node) -> str:
    out = [_comment(), "# Install: copy to ~/.config/fish/completions/sipcheck.fish\n\n"]
    out.append("complete -c sipcheck -f\n\n")
    out.append("# A comma list: offer each item after what the token holds up to its last comma.\n")
    out.append("function __sipcheck_list\n")
    out.append("    set -l head (string replace -r '[^,]*$' '' -- (commandline -ct))\n")
    out.append("    for word in $argv\n")
    out.append('        echo "$head$word"\n')
    out.append("    end\n")
    out.append("end\n")
    for node in _walk(tree):
        cond = _fish_condition(node, siblings_of_children=True)
        where = f" -n {cond}" if cond else ""
        out.append(f"\n# {' '.join(node.path)}\n")
        for opt in node.options:
            takes = _fish_value(opt.value) if opt.value is not None else ""
            desc = f" -d {_fish_quote(opt.help)}" if opt.help else ""
            out.append(f"complete -c sipcheck{where} {_fish_names(opt.names)}{takes}{desc}\n")
        for child in node.children:
            desc = f" -d {_fish_quote(child.help)}" if child.help else ""
            out.append(f"complete -c sipcheck{where} -a {child.path[-1]}{desc}\n")
        for value, _ in node.arguments:
            if value.files:
                out.append(f"complete -c sipcheck{where} -F\n")
            elif value.choices:
                out.append(
                    f"complete -c sipcheck{where} -a {_fish_quote(' '.join(value.choices))}\n"
                )
    return "".join(out)


GENERATORS: dict[str, Callable[[Node], str]] = {"bash": bash, "zsh": zsh, "fish": fish}


def generate_all(command: click.Command | None = None) -> dict[str, str]:
    """{file name: script text} for every shell."""
    if command is None:
        from sipcheck.cli.main import cli

        command = cli
    tree = build_tree(command)
    return {FILES[shell]: gen(tree) for shell, gen in GENERATORS.items()}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    if len(rest) > 1 or any(a.startswith("-") for a in rest):
        print(f"usage: {REGENERATE} [--check] [DIRECTORY]", file=sys.stderr)
        return 2
    directories = [Path(rest[0])] if rest else [Path(d) for d in DIRECTORIES]
    stale = []
    scripts = generate_all()
    outputs = [
        (directory / name, text) for directory in directories for name, text in scripts.items()
    ]
    if not rest:  # the source tree: also the top-level help that sipcheck.entry prints
        from sipcheck.cli.static_help import render_help

        outputs.append((Path(HELP_TEXT), render_help()))
    for target, text in outputs:
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if check:
            stale.append(str(target))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target}")
    if stale:
        print(f"stale: {', '.join(stale)}; run `{REGENERATE}`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
