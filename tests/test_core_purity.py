"""The sans-I/O core (``sipcheck.sip``) imports no I/O or UI library, reads no clock and
draws no random number of its own (DESIGN.md: time comes in as ``now``, randomness as
an injected ``random.Random``).

The rule, precisely:

* Importing every module of ``sipcheck.sip`` in a fresh interpreter loads none of
  socket, asyncio, ssl, selectors, click, rich, dns, scapy (nor a submodule).
* No module under sipcheck/sip imports ``time``, ``secrets`` or ``uuid`` (every
  ``time`` function reads a clock or sleeps; uuid1/uuid4 read the clock or the OS's
  randomness), calls ``os.urandom``/``os.getrandom``, or calls ``now``, ``utcnow`` or
  ``today`` on ``datetime``/``date`` (``datetime.fromtimestamp`` of a time the caller
  passes is formatting, and allowed).
* Of ``random`` only the class ``Random`` may be used: as a type, or constructed with
  an explicit seed argument. Its module-level functions (``random.random``,
  ``randint``, ``choice``, ``seed``...) draw from a hidden global generator, and
  ``SystemRandom`` and ``Random()`` without a seed draw from the OS.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import sipcheck.sip

CORE = Path(sipcheck.sip.__file__).parent
FORBIDDEN_MODULES = ("socket", "asyncio", "ssl", "selectors", "click", "rich", "dns", "scapy")
CLOCK_MODULES = ("time", "secrets", "uuid")
OS_RANDOM = ("urandom", "getrandom")
CLOCK_METHODS = ("now", "utcnow", "today")

_IMPORT_ALL = """
import importlib, json, pkgutil, sys
import sipcheck.sip as root
names = [root.__name__] + [
    info.name for info in pkgutil.walk_packages(root.__path__, root.__name__ + ".")
]
for name in {only}:
    importlib.import_module(name)
forbidden = {forbidden!r}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
print(json.dumps({{"modules": names, "loaded": loaded}}))
"""


def _import_in_fresh_interpreter(only: str = "names") -> dict[str, list[str]]:
    code = _IMPORT_ALL.format(only=only, forbidden=FORBIDDEN_MODULES)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, list[str]] = json.loads(out.stdout)
    return result


def test_importing_the_core_loads_no_io_or_ui_library() -> None:
    result = _import_in_fresh_interpreter()
    modules = result["modules"]
    assert "sipcheck.sip.wire.grammar" in modules and "sipcheck.sip.registrar.core" in modules
    if result["loaded"]:
        culprits = {
            name: found
            for name in modules
            if (found := _import_in_fresh_interpreter(repr([name]))["loaded"])
        }
        pytest.fail(f"the sans-I/O core loads {result['loaded']}: {culprits}")


# --- clocks and randomness, by the AST ---------------------------------------------


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def violations(source: str) -> list[str]:
    """Each clock read or global random draw in ``source``, as ``line: what``."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}  # local name -> what it is ("random", "datetime.datetime")
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                if top in CLOCK_MODULES:
                    found.append(f"{node.lineno}: import {alias.name}")
                aliases[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            top = node.module.split(".")[0]
            for alias in node.names:
                local = alias.asname or alias.name
                if top in CLOCK_MODULES:
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
                elif top == "random" and alias.name != "Random":
                    found.append(f"{node.lineno}: from random import {alias.name}")
                elif top == "os" and alias.name in OS_RANDOM:
                    found.append(f"{node.lineno}: from os import {alias.name}")
                aliases[local] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            full = f"{aliases.get(head, head)}.{rest}" if rest else aliases.get(head, head)
            if full.startswith("random.") and full != "random.Random":
                found.append(f"{node.lineno}: {dotted} (the global generator or the OS's)")
            elif full in (f"os.{name}" for name in OS_RANDOM):
                found.append(f"{node.lineno}: {dotted}")
            elif (
                full.split(".")[-1] in CLOCK_METHODS
                and full.split(".")[0] == "datetime"
                and len(full.split(".")) >= 2
            ):
                found.append(f"{node.lineno}: {dotted} (reads the clock)")
        elif isinstance(node, ast.Call) and not node.args and not node.keywords:
            dotted = _dotted(node.func)
            if dotted is not None:
                head, _, rest = dotted.partition(".")
                full = f"{aliases.get(head, head)}.{rest}" if rest else aliases.get(head, head)
                if full == "random.Random":
                    found.append(f"{node.lineno}: {dotted}() without a seed")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "import time\n",
        "import time as t\n",
        "from time import monotonic\n",
        "import secrets\n",
        "import uuid\n",
        "import random\nrandom.random()\n",
        "import random\nx = random.randint(1, 2)\n",
        "import random\nrandom.seed(1)\n",
        "import random\nr = random.SystemRandom()\n",
        "import random\nr = random.Random()\n",
        "import random as rnd\nrnd.choice([1])\n",
        "from random import choice\n",
        "from random import Random\nr = Random()\n",
        "import datetime\ndatetime.datetime.now()\n",
        "import datetime\ndatetime.date.today()\n",
        "from datetime import datetime\ndatetime.utcnow()\n",
        "from datetime import date as d\nd.today()\n",
        "import os\nos.urandom(8)\n",
        "from os import urandom\n",
    ],
)
def test_the_scan_finds_clock_reads_and_random_draws(source: str) -> None:
    assert violations(source), source


@pytest.mark.parametrize(
    "source",
    [
        "import random\ndef f(rng: random.Random) -> int:\n    return rng.randint(0, 9)\n",
        "import random\nr = random.Random(7)\n",
        "from random import Random\nr = Random(seed)\n",
        "import datetime\ndatetime.datetime.fromtimestamp(0, tz=datetime.timezone.utc)\n",
        "def f(now: float) -> float:\n    return now + 1\n",
        "import hashlib, hmac\n",
    ],
)
def test_the_scan_allows_injected_time_and_randomness(source: str) -> None:
    assert violations(source) == []


def test_no_core_module_reads_a_clock_or_draws_a_random_number() -> None:
    paths = sorted(CORE.rglob("*.py"))
    assert len(paths) > 20
    found = {
        str(path.relative_to(CORE)): v
        for path in paths
        if (v := violations(path.read_text(encoding="utf-8")))
    }
    assert found == {}
