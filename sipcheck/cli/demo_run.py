"""The demo scenarios: each a real registration over loopback sockets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sipcheck.cli.client_run import Plan, execute
from sipcheck.cli.registrar_run import start_server
from sipcheck.net.client import NetOptions
from sipcheck.sip.client.registration import Account, Mode, RegistrationConfig, parse_aor
from sipcheck.sip.registrar.authenticator import Account as ServerAccount
from sipcheck.sip.registrar.core import RegistrarConfig
from sipcheck.trace import Outcome, Trace

DOMAIN = "example.com"  # RFC 2606: reserved for examples; never resolved here
PASSWORD = "demo-secret"


@dataclass(frozen=True)
class Scenario:
    title: str
    registrar: str  # "www" | "proxy"
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


async def run_scenarios(
    transport: str = "udp",
) -> list[tuple[Scenario, Trace, Outcome]]:
    accounts = {"alice": ServerAccount(PASSWORD)}
    servers = {}
    for challenge in ("www", "proxy"):
        config = RegistrarConfig(accounts=accounts, challenge=challenge, min_expires=60)
        server, bound = await start_server(
            config, [("127.0.0.1", 0)], tls_files=None, on_attempt=None, record=False
        )
        port = next(b.address.port for b in bound if b.transport == transport)
        servers[challenge] = (server, port)
    results = []
    try:
        for scenario in SCENARIOS:
            _, port = servers[scenario.registrar]
            plan = Plan(
                config=RegistrationConfig(
                    aor=parse_aor(f"alice@{DOMAIN}"),
                    mode=Mode.REGISTER,
                    expires=scenario.expires,
                    accounts=(Account("alice", password=scenario.password),),
                    timeout=5.0,
                ),
                net=NetOptions(),
                resolve_host="127.0.0.1",
                resolve_port=port,
                transport=transport,
                secure=False,
                json_output=False,
                no_color=False,
                verbose=0,
            )
            trace, outcome = await execute(plan)
            results.append((scenario, trace, outcome))
    finally:
        for server, _ in servers.values():
            await server.close()
    return results


def run_demo(*, no_color: bool, verbose: int, transport: str) -> int:
    from rich.rule import Rule

    from sipcheck.cli.options import make_console
    from sipcheck.render.ladder import render_ladder
    from sipcheck.render.verdict import render_verdict

    console = make_console(no_color)
    console.print(
        "sipcheck demo: the embedded registrar is listening on 127.0.0.1 (a free port); "
        f"each scenario below is a real {transport.upper()} exchange with it.\n"
    )
    results = asyncio.run(run_scenarios(transport))
    failures = 0
    for number, (scenario, trace, outcome) in enumerate(results, start=1):
        console.print(Rule(f"{number}. {scenario.title}"))
        console.print(render_ladder(trace, outcome, verbose=verbose, width=console.width))
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
    return 0 if failures == 0 else 1
