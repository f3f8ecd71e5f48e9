"""Running the embedded registrar: config from options, listeners, output."""

from __future__ import annotations

import asyncio
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sipcheck.cli.gc_tuning import fewer_collections
from sipcheck.cli.registrar_output import Listening, Printer, Reporter, banner, summary
from sipcheck.errors import ConfigError
from sipcheck.sip.registrar.attempts import AttemptLog
from sipcheck.sip.registrar.authenticator import Account
from sipcheck.sip.registrar.config import DEFAULT_ALGORITHMS, strongest_first
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.limits import Limits
from sipcheck.sip.wire.hostport import parse_hostport

if TYPE_CHECKING:
    from sipcheck.net.stream_server import ServerLimits
    from sipcheck.sip.registrar.faults import Faults


def parse_account(text: str) -> tuple[str, Account]:
    """``USER:PASSWORD`` or ``USER:AUTHUSER:PASSWORD`` -> (auth user, Account)."""
    parts = text.split(":", 2)
    if len(parts) == 2 and all(parts):
        user, password = parts
        return user, Account(password)
    if len(parts) == 3 and all(parts[:2]) and parts[2]:
        user, auth_user, password = parts
        return auth_user, Account(password, frozenset({user}))
    raise ConfigError(
        f"bad --account {text.split(':', 1)[0]}:...",
        hint="use USER:PASSWORD or USER:AUTHUSER:PASSWORD",
    )


def load_accounts_file(path: str) -> dict[str, Account]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read accounts file {path}: {exc}") from None
    accounts: dict[str, Account] = {}
    for index, entry in enumerate(data.get("account", []), start=1):
        if not isinstance(entry, dict) or "user" not in entry or "password" not in entry:
            raise ConfigError(f"{path}: account #{index} needs user and password")
        user = str(entry["user"])
        auth_user = str(entry.get("auth_user", user))
        aors = frozenset({user}) if auth_user != user else frozenset()
        accounts[auth_user] = Account(str(entry["password"]), aors)
    if not accounts:
        raise ConfigError(f"{path} has no [[account]] entries")
    return accounts


def algorithms(values: Iterable[str]) -> tuple[str, ...]:
    """``--algorithm`` values (repeatable, each a comma-separated list), strongest first."""
    names = [name for value in values for name in value.split(",") if name.strip()]
    return strongest_first(names) if names else DEFAULT_ALGORITHMS


def tls_versions(kw: Mapping[str, Any]) -> tuple[str, str]:
    low, high = str(kw.get("tls_min") or "1.2"), str(kw.get("tls_max") or "1.3")
    if float(low) > float(high):
        raise ConfigError(f"--tls-min {low} is above --tls-max {high}")
    return low, high


def registrar_config(kw: Mapping[str, Any]) -> RegistrarConfig:
    accounts: dict[str, Account] = {}
    if kw.get("accounts_file"):
        accounts.update(load_accounts_file(kw["accounts_file"]))
    for text in kw.get("accounts") or ():
        name, account = parse_account(text)
        accounts[name] = account
    if not accounts:
        raise ConfigError(
            "no accounts: every REGISTER would be refused",
            hint="add --account alice:secret (or --accounts-file FILE)",
        )
    qop = {"none": None, "both": "auth,auth-int"}.get(kw.get("qop") or "auth", kw.get("qop"))
    if kw.get("min_expires", 60) > kw.get("max_expires", 3600):
        raise ConfigError("--min-expires is larger than --max-expires")
    limits = Limits(max_body_octets=kw.get("max_content_length") or Limits.max_body_octets)
    return RegistrarConfig(
        limits=limits,
        realm=kw.get("realm"),
        accounts=accounts,
        challenge=kw.get("challenge") or "www",
        algorithms=algorithms(kw.get("algorithms") or ()),
        qop=qop,
        min_expires=kw.get("min_expires", 60),
        max_expires=kw.get("max_expires", 3600),
        nonce_lifetime=kw.get("nonce_lifetime", 30.0),
        strict_uri=bool(kw.get("strict")),
    )


