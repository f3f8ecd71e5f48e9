"""RFC 4475 and RFC 5118 torture messages: valid ones parse and round-trip,
invalid ones are refused by the parser or by lint with a readable reason."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sipcheck.errors import SipParseError
from sipcheck.sip.knowledge.lint import lint_bytes
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.parser import parse_message

DATA = Path(__file__).parent / "data"


def _index(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


RFC4475 = [(DATA / "rfc4475" / r["filename"], r) for r in _index(DATA / "rfc4475" / "index.tsv")]
RFC5118 = [
    (DATA / "rfc5118" / "archive" / r["filename"], r)
    for r in _index(DATA / "rfc5118" / "index.tsv")
]
# The RFC 5118 archive's own Content-Length errors (see tests/data/rfc5118/SOURCES.md):
# as archived these two cannot be framed; with the length corrected they must parse.
ARCHIVE_LENGTH_QUIRKS = {"ipv6-in-sdp.dat": (268, 242), "mult-ip-in-sdp.dat": (181, 180)}

ALL = RFC4475 + RFC5118
VALID = [(p, r) for p, r in ALL if r["validity"] == "valid"]
INVALID = [(p, r) for p, r in ALL if r["validity"] == "invalid"]


def test_corpus_sizes() -> None:
    assert len(RFC4475) == 50 and len(RFC5118) == 12
    assert len(VALID) == 27 + 11 and len(INVALID) == 23 + 1


def _fixed(path: Path) -> bytes:
    data = path.read_bytes()
    quirk = ARCHIVE_LENGTH_QUIRKS.get(path.name)
    if quirk is not None:
        said, real = quirk
        data = data.replace(f"Content-Length: {said}".encode(), f"Content-Length: {real}".encode())
    return data


@pytest.mark.parametrize("path", [p for p, _ in VALID], ids=lambda p: p.name)
def test_valid_message_parses_round_trips_and_lints_clean(path: Path) -> None:
    data = _fixed(path)
    message = parse_message(data)
    again = parse_message(message.to_bytes())
    assert again.start_line() == message.start_line()
    assert list(again.headers) == list(message.headers)
    assert again.body == message.body
    # Serializing is stable after one pass (CRLF, folded lines joined).
    assert again.to_bytes() == message.to_bytes()
    report = lint_bytes(data)
    errors = [p for p in report.problems if p.severity == "error"]
    assert errors == [], f"{path.name}: {errors}"


@pytest.mark.parametrize("name", sorted(ARCHIVE_LENGTH_QUIRKS))
def test_archive_length_quirks_are_refused_as_archived(name: str) -> None:
    said, real = ARCHIVE_LENGTH_QUIRKS[name]
    with pytest.raises(
        SipParseError, match=f"Content-Length says {said} octets but the body has {real}"
    ):
        parse_message((DATA / "rfc5118" / "archive" / name).read_bytes())


# What each invalid message must be refused for: (lint problem code, words in the reason).
EXPECTED_REFUSAL = {
    "badinv01.dat": ("bad-via", "empty or bad parameter name"),
    "clerr.dat": ("parse-error", "Content-Length says 9999"),
    "ncl.dat": ("parse-error", "'-999' is not a non-negative integer"),
    "scalar02.dat": ("bad-cseq", "not below 2**31"),
    "scalarlg.dat": ("bad-cseq", "not below 2**31"),
    "quotbal.dat": ("bad-address", "unterminated quoted string"),
    "ltgtruri.dat": ("parse-error", "must not be enclosed in <...>"),
    "lwsruri.dat": ("parse-error", "single spaces"),
    "lwsstart.dat": ("parse-error", "single spaces"),
    "trws.dat": ("parse-error", "nothing after the version"),
    "escruri.dat": ("parse-error", "headers are not allowed in a Request-URI"),
    "baddate.dat": ("bad-date", "not an RFC 1123 date in GMT"),
    "regbadct.dat": ("bad-contact", "must be enclosed in <...>"),
    "badaspec.dat": ("bad-address", "white space inside <...>"),
    "baddn.dat": ("bad-address", "must be quoted"),
    "badvers.dat": ("version", "SIP/7.0 is not SIP/2.0"),
    "mismatch01.dat": ("cseq-method", "CSeq method INVITE differs from the request method OPTIONS"),
    "mismatch02.dat": ("cseq-method", "differs from the request method NEWMETHOD"),
    "bigcode.dat": ("parse-error", "not three digits"),
    "insuf.dat": ("missing-header", "mandatory header To is missing"),
    "multi01.dat": ("multiple-values", "Call-ID must have one value but has 2"),
    "mcl01.dat": ("parse-error", "several different Content-Length values"),
    "test.dat": ("parse-error", "request line"),
    "ipv6-bad.dat": ("parse-error", "bad Request-URI"),
}


def test_every_invalid_message_has_an_expectation() -> None:
    assert sorted(EXPECTED_REFUSAL) == sorted(p.name for p, _ in INVALID)


@pytest.mark.parametrize("path", [p for p, _ in INVALID], ids=lambda p: p.name)
def test_invalid_message_is_refused_with_reason(path: Path) -> None:
    code, words = EXPECTED_REFUSAL[path.name]
    report = lint_bytes(path.read_bytes())
    assert not report.ok
    matching = [p for p in report.problems if p.code == code and words in p.message]
    assert matching, f"{path.name}: {report.problems}"


def test_insuf_lists_all_four_missing_headers() -> None:
    report = lint_bytes((DATA / "rfc4475" / "insuf.dat").read_bytes())
    missing = {p.message.split()[2] for p in report.problems if p.code == "missing-header"}
    assert missing == {"To", "From", "Call-ID", "Max-Forwards"}


def test_parse_errors_carry_line_and_column() -> None:
    report = lint_bytes((DATA / "rfc4475" / "lwsstart.dat").read_bytes())
    problem = report.problems[0]
    assert (problem.line, problem.column) == (1, 8)
    with pytest.raises(SipParseError) as info:
        parse_message(b"OPTIONS sip:a@b SIP/2.0\r\nVia SIP/2.0/UDP h\r\n\r\n")
    assert (info.value.line, info.value.column) == (2, 1)
    assert "header line without ':'" in str(info.value)


def test_escnull_keeps_escaped_nul() -> None:
    message = parse_message((DATA / "rfc4475" / "escnull.dat").read_bytes())
    assert isinstance(message, Request)
    assert "%00" in (message.headers.get("To") or "")


def test_ipv6_archive_bare_lf_is_noted() -> None:
    message = parse_message((DATA / "rfc5118" / "archive" / "ipv6-good.dat").read_bytes())
    assert "lines end with a bare LF instead of CRLF" in message.defects
    assert message.to_bytes().count(b"\n") == message.to_bytes().count(b"\r\n")
