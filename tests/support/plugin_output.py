"""Reading what a Nagios plugin printed, as a monitoring core does: the first line
``SERVICE STATUS - text | perfdata``, split at the one ``|``, its perfdata parsed by
Monitoring::Plugin::Performance (tests/test_nagios.py runs it in perl), then the long
output lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.test_nagios import parse_perfstring

_FIRST = re.compile(r"(?P<service>SIP (?:REGISTER|OPTIONS)) (?P<status>OK|WARNING|CRITICAL|UNKNOWN)"
                    r" - (?P<text>[^|\n]*)")  # fmt: skip
EXIT = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


@dataclass(frozen=True)
class PluginOutput:
    service: str
    status: str
    text: str
    perfdata: dict[str, list[str | None]]  # label -> value, uom, warn, crit, min, max
    raw_perfdata: str
    long_output: list[str]


def read_plugin_output(stdout: str) -> PluginOutput:
    lines = stdout.splitlines()
    assert lines and stdout.endswith("\n"), stdout
    first = lines[0]
    assert first.count("|") <= 1
    text, _, perfdata = first.partition(" | ")
    match = _FIRST.fullmatch(text)
    assert match is not None, first
    rows = parse_perfstring(perfdata) if perfdata else []
    parsed = {row[0] or "": row[1:] for row in rows}
    # Every item read, each label once; Monitoring::Plugin leaves the guidelines' U
    # (no value measured) out and reads the rest (tests/test_nagios.py).
    measured = re.findall(r"(?:^| )'[^']*'=(?!U[; ]|U$)", perfdata)
    assert len(parsed) == len(rows) == len(measured), perfdata
    return PluginOutput(
        match.group("service"),
        match.group("status"),
        match.group("text"),
        parsed,
        perfdata,
        lines[1:],
    )
