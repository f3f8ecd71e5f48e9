"""Programs a test needs from the machine: a skip on a developer's machine, a failure
under CI (CI=true), where scripts/install-test-deps.sh must have installed them."""

from __future__ import annotations

import os
import shutil

import pytest


def missing(what: str) -> None:
    """pytest.fail under CI (the dependencies must be installed there), pytest.skip elsewhere."""
    hint = f"{what} is not installed (run scripts/install-test-deps.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(hint, pytrace=False)
    pytest.skip(hint)


def require_tool(name: str) -> str:
    """The path of the program ``name`` on PATH; see ``missing`` when there is none."""
    path = shutil.which(name)
    if path is None:
        missing(name)
    assert path is not None
    return path
