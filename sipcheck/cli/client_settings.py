"""``ClientSettings``: everything one client run needs, decided before any I/O,
built once from the parsed argument and the typed ``ClientOptions``."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sipcheck.cli.aor_argument import AorArgument
from sipcheck.cli.client_options import ClientOptions
from sipcheck.cli.options import OutputOptions
from sipcheck.cli.params import HostPort
from sipcheck.cli.secret import Secret
from sipcheck.errors import ConfigError
from sipcheck.net.client import NetOptions
from sipcheck.net.transports import TlsOptions
from sipcheck.sip.client.config import Credential, Mode, RegistrationConfig
from sipcheck.sip.client.transaction import Timers
from sipcheck.sip.wire.hostport import numeric_host

DEFAULT_EXPIRES = 3600
MAX_CONNECT_TIMEOUT = 10.0


@dataclass(frozen=True)
class ClientSettings:
    """The core's configuration, the network options and where to send."""

    config: RegistrationConfig
    net: NetOptions
    resolve_host: str
    resolve_port: int | None
    transport: str | None
    secure: bool
    output: OutputOptions = field(default_factory=OutputOptions)

    def with_password(self, password: Secret | None) -> ClientSettings:
        """The same settings with the password every account answers challenges with."""
        if password is None:
            return self
        accounts = tuple(replace(a, password=password.reveal()) for a in self.config.accounts)
        return replace(self, config=replace(self.config, accounts=accounts))


def build_client_settings(
    mode: Mode,
    argument: AorArgument,
    options: ClientOptions,
    *,
    expires: int | None = None,
    contact: str | None = None,
    password: Secret | None = None,
) -> ClientSettings:
    """Settings for one run; ConfigError (exit 2) for options that contradict each other."""
    aor = argument.aor
    request_uri = None
    if mode is Mode.OPTIONS:
        request_uri = aor  # the target as given
        if options.user is not None and aor.user is None:
            # From/To name the user we answer a challenge as (mod_sip insists).
            aor = replace(aor, user=options.user)
    elif options.user is not None:
        aor = replace(aor, user=options.user)
    if mode is not Mode.OPTIONS and aor.user is None:
        raise ConfigError(f"{aor} has no user part: give user@domain, or --user NAME")
    if mode is Mode.UNREGISTER_ALL and contact is not None:
        raise ConfigError(
            "--all and --contact cannot be used together: --all removes every binding "
            "(Contact: *), --contact only the one given"
        )
    tls = _tls_options(options)
    auth_user = options.auth_user or aor.user or ""
    accounts = (Credential(auth_user, realm=options.realm),) if auth_user else ()
    transport = options.transport or aor.transport
    if aor.secure and transport in (None, "tcp"):
        transport = "tls"  # RFC 3261 §26.2.2: sips: means TLS
    config = RegistrationConfig(
        aor=aor,
        mode=mode,
        request_uri=request_uri,
        expires=DEFAULT_EXPIRES if expires is None else expires,
        contact=contact,
        accounts=accounts,
        timers=Timers(t1=options.t1, t2=max(4.0, options.t1), t4=5.0),
        timeout=options.timeout,
        contact_user=argument.contact_user,
    )
    server = options.server
    host, port = (server.host, server.port) if server else (aor.host_unbracketed, aor.port)
    _check_bind_family(options.bind, host)
    net = NetOptions(
        bind=None if options.bind is None else (options.bind.host, options.bind.port or 0),
        tls=tls,
        # RFC 5922 §4: the certificate must match the SIP domain we asked for.
        server_name=host if server else aor.host_unbracketed,
        connect_timeout=min(options.timeout, MAX_CONNECT_TIMEOUT),
    )
    settings = ClientSettings(
        config=config,
        net=net,
        resolve_host=host,
        resolve_port=port,
        transport=transport,
        secure=aor.secure,
        output=options.output,
    )
    return settings.with_password(password)


def _check_bind_family(bind: HostPort | None, host: str) -> None:
    if bind is None or numeric_host(bind.host) is None or numeric_host(host) is None:
        return
    if bind.is_ipv6 != (":" in host):
        ours, theirs = ("IPv6", "IPv4") if bind.is_ipv6 else ("IPv4", "IPv6")
        raise ConfigError(f"--bind {bind} is {ours} and the server {host} is {theirs}")


def _tls_options(options: ClientOptions) -> TlsOptions:
    if options.insecure and options.ca_file:
        raise ConfigError(
            "--insecure and --ca-file cannot be used together: --insecure skips the "
            "verification --ca-file is for"
        )
    if options.cert_file and not options.key_file:
        raise ConfigError("--cert needs --key (the private key of the certificate)")
    if options.key_file and not options.cert_file:
        raise ConfigError("--key needs --cert (the certificate the key belongs to)")
    if options.cert_file and options.key_file:
        _check_key_pair(options.cert_file, options.key_file)
    return TlsOptions(
        ca_file=options.ca_file,
        insecure=options.insecure,
        cert_file=options.cert_file,
        key_file=options.key_file,
    )


def _check_key_pair(cert_file: str, key_file: str) -> None:
    """Load --cert and --key now, so a bad pair is a usage error, not a failed handshake."""
    import ssl

    encrypted: list[bool] = []

    def passphrase() -> bytes:
        encrypted.append(True)  # asked for when connecting; not guessed here
        return b""

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_cert_chain(cert_file, key_file, password=passphrase)
    except ssl.SSLError as exc:
        if not encrypted:
            reason = exc.reason or str(exc)
            raise ConfigError(
                f"--cert/--key: not a PEM certificate and its key ({reason})"
            ) from None
    except OSError as exc:
        raise ConfigError(f"--cert/--key: cannot read them: {exc.strerror or exc}") from None
