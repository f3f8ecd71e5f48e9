"""Registration still succeeds through a UDP relay that drops, duplicates and
reorders datagrams (real sockets on loopback)."""

from __future__ import annotations

import asyncio
import random

from sipcheck.cli.aor_argument import parse_aor_argument
from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.client_run import execute
from sipcheck.cli.client_settings import build_client_settings
from sipcheck.cli.params import HostPort
from sipcheck.cli.secret import Secret
from sipcheck.sip.client.config import Mode
from tests.support.processes import registrar
from tests.support.relay import LossyRelay, Schedule


def test_register_through_lossy_relay() -> None:
    with registrar(["--account", "alice:pw-relay"]) as server:

        async def run() -> tuple[object, object, LossyRelay]:
            relay = LossyRelay(
                ("127.0.0.1", server.ports["udp"]),
                # upstream: the first REGISTER is lost (Timer E resends it)
                Schedule(drop={1}),
                # downstream: the 401 arrives twice; the 200 is held back and
                # delivered after the one answering the retransmission
                Schedule(duplicate={1}, hold={2}),
            )
            host, port = await relay.start()
            options = ClientOptions(
                t1=0.1, timeout=8.0, transport="udp", server=HostPort(host, port)
            )
            plan = build_client_settings(
                Mode.REGISTER,
                parse_aor_argument("alice@example.com"),
                options,
                expires=600,
                password=Secret("pw-relay"),  # no password on any command line, even in a test
            )
            try:
                trace, outcome = await execute(plan, rng=random.Random(5))
            finally:
                relay.close()
            return trace, outcome, relay

        trace, outcome, relay = asyncio.run(run())
    assert outcome.result == "registered", outcome.diagnoses  # type: ignore[attr-defined]
    actions = [action for _, _, action in relay.log.forwarded]
    assert {"dropped", "duplicated", "held", "released held"} <= set(actions)
    entries = trace.entries  # type: ignore[attr-defined]
    sent = [e for e in entries if e.direction == "out"]
    assert sent[0].retransmission is False and any(e.retransmission for e in sent)
    finals = [e.start_line for e in entries if e.direction == "in"]
    assert finals.count("SIP/2.0 401 Unauthorized") == 2  # the duplicate was absorbed
    # The 200 answering the retransmission came first; the held one was released
    # after it, when the client had already finished.
    assert finals[-1] == "SIP/2.0 200 OK" and finals.count("SIP/2.0 200 OK") == 1
