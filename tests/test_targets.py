"""RFC 3263 target selection from canned DNS answers (no I/O)."""

from __future__ import annotations

import random
from collections.abc import Iterable

import pytest

from sipcheck.errors import ConfigError, ResolutionError
from sipcheck.sip.locate.targets import (
    Answer,
    AnswerStatus,
    NaptrRecord,
    Query,
    Record,
    Resolution,
    ResolutionFailed,
    SrvRecord,
    Target,
    order_srv,
    parse_hostport,
    plan_targets,
    run_plan,
)


class Zone:
    """Canned answers: a name that exists (or has names below it, RFC 8020) but lacks
    the type is NODATA; any other name is NXDOMAIN."""

    def __init__(self, records: dict[tuple[str, str], Iterable[Record]]) -> None:
        self.records = {key: tuple(value) for key, value in records.items()}
        self.overrides: dict[tuple[str, str], Answer] = {}
        self.asked: list[tuple[str, str]] = []

    def lookup(self, query: Query) -> Answer:
        key = (query.qtype, query.name)
        self.asked.append(key)
        if key in self.overrides:
            return self.overrides[key]
        if key in self.records:
            return Answer.ok(*self.records[key])
        if any(name == query.name or name.endswith("." + query.name) for _, name in self.records):
            return Answer(AnswerStatus.NODATA)
        return Answer(AnswerStatus.NXDOMAIN)


def resolve(
    zone: Zone,
    host: str,
    port: int | None = None,
    transport: str | None = None,
    *,
    secure: bool = False,
    seed: int = 0,
    family: int | None = None,
) -> Resolution:
    plan = plan_targets(
        host, port, transport, secure=secure, rng=random.Random(seed), family=family
    )
    return run_plan(plan, zone.lookup)


def summary(resolution: Resolution) -> list[tuple[str, str, int, str]]:
    return [(t.host, t.address, t.port, t.transport) for t in resolution.targets]


def naptr(order: int, pref: int, service: str, replacement: str, flags: str = "s") -> NaptrRecord:
    return NaptrRecord(order, pref, flags, service, "", replacement)


EMPTY = Zone({})


# --- numeric hosts ---------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "port", "transport", "secure", "expected"),
    [
        ("192.0.2.1", None, None, False, ("192.0.2.1", 5060, "udp")),
        ("192.0.2.1", 5070, "tcp", False, ("192.0.2.1", 5070, "tcp")),
        ("192.0.2.1", None, "tls", False, ("192.0.2.1", 5061, "tls")),
        ("2001:db8::1", None, None, False, ("2001:db8::1", 5060, "udp")),
        ("[2001:db8::1]", 5080, None, False, ("2001:db8::1", 5080, "udp")),
        ("[::1]", None, None, True, ("::1", 5061, "tls")),
        ("192.0.2.1", None, "TCP", True, ("192.0.2.1", 5061, "tls")),
    ],
)
def test_numeric_host_needs_no_dns(
    host: str,
    port: int | None,
    transport: str | None,
    secure: bool,
    expected: tuple[str, int, str],
) -> None:
    zone = Zone({})
    result = resolve(zone, host, port, transport, secure=secure)
    address, want_port, want_transport = expected
    assert result.targets == (Target(address, address, want_port, want_transport),)
    assert result.steps == ()
    assert zone.asked == []


# --- explicit port / explicit transport -------------------------------------


def test_explicit_port_uses_a_and_aaaa_only() -> None:
    zone = Zone(
        {
            ("NAPTR", "example.com"): [naptr(10, 10, "SIP+D2T", "_sip._tcp.example.com")],
            ("A", "example.com"): ["192.0.2.10", "192.0.2.11"],
            ("AAAA", "example.com"): ["2001:db8::10"],
        }
    )
    result = resolve(zone, "example.com", 5080)
    assert zone.asked == [("A", "example.com"), ("AAAA", "example.com")]
    assert summary(result) == [
        ("example.com", "192.0.2.10", 5080, "udp"),
        ("example.com", "192.0.2.11", 5080, "udp"),
        ("example.com", "2001:db8::10", 5080, "udp"),
    ]
    assert [s.kind for s in result.steps] == ["A", "AAAA"]
    assert result.steps[0].answers == ("192.0.2.10", "192.0.2.11")
    assert "explicit port 5080" in result.steps[0].note


