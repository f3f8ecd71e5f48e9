"""Nagios/Icinga plugin output: the guidelines' threshold ranges, perfdata and the
plugin report, checked against our own expectations and against real parsers:
Debian's libmonitoring-plugin-perl (Monitoring::Plugin::Range, ::Threshold,
::Performance, ::Functions) and the nagiosplugin package from PyPI.
"""

from __future__ import annotations

import math
import random
import subprocess

import nagiosplugin
import pytest

from sipcheck.render.nagios import (
    NagiosReport,
    Perfdata,
    account_status,
    nagios_report,
    perfdata_labels,
    unknown_report,
)
from sipcheck.render.nagios_range import (
    NagiosStatus,
    Range,
    RangeError,
    Thresholds,
    format_number,
    parse_range,
    worst,
)
from tests.support import checked as make
from tests.support.checked import PASSWORD, perl_module

OK, WARNING, CRITICAL, UNKNOWN = (
    NagiosStatus.OK,
    NagiosStatus.WARNING,
    NagiosStatus.CRITICAL,
    NagiosStatus.UNKNOWN,
)
INF = math.inf


def limits(warning: str | None = None, critical: str | None = None) -> Thresholds:
    return Thresholds(
        None if warning is None else parse_range(warning),
        None if critical is None else parse_range(critical),
    )


# ------------------------------------------------------------------ range syntax

# The guidelines' table "Example ranges": the range, and values that do / do not alert.
GUIDELINE_RANGES = [
    ("10", Range(0, 10), [-1, -0.001, 10.001, 11, 1000], [0, 5, 10]),
    ("10:", Range(10, INF), [-5, 0, 9.999], [10, 11, 1e9]),
    ("~:10", Range(-INF, 10), [10.001, 11, 1e9], [-1e9, -1, 0, 10]),
    ("10:20", Range(10, 20), [-1, 0, 9.99, 20.01, 100], [10, 15, 20]),
    ("@10:20", Range(10, 20, inside=True), [10, 15, 20], [-1, 9.99, 20.01, 100]),
]


@pytest.mark.parametrize(("text", "expected", "alert", "quiet"), GUIDELINE_RANGES)
def test_guideline_ranges(
    text: str, expected: Range, alert: list[float], quiet: list[float]
) -> None:
    parsed = parse_range(text)
    assert parsed == expected
    assert str(parsed) == text
    assert [v for v in alert if parsed.alerts(v)] == alert
    assert [v for v in quiet if parsed.alerts(v)] == []


@pytest.mark.parametrize(
    ("text", "expected", "canonical"),
    [
        (" 10 ", Range(0, 10), "10"),
        (":5", Range(0, 5), "5"),  # an empty start is 0, as in Monitoring::Plugin::Range
        ("0:5", Range(0, 5), "5"),
        ("~:", Range(-INF, INF), "~:"),  # never alerts
        ("@10", Range(0, 10, inside=True), "@10"),
        ("@~:5", Range(-INF, 5, inside=True), "@~:5"),
        ("-5:-1", Range(-5, -1), "-5:-1"),
        ("0.5:1.25", Range(0.5, 1.25), "0.5:1.25"),
        (".5", Range(0, 0.5), "0.5"),
        ("1e3:", Range(1000, INF), "1000:"),
        ("+7", Range(0, 7), "7"),
        ("5:5", Range(5, 5), "5:5"),
        ("0", Range(0, 0), "0"),
        ("0:", Range(0, INF), "0:"),
        (500, Range(0, 500), "500"),  # TOML numbers: warning = 500
        (2.5, Range(0, 2.5), "2.5"),
    ],
)
def test_range_edge_cases(text: str | int | float, expected: Range, canonical: str) -> None:
    parsed = parse_range(text)
    assert parsed == expected
    assert str(parsed) == canonical
    assert parse_range(canonical) == parsed  # the canonical text reads back


BAD_RANGES = ["", " ", "@", ":", "~", "@:", "@~", "abc", "10:20:30", "20:10", "@5:1",
              "10 20", "1e999", "~10", "10~", "--5", "5:~", "1,5", "ten", "0x10"]  # fmt: skip


