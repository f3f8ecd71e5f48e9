"""Options -> frozen config -> targets -> driver -> Outcome -> output -> exit status."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import click

from sipcheck.cli.client_options import Target, can_prompt, parse_target, read_password
from sipcheck.errors import ConfigError, ResolutionError, SipParseError
from sipcheck.net.client import NetOptions, run_client
from sipcheck.net.transports import TlsOptions
from sipcheck.outcome import RunRecord, build_outcome
from sipcheck.sip.client.registration import Account, Mode, Registration, RegistrationConfig
from sipcheck.sip.client.transaction import Timers
from sipcheck.sip.locate.targets import Resolution
from sipcheck.sip.wire.hostport import parse_hostport
from sipcheck.sip.wire.uri import SipUri
from sipcheck.trace import Outcome, Trace


@dataclass(frozen=True)
class ClientRequest:
    mode_name: str
    target_text: str
    expires: int | None
    kw: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """Everything a client run needs, decided before any I/O."""

    config: RegistrationConfig
    net: NetOptions
    resolve_host: str
    resolve_port: int | None
    transport: str | None
    secure: bool
    json_output: bool
    no_color: bool
    verbose: int


def build_plan(request: ClientRequest) -> Plan:
    kw = request.kw
    mode = Mode(request.mode_name)
    if mode is Mode.OPTIONS:
        target = _options_target(request.target_text)
    else:
        target = parse_target(request.target_text, kw.get("user"))
    password = read_password(
        env=kw.get("password_env"),
        file=kw.get("password_file"),
        arg=kw.get("password_arg"),
        from_target=target.password,
    )
    aor = target.aor
    auth_user = kw.get("auth_user") or aor.user or ""
    accounts = (Account(auth_user, password=password, realm=kw.get("realm")),) if auth_user else ()
    transport = kw.get("transport") or aor.transport
    if aor.secure and transport in (None, "tcp"):
        transport = "tls"
    config = RegistrationConfig(
        aor=aor,
        mode=mode,
        request_uri=aor if mode is Mode.OPTIONS else None,
        expires=request.expires if request.expires is not None else 3600,
        contact=kw.get("contact"),
        accounts=accounts,
        timers=Timers(t1=kw["t1"], t2=max(4.0, kw["t1"]), t4=5.0),
        timeout=kw["timeout"],
        contact_user=target.contact_user,
    )
    server = kw.get("server")
    if server:
        host, port = parse_hostport(server)
    else:
        host, port = aor.host_unbracketed, aor.port
    bind = None
    if kw.get("bind"):
        bind_host, bind_port = parse_hostport(kw["bind"])
        bind = (bind_host, bind_port or 0)
    if kw.get("key_file") and not kw.get("cert_file"):
        raise ConfigError("--key needs --cert")
    tls = TlsOptions(
        ca_file=kw.get("ca_file"),
        insecure=bool(kw.get("insecure")),
        cert_file=kw.get("cert_file"),
        key_file=kw.get("key_file"),
    )
    net = NetOptions(
        bind=bind,
        tls=tls,
        # RFC 5922 §4: the certificate must match the SIP domain we asked for.
        server_name=host if server else aor.host_unbracketed,
        connect_timeout=min(kw["timeout"], 10.0),
    )
    return Plan(
        config=config,
        net=net,
        resolve_host=host,
        resolve_port=port,
        transport=transport,
        secure=aor.secure,
        json_output=bool(kw.get("json_output")),
        no_color=bool(kw.get("no_color")),
        verbose=int(kw.get("verbose") or 0),
    )


def _options_target(text: str) -> Target:
    from sipcheck.sip.client.registration import parse_aor

    try:
        uri = parse_aor(text)
    except SipParseError:
        raise ConfigError(
            f"not a SIP target: {text!r}", hint="give host[:port], user@host or a sip: URI"
        ) from None
    return Target(uri)


async def _prompt(realm: str, auth_user: str) -> str | None:
    if not can_prompt():
        return None
    loop = asyncio.get_running_loop()

    def ask() -> str:
        value: str = click.prompt(
            f"Password for {auth_user} (realm {realm})", hide_input=True, err=True
        )
        return value

    return await loop.run_in_executor(None, ask)


async def _resolve(plan: Plan, uri: SipUri | None = None) -> Resolution:
    from sipcheck.net.dns import resolve

    if uri is None:
        return await resolve(
            plan.resolve_host, plan.resolve_port, plan.transport, secure=plan.secure
        )
    return await resolve(
        uri.host_unbracketed, uri.port, uri.transport or plan.transport, secure=uri.secure
    )


async def execute(plan: Plan, *, rng: random.Random | None = None) -> tuple[Trace, Outcome]:
    """Resolve, run the registration core over the network, build the Outcome."""
    registration = Registration(plan.config, rng=rng or random.SystemRandom(), now=0.0)
    command = plan.config.mode.value.split("-")[0]
    try:
        resolution = await _resolve(plan)
    except ResolutionError as exc:
        registration.abort("dns-failed", exc.message + (f" ({exc.hint})" if exc.hint else ""), 0.0)
        record = RunRecord(command, registration, Trace(), None, None)
        return record.trace, build_outcome(record)
    record = await run_client(
        registration,
        resolution,
        plan.net,
        command=command,
        prompt=_prompt,
        resolver=lambda uri: _resolve(plan, uri),
    )
    return record.trace, build_outcome(record)


def run_command(request: ClientRequest) -> int:
    plan = build_plan(request)
    trace, outcome = asyncio.run(execute(plan))
    if plan.json_output:
        from sipcheck.cli.options import emit_json
        from sipcheck.render.json_out import outcome_to_json

        emit_json(outcome_to_json(trace, outcome))
        return outcome.exit_status
    from sipcheck.cli.options import make_console
    from sipcheck.render.ladder import render_ladder
    from sipcheck.render.verdict import render_verdict

    console = make_console(plan.no_color)
    console.print(render_ladder(trace, outcome, verbose=plan.verbose, width=console.width))
    console.print(render_verdict(outcome))
    return outcome.exit_status
