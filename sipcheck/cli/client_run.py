"""Settings -> targets -> driver -> Outcome -> output -> exit status."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from contextlib import AbstractContextManager

from sipcheck.cli.aor_argument import AorArgument
from sipcheck.cli.client_options import ClientOptions, Repeat
from sipcheck.cli.client_settings import ClientSettings, build_client_settings
from sipcheck.cli.passwords import ask_password, can_prompt, read_ha1, read_password
from sipcheck.diagnosis.facts import STEP_DNS
from sipcheck.errors import ResolutionError
from sipcheck.net import progress as p
from sipcheck.net.blocking import run_blocking
from sipcheck.net.client import ConnectionPool, PasswordPrompt, run_client
from sipcheck.outcome import RunRecord, build_outcome
from sipcheck.sip.client.config import Mode
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.locate.targets import Resolution, ResolutionFailed
from sipcheck.sip.wire.uri import SipUri
from sipcheck.trace import Outcome, Trace


def run_client_command(
    mode: Mode,
    argument: AorArgument,
    options: ClientOptions,
    *,
    expires: int | None = None,
    contact: str | None = None,
    repeat: Repeat | None = None,
    pcap: str | None = None,
) -> int:
    """One client command: settings first (every check), then the secret, then the run."""
    settings = build_client_settings(mode, argument, options, expires=expires, contact=contact)
    settings = settings.with_password(read_password(options.password, argument))
    settings = settings.with_ha1(read_ha1(options.password))
    if repeat is not None and repeat.count > 1:
        from sipcheck.cli.client_repeat import run_repeated

        return run_repeated(settings, repeat)
    from sipcheck.cli.progress import live_status

    status = live_status(settings.output)
    with status or contextlib.nullcontext():
        trace, outcome = run_blocking(execute(settings, progress=status))  # see net.blocking
    if pcap is not None:  # --pcap FILE: the Trace as a capture
        from sipcheck.capture.writer import write_pcap

        write_pcap(pcap, trace)
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


def remembering_prompt() -> PasswordPrompt:
    """A prompt that asks once per realm and user, for runs that repeat (``--count``)."""
    known: dict[tuple[str, str], str] = {}

    async def prompt(realm: str, auth_user: str) -> str | None:
        key = (realm, auth_user)
        if key not in known:
            answer = await _prompt(realm, auth_user)
            if answer is None:
                return None
            known[key] = answer
        return known[key]

    return prompt


def only_family(resolution: Resolution, family: int | None, host: str) -> Resolution:
    """-4 / -6: the targets of that address family; ResolutionFailed when none is left."""
    if family is None:
        return resolution
    targets = tuple(t for t in resolution.targets if (":" in t.address) == (family == 6))
    if not targets:
        other = "IPv6" if family == 4 else "IPv4"
        raise ResolutionFailed(
            f"{host}: no IPv{family} address (-{family}); it resolved to {other} only",
            hint=f"leave -{family} out, or check the name's {'A' if family == 4 else 'AAAA'} "
            "records",
            steps=resolution.steps,
        )
    return Resolution(targets, resolution.steps)


async def _resolve(plan: ClientSettings, uri: SipUri | None = None) -> Resolution:
    from sipcheck.net.dns import resolve

    # -4/-6: DNS is asked for that family's addresses only; the filter then covers
    # numeric hosts (and says what a name had when nothing of the family is left).
    if uri is None:
        found = await resolve(
            plan.resolve_host, plan.resolve_port, plan.transport, secure=plan.secure,
            family=plan.family,
        )  # fmt: skip
        return only_family(found, plan.family, plan.resolve_host)
    found = await resolve(
        uri.host_unbracketed, uri.port, uri.transport or plan.transport, secure=uri.secure,
        family=plan.family,
    )  # fmt: skip
    return only_family(found, plan.family, uri.host_unbracketed)


def _pausing(prompt: PasswordPrompt, observer: object) -> PasswordPrompt:
    """The prompt, stopping an observer that draws (the live status line) while asking."""
    paused: Callable[[], AbstractContextManager[None]] | None = getattr(observer, "paused", None)
    if paused is None:
        return prompt

    async def paused_prompt(realm: str, auth_user: str) -> str | None:
        assert paused is not None
        with paused():
            return await prompt(realm, auth_user)

    return paused_prompt


async def execute(
    plan: ClientSettings,
    *,
    rng: random.Random | None = None,
    progress: p.ProgressObserver | None = None,
    pool: ConnectionPool | None = None,
    resolution: Resolution | None = None,
    prompt: PasswordPrompt | None = _prompt,
) -> tuple[Trace, Outcome]:
    """Resolve, run the registration core over the network, build the Outcome.
    ``prompt`` asks for a password a challenge needs (None: nobody is asked)."""
    record = await execute_record(
        plan, rng=rng, progress=progress, pool=pool, resolution=resolution, prompt=prompt
    )
    return record.trace, build_outcome(record)


async def execute_record(
    plan: ClientSettings,
    *,
    rng: random.Random | None = None,
    progress: p.ProgressObserver | None = None,
    pool: ConnectionPool | None = None,
    resolution: Resolution | None = None,
    prompt: PasswordPrompt | None = _prompt,
) -> RunRecord:
    """``execute`` up to the RunRecord: given a ``resolution`` (a repeated run), no DNS;
    given a ``pool``, the connections of the previous run are used again."""
    registration = Registration(plan.config, rng=rng or random.SystemRandom(), now=0.0)
    command = plan.config.mode.value.split("-")[0]
    tell: Callable[[p.ProgressEvent], None] = progress or (lambda event: None)
    if resolution is None:
        tell(p.Resolving(0.0, plan.resolve_host))
        try:
            resolution = await _resolve(plan)
        except ResolutionError as exc:
            detail = exc.message + (f" ({exc.hint})" if exc.hint else "")
            registration.abort(Failure.DNS_FAILED, detail, 0.0)
            trace = Trace()
            trace.note(0.0, "error", detail, STEP_DNS)
            return RunRecord(command, registration, trace, None, None)
        tell(p.Resolved(0.0, len(resolution.targets)))
    return await run_client(
        registration,
        resolution,
        plan.net,
        command=command,
        prompt=None if prompt is None else _pausing(prompt, progress),
        resolver=lambda uri: _resolve(plan, uri),
        progress=progress,
        pool=pool,
    )
