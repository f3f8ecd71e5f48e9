"""JUnit XML: valid against the Jenkins xUnit plugin's junit-10.xsd (tests/data/junit,
see SOURCES.md there), read back by junitparser, XML-escaped, and free of the control
characters a server can put on the wire. Inputs are paired runs (tests/support).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from sipcheck.render.checked import CheckedAccount
from sipcheck.render.junit import MESSAGE_CHARS, junit_report, plain_text, xml_safe
from tests.support import checked as make
from tests.support.checked import EVIL_REASON, PASSWORD

XSD = Path(__file__).parent / "data" / "junit" / "junit-10.xsd"
# XML 1.0 §2.2: Char ::= #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
XML_CHAR = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(XSD)


@pytest.fixture(scope="module")
def mixed() -> list[CheckedAccount]:
    return [
        make.registered("alice"),
        make.wrong_password("bob"),
        make.lossy("carol"),
        make.timed_out("silent"),
        make.unreachable("dead"),
        make.trunk("carrier"),
        make.evil("evil <&>\"' ]]>\x1b"),
        make.not_judged("broken"),
        make.skipped("off"),
        make.skipped("trunk off", "options"),
    ]


def parse(text: str) -> JUnitXml:
    return JUnitXml.fromstring(text.encode("utf-8"))


def suite_of(xml: JUnitXml) -> TestSuite:
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    assert isinstance(suite, TestSuite)
    return suite


def cases(xml: JUnitXml) -> Iterator[TestCase]:
    yield from suite_of(xml)


def strings_of(root: ET.Element) -> Iterator[str]:
    for element in root.iter():
        yield element.tag
        yield from element.attrib.values()
        yield element.text or ""
        yield element.tail or ""


def test_valid_against_junit_10_xsd(
    schema: xmlschema.XMLSchema, mixed: list[CheckedAccount]
) -> None:
    text = junit_report(
        mixed, seconds=31.6, timestamp=datetime(2025, 3, 1, 12, 0, 5), hostname="ci-runner-1"
    )
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')
    schema.validate(text)
    assert schema.is_valid(junit_report([]))
    assert schema.is_valid(junit_report([make.registered()]))


def test_the_schema_would_refuse_a_wrong_shape(schema: xmlschema.XMLSchema) -> None:
    """The copy of the schema is the real one: it refuses what the format forbids."""
    assert not schema.is_valid("<testsuites><testsuite><testcase/></testsuite></testsuites>")
    assert not schema.is_valid('<testsuites skipped="1"/>')


def test_read_back_by_junitparser(mixed: list[CheckedAccount]) -> None:
    xml = parse(junit_report(mixed, seconds=31.6))
    suite = suite_of(xml)
    assert (suite.name, suite.tests, suite.failures, suite.errors, suite.skipped) == (
        "sipcheck", 10, 4, 1, 2,
    )  # fmt: skip
    assert suite.time == pytest.approx(31.6)
    assert (xml.tests, xml.failures, xml.errors) == (10, 4, 1)
    got = [(c.classname, c.name, c.time, [type(r).__name__ for r in c.result]) for c in cases(xml)]
    assert got == [
        ("sipcheck.register", "alice", 0.024, []),
        ("sipcheck.register", "bob", 0.024, ["Failure"]),
        ("sipcheck.register", "carol", 0.524, []),
        ("sipcheck.register", "silent", 31.5, ["Failure"]),
        ("sipcheck.register", "dead", 0.006, ["Failure"]),
        ("sipcheck.options", "carrier", 0.008, []),
        ("sipcheck.register", "evil <&>\"' ]]>\\x1b", 0.012, ["Failure"]),
        ("sipcheck.register", "broken", 0.024, ["Error"]),
        ("sipcheck.register", "off", 0.0, ["Skipped"]),
        ("sipcheck.options", "trunk off", 0.0, ["Skipped"]),
    ]


def test_failures_carry_the_diagnosis_ladder_and_verdict(mixed: list[CheckedAccount]) -> None:
    by_name = {c.name: c for c in cases(parse(junit_report(mixed)))}
    expected = {
        "bob": "credentials-rejected",
        "silent": "timeout",
        "dead": "unreachable",
        "broken": "credentials-rejected",
    }
    for name, kind in expected.items():
        (result,) = by_name[name].result
        assert isinstance(result, (Failure, Error))
        assert result.type == kind
        assert result.message.startswith(f"{kind}: ")
        assert "\n" not in result.message and len(result.message) <= MESSAGE_CHARS
        body = result.text or ""
        assert body.startswith("sipcheck register sip:alice@example.com\n")
        assert "─REGISTER─" in body  # the ladder
        assert "FAILED" in body and f"[error] {kind}:" in body  # the verdict
    assert isinstance(by_name["broken"].result[0], Error)
    (bob,) = by_name["bob"].result
    assert "401 Unauthorized" in (bob.text or "")


def test_system_out_holds_the_ladder(mixed: list[CheckedAccount]) -> None:
    by_name = {c.name: c for c in cases(parse(junit_report(mixed)))}
    alice = by_name["alice"].system_out or ""
    assert alice.startswith("sipcheck register sip:alice@example.com\n")
    assert "200 OK" in alice and "REGISTERED" in alice
    assert "OPTIONS" in (by_name["carrier"].system_out or "")
    assert by_name["off"].system_out is None
    (skip,) = by_name["off"].result
    assert isinstance(skip, Skipped)
    assert skip.message == "register = false in the accounts file"


def test_long_messages_are_cut_to_one_line(mixed: list[CheckedAccount]) -> None:
    by_name = {c.name: c for c in cases(parse(junit_report(mixed)))}
    (evil,) = by_name["evil <&>\"' ]]>\\x1b"].result
    assert evil.type == "forbidden"
    assert len(evil.message) == MESSAGE_CHARS and evil.message.endswith("…")
    assert evil.message.startswith("forbidden: 403 Forbidden \\x1b[31mred\\x07 <&> ]]> \\x85")


def test_no_control_characters_from_the_wire(mixed: list[CheckedAccount]) -> None:
    """The server's reason phrase and Server header held ESC, BEL, NUL, C1 NEL: none is
    left, each is a visible escape, and every character is an XML 1.0 Char."""
    text = junit_report(mixed)
    assert XML_CHAR.fullmatch(text)
    root = ET.fromstring(text.encode("utf-8"))
    for value in strings_of(root):
        assert not CONTROL.search(value), value
    assert "\x1b" not in text and "\\x1b[31mred" in text
    assert "&lt;&amp;&gt;" in text  # the reason's markup, escaped
    assert EVIL_REASON not in text


def test_attributes_and_times(mixed: list[CheckedAccount]) -> None:
    root = ET.fromstring(
        junit_report(mixed, timestamp=datetime(2025, 3, 1, 12, 0, 5), hostname="h\x07st")
    )
    suite = root.find("testsuite")
    assert suite is not None
    assert root.attrib == {
        "name": "sipcheck", "tests": "10", "failures": "4", "errors": "1", "time": "32.122",
    }  # fmt: skip
    assert suite.attrib == {
        "name": "sipcheck", "tests": "10", "failures": "4", "errors": "1", "skipped": "2",
        "time": "32.122", "timestamp": "2025-03-01T12:00:05", "hostname": "h\\x07st",
    }  # fmt: skip
    assert [c.get("time") for c in suite.iter("testcase")] == [
        "0.024", "0.024", "0.524", "31.500", "0.006", "0.008", "0.012", "0.024", "0.000", "0.000",
    ]  # fmt: skip


def test_password_never_in_the_report(mixed: list[CheckedAccount]) -> None:
    text = junit_report(mixed)
    assert PASSWORD not in text


def test_plain_text_has_no_colour() -> None:
    account = make.wrong_password()
    assert account.trace is not None and account.outcome is not None
    text = plain_text(account.trace, account.outcome)
    assert "\x1b" not in text
    assert max(len(line) for line in text.splitlines()) <= 100
    ladder = plain_text(account.trace, account.outcome, verdict=False)
    assert text.startswith(ladder.rstrip("\n")) and "FAILED" not in ladder


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("plain text, ünïcode ✓ 𝄞", "plain text, ünïcode ✓ 𝄞"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("crlf\r\nline\rend", "crlf\nline\nend"),
        ("nul\x00 bel\x07 bs\x08 vt\x0b ff\x0c", "nul\\x00 bel\\x07 bs\\x08 vt\\x0b ff\\x0c"),
        ("esc\x1b[31m us\x1f", "esc\\x1b[31m us\\x1f"),
        ("del\x7f c1\x80\x85\x9f", "del\\x7f c1\\x80\\x85\\x9f"),
        ("octet\udcff from surrogateescape", "octet\\xff from surrogateescape"),
        ("lone \ud800 surrogate", "lone \\ud800 surrogate"),
        ("non\ufffe chars\uffff", "non\\ufffe chars\\uffff"),
        ("<&>\"'", "<&>\"'"),  # markup is ElementTree's to escape
    ],
)  # fmt: skip
def test_xml_safe(raw: str, safe: str) -> None:
    assert xml_safe(raw) == safe
    assert XML_CHAR.fullmatch(xml_safe(raw))


def test_every_code_point_below_256_survives_a_round_trip(schema: xmlschema.XMLSchema) -> None:
    name = "".join(chr(c) for c in range(256))
    account = make.registered(name)
    text = junit_report([account])
    schema.validate(text)
    (case,) = cases(parse(text))
    assert case.name == xml_safe(name)