@pytest.mark.parametrize(
    ("family", "asked", "addresses"),
    [
        (None, ["A", "AAAA"], ["192.0.2.10", "2001:db8::10"]),
        (4, ["A"], ["192.0.2.10"]),
        (6, ["AAAA"], ["2001:db8::10"]),
    ],
)
def test_a_family_asks_for_its_addresses_only(
    family: int | None, asked: list[str], addresses: list[str]
) -> None:
    zone = Zone({("A", "example.com"): ["192.0.2.10"], ("AAAA", "example.com"): ["2001:db8::10"]})
    result = resolve(zone, "example.com", 5060, "tcp", family=family)
    assert zone.asked == [(qtype, "example.com") for qtype in asked]
    assert [t.address for t in result.targets] == addresses


def test_a_family_with_no_addresses_says_which_records_were_asked() -> None:
    zone = Zone({("AAAA", "example.com"): ["2001:db8::10"]})
    with pytest.raises(ResolutionFailed) as caught:
        resolve(zone, "example.com", None, None, family=4)
    assert caught.value.message == (
        "example.com: no SIP server addresses found (no usable NAPTR, SRV, A)"
    )
    assert ("AAAA", "example.com") not in zone.asked


def test_explicit_transport_queries_srv_for_that_transport() -> None:
    zone = Zone(
        {
            ("SRV", "_sip._tcp.example.com"): [SrvRecord(10, 0, 5070, "pbx.example.com")],
            ("A", "pbx.example.com"): ["192.0.2.20"],
        }
    )
    result = resolve(zone, "example.com", transport="tcp")
    assert zone.asked == [
        ("SRV", "_sip._tcp.example.com"),
        ("A", "pbx.example.com"),
        ("AAAA", "pbx.example.com"),
    ]
    assert summary(result) == [("pbx.example.com", "192.0.2.20", 5070, "tcp")]


def test_explicit_tls_uses_sips_service_then_falls_back_to_5061() -> None:
    zone = Zone({("A", "example.com"): ["192.0.2.30"]})
    result = resolve(zone, "example.com", transport="tls")
    assert zone.asked[0] == ("SRV", "_sips._tcp.example.com")
    assert summary(result) == [("example.com", "192.0.2.30", 5061, "tls")]


# --- NAPTR -----------------------------------------------------------------


def naptr_zone() -> Zone:
    return Zone(
        {
            ("NAPTR", "example.com"): [
                naptr(20, 10, "SIP+D2U", "_sip._udp.example.com"),
                naptr(10, 20, "SIP+D2T", "_sip._tcp.example.com"),
                naptr(10, 10, "SIPS+D2T", "_sips._tcp.example.com"),
                naptr(5, 10, "SIP+D2S", "_sip._sctp.example.com"),  # unsupported
                naptr(1, 1, "SIP+D2U", "ignored.example.com", flags="a"),  # not "s"
            ],
            ("SRV", "_sips._tcp.example.com"): [SrvRecord(0, 0, 5061, "tls.example.com")],
            ("SRV", "_sip._tcp.example.com"): [SrvRecord(0, 0, 5060, "tcp.example.com")],
            ("SRV", "_sip._udp.example.com"): [SrvRecord(0, 0, 5060, "udp.example.com")],
            ("A", "tls.example.com"): ["192.0.2.1"],
            ("A", "tcp.example.com"): ["192.0.2.2"],
            ("AAAA", "tcp.example.com"): ["2001:db8::2"],
            ("A", "udp.example.com"): ["192.0.2.3"],
        }
    )


