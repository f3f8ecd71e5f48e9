"""``sipcheck explain``: what a SIP response code means, above all to a REGISTER."""

from __future__ import annotations

import click

from sipcheck.cli.options import OutputOptions, emit_json, output_options
from sipcheck.sip.wire.grammar import is_uint


def _parse_code(value: str) -> int:
    text = value.strip()
    if not is_uint(text, maximum=999):
        raise click.BadParameter(
            f"{value!r} is not a SIP response code; give a number such as 401 or 407.",
            param_hint="'CODE'",
        )
    return int(text)


@click.command(
    short_help="Explain a SIP response code.",
    epilog="""\b
Examples:
  sipcheck explain 407          what a 407 means to a REGISTER, what to check
  sipcheck explain 499          an unregistered code: what its class means
  sipcheck explain --list       every known code, one per line
  sipcheck explain 403 --json   the same knowledge as JSON
""",
)
@click.argument("code", required=False)
@click.option("--list", "list_codes", is_flag=True, help="List every known response code.")
@output_options
def explain(code: str | None, list_codes: bool, output: OutputOptions) -> None:
    """Explain a SIP response CODE: its meaning, what it means for a REGISTER and what to
    check next."""
    if list_codes and code is not None:
        raise click.UsageError("give either a CODE or --list, not both")
    if not list_codes and code is None:
        raise click.UsageError("missing CODE (or --list); for example: sipcheck explain 407")

    from sipcheck.render.explain import code_to_dict, render_code, render_code_list
    from sipcheck.sip.knowledge.codes import all_codes, lookup

    if list_codes:
        infos = all_codes()
        if output.json:
            emit_json({"schema_version": 1, "codes": [code_to_dict(i) for i in infos]})
        else:
            click.echo(render_code_list(infos).rstrip("\n"))
        return

    assert code is not None
    info = lookup(_parse_code(code))  # ConfigError outside 100-699: exit 2
    if output.json:
        emit_json({"schema_version": 1, **code_to_dict(info)})
    else:
        output.console().print(render_code(info))
