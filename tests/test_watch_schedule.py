"""The watch's schedules with a fake clock: refresh times, backoff times, exact.

The rules (sipcheck/sip/client/refresh.py, the README): refresh at the REGISTER's
sending + max(granted / 2, granted - margin); after the n-th failure in a row wait
min(cap, 1 s * 2 ** (n - 1)) * (1 - 0.25 u).
"""

from __future__ import annotations

import pytest

from sipcheck.errors import ConfigError
from sipcheck.sip.client.refresh import (
    Action,
    RefreshPolicy,
    backoff_delay,
    nominal_backoff,
    refresh_delay,
)
from tests.support.pairing import Link, ScriptedPeer, always
from tests.support.watch_pairing import SILENT, ScriptedRandom, WatchPair, client, registrar


def request_times(pair: WatchPair) -> list[tuple[str, float]]:
    return [(d.action.value, round(d.record.trace.entries[0].time, 6)) for d in pair.done]


# ------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("granted", "margin", "expected"),
    [
        (3600, 30, 3570.0),  # long: the margin before expiry
        (60, 30, 30.0),  # both rules agree
        (61, 30, 31.0),
        (40, 30, 20.0),  # short: half-way
        (4, 30, 2.0),
        (1, 30, 0.5),
        (120, 0, 120.0),  # no margin: at expiry, never after
        (0, 30, 0.0),
    ],
)
def test_refresh_delay(granted: int, margin: float, expected: float) -> None:
    assert refresh_delay(granted, margin) == expected
    assert refresh_delay(granted, margin) <= granted


def test_backoff_doubles_from_one_second_to_five_minutes() -> None:
    policy = RefreshPolicy()
    nominal = [nominal_backoff(n, policy) for n in range(1, 12)]
    assert nominal == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    assert nominal_backoff(10_000, policy) == 300  # no overflow on a long outage


def test_backoff_jitter_is_at_most_a_quarter_shorter() -> None:
    policy = RefreshPolicy()
    assert backoff_delay(1, 0.0, policy) == 1.0
    assert backoff_delay(3, 0.5, policy) == 4 * 0.875
    assert backoff_delay(20, 0.999, policy) == pytest.approx(300 * (1 - 0.25 * 0.999))
    with pytest.raises(ValueError):
        backoff_delay(1, 1.0, policy)
    with pytest.raises(ValueError):
        nominal_backoff(0, policy)


def test_backoff_honours_retry_after_up_to_the_cap() -> None:
    policy = RefreshPolicy()
    assert backoff_delay(1, 0.0, policy, retry_after=30) == 30.0
    assert backoff_delay(1, 0.0, policy, retry_after=0.5) == 1.0  # the backoff is longer
    assert backoff_delay(1, 0.0, policy, retry_after=3600) == 300.0


@pytest.mark.parametrize(
    "options",
    [
        {"margin": -1},
        {"backoff_start": 0},
        {"backoff_start": 10, "backoff_cap": 5},
        {"jitter": 1.0},
        {"query_every": 0},
    ],
)
def test_policy_refuses_nonsense(options: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        RefreshPolicy(**options)


# ------------------------------------------------------ with a fake clock


def test_refreshes_at_half_of_a_short_granted_expiry() -> None:
    pair = WatchPair(client(60), [registrar()])
    pair.start()
    pair.run_until(100)
    assert request_times(pair) == [
        ("register", 0.0),
        ("refresh", 30.0),
        ("refresh", 60.0),
        ("refresh", 90.0),
    ]


def test_refresh_counts_from_the_sending_not_the_answer() -> None:
    # 0.25 s each way: the 401 round trip and the 200 round trip end at 1.0 s, the
    # refresh is still at 0 + 30 s; a refresh (nonce reused: one round trip) too.
    pair = WatchPair(client(60, t1=2.0), [registrar()], link=Link(delay=0.25))
    pair.start()
    pair.run_until(65)
    assert request_times(pair) == [("register", 0.0), ("refresh", 30.0), ("refresh", 60.0)]
    ok = pair.of_kind("state")[-1]
    assert (ok.time, ok.granted, ok.next_in) == (1.0, 60, 29.0)


def test_a_long_expiry_is_refreshed_a_margin_before_it_ends() -> None:
    pair = WatchPair(
        client(3600), [registrar(max_expires=3600, nonce_lifetime=10_000)],
        policy=RefreshPolicy(margin=45),
    )  # fmt: skip
    pair.start()
    pair.run_until(8000)
    assert request_times(pair) == [("register", 0.0), ("refresh", 3555.0), ("refresh", 7110.0)]


def test_the_granted_expiry_rules_not_the_asked_one() -> None:
    pair = WatchPair(client(3600), [registrar(max_expires=20)])
    pair.start()
    pair.run_until(35)
    assert request_times(pair) == [("register", 0.0), ("refresh", 10.0), ("refresh", 20.0),
                                   ("refresh", 30.0)]  # fmt: skip


def test_backoff_schedule_after_timeouts() -> None:
    # Timer F = 64 * 0.05 = 3.2 s; draws 0, 0.5, 0.2, then 0.
    pair = WatchPair(client(60), [SILENT], jitter=ScriptedRandom([0.0, 0.5, 0.2]))
    pair.start()
    pair.run_until(40)
    starts = [t for _, t in request_times(pair)]
    waits = [1.0, 2 * 0.875, 4 * 0.95, 8.0, 16.0]
    expected = [0.0]
    for wait in waits:
        expected.append(round(expected[-1] + 3.2 + wait, 6))
    assert starts == pytest.approx(expected[: len(starts)])
    assert starts == [0.0, 4.2, 9.15, 16.15, 27.35]  # the sixth: 27.35 + 3.2 + 16
    first = pair.of_kind("state")[-1]
    assert (first.time, first.cause, first.next_in, first.attempts) == (3.2, "timeout", 1.0, 1)
    retries = pair.of_kind("retry")
    assert [e.next_in for e in retries] == pytest.approx([1.75, 3.8, 8.0, 16.0])
    assert [e.attempts for e in retries] == [2, 3, 4, 5]


def test_backoff_waits_at_least_retry_after() -> None:
    busy = ScriptedPeer(always(503, ("Retry-After", "7")))
    pair = WatchPair(client(60), [busy])
    pair.start()
    pair.run_until(20)
    assert [t for _, t in request_times(pair)] == [0.0, 7.0, 14.0]
    failed = pair.of_kind("state")[-1]
    assert (failed.cause, failed.next_in) == ("server-error", 7.0)


def test_query_every_between_refreshes() -> None:
    pair = WatchPair(client(60), [registrar()], policy=RefreshPolicy(query_every=12))
    pair.start()
    pair.run_until(62)
    assert request_times(pair) == [
        ("register", 0.0),
        ("query", 12.0),
        ("query", 24.0),
        ("refresh", 30.0),  # 36 would be after the refresh: the refresh comes first
        ("query", 42.0),
        ("query", 54.0),
        ("refresh", 60.0),
    ]
    assert not pair.of_kind("retry") and [e.state.value for e in pair.of_kind("state")] == [
        "Progress",
        "Ok",
    ]


def test_the_due_action_waits_for_its_time() -> None:
    pair = WatchPair(client(60), [registrar()])
    pair.start()
    pair.run_until(10)
    assert pair.keeper.due == (30.0, Action.REFRESH)
    assert pair.keeper.handle_timer(29.999) is None
    assert pair.keeper.next_timer() == 30.0