def test_naptr_sorted_by_order_then_preference() -> None:
    zone = naptr_zone()
    result = resolve(zone, "example.com")
    assert zone.asked[:4] == [
        ("NAPTR", "example.com"),
        ("SRV", "_sips._tcp.example.com"),
        ("SRV", "_sip._tcp.example.com"),
        ("SRV", "_sip._udp.example.com"),
    ]
    assert summary(result) == [
        ("tls.example.com", "192.0.2.1", 5061, "tls"),
        ("tcp.example.com", "192.0.2.2", 5060, "tcp"),
        ("tcp.example.com", "2001:db8::2", 5060, "tcp"),
        ("udp.example.com", "192.0.2.3", 5060, "udp"),
    ]
    first = result.steps[0]
    assert first.kind == "NAPTR"
    assert first.name == "example.com"
    assert first.answers[0] == '20 10 "s" "SIP+D2U" "" _sip._udp.example.com'
    assert "tls via _sips._tcp.example.com" in first.note


def test_sips_keeps_only_sips_d2t() -> None:
    zone = naptr_zone()
    result = resolve(zone, "example.com", secure=True)
    assert ("SRV", "_sip._udp.example.com") not in zone.asked
    assert summary(result) == [("tls.example.com", "192.0.2.1", 5061, "tls")]


def test_sips_without_any_records_falls_back_to_tls_5061() -> None:
    zone = Zone({("A", "example.com"): ["192.0.2.7"]})
    result = resolve(zone, "example.com", secure=True)
    assert zone.asked == [
        ("NAPTR", "example.com"),
        ("SRV", "_sips._tcp.example.com"),
        ("A", "example.com"),
        ("AAAA", "example.com"),
    ]
    assert summary(result) == [("example.com", "192.0.2.7", 5061, "tls")]


def test_sips_with_udp_transport_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="TLS"):
        resolve(EMPTY, "example.com", transport="udp", secure=True)


def test_no_naptr_queries_srv_for_udp_tcp_tls() -> None:
    zone = Zone(
        {
            ("A", "example.com"): ["192.0.2.99"],
            ("SRV", "_sip._tcp.example.com"): [SrvRecord(0, 0, 5060, "tcp.example.com")],
            ("SRV", "_sips._tcp.example.com"): [SrvRecord(0, 0, 5061, "tls.example.com")],
            ("A", "tcp.example.com"): ["192.0.2.2"],
            ("A", "tls.example.com"): ["192.0.2.1"],
        }
    )
    result = resolve(zone, "example.com")
    assert zone.asked[:4] == [
        ("NAPTR", "example.com"),
        ("SRV", "_sip._udp.example.com"),
        ("SRV", "_sip._tcp.example.com"),
        ("SRV", "_sips._tcp.example.com"),
    ]
    assert summary(result) == [
        ("tcp.example.com", "192.0.2.2", 5060, "tcp"),
        ("tls.example.com", "192.0.2.1", 5061, "tls"),
    ]


def test_no_naptr_no_srv_uses_a_with_default_port_and_udp() -> None:
    zone = Zone({("A", "example.com"): ["192.0.2.5"], ("AAAA", "example.com"): ["2001:db8::5"]})
    result = resolve(zone, "example.com")
    assert summary(result) == [
        ("example.com", "192.0.2.5", 5060, "udp"),
        ("example.com", "2001:db8::5", 5060, "udp"),
    ]
    assert [(s.kind, s.name) for s in result.steps] == [
        ("NAPTR", "example.com"),
        ("SRV", "_sip._udp.example.com"),
        ("SRV", "_sip._tcp.example.com"),
        ("SRV", "_sips._tcp.example.com"),
        ("A", "example.com"),
        ("AAAA", "example.com"),
    ]
    assert result.steps[0].note == "NODATA"
    assert result.steps[1].note == "NXDOMAIN"


def test_naptr_without_usable_records_falls_back_to_srv() -> None:
    zone = Zone(
        {
            ("NAPTR", "example.com"): [naptr(10, 10, "E2U+sip", "x.example.com", flags="u")],
            ("SRV", "_sip._udp.example.com"): [SrvRecord(0, 0, 5062, "udp.example.com")],
            ("A", "udp.example.com"): ["192.0.2.3"],
        }
    )
    result = resolve(zone, "example.com")
    assert summary(result) == [("udp.example.com", "192.0.2.3", 5062, "udp")]
    assert "no usable" in result.steps[0].note


