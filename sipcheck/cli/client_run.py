"""Settings -> targets -> driver -> Outcome -> output -> exit status."""

from __future__ import annotations

import asyncio
import random

from sipcheck.cli.aor_argument import AorArgument
from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.client_settings import ClientSettings, build_client_settings
from sipcheck.cli.passwords import ask_password, can_prompt, read_password
from sipcheck.diagnosis.facts import STEP_DNS
from sipcheck.errors import ResolutionError
from sipcheck.net.client import PasswordPrompt, run_client
from sipcheck.outcome import RunRecord, build_outcome
from sipcheck.sip.client.config import Mode
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.locate.targets import Resolution
from sipcheck.sip.wire.uri import SipUri
from sipcheck.trace import Outcome, Trace


def run_client_command(
    mode: Mode,
    argument: AorArgument,
    options: ClientOptions,
    *,
    expires: int | None = None,
    contact: str | None = None,
) -> int:
    """One client command: settings first (every check), then the password, then the run."""
    settings = build_client_settings(mode, argument, options, expires=expires, contact=contact)
    settings = settings.with_password(read_password(options.password, argument))
    trace, outcome = asyncio.run(execute(settings))
    if settings.output.ci is not None:  # --nagios, --junit
        from sipcheck.cli.ci_output import finish_one

        return finish_one(settings, trace, outcome)
    show(settings, trace, outcome)
    return outcome.exit_status


def show(settings: ClientSettings, trace: Trace, outcome: Outcome) -> None:
    output = settings.output
    if output.json:
        from sipcheck.cli.options import emit_json
        from sipcheck.render.json_out import outcome_to_json

        emit_json(outcome_to_json(trace, outcome))
        return
    from sipcheck.render.ladder import render_ladder
    from sipcheck.render.verdict import render_verdict

    console = output.console()
    console.print(render_ladder(trace, outcome, verbose=output.verbose, width=console.width))
    console.print(render_verdict(outcome))


async def _prompt(realm: str, auth_user: str) -> str | None:
    # In the loop's thread, on purpose: Ctrl-C must stop the prompt at once
    # (see ask_password); nothing else needs the loop while a person types.
    if not can_prompt():
        return None
    return ask_password(realm, auth_user)


async def _resolve(plan: ClientSettings, uri: SipUri | None = None) -> Resolution:
    from sipcheck.net.dns import resolve

    if uri is None:
        return await resolve(
            plan.resolve_host, plan.resolve_port, plan.transport, secure=plan.secure
        )
    return await resolve(
        uri.host_unbracketed, uri.port, uri.transport or plan.transport, secure=uri.secure
    )


async def execute(
    plan: ClientSettings,
    *,
    rng: random.Random | None = None,
    prompt: PasswordPrompt | None = _prompt,
) -> tuple[Trace, Outcome]:
    """Resolve, run the registration core over the network, build the Outcome.
    ``prompt`` asks for a password a challenge needs (None: nobody is asked)."""
    registration = Registration(plan.config, rng=rng or random.SystemRandom(), now=0.0)
    command = plan.config.mode.value.split("-")[0]
    try:
        resolution = await _resolve(plan)
    except ResolutionError as exc:
        detail = exc.message + (f" ({exc.hint})" if exc.hint else "")
        registration.abort(Failure.DNS_FAILED, detail, 0.0)
        trace = Trace()
        trace.note(0.0, "error", detail, STEP_DNS)
        record = RunRecord(command, registration, trace, None, None)
        return record.trace, build_outcome(record)
    record = await run_client(
        registration,
        resolution,
        plan.net,
        command=command,
        prompt=prompt,
        resolver=lambda uri: _resolve(plan, uri),
    )
    return record.trace, build_outcome(record)
