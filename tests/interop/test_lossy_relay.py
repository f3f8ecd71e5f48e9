"""Registration still succeeds through a UDP relay that drops, duplicates and
reorders datagrams (real sockets on loopback)."""

from __future__ import annotations

import asyncio
import random

from sipcheck.cli.client_run import ClientRequest, build_plan, execute
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
            kw = {
                "t1": 0.1, "timeout": 8.0, "password_arg": None, "password_env": None,
                "password_file": None, "transport": "udp", "server": f"{host}:{port}",
            }  # fmt: skip
            plan = build_plan(ClientRequest("register", "alice@example.com", 600, kw))
            object.__setattr__(
                plan, "config", _with_password(plan.config, "pw-relay")
            )  # no password on any command line, even in a test
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


def _with_password(config: object, password: str) -> object:
    from dataclasses import replace

    from sipcheck.sip.client.registration import Account, RegistrationConfig

    assert isinstance(config, RegistrationConfig)
    return replace(config, accounts=(Account("alice", password=password),))