def test_naptr_srv_empty_falls_back_to_a_with_naptr_transport() -> None:
    zone = Zone(
        {
            ("NAPTR", "example.com"): [naptr(10, 10, "SIP+D2T", "_sip._tcp.example.com")],
            ("A", "example.com"): ["192.0.2.4"],
        }
    )
    result = resolve(zone, "example.com")
    assert summary(result) == [("example.com", "192.0.2.4", 5060, "tcp")]


def test_nxdomain_on_naptr_skips_srv() -> None:
    zone = Zone({})
    with pytest.raises(ResolutionFailed) as info:
        resolve(zone, "nosuch.example")
    assert zone.asked == [
        ("NAPTR", "nosuch.example"),
        ("A", "nosuch.example"),
        ("AAAA", "nosuch.example"),
    ]
    error = info.value
    assert isinstance(error, ResolutionError)
    assert "NXDOMAIN" in str(error)
    assert error.hint == "check the domain name, or give --server HOST:PORT"
    assert [s.kind for s in error.steps] == ["NAPTR", "A", "AAAA"]


def test_name_without_any_records_is_an_error() -> None:
    zone = Zone({("TXT", "example.com"): ["v=spf1"]})
    with pytest.raises(ResolutionError, match="no SIP server") as info:
        resolve(zone, "example.com")
    assert info.value.hint is not None
    assert "--server" in info.value.hint


def test_timeouts_give_a_dns_hint() -> None:
    zone = Zone({})
    timeout = Answer(AnswerStatus.TIMEOUT, detail="no answer within 5 s")
    for key in [("NAPTR", "example.com"), ("A", "example.com"), ("AAAA", "example.com")]:
        zone.overrides[key] = timeout
    with pytest.raises(ResolutionError, match="timed out") as info:
        resolve(zone, "example.com")
    assert info.value.hint is not None
    assert "no usable answer from the DNS server" in info.value.hint
    assert zone.asked[1] == ("A", "example.com")  # no SRV after a NAPTR timeout


def test_address_timeouts_after_nodata_blame_dns() -> None:
    zone = Zone({("TXT", "example.com"): ["v=spf1"]})
    timeout = Answer(AnswerStatus.TIMEOUT)
    zone.overrides[("A", "example.com")] = timeout
    zone.overrides[("AAAA", "example.com")] = timeout
    with pytest.raises(ResolutionError, match="timed out"):
        resolve(zone, "example.com")


def test_servfail_on_naptr_still_tries_srv() -> None:
    zone = Zone(
        {
            ("SRV", "_sip._udp.example.com"): [SrvRecord(0, 0, 5060, "udp.example.com")],
            ("A", "udp.example.com"): ["192.0.2.3"],
        }
    )
    zone.overrides[("NAPTR", "example.com")] = Answer(AnswerStatus.FAILED, detail="SERVFAIL")
    result = resolve(zone, "example.com")
    assert summary(result) == [("udp.example.com", "192.0.2.3", 5060, "udp")]
    assert result.steps[0].note == "FAILED; SERVFAIL"


def test_localhost_skips_naptr_and_srv() -> None:
    zone = Zone({("A", "localhost"): ["127.0.0.1"], ("AAAA", "localhost"): ["::1"]})
    result = resolve(zone, "localhost")
    assert zone.asked == [("A", "localhost"), ("AAAA", "localhost")]
    assert summary(result) == [
        ("localhost", "127.0.0.1", 5060, "udp"),
        ("localhost", "::1", 5060, "udp"),
    ]


# --- SRV -------------------------------------------------------------------


