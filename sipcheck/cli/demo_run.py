"""The demo scenarios: each a real registration over loopback sockets.

The registrar is the net/ server around the registrar core; each client is the
registration core driven by the net/ client. The client side is configured
through the same settings types as ``sipcheck register``.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from dataclasses import dataclass
from typing import Literal

from sipcheck.cli.aor_argument import parse_aor_argument
from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.client_settings import ClientSettings, build_client_settings
from sipcheck.cli.options import OutputOptions
from sipcheck.cli.params import HostPort
from sipcheck.cli.secret import Secret
from sipcheck.exit_status import ExitStatus
from sipcheck.net.client import run_client
from sipcheck.net.dns import resolve
from sipcheck.net.server import RegistrarServer
from sipcheck.outcome import build_outcome
from sipcheck.sip.client.config import Mode
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.registrar.authenticator import Account as ServerAccount
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.service import RegistrarService
from sipcheck.trace import Outcome, Trace

DOMAIN = "example.com"  # RFC 2606: reserved for examples; never resolved here
LOOPBACK = "127.0.0.1"
PASSWORD = "demo-secret"
TIMEOUT = 5.0

ChallengeKind = Literal["www", "proxy"]
CHALLENGES: tuple[ChallengeKind, ...] = ("www", "proxy")


@dataclass(frozen=True)
class Scenario:
    title: str
    registrar: ChallengeKind
    password: str
    expires: int
    expect_result: str
    expect_diagnosis: str | None = None


SCENARIOS = (
    Scenario("Registration through a 401 challenge", "www", PASSWORD, 600, "registered"),
    Scenario("Registration through a 407 challenge", "proxy", PASSWORD, 600, "registered"),
    Scenario(
        "A wrong password, diagnosed", "www", "not-the-password", 600, "failed",
        "credentials-rejected",
    ),
    Scenario("Expires too short: 423, retried with Min-Expires", "www", PASSWORD, 30, "registered"),
)  # fmt: skip


def check(scenario: Scenario, outcome: Outcome) -> bool:
    ids = [d.id for d in outcome.diagnoses]
    if outcome.result != scenario.expect_result:
        return False
    return scenario.expect_diagnosis is None or scenario.expect_diagnosis in ids


def scenario_settings(scenario: Scenario, port: int, transport: str) -> ClientSettings:
    """What `sipcheck register alice@example.com --server 127.0.0.1:PORT` would run."""
    options = ClientOptions(server=HostPort(LOOPBACK, port), transport=transport, timeout=TIMEOUT)
    return build_client_settings(
        Mode.REGISTER,
        parse_aor_argument(f"alice@{DOMAIN}"),
        options,
        expires=scenario.expires,
        password=Secret(scenario.password),
    )


async def _start_registrar(challenge: ChallengeKind, transport: str) -> tuple[RegistrarServer, int]:
    config = RegistrarConfig(
        accounts={"alice": ServerAccount(PASSWORD)}, challenge=challenge, min_expires=60
    )
    core = RegistrarService(Registrar(config, secrets.token_bytes(32)), record=False)
    server = RegistrarServer(core)
    address = await server.listen(transport, LOOPBACK, 0)
    return server, address.port


async def _register(settings: ClientSettings) -> tuple[Trace, Outcome]:
    registration = Registration(settings.config, rng=random.SystemRandom(), now=0.0)
    resolution = await resolve(settings.resolve_host, settings.resolve_port, settings.transport)
    record = await run_client(registration, resolution, settings.net, command="register")
    return record.trace, build_outcome(record)


async def run_scenarios(transport: str = "udp") -> list[tuple[Scenario, Trace, Outcome]]:
    servers = {c: await _start_registrar(c, transport) for c in CHALLENGES}
    results = []
    try:
        for scenario in SCENARIOS:
            _, port = servers[scenario.registrar]
            trace, outcome = await _register(scenario_settings(scenario, port, transport))
            results.append((scenario, trace, outcome))
    finally:
        for server, _ in servers.values():
            await server.close()
    return results


def run_demo(output: OutputOptions, transport: str) -> int:
    from rich.rule import Rule

    from sipcheck.render.ladder import render_ladder
    from sipcheck.render.verdict import render_verdict

    console = output.console()
    console.print(
        f"sipcheck demo: the embedded registrar is listening on {LOOPBACK} (a free port); "
        f"each scenario below is a real {transport.upper()} exchange with it.\n"
    )
    results = asyncio.run(run_scenarios(transport))
    failures = 0
    for number, (scenario, trace, outcome) in enumerate(results, start=1):
        console.print(Rule(f"{number}. {scenario.title}"))
        console.print(render_ladder(trace, outcome, verbose=output.verbose, width=console.width))
        console.print(render_verdict(outcome))
        if check(scenario, outcome):
            console.print(f"as expected: {scenario.expect_result}\n")
        else:
            failures += 1
            console.print(f"NOT as expected: wanted {scenario.expect_result}\n")
    console.print(
        "Next: `sipcheck register alice@your-pbx.example.com --password-env PW` against "
        "your own registrar, or `sipcheck registrar --account alice:secret` to test a phone."
    )
    # The demo runs sipcheck against itself: a scenario that goes wrong is a bug.
    return ExitStatus.SUCCESS if failures == 0 else ExitStatus.INTERNAL_ERROR