@pytest.mark.parametrize("text", BAD_RANGES)
def test_bad_ranges_refused(text: str) -> None:
    with pytest.raises(RangeError) as caught:
        parse_range(text)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_no_range(value: bool) -> None:
    with pytest.raises(RangeError):
        parse_range(value)


# The guidelines' "Example options" for check_stuff: warning, critical, and the status
# of sample values as the guidelines' sentences describe them.
GUIDELINE_OPTIONS: list[tuple[str | None, str | None, dict[float, NagiosStatus]]] = [
    # -w10 -c20: critical over 20, else warning over 10 (critical below 0)
    ("10", "20", {-1: CRITICAL, 0: OK, 10: OK, 11: WARNING, 20: WARNING, 21: CRITICAL}),
    # -w~:10 -c~:20: the same, negative values OK
    ("~:10", "~:20", {-1: OK, 0: OK, 10: OK, 11: WARNING, 20: WARNING, 21: CRITICAL}),
    # -w10: -c20: critical over 20, else warning below 10 (critical below 0)
    ("10:", "20", {-1: CRITICAL, 0: WARNING, 9: WARNING, 10: OK, 20: OK, 21: CRITICAL}),
    # -c1: critical below 1
    (None, "1:", {0: CRITICAL, 0.5: CRITICAL, 1: OK, 100: OK}),
    # -w~:0 -c10: critical over 10; warning over 0 (critical below 0)
    ("~:0", "10", {-1: CRITICAL, 0: OK, 1: WARNING, 10: WARNING, 11: CRITICAL}),
    # -c5:6: critical when not between 5 and 6
    (None, "5:6", {4: CRITICAL, 5: OK, 5.5: OK, 6: OK, 7: CRITICAL}),
    # -c@10:20: OK below 10 or above 20, critical otherwise
    (None, "@10:20", {9: OK, 10: CRITICAL, 15: CRITICAL, 20: CRITICAL, 21: OK}),
]


@pytest.mark.parametrize(("warning", "critical", "expected"), GUIDELINE_OPTIONS)
def test_guideline_threshold_examples(
    warning: str | None, critical: str | None, expected: dict[float, NagiosStatus]
) -> None:
    thresholds = limits(warning, critical)
    assert {v: thresholds.status(v) for v in expected} == expected