class ScriptedRng(random.Random):
    """randint returns scripted values, so the RFC 2782 selection can be checked."""

    def __new__(cls, picks: list[int]) -> ScriptedRng:
        # Python 3.10's Random.__new__ seeds from its first argument, and a list
        # cannot be hashed; 3.11 no longer looks at it.
        return super().__new__(cls)

    def __init__(self, picks: list[int]) -> None:
        super().__init__(0)
        self.picks = picks
        self.calls: list[tuple[int, int]] = []

    def randint(self, a: int, b: int) -> int:
        self.calls.append((a, b))
        return self.picks.pop(0)


def test_order_srv_running_sum_selection() -> None:
    a = SrvRecord(0, 10, 5060, "a")
    b = SrvRecord(0, 0, 5060, "b")
    c = SrvRecord(0, 30, 5060, "c")
    low = SrvRecord(1, 0, 5060, "low")
    rng = ScriptedRng([0, 11])
    # zero weight first: [b(0), a(10), c(30)], sums 0, 10, 40.
    # pick 0 -> b; then [a, c] sums 10, 40; pick 11 -> c; a is left, then low.
    assert order_srv([low, a, b, c], rng) == [b, c, a, low]
    assert rng.calls == [(0, 40), (0, 40)]


def test_order_srv_seeded_is_reproducible() -> None:
    records = [SrvRecord(0, w, 5060, f"h{w}") for w in (10, 20, 30, 40)]
    records.append(SrvRecord(5, 1, 5060, "backup"))
    first = [r.target for r in order_srv(records, random.Random(42))]
    assert first == [r.target for r in order_srv(records, random.Random(42))]
    assert sorted(first[:4]) == ["h10", "h20", "h30", "h40"]
    assert first[4] == "backup"
    # Random(42).randint draws 81, 7, 1: running sums 10/30/60/100 -> h40;
    # then 10/30/60 -> h10; then 20/50 -> h20; h30 is left; then priority 5.
    assert first == ["h40", "h10", "h20", "h30", "backup"]


def test_order_srv_weights_are_proportional() -> None:
    heavy, light = SrvRecord(0, 90, 5060, "heavy"), SrvRecord(0, 10, 5060, "light")
    rng = random.Random(7)
    firsts = [order_srv([light, heavy], rng)[0] for _ in range(4000)]
    share = firsts.count(heavy) / len(firsts)
    assert 0.86 < share < 0.94


def test_srv_priority_and_weight_through_the_plan() -> None:
    zone = Zone(
        {
            ("SRV", "_sip._udp.example.com"): [
                SrvRecord(20, 0, 5060, "backup.example.com"),
                SrvRecord(10, 60, 5060, "b.example.com"),
                SrvRecord(10, 40, 5080, "a.example.com"),
            ],
            ("A", "a.example.com"): ["192.0.2.1"],
            ("A", "b.example.com"): ["192.0.2.2"],
            ("A", "backup.example.com"): ["192.0.2.3"],
        }
    )
    rng = ScriptedRng([70, 0])  # sums b=60, a=100: 70 -> a; then only b is left
    plan = plan_targets("example.com", None, "udp", rng=rng)
    result = run_plan(plan, zone.lookup)
    assert summary(result) == [
        ("a.example.com", "192.0.2.1", 5080, "udp"),
        ("b.example.com", "192.0.2.2", 5060, "udp"),
        ("backup.example.com", "192.0.2.3", 5060, "udp"),
    ]
    srv_step = result.steps[0]
    assert srv_step.answers == (
        "20 0 5060 backup.example.com",
        "10 60 5060 b.example.com",
        "10 40 5080 a.example.com",
    )
    assert "try order: a.example.com:5080, b.example.com:5060" in srv_step.note


def test_srv_seeded_exact_order() -> None:
    zone = Zone(
        {
            ("SRV", "_sip._tcp.example.com"): [
                SrvRecord(0, 10, 5060, "s1.example.com"),
                SrvRecord(0, 20, 5060, "s2.example.com"),
                SrvRecord(0, 70, 5060, "s3.example.com"),
            ],
            **{("A", f"s{i}.example.com"): [f"192.0.2.{i}"] for i in (1, 2, 3)},
        }
    )
    result = resolve(zone, "example.com", transport="tcp", seed=3)
    # Random(3).randint draws 30 then 75: sums 10/30/100 -> s2; 10/80 -> s3; s1.
    assert [t.host for t in result.targets] == [
        "s2.example.com",
        "s3.example.com",
        "s1.example.com",
    ]


