"""`sipcheck watch` (a real process) against a real Kamailio 5.6 on loopback.

Kamailio grants 3 s at most (its registrar's max_expires), so the watch refreshes
every 1.5 s; T1 is 0.05 s, so a request times out after 3.2 s (Timer F). Kamailio is
stopped mid-run: the lapse must be reported within one refresh interval plus the
transaction timeout; started again on the same ports, the recovery must follow.
"""

from __future__ import annotations

import signal
import time

from tests.interop.conftest import KamailioFactory
from tests.interop.kamailio_server import restart_kamailio
from tests.support.processes import sipcheck
from tests.support.watching import watching

PW = "kam-watch-pw"
ENV = {"SIPCHECK_PW": PW}
GRANTED = 3
REFRESH_INTERVAL = GRANTED / 2
TIMER_F = 64 * 0.05
SLACK = 1.0  # process start-up, scheduling, the loopback


def test_watch_refreshes_lapses_when_kamailio_stops_and_recovers(
    kamailio: KamailioFactory,
) -> None:
    server = kamailio(mode="www", users={"alice": PW}, max_expires=GRANTED)
    args = [
        "alice@127.0.0.1", "--server", server.hostport("udp"), "--password-env", "SIPCHECK_PW",
        "--t1", "0.05", "--expires", "60",
    ]  # fmt: skip
    restarted = None
    try:
        with watching(args, env=ENV) as watch:
            refreshes = watch.wait_for(lambda e: e["event"] == "refresh", count=3, timeout=15)
            assert all(e["granted_s"] == GRANTED for e in refreshes)
            server.stop()
            stopped = time.monotonic()
            lapse = watch.wait_for(lambda e: e.get("state") == "Failed", timeout=15)[0]
            assert watch.seen_at(lapse) - stopped <= REFRESH_INTERVAL + TIMER_F + SLACK
            assert lapse["previous"] == "Ok" and lapse["cause"] in ("unreachable", "timeout")
            assert lapse["message"].startswith(("refresh failed", "refresh timed out"))
            restarted = restart_kamailio(server)
            back = watch.wait_for(
                lambda e: e.get("previous") == "Failed" and e.get("state") == "Ok", timeout=20
            )[0]
            assert back["message"].startswith("after ") and back["attempts"] >= 1
            watch.wait_for(lambda e: e["event"] == "refresh" and e["time"] > back["time"])
            watch.interrupt(signal.SIGINT)
        assert watch.status == 0, watch.stderr
        assert watch.transitions()[-1] == ("Ok", "Cleared", None)
        summary = watch.summary["accounts"][0]
        assert summary["outages"] == 1 and summary["failures"]
        assert 0 < summary["availability_percent"] < 100
        assert summary["refreshes"] >= 4
        query = sipcheck(
            "query", "alice@127.0.0.1", "--server", restarted.hostport("udp"),
            "--password-env", "SIPCHECK_PW", "--json", "--timeout", "5", env=ENV,
        )  # fmt: skip
        assert query.status == 0 and query.json()["bindings"] == []
    finally:
        if restarted is not None:
            restarted.stop()