def _perl(perl: str, script: str, stdin: str) -> list[str]:
    done = subprocess.run([perl, "-e", script], input=stdin, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


THRESHOLD_SCRIPT = r"""
use Monitoring::Plugin::Threshold;
while (my $line = <STDIN>) {
    chomp $line;
    my ($w, $c, @values) = split /\t/, $line;
    my $t = Monitoring::Plugin::Threshold->set_thresholds(
        warning => ($w eq '-' ? undef : $w), critical => ($c eq '-' ? undef : $c));
    print join(' ', map { $t->get_status($_) } @values), "\n";
}
"""


def test_threshold_status_matches_monitoring_plugin_threshold() -> None:
    """Our status of the guidelines' examples, and of 400 seeded random ranges and
    values, against Monitoring::Plugin::Threshold->get_status in one perl process."""
    perl = perl_module("Monitoring::Plugin::Threshold")
    rng = random.Random(9)
    cases: list[tuple[str | None, str | None, list[float]]] = [
        (w, c, sorted(values)) for w, c, values in GUIDELINE_OPTIONS
    ]

    def random_range() -> str | None:
        """A valid range of one of the five shapes, or None (unset)."""
        a, b = sorted(rng.choice([-20, -5, 0, 0.5, 3, 10, 12.25, 20, 50]) for _ in range(2))
        shapes = [None, f"{b:g}", f"{a:g}:", f"~:{b:g}", f"{a:g}:{b:g}", f"@{a:g}:{b:g}"]
        text = rng.choice(shapes)
        if text is not None and b < 0 and text == f"{b:g}":
            return None  # N is 0..N: no range for a negative N
        return text

    for _ in range(400):
        values = [rng.choice([-30, -20, -5, -0.5, 0, 0.5, 3, 9.99, 10, 12.25, 20, 21, 60])]
        cases.append((random_range(), random_range(), values))
    stdin = "".join(
        "\t".join([w or "-", c or "-", *(f"{v:g}" for v in values)]) + "\n"
        for w, c, values in cases
    )
    lines = _perl(perl, THRESHOLD_SCRIPT, stdin)
    assert len(lines) == len(cases)
    for (w, c, values), line in zip(cases, lines, strict=True):
        ours = [int(limits(w, c).status(v)) for v in values]
        assert ours == [int(s) for s in line.split()], (w, c, values)


RANGE_SCRIPT = r"""
use Monitoring::Plugin::Range;
local $SIG{__WARN__} = sub {};
while (my $line = <STDIN>) {
    chomp $line;
    my ($text, @values) = split /\t/, $line;
    my $r = Monitoring::Plugin::Range->parse_range_string($text);
    if (!defined $r) { print "invalid\n"; next; }
    print join(' ', map { $r->check_range($_) } @values), "\n";
}
"""

CROSS_RANGES = [t for t, *_ in GUIDELINE_RANGES] + [
    "~:", ":5", "@10", "@~:5", "-5:-1", "0.5:1.25", "5:5", "0", "0:", "1e3:",
    "", "@", ":", "~", "@:", "abc", "10:20:30", "20:10", "@5:1", "~10", "10~", "5:~",
]  # fmt: skip
CROSS_VALUES = [-1e6, -10, -5, -1, -0.5, 0, 0.5, 1, 1.25, 5, 9.99, 10, 15, 20, 20.01, 1e3, 1e6]


def test_range_parsing_matches_monitoring_plugin_range() -> None:
    """Valid and invalid alike, and the alert for every sample value."""
    perl = perl_module("Monitoring::Plugin::Range")
    stdin = "".join(
        "\t".join([text, *(f"{v:g}" for v in CROSS_VALUES)]) + "\n" for text in CROSS_RANGES
    )
    for text, line in zip(CROSS_RANGES, _perl(perl, RANGE_SCRIPT, stdin), strict=True):
        try:
            parsed = parse_range(text)
        except RangeError:
            assert line == "invalid", text
            continue
        assert line != "invalid", text
        assert [int(parsed.alerts(v)) for v in CROSS_VALUES] == [int(x) for x in line.split()]


@pytest.mark.parametrize(
    "text", ["10", "10:", "~:10", "10:20", "@10:20", "~:", ":5", "@~:5", "0.5:1.25", "5:5"]
)
def test_range_matches_nagiosplugin(text: str) -> None:
    """nagiosplugin.Range.match is True when the value does not alert."""
    theirs = nagiosplugin.Range(text)
    ours = parse_range(text)
    assert (ours.start, ours.end, ours.inside) == (theirs.start, theirs.end, theirs.invert)
    for value in CROSS_VALUES:
        assert ours.alerts(value) == (not theirs.match(value)), value


def test_worst_ranks_as_max_state_alt() -> None:
    perl = perl_module("Monitoring::Plugin::Functions")
    script = "use Monitoring::Plugin::Functions qw(max_state_alt); print max_state_alt(@ARGV);"
    for combo in ([0], [0, 1], [0, 3], [1, 3], [2, 1], [3, 2, 0], [3], [0, 1, 2, 3]):
        statuses = [NagiosStatus(s) for s in combo]
        done = subprocess.run([perl, "-e", script, *map(str, combo)], capture_output=True)
        assert int(worst(statuses)) == int(done.stdout), combo
    assert worst([]) is UNKNOWN


# ---------------------------------------------------------------------- perfdata


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (12.3, "12.3"), (12.0, "12"), (0.0004, "0"), (1e7, "10000000"), (-2.5, "-2.5"),
     (123.4567, "123.457"), (-0.0001, "0")],
)  # fmt: skip
def test_format_number(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_format_number_refuses_non_finite(value: float) -> None:
    with pytest.raises(ValueError):
        format_number(value)


def test_perfdata_format() -> None:
    assert str(Perfdata("alice_rrd", 12.3, "ms", parse_range("500"), parse_range("1000"), 0)) == (
        "'alice_rrd'=12.3ms;500;1000;0"
    )
    assert str(Perfdata("a_registered", 1, minimum=0, maximum=1)) == "'a_registered'=1;;;0;1"
    assert str(Perfdata("a_retransmissions", 0)) == "'a_retransmissions'=0"
    assert str(Perfdata("a_rrd", None, "ms", None, parse_range("@1:2"))) == "'a_rrd'=U;;@1:2"
    assert str(Perfdata("o'brien = x", 1)) == "'o_brien _ x'=1"
    assert str(Perfdata("tab\there\n", 1)) == "'tab_here_'=1"


def test_labels_unique_and_clean() -> None:
    names = ["alice", "alice", "a b", "a_b", "Alice", "o'neil", "o=neil", "x|y", "", "  "]
    labels = perfdata_labels(names)
    assert labels == [
        "alice", "alice_2", "a b", "a_b_2", "Alice_3", "o_neil", "o_neil_2", "x_y",
        "account", "account_2",
    ]  # fmt: skip
    folded = [lab.casefold().replace(" ", "_") for lab in labels]
    assert len(set(folded)) == len(labels)


PERFORMANCE_SCRIPT = r"""
use Monitoring::Plugin::Performance;
my @out;
for my $p (Monitoring::Plugin::Performance->parse_perfstring($ARGV[0])) {
    push @out, [map { defined $_ ? "$_" : undef }
        $p->label, $p->value, $p->uom, $p->warning, $p->critical, $p->min, $p->max];
}
print join("\n", map { join("\t", map { defined $_ ? $_ : "<undef>" } @$_) } @out), "\n";
"""


def parse_perfstring(perfdata: str) -> list[list[str | None]]:
    """Monitoring::Plugin::Performance->parse_perfstring: label, value, uom, warning,
    critical, min, max of each item it accepts."""
    perl = perl_module("Monitoring::Plugin::Performance")
    done = subprocess.run(
        [perl, "-e", PERFORMANCE_SCRIPT, perfdata], capture_output=True, text=True, check=True
    )
    rows = [line.split("\t") for line in done.stdout.splitlines() if line]
    return [[None if f == "<undef>" else f for f in row] for row in rows]


def split_report(report: NagiosReport) -> tuple[str, str]:
    assert "\n" not in report.first_line
    assert report.first_line.count("|") == 1
    text, perfdata = report.first_line.split(" | ")
    return text, perfdata


def test_report_perfdata_read_by_monitoring_plugin_performance() -> None:
    accounts = [
        make.registered("alice"),
        make.registered("alice"),  # a second "alice": its labels get _2
        make.registered("bob smith", delay=0.1),
        make.lossy(),
        make.trunk("carrier trunk"),
        make.registered("x=y'z"),
    ]
    report = nagios_report(accounts, limits("500", "~:1000"))
    _, perfdata = split_report(report)
    parsed = parse_perfstring(perfdata)
    assert parsed == [
        ["alice_rrd", "24", "ms", "500", "~:1000", "0", None],
        ["alice_total", "24", "ms", None, None, "0", None],
        ["alice_retransmissions", "0", "", None, None, "0", None],
        ["alice_registered", "1", "", None, None, "0", "1"],
        ["alice_2_rrd", "24", "ms", "500", "~:1000", "0", None],
        ["alice_2_total", "24", "ms", None, None, "0", None],
        ["alice_2_retransmissions", "0", "", None, None, "0", None],
        ["alice_2_registered", "1", "", None, None, "0", "1"],
        ["bob smith_rrd", "400", "ms", "500", "~:1000", "0", None],
        ["bob smith_total", "400", "ms", None, None, "0", None],
        ["bob smith_retransmissions", "0", "", None, None, "0", None],
        ["bob smith_registered", "1", "", None, None, "0", "1"],
        ["lossy_rrd", "524", "ms", "500", "~:1000", "0", None],
        ["lossy_total", "524", "ms", None, None, "0", None],
        ["lossy_retransmissions", "1", "", None, None, "0", None],
        ["lossy_registered", "1", "", None, None, "0", "1"],
        ["carrier trunk_total", "8", "ms", "500", "~:1000", "0", None],
        ["carrier trunk_retransmissions", "0", "", None, None, "0", None],
        ["carrier trunk_reachable", "1", "", None, None, "0", "1"],
        ["x_y_z_rrd", "24", "ms", "500", "~:1000", "0", None],
        ["x_y_z_total", "24", "ms", None, None, "0", None],
        ["x_y_z_retransmissions", "0", "", None, None, "0", None],
        ["x_y_z_registered", "1", "", None, None, "0", "1"],
    ]
    assert report.exit_code == WARNING  # lossy: 524 ms is over the warning range 500


def test_unknown_values_are_u() -> None:
    """A failed account has no RRD (timeout: no total either): the guidelines' U,
    which Monitoring::Plugin::Performance leaves out while it reads the rest."""
    report = nagios_report([make.wrong_password("bob"), make.timed_out("silent")])
    _, perfdata = split_report(report)
    assert "'bob_rrd'=U;;;0" in perfdata.split()
    assert "'silent_total'=U;;;0" in perfdata.split()
    labels = [row[0] for row in parse_perfstring(perfdata)]
    assert labels == [
        "bob_total", "bob_retransmissions", "bob_registered",
        "silent_retransmissions", "silent_registered",
    ]  # fmt: skip
    parsed = {row[0]: row[1] for row in parse_perfstring(perfdata)}
    assert parsed["bob_registered"] == "0"
    # Timer E over 32 s: 10 retransmissions (0.5 1.5 3.5 7.5 11.5 ... 31.5)
    assert parsed["silent_retransmissions"] == "10"


# ------------------------------------------------------------------------ report


def test_all_registered_is_ok() -> None:
    report = nagios_report([make.registered("alice"), make.registered("bob")])
    text, perfdata = split_report(report)
    assert text == "SIP REGISTER OK - 2/2 registered"
    assert perfdata.startswith("'alice_rrd'=24ms;;;0 'alice_total'=24ms;;;0 ")
    assert report.long_output == ()
    assert report.exit_code == 0
    assert report.text() == report.first_line + "\n"


def test_failed_registration_is_critical_with_its_diagnosis() -> None:
    report = nagios_report([make.registered("alice"), make.wrong_password("bob")])
    text, _ = split_report(report)
    assert text == "SIP REGISTER CRITICAL - 1/2 registered; critical: bob"
    assert report.exit_code == CRITICAL
    assert len(report.long_output) == 1
    assert report.long_output[0].startswith(
        "CRITICAL: bob: credentials-rejected: the registrar challenged again (401)"
    )
    assert report.text().splitlines()[1:] == list(report.long_output)


@pytest.mark.parametrize(
    ("make_account", "diagnosis"),
    [(make.unreachable, "unreachable"), (make.timed_out, "timeout"), (make.evil, "forbidden")],
)
def test_every_failure_is_critical(make_account: object, diagnosis: str) -> None:
    account = make_account()  # type: ignore[operator]
    status, why = account_status(account)
    assert status is CRITICAL
    assert why.startswith(f"{diagnosis}: ")


@pytest.mark.parametrize(
    ("delay", "warning", "critical", "status"),
    [
        (0.006, "500", "1000", OK),  # 24 ms
        (0.15, "500", "1000", WARNING),  # 600 ms
        (0.3, "500", "1000", CRITICAL),  # 1200 ms
        (0.3, None, None, OK),
        (0.15, "@500:700", None, WARNING),
        (0.006, "30:", None, WARNING),  # faster than 30 ms: suspicious
    ],
)
def test_rrd_thresholds(
    delay: float, warning: str | None, critical: str | None, status: NagiosStatus
) -> None:
    report = nagios_report([make.registered("alice", delay=delay)], limits(warning, critical))
    assert report.exit_code == status
    if status is not OK:
        assert report.long_output[0].startswith(f"{status.name}: alice: RRD ")


def test_account_thresholds_win_over_the_command_line() -> None:
    own = limits("800", "2000")
    slow = make.registered("slow", delay=0.15, thresholds=own)  # 600 ms
    other = make.registered("other", delay=0.15)
    report = nagios_report([slow, other], limits("500", "1000"))
    assert account_status(slow, limits("500", "1000"))[0] is OK
    assert report.exit_code == WARNING
    assert report.long_output == ("WARNING: other: RRD 600ms is outside the warning range 500",)
    _, perfdata = split_report(report)
    assert "'slow_rrd'=600ms;800;2000;0" in perfdata.split()
    assert "'other_rrd'=600ms;500;1000;0" in perfdata.split()


def test_each_threshold_falls_back_on_its_own() -> None:
    """An account that sets only ``critical`` keeps the command line's warning."""
    account = make.registered("a", delay=0.15, thresholds=limits(None, "5000"))
    status, why = account_status(account, limits("500", "1000"))
    assert status is WARNING
    assert why == "RRD 600ms is outside the warning range 500"


def test_options_trunks_judge_the_round_trip() -> None:
    report = nagios_report([make.trunk("t1")], limits("5"))
    text, perfdata = split_report(report)
    assert text == "SIP OPTIONS WARNING - 1/1 reachable; warning: t1"
    assert perfdata == "'t1_total'=8ms;5;;0 't1_retransmissions'=0;;;0 't1_reachable'=1;;;0;1"
    assert report.long_output == ("WARNING: t1: round trip 8ms is outside the warning range 5",)


def test_mixed_modes_and_skipped_accounts() -> None:
    accounts = [
        make.registered("a"),
        make.wrong_password("b"),
        make.registered("c"),
        make.trunk("t"),
        make.skipped("off"),
    ]
    report = nagios_report(accounts)
    text, perfdata = split_report(report)
    assert text == "SIP REGISTER CRITICAL - 2/3 registered, 1/1 reachable, 1 skipped; critical: b"
    assert "off" not in perfdata


@pytest.mark.parametrize("accounts", [[], [make.skipped("x"), make.skipped("y", "options")]])
def test_nothing_checked_is_unknown(accounts: list[object]) -> None:
    report = nagios_report(accounts)  # type: ignore[arg-type]
    assert report.exit_code == UNKNOWN
    assert report.first_line.startswith("SIP ")
    assert "UNKNOWN - no account to check" in report.first_line
    assert "|" not in report.first_line


def test_worst_status_wins() -> None:
    warn = make.registered("slow", delay=0.15)
    broken = make.not_judged("broken")
    assert nagios_report([warn, broken], limits("500")).exit_code == WARNING
    assert nagios_report([make.registered("a"), broken]).exit_code == UNKNOWN
    assert nagios_report([broken, warn, make.unreachable()], limits("500")).exit_code == CRITICAL
    report = nagios_report([warn, broken, make.unreachable("dead")], limits("500"))
    text, _ = split_report(report)
    assert text.endswith("; critical: dead; warning: slow; unknown: broken")
    assert [line.split(":")[0] for line in report.long_output] == ["WARNING", "UNKNOWN", "CRITICAL"]


def test_many_failures_are_counted_on_the_first_line() -> None:
    accounts = [make.unreachable(f"dead{i}") for i in range(8)]
    text, _ = split_report(nagios_report(accounts))
    assert text.endswith("critical: dead0, dead1, dead2, dead3, dead4 and 3 more")


def test_wire_text_cannot_break_the_plugin_output() -> None:
    """Control characters and a | (which would start perfdata) from the server or in a
    name stay out of the first line and the long output."""
    report = nagios_report([make.evil("evil|name\x1b"), make.registered("ok")])
    for line in (report.first_line, *report.long_output):
        assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in line)
    text, perfdata = split_report(report)
    assert "evil/name?" in text
    assert report.long_output[0].startswith(
        "CRITICAL: evil/name?: forbidden: 403 Forbidden ?[31mred?"
    )
    assert "'evil_name__rrd'=U;;;0" in perfdata.split()
    labels = [row[0] for row in parse_perfstring(perfdata)]
    assert "evil_name__total" in labels


def test_password_never_in_the_report() -> None:
    accounts = [make.registered(), make.wrong_password(), make.lossy(), make.timed_out()]
    text = nagios_report(accounts, limits("1", "2")).text()
    assert PASSWORD not in text


def test_unknown_report_for_a_bad_file() -> None:
    report = unknown_report("trunks.toml: account 'a': key 'x': unknown key\nsecond | line")
    assert report == NagiosReport(
        "SIP REGISTER UNKNOWN - trunks.toml: account 'a': key 'x': unknown key second / line",
        (),
        3,
    )
