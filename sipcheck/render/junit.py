"""JUnit XML for a ``check`` run (or one ``register``/``options``), as Jenkins, GitLab
and GitHub Actions read it: valid against the Jenkins xUnit plugin's ``junit-10.xsd``.

One ``<testsuites>`` holding one ``<testsuite name="sipcheck">`` with one
``<testcase classname="sipcheck.register|sipcheck.options" name="ACCOUNT" time="s">``
per account. A failed account has ``<failure message="ID: one line" type="ID">`` with
the plain-text ladder and verdict; one sipcheck could not judge (a usage or internal
error) has ``<error>`` instead; a disabled one ``<skipped/>``. Every checked account
has its ladder and verdict in ``<system-out>``.

Text from the wire may hold any octet. XML 1.0 forbids most C0 controls, and a report
should hold none: every control character (C0 but tab and newline, DEL, C1), lone
surrogate and noncharacter U+FFFE/U+FFFF is written as a visible ``\\xNN`` or
``\\uNNNN`` escape. Pure: a function of the checked accounts.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime

from rich.console import Console

from sipcheck.render.checked import CheckedAccount, first_problem, one_line
from sipcheck.render.ladder import render_ladder
from sipcheck.render.verdict import render_verdict
from sipcheck.trace import Outcome, Trace

__all__ = ["SUITE", "junit_report", "plain_text", "xml_safe"]

SUITE = "sipcheck"
WIDTH = 100  # columns of the plain-text ladder
MESSAGE_CHARS = 240  # the failure message attribute: one line, this long at most
# Not allowed in XML 1.0 (§2.2 Char), or a control character we keep out anyway.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable octet kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def xml_safe(text: str) -> str:
    """``text`` with nothing XML 1.0 forbids and no control character but tab and
    newline (a carriage return would not survive XML's line-end normalisation)."""
    return _UNSAFE.sub(_escape, text.replace("\r\n", "\n").replace("\r", "\n"))


def plain_text(trace: Trace, outcome: Outcome, *, verdict: bool = True) -> str:
    """The ladder (and the verdict) as plain text, no colour, ``WIDTH`` columns."""
    console = Console(no_color=True, width=WIDTH, record=True, file=io.StringIO())
    console.print(render_ladder(trace, outcome, verbose=0, width=WIDTH))
    if verdict:
        console.print(render_verdict(outcome))
    return console.export_text()


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _problem(account: CheckedAccount) -> tuple[str, str]:
    """The failure's type (a diagnosis id) and its one-line message."""
    outcome = account.outcome
    assert outcome is not None
    problem = first_problem(outcome)
    if problem is None:
        status = outcome.final_status
        kind, text = outcome.result, f"no diagnosis; final status {status or 'none'}"
    else:
        kind, text = problem.id, problem.message
    message = one_line(xml_safe(f"{kind}: {text}"))
    if len(message) > MESSAGE_CHARS:
        message = message[: MESSAGE_CHARS - 1] + "…"
    return xml_safe(kind), message


def _testcase(account: CheckedAccount) -> ET.Element:
    case = ET.Element(
        "testcase",
        {
            "classname": f"{SUITE}.{account.mode}",
            "name": xml_safe(account.name),
            "time": _seconds(account.seconds),
        },
    )
    if account.trace is None or account.outcome is None:
        ET.SubElement(case, "skipped", {"message": "register = false in the accounts file"})
        return case
    text = xml_safe(plain_text(account.trace, account.outcome))
    if not account.passed or not account.judged:
        kind, message = _problem(account)
        tag = "failure" if account.judged else "error"
        ET.SubElement(case, tag, {"message": message, "type": kind}).text = text
    ET.SubElement(case, "system-out").text = text
    return case


def junit_report(
    accounts: Sequence[CheckedAccount],
    *,
    seconds: float | None = None,
    timestamp: datetime | None = None,
    hostname: str | None = None,
) -> str:
    """The JUnit XML document (text, with its XML declaration) for ``accounts``.

    ``seconds`` is the run's wall time (default: the sum of the accounts' times, which
    a concurrent run exceeds); ``timestamp`` and ``hostname`` go on the testsuite.
    """
    failures = sum(1 for a in accounts if not a.skipped and a.judged and not a.passed)
    errors = sum(1 for a in accounts if not a.skipped and not a.judged)
    skipped = sum(1 for a in accounts if a.skipped)
    total = sum(a.seconds for a in accounts) if seconds is None else seconds
    counts = {
        "tests": str(len(accounts)),
        "failures": str(failures),
        "errors": str(errors),
    }
    root = ET.Element("testsuites", {"name": SUITE, **counts, "time": _seconds(total)})
    attributes = {"name": SUITE, **counts, "skipped": str(skipped), "time": _seconds(total)}
    if timestamp is not None:
        attributes["timestamp"] = timestamp.isoformat(timespec="seconds")
    if hostname is not None:
        attributes["hostname"] = xml_safe(hostname)
    suite = ET.SubElement(root, "testsuite", attributes)
    for account in accounts:
        suite.append(_testcase(account))
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