def test_srv_dot_target_means_not_available() -> None:
    zone = Zone(
        {
            ("SRV", "_sip._udp.example.com"): [SrvRecord(0, 0, 0, ".")],
            ("A", "example.com"): ["192.0.2.5"],
        }
    )
    with pytest.raises(ResolutionFailed, match="not available over udp") as info:
        resolve(zone, "example.com", transport="udp")
    # "." is final: no A/AAAA fallback (RFC 2782)
    assert ("A", "example.com") not in zone.asked
    assert 'target "."' in info.value.steps[0].note


def test_srv_dot_for_one_transport_others_still_used() -> None:
    zone = Zone(
        {
            ("SRV", "_sip._udp.example.com"): [SrvRecord(0, 0, 0, ".")],
            ("SRV", "_sip._tcp.example.com"): [SrvRecord(0, 0, 5060, "tcp.example.com")],
            ("A", "tcp.example.com"): ["192.0.2.2"],
        }
    )
    result = resolve(zone, "example.com")
    assert summary(result) == [("tcp.example.com", "192.0.2.2", 5060, "tcp")]


def test_srv_target_without_address_is_skipped() -> None:
    zone = Zone(
        {
            ("SRV", "_sip._udp.example.com"): [
                SrvRecord(0, 0, 5060, "gone.example.com"),
                SrvRecord(1, 0, 5060, "ok.example.com"),
            ],
            ("A", "ok.example.com"): ["192.0.2.8"],
        }
    )
    result = resolve(zone, "example.com", transport="udp")
    assert summary(result) == [("ok.example.com", "192.0.2.8", 5060, "udp")]
    assert any(s.name == "gone.example.com" and s.note == "NXDOMAIN" for s in result.steps)


def test_duplicate_targets_are_listed_once() -> None:
    zone = Zone(
        {
            ("SRV", "_sip._udp.example.com"): [
                SrvRecord(0, 0, 5060, "a.example.com"),
                SrvRecord(1, 0, 5060, "a.example.com"),
            ],
            ("A", "a.example.com"): ["192.0.2.1"],
        }
    )
    result = resolve(zone, "example.com", transport="udp")
    assert summary(result) == [("a.example.com", "192.0.2.1", 5060, "udp")]
    assert zone.asked.count(("A", "a.example.com")) == 1


def test_missing_answer_in_batch_is_a_programming_error() -> None:
    plan = plan_targets("example.com", rng=random.Random(0))
    next(plan)
    with pytest.raises(ValueError, match="no answer"):
        plan.send({})


# --- parse_hostport ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[::1]:5060", ("::1", 5060)),
        ("[2001:db8::1]", ("2001:db8::1", None)),
        ("::1", ("::1", None)),
        ("2001:db8::1:5060", ("2001:db8::1:5060", None)),
        ("host", ("host", None)),
        ("host:5060", ("host", 5060)),
        ("sip.example.com.:5061", ("sip.example.com.", 5061)),
        ("192.0.2.1:5080", ("192.0.2.1", 5080)),
        (" pbx_1.example.com ", ("pbx_1.example.com", None)),
    ],
)
def test_parse_hostport(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_hostport(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("host:", "bad port"),
        ("host:abc", "bad port"),
        ("host:0", "out of range"),
        ("host:70000", "out of range"),
        ("[::1", "missing ']'"),
        ("[::1]5060", "unexpected"),
        ("[192.0.2.1]:5060", "not an IPv6"),
        ("[nothost]:5060", "not an IPv6"),
        ("fe80::zz", "not a valid IPv6"),
        ("sip:example.com", "URI"),
        ("ho st", "not a valid host"),
        ("a..b", "not a valid host"),
        ("host:５０６０", "bad port"),
    ],
)
def test_parse_hostport_rejects(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        parse_hostport(text)
    assert info.value.message
