"""The response-code knowledge base against the IANA registry copy in tests/data/iana."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipcheck.errors import ConfigError, SipcheckError
from sipcheck.sip.knowledge.codes import (
    AUTH_COMPARISON,
    CLASS_NAMES,
    CodeInfo,
    all_codes,
    class_of,
    lookup,
)

IANA_CSV = Path(__file__).parent / "data" / "iana" / "sip-response-codes.csv"

# The codes a REGISTER is most likely to meet; these get the deep treatment.
# fmt: off
DEEP = (
    100, 180, 200, 202, 301, 302, 305, 380, 400, 401, 403, 404, 405, 407, 408, 420, 423,
    429, 480, 482, 483, 488, 489, 494, 500, 501, 502, 503, 504, 505, 513, 580, 600, 603, 606,
)
# fmt: on


def _iana_rows() -> list[dict[str, str]]:
    with IANA_CSV.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


IANA = {int(row["code"]): row for row in _iana_rows()}


def _iana_reason(code: int) -> str:
    # The registry marks 202 "Accepted (Deprecated)"; the reason phrase is "Accepted".
    return re.sub(r"\s*\(Deprecated\)$", "", IANA[code]["reason"])


def test_reference_list_is_complete_and_well_formed() -> None:
    rows = _iana_rows()
    assert len(rows) == len(IANA) == 75  # no duplicates, nothing lost
    for row in rows:
        assert 100 <= int(row["code"]) <= 699
        assert row["reason"].strip() == row["reason"] != ""
        assert re.fullmatch(r"RFC\d{4}", row["reference"]), row


@pytest.mark.parametrize("code", sorted(IANA))
def test_every_iana_code_is_known_registered_with_its_reason(code: int) -> None:
    by_code = {info.code: info for info in all_codes()}
    assert code in by_code, f"{code} {IANA[code]['reason']} missing from all_codes()"
    info = by_code[code]
    assert info.registered is True
    assert info.legacy is False
    assert info.reason.casefold() == _iana_reason(code).casefold()


@pytest.mark.parametrize("code", sorted(IANA))
def test_rfc_field_names_the_registry_reference(code: int) -> None:
    info = lookup(code)
    number = IANA[code]["reference"].removeprefix("RFC")
    assert f"RFC {number}" in info.rfc
    if number == "3261":  # RFC 3261 defines its codes in §21.<class>.<n>
        assert info.rfc.startswith(f"RFC 3261 §21.{code // 100}.")


def test_nothing_claims_registration_that_iana_does_not_list() -> None:
    claimed = {info.code for info in all_codes() if info.registered}
    assert claimed == set(IANA)


def test_legacy_codes_are_the_rfc2543_ones() -> None:
    legacy = {info.code: info for info in all_codes() if info.legacy}
    assert set(legacy) == {409, 411}
    assert legacy[409].reason == "Conflict"
    assert legacy[411].reason == "Length Required"
    for info in legacy.values():
        assert info.registered is False
        assert info.rfc.startswith("RFC 2543 §7.4.")
        assert info.code not in IANA


def test_all_codes_sorted_unique_and_complete() -> None:
    codes = [info.code for info in all_codes()]
    assert codes == sorted(set(codes))
    assert len(codes) == len(IANA) + 2


@pytest.mark.parametrize("info", all_codes(), ids=lambda i: str(i.code))
def test_every_entry_is_filled_in(info: CodeInfo) -> None:
    assert info.klass == CLASS_NAMES[info.code // 100]
    assert info.reason and info.rfc and info.meaning and info.for_register
    assert len(info.next_steps) >= 1
    assert all(step.strip() for step in info.next_steps)
    assert 0 < len(info.summary) <= 80
    assert "\n" not in info.summary
    assert lookup(info.code) is info


@pytest.mark.parametrize("code", DEEP)
def test_deep_codes_have_depth(code: int) -> None:
    info = lookup(code)
    assert info.registered
    assert info.meaning.strip()
    assert info.for_register.strip()
    assert len(info.next_steps) >= 2
    assert len(info.summary) <= 80
    assert info.klass == CLASS_NAMES[code // 100]


def test_register_specific_content() -> None:
    assert "Authorization" in lookup(401).for_register
    assert "Proxy-Authorization" in lookup(407).for_register
    assert "Min-Expires" in lookup(423).for_register
    assert "§10.2.8" in lookup(423).for_register
    assert "§10.3 step 7" in lookup(423).for_register
    assert "Unsupported" in lookup(420).next_steps[0]
    assert "Retry-After" in lookup(503).meaning
    assert "RFC 3263" in lookup(503).for_register
    assert "Contact" in lookup(302).for_register
    assert "expires" in lookup(200).for_register
    assert "Security-Server" in lookup(494).meaning


def test_unregistered_code_gets_class_level_entry() -> None:
    info = lookup(499)
    assert info.code == 499
    assert info.klass == "Request Failure"
    assert info.registered is False
    assert info.legacy is False
    assert info.reason == ""
    assert info.meaning.startswith("Request Failure: the client's request was not accepted")
    assert "400 Bad Request" in info.meaning  # RFC 3261 §8.1.3.2
    assert len(info.next_steps) >= 2
    assert info.code not in {i.code for i in all_codes()}


def test_unknown_provisional_is_handled_as_183() -> None:
    assert "183 Session Progress" in lookup(150).meaning


@pytest.mark.parametrize("code", [-1, 0, 99, 700, 999, 1000])
def test_out_of_range_raises(code: int) -> None:
    with pytest.raises(ConfigError, match=r"not a SIP status code \(100-699\)"):
        lookup(code)
    with pytest.raises(SipcheckError):
        class_of(code)


@given(st.integers(min_value=100, max_value=699))
def test_every_code_in_range_has_an_entry_of_its_class(code: int) -> None:
    info = lookup(code)
    assert info.code == code
    assert info.klass == class_of(code) == CLASS_NAMES[code // 100]
    assert info.registered == (code in IANA)
    assert len(info.summary) <= 80


@given(st.integers().filter(lambda c: not 100 <= c <= 699))
def test_every_code_out_of_range_raises(code: int) -> None:
    with pytest.raises(ConfigError):
        lookup(code)


def test_class_names_follow_rfc3261_section_21() -> None:
    assert [class_of(c) for c in (100, 200, 300, 400, 500, 600)] == [
        "Provisional",
        "Successful",
        "Redirection",
        "Request Failure",
        "Server Failure",
        "Global Failure",
    ]


def test_auth_comparison_pairs_the_headers() -> None:
    rows = {row.aspect: row for row in AUTH_COMPARISON}
    assert rows["Challenge header"][1:] == ("WWW-Authenticate", "Proxy-Authenticate")
    assert rows["Answer header"][1:] == ("Authorization", "Proxy-Authorization")
    assert "§22.2" in rows["RFC section"].unauthorized_401
    assert "§22.3" in rows["RFC section"].proxy_auth_407
    assert "registrar" in rows["Who challenges"].unauthorized_401
    assert "proxy" in rows["Who challenges"].proxy_auth_407