def self_signed(directory: Path) -> tuple[str, str]:
    """A throwaway certificate for localhost, 127.0.0.1 and ::1 (needs openssl)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    ]  # fmt: skip
    try:
        subprocess.run(command, check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ConfigError(
            f"cannot make a self-signed certificate: {exc}", hint="is openssl installed?"
        ) from None
    return str(cert), str(key)


async def start_server(
    config: RegistrarConfig,
    listen: list[tuple[str, int]],
    *,
    tls_files: tuple[str, str] | None,
    on_attempt: Callable[[AttemptLog], None] | None,
    record: bool,
    on_waiting: Callable[[AttemptLog], None] | None = None,
    faults: Faults | None = None,
    tls_versions: tuple[str, str] = ("1.2", "1.3"),
    limits: ServerLimits | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> tuple[Any, list[Listening]]:
    """Start listeners (UDP and TCP per address, TLS on the next port up).

    ``tls_versions`` is the lowest and the highest TLS version accepted (``"1.2"``,
    ``"1.3"``).
    """
    import ssl

    from sipcheck.net.server import RegistrarServer
    from sipcheck.sip.registrar.service import RegistrarService

    core = RegistrarService(
        Registrar(config, secrets.token_bytes(32)),
        faults=faults,
        rng=random.Random(),
        record=record,
        wall_start=time.time(),
    )
    server = RegistrarServer(
        core,
        on_attempt=on_attempt,
        on_waiting=on_waiting,
        on_error=on_error,
        limits=limits,
        own_loop_errors=True,
    )
    context = None
    if tls_files is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        versions = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}
        context.minimum_version = versions[tls_versions[0]]
        context.maximum_version = versions[tls_versions[1]]
        try:
            context.load_cert_chain(*tls_files)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot load the TLS certificate/key: {exc}") from None
    bound: list[Listening] = []
    for host, port in listen:
        udp, tcp = await server.listen_udp_and_tcp(host, port)
        bound += [Listening("udp", udp), Listening("tcp", tcp)]
        if context is not None:
            tls_port = udp.port + 1 if port else 0
            tls = await server.listen("tls", host, tls_port, context)
            bound.append(Listening("tls", tls))
    return server, bound


def run_registrar(kw: dict[str, Any]) -> int:
    config = registrar_config(kw)
    listen = [_listen_address(text) for text in kw.get("listen") or ("127.0.0.1:5060",)]
    if bool(kw.get("cert_file")) != bool(kw.get("key_file")):
        raise ConfigError("--cert and --key go together")
    versions = tls_versions(kw)
    from sipcheck.sip.registrar.faults import Faults

    faults = Faults(
        drop=kw.get("drop", 0.0),
        busy=kw.get("busy", 0.0),
        retry_after=kw.get("retry_after", 30),
        delay=kw.get("delay", 0.0),
    )
    from sipcheck.net.stream_server import ServerLimits

    limits = ServerLimits(
        max_connections=kw.get("max_connections") or ServerLimits.max_connections,
        idle_timeout=kw.get("idle_timeout") or ServerLimits.idle_timeout,
    )
    printer = Printer(kw)
    with printer, tempfile.TemporaryDirectory(prefix="sipcheck-") as tmp:
        tls_files = None
        if kw.get("cert_file"):
            tls_files = (kw["cert_file"], kw["key_file"])
        elif kw.get("self_signed"):
            tls_files = self_signed(Path(tmp))
        return asyncio.run(
            _serve(config, listen, tls_files, versions, faults, limits, printer, kw.get("duration"))
        )


def _listen_address(text: str) -> tuple[str, int]:
    host, port = parse_hostport(text, allow_zero=True)
    return host, 5060 if port is None else port


async def _serve(
    config: RegistrarConfig,
    listen: list[tuple[str, int]],
    tls_files: tuple[str, str] | None,
    versions: tuple[str, str],
    faults: Faults,
    limits: ServerLimits,
    printer: Printer,
    duration: float | None,
) -> int:
    reporter = Reporter(printer, debug=_debug())
    server, bound = await start_server(
        config,
        listen,
        tls_files=tls_files,
        tls_versions=versions,
        on_attempt=reporter.attempt if printer.wants_attempts else None,
        on_waiting=reporter.waiting if printer.shows_waiting else None,
        on_error=reporter.error,
        record=printer.wants_attempts,
        faults=faults,
        limits=limits,
    )
    printer.started(banner(bound, config, versions, server))
    reporter.start(server)
    # Each request allocates and frees many small objects while the registrar holds
    # ~5 per answered request for Timer J (32 s): fewer collections keep the
    # collector's share and its pauses down.
    with fewer_collections():
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(
                        stop.wait(), 1.0 if duration is None else min(1.0, duration)
                    )
                except (TimeoutError, asyncio.TimeoutError):
                    pass
                if duration is not None and server.now() >= duration:
                    break
        finally:
            await server.close()
            reporter.finish()
    import click

    click.echo(summary(printer, server, reporter), err=printer.json)
    return 0


def _debug() -> bool:
    """``--debug`` (or SIPCHECK_DEBUG): tracebacks of the errors counted."""
    from sipcheck.cli import main

    return main._DEBUG.get()
