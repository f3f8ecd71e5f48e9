"""``sipcheck completion SHELL``: print the shell completion script shipped in the package."""

from __future__ import annotations

import click

COMPLETION_HELP = """Print the completion script for SHELL (bash, zsh or fish).

\b
The scripts are static (no Python start-up per Tab) and shipped in the
package, so pip and pipx installs have them. Install once:

\b
  bash: sipcheck completion bash > ~/.local/share/bash-completion/completions/sipcheck
  zsh:  mkdir -p ~/.zfunc && sipcheck completion zsh > ~/.zfunc/_sipcheck
        (and in ~/.zshrc, before compinit: fpath+=(~/.zfunc))
  fish: sipcheck completion fish > ~/.config/fish/completions/sipcheck.fish

\b
Examples:
  sipcheck completion bash > ~/.local/share/bash-completion/completions/sipcheck
  source <(sipcheck completion bash)      # this shell only
"""


@click.command("completion", help=COMPLETION_HELP, short_help="Print a shell completion script.")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    from importlib.resources import files

    from sipcheck.cli.completions import FILES

    script = files("sipcheck") / "completions" / FILES[shell]
    click.echo(script.read_text(encoding="utf-8"), nl=False)
