"""A click test runner that keeps stdout and stderr apart on every supported click."""

from __future__ import annotations

import inspect
from typing import Any

from click.testing import CliRunner


def cli_runner() -> CliRunner:
    """A CliRunner whose results have ``stdout`` and ``stderr`` apart.

    click 8.1 mixes stderr into stdout unless told ``mix_stderr=False``; click 8.2
    dropped that argument and always keeps them apart (there ``output`` is both).
    """
    apart = "mix_stderr" in inspect.signature(CliRunner).parameters
    options: dict[str, Any] = {"mix_stderr": False} if apart else {}
    return CliRunner(**options)
