"""A real ejabberd (mod_sip) registrar on loopback for the interop tests.

``start_ejabberd()`` renders ``tests/interop/ejabberd/ejabberd.yml.in`` into a
work directory under ``tmp_path`` and runs the Erlang VM in the foreground on
it, the way ``ejabberdctl foreground`` does but without its ``su ejabberd``,
its ``/etc/ejabberd`` and ``/var/lib/ejabberd`` defaults and without Erlang
distribution: the node is ``nonode@nohost``, so no epmd is started, no node
name is registered and no cookie is read or written, and two servers (or a
system ejabberd) can never clash. Mnesia lives in the work directory.

Accounts are created through ejabberd's HTTP API (``mod_http_api``, on its own
loopback port): ``ejabberdctl register`` would need distribution. The helper
returns once SIP answers an OPTIONS on every transport and the accounts exist.

    with start_ejabberd(tmp_path, users={"alice": "secret"}) as server:
        send REGISTER for sip:alice@127.0.0.1 to (server.host, server.port) ...
        user, password = server.new_user()  # a fresh account, for a shared server

Only loopback addresses are used; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from tests.interop.kamailio_server import make_self_signed_cert, sip_exchange
from tests.support.processes import kill_group

CONFIG_TEMPLATE = Path(__file__).parent / "ejabberd" / "ejabberd.yml.in"
HOST = "127.0.0.1"
DEFAULT_VHOST = HOST
DEFAULT_USERS: Mapping[str, str] = {"alice": "secret"}
# mod_sip_registrar:min_expires/0 returns 60; it is not configurable
MIN_EXPIRES = 60

Transport = Literal["udp", "tcp", "tls"]
TRANSPORTS: tuple[Transport, ...] = ("udp", "tcp", "tls")
LOGLEVELS = ("none", "critical", "error", "warning", "notice", "info", "debug")

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 10.0
_API_TIMEOUT = 10.0
# what ejabberd_app logs once every module and listener is down
_STOPPED_LINE = "is stopped in the node"
_PR_SET_PDEATHSIG = 1
# a vhost, user or password that can go into YAML / JSON without quoting trouble
_VHOST_RE = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
_USER_RE = re.compile(r"[a-z0-9._~+!*'-]+")
_BAD_PASSWORD_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# environment variables of the Erlang VM or ejabberdctl that must not leak in
_ERLANG_ENV = re.compile(r"^(ERL_|EJABBERD_|CONTRIB_MODULES_|INET_DIST_|ERLANG_)")


class EjabberdError(RuntimeError):
    """ejabberd could not be started or did not do what was asked; carries its log."""


def erl_binary() -> str | None:
    return os.environ.get("SIPCHECK_ERL") or shutil.which("erl")


def ejabberd_libs() -> str | None:
    """The ERL_LIBS directory holding ejabberd-VERSION/ (Debian: /usr/lib/<triplet>).

    Read from ejabberdctl, where the package writes it, else searched for;
    SIPCHECK_EJABBERD_LIBS overrides both.
    """
    override = os.environ.get("SIPCHECK_EJABBERD_LIBS")
    if override:
        return override
    ctl = shutil.which("ejabberdctl") or "/usr/sbin/ejabberdctl"
    with contextlib.suppress(OSError):
        match = re.search(r"^ERL_LIBS='([^']+)'", Path(ctl).read_text(), re.M)
        if match and glob.glob(os.path.join(match.group(1), "ejabberd-*", "ebin")):
            return match.group(1)
    for ebin in sorted(glob.glob("/usr/lib/*/ejabberd-*/ebin/mod_sip.beam")):
        return str(Path(ebin).parents[2])
    return None


def ejabberd_available() -> bool:
    """True when erl runs and finds ejabberd built with SIP and the esip library."""
    binary, libs = erl_binary(), ejabberd_libs()
    if binary is None or libs is None:
        return False
    # the mod_sip of an ejabberd built without SIP exports no request/3
    probe = (
        "{module, mod_sip} = code:ensure_loaded(mod_sip),"
        "true = erlang:function_exported(mod_sip, request, 3),"
        "true = is_list(code:which(esip)),"
        'io:format("sip-ok~n"), halt().'
    )
    try:
        out = subprocess.run(
            [binary, "-noshell", "-start_epmd", "false", "-eval", probe],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            # a failed match must not leave an erl_crash.dump in the current directory
            env={**_clean_env(), "ERL_LIBS": libs, "ERL_CRASH_DUMP_BYTES": "0"},
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "sip-ok" in out


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not _ERLANG_ENV.match(k)}


@dataclass
class EjabberdServer:
    """A running ejabberd on 127.0.0.1 (mod_sip 23.01 answers nothing over IPv6)."""

    vhost: str
    port: int  # UDP
    tcp_port: int | None
    tls_port: int | None
    api_port: int
    workdir: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    startup_seconds: float
    users: dict[str, str] = field(default_factory=dict)
    cert_path: Path | None = None
    command: list[str] = field(default_factory=list)
    host: str = HOST

    @property
    def realm(self) -> str:
        """mod_sip's realm: the To host, which must be this virtual host."""
        return self.vhost

    def aor(self, user: str) -> str:
        return f"sip:{user}@{self.vhost}"

    def port_for(self, transport: Transport) -> int:
        port = {"udp": self.port, "tcp": self.tcp_port, "tls": self.tls_port}[transport]
        if port is None:
            raise ValueError(f"this ejabberd does not listen on {transport}")
        return port

    def address(self, transport: Transport = "udp") -> tuple[str, int]:
        return (self.host, self.port_for(transport))

    def hostport(self, transport: Transport = "udp") -> str:
        return f"{self.host}:{self.port_for(transport)}"

    # --- accounts, through the HTTP API ------------------------------------

    def api(self, command: str, arguments: Mapping[str, Any]) -> Any:
        """Call one ejabberd command over HTTP (loopback, no proxy); its JSON result."""
        request = urllib.request.Request(
            f"http://{self.host}:{self.api_port}/api/{command}",
            data=json.dumps(dict(arguments)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        # an empty ProxyHandler: never send loopback requests to an http_proxy
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=_API_TIMEOUT) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")
            raise EjabberdError(f"ejabberd API {command} failed: {exc.code} {body}") from None

    def add_user(self, user: str, password: str) -> None:
        _check_user(user)
        _check_password(password)
        self.api("register", {"user": user, "host": self.vhost, "password": password})
        self.users[user] = password

    def remove_user(self, user: str) -> None:
        self.api("unregister", {"user": user, "host": self.vhost})
        self.users.pop(user, None)

    def registered_users(self) -> list[str]:
        result = self.api("registered_users", {"host": self.vhost})
        return sorted(str(user) for user in result)

    def new_user(self, prefix: str = "user", password: str | None = None) -> tuple[str, str]:
        """A fresh account nobody else uses: (username, password)."""
        user = f"{prefix}-{uuid.uuid4().hex[:10]}"
        password = password if password is not None else secrets.token_hex(8)
        self.add_user(user, password)
        return user, password

    # --- process ----------------------------------------------------------

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> str:
        """SIGTERM: ejabberd stops its listeners and modules; then kill the group.

        After ejabberd logs that it stopped, the VM itself takes another second
        to halt (OTP's init:stop, the same for a bare ``erl``); nothing of
        value is left by then (the spool is thrown away), so it is killed.
        """
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + _STOP_TIMEOUT
            while self.proc.poll() is None and time.monotonic() < deadline:
                if _STOPPED_LINE in self.log():
                    break
                time.sleep(0.02)
        # the VM and erl_child_setup, inet_gethost, memsup... share its group
        kill_group(self.proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=_STOP_TIMEOUT)
        return self.log()

    def __enter__(self) -> EjabberdServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL the VM if the test process dies first.

    (A pytest killed mid-run would otherwise leave a beam.smp behind; the
    setting survives the exec chain erl -> erlexec -> beam.smp.)
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _check_user(user: str) -> str:
    # ejabberd nodepreps (lowercases) usernames: keep them already canonical
    if not _USER_RE.fullmatch(user):
        raise ValueError(f"{user!r} is not a plain lower-case ejabberd username")
    return user


def _check_password(password: str) -> str:
    if not password or _BAD_PASSWORD_CHARS.search(password):
        raise ValueError("an ejabberd password must be non-empty printable text")
    return password


def start_ejabberd(
    tmp_path: Path,
    *,
    vhost: str = DEFAULT_VHOST,
    users: Mapping[str, str] | None = None,
    transports: Collection[Transport] = ("udp", "tcp"),
    tls_cert: tuple[Path, Path] | None = None,
    max_user_sessions: int | None = None,
    loglevel: str = "info",
    attempts: int = 3,
) -> EjabberdServer:
    """Start ejabberd with mod_sip and wait until SIP answers on every listener.

    ``vhost``: the one virtual host: SIP domain of the accounts and the digest
    realm (lower case; an IP address such as the default 127.0.0.1 works).
    ``users``: username -> password, created before returning.
    ``transports``: subset of udp, tcp, tls (udp is always on, for the probe);
    TCP shares the UDP port. No IPv6: mod_sip 23.01 does not answer over ::1.
    ``tls_cert``: (certificate, key) PEM files; made with openssl if None.
    ``max_user_sessions``: bindings allowed per account (None: unlimited);
    past it mod_sip answers 503.
    ``loglevel``: ejabberd's; "debug" logs every SIP datagram in and out.
    """
    if not _VHOST_RE.fullmatch(vhost):
        raise ValueError(f"vhost {vhost!r}: use a lower-case host name or IPv4 address")
    unknown = set(transports) - set(TRANSPORTS)
    if unknown:
        raise ValueError(f"unknown transports {sorted(unknown)}")
    if loglevel not in LOGLEVELS:
        raise ValueError(f"loglevel {loglevel!r} is not one of {LOGLEVELS}")
    accounts = dict(DEFAULT_USERS if users is None else users)
    for user, password in accounts.items():
        _check_user(user)
        _check_password(password)
    wanted: set[Transport] = {"udp", *transports}
    binary, libs = erl_binary(), ejabberd_libs()
    if binary is None or libs is None:
        raise EjabberdError("ejabberd is not installed (scripts/install-test-deps.sh)")

    tmp_path.mkdir(parents=True, exist_ok=True)
    workdir = Path(tmp_path) / f"ejabberd-{uuid.uuid4().hex[:8]}"
    workdir.mkdir()
    if _has_unsafe_chars(str(workdir)):
        raise EjabberdError(f"{workdir} cannot be written into an Erlang string")
    cert_path: Path | None = None
    certfile: Path | None = None
    if "tls" in wanted:
        cert_path, key_path = tls_cert or make_self_signed_cert(workdir)
        # ejabberd_sip's certfile is one PEM holding the key and the certificate
        certfile = workdir / "tls-bundle.pem"
        certfile.write_text(key_path.read_text() + cert_path.read_text())
    # resolve only from /etc/hosts; inet_res has no name server: no DNS query at all
    inetrc = workdir / "inetrc"
    inetrc.write_text('{lookup, [file]}.\n{resolv_conf, ""}.\n')

    last_error = ""
    for attempt in range(attempts):
        run_dir = workdir / f"run-{attempt}"
        spool = run_dir / "spool"
        spool.mkdir(parents=True)
        ports = _free_ports(tls="tls" in wanted)
        config = run_dir / "ejabberd.yml"
        config.write_text(
            render_config(
                vhost=vhost,
                listen=_listeners(wanted, ports, certfile),
                loglevel=loglevel,
                max_user_sessions=max_user_sessions,
            )
        )
        env = {
            **_clean_env(),
            "HOME": str(run_dir),
            "ERL_LIBS": libs,
            "ERL_INETRC": str(inetrc),
            "ERL_CRASH_DUMP_BYTES": "0",
            "EJABBERD_CONFIG_PATH": str(config),
            "EJABBERD_LOG_PATH": str(run_dir / "ejabberd.log"),
            "CONTRIB_MODULES_PATH": str(run_dir / "modules"),
            "CONTRIB_MODULES_CONF_DIR": str(run_dir / "modules.d"),
        }
        command = [
            binary, "-noinput", "-start_epmd", "false",
            "-mnesia", "dir", f'"{spool}"',
            "-s", "ejabberd",
        ]  # fmt: skip
        log_path = run_dir / "console.log"
        started = time.monotonic()
        with log_path.open("wb") as log_file:
            log_file.write(("$ " + " ".join(command) + "\n").encode())
            log_file.flush()
            proc = subprocess.Popen(
                command,
                cwd=run_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        server = EjabberdServer(
            vhost=vhost,
            port=ports["udp"],
            tcp_port=ports["udp"] if "tcp" in wanted else None,
            tls_port=ports["tls"] if "tls" in wanted else None,
            api_port=ports["api"],
            workdir=run_dir,
            log_path=log_path,
            proc=proc,
            startup_seconds=0.0,
            cert_path=cert_path,
            command=command,
        )
        try:
            deadline = started + _START_TIMEOUT
            _wait_ready(server, wanted, deadline)
            _add_users(server, accounts, deadline)
        except EjabberdError as exc:
            log = server.stop()
            last_error = f"{exc}\n--- ejabberd log ---\n{log}"
            if "address already in use" in log and attempt + 1 < attempts:
                continue  # a port picked as free was taken meanwhile
            raise EjabberdError(last_error) from None
        server.startup_seconds = time.monotonic() - started
        return server
    raise EjabberdError(last_error)


def _has_unsafe_chars(text: str) -> bool:
    return bool(re.search(r'["\\\x00-\x1f]', text))


def render_config(*, vhost: str, listen: str, loglevel: str, max_user_sessions: int | None) -> str:
    template = string.Template(CONFIG_TEMPLATE.read_text())
    return template.substitute(
        vhost=vhost,
        listen=listen,
        loglevel=loglevel,
        max_user_sessions="infinity" if max_user_sessions is None else int(max_user_sessions),
    )


def _listeners(
    wanted: Collection[Transport], ports: Mapping[str, int], certfile: Path | None
) -> str:
    """The YAML items of ``listen:``: SIP per transport, and the HTTP API."""
    items: list[list[str]] = []
    for transport in TRANSPORTS:
        if transport not in wanted:
            continue
        item = [
            f"port: {ports['tls' if transport == 'tls' else 'udp']}",
            f'ip: "{HOST}"',
            f"transport: {'udp' if transport == 'udp' else 'tcp'}",
            "module: ejabberd_sip",
        ]
        if transport == "tls":
            assert certfile is not None
            item += ["tls: true", f'certfile: "{certfile}"']
        items.append(item)
    items.append(
        [
            f"port: {ports['api']}",
            f'ip: "{HOST}"',
            "module: ejabberd_http",
            "request_handlers:",
            '  "/api": mod_http_api',
        ]
    )
    lines = []
    for item in items:
        lines.append("  -")
        lines += [f"    {line}" for line in item]
    return "\n".join(lines)


def _free_ports(*, tls: bool) -> dict[str, int]:
    """One loopback port free for both UDP and TCP (SIP's pairing), one for TLS
    and one for the HTTP API."""
    wanted: list[tuple[str, tuple[socket.SocketKind, ...]]] = [
        ("udp", (socket.SOCK_DGRAM, socket.SOCK_STREAM)),
        ("api", (socket.SOCK_STREAM,)),
    ]
    if tls:
        wanted.append(("tls", (socket.SOCK_STREAM,)))
    ports: dict[str, int] = {}
    held: list[socket.socket] = []
    try:
        for name, kinds in wanted:
            for _ in range(50):
                first = socket.socket(socket.AF_INET, kinds[0])
                first.bind((HOST, 0))
                port = first.getsockname()[1]
                candidates = [first]
                try:
                    for kind in kinds[1:]:
                        sock = socket.socket(socket.AF_INET, kind)
                        candidates.append(sock)
                        sock.bind((HOST, port))
                except OSError:
                    for sock in candidates:
                        sock.close()
                    continue
                held += candidates
                ports[name] = port
                break
            else:
                raise EjabberdError(f"no free loopback port for {name}")
    finally:
        for sock in held:
            sock.close()
    return ports


def probe_request(vhost: str, host: str, transport: Transport) -> bytes:
    """OPTIONS to the bare domain from a foreign domain: mod_sip answers it itself.

    (From at the served domain would be challenged with 407 first, and a To
    with a user part would be looked up and get 480.)
    """
    branch = "z9hG4bK-probe-" + uuid.uuid4().hex[:12]
    bracketed = f"[{host}]" if ":" in host else host
    proto = transport.upper()
    return (
        f"OPTIONS sip:{vhost} SIP/2.0\r\n"
        f"Via: SIP/2.0/{proto} {bracketed}:9;branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@harness.invalid>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:{vhost}>\r\n"
        f"Call-ID: {uuid.uuid4().hex}@harness\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def _wait_ready(server: EjabberdServer, wanted: Collection[Transport], deadline: float) -> None:
    """Probe UDP until it answers (the VM takes about a second), then each stream listener."""
    host = server.host
    for transport in TRANSPORTS:
        if transport not in wanted:
            continue
        port = server.port_for(transport)
        while True:
            if server.proc.poll() is not None:
                raise EjabberdError(f"ejabberd exited with status {server.proc.returncode}")
            if time.monotonic() > deadline:
                raise EjabberdError(f"ejabberd did not answer on {transport} {host}:{port}")
            try:
                reply = sip_exchange(
                    host,
                    port,
                    transport,
                    probe_request(server.vhost, host, transport),
                    timeout=0.1 if transport == "udp" else 1.0,
                )
            except (OSError, ssl.SSLError):
                time.sleep(0.05)
                continue
            if reply.startswith(b"SIP/2.0 200"):
                break
            raise EjabberdError(f"unexpected probe answer on {transport}: {reply!r}")


def _add_users(server: EjabberdServer, users: Mapping[str, str], deadline: float) -> None:
    """Create the accounts; the HTTP listener may come up a moment after SIP's."""
    for user, password in users.items():
        while True:
            try:
                server.add_user(user, password)
                break
            except (OSError, urllib.error.URLError) as exc:
                if server.proc.poll() is not None or time.monotonic() > deadline:
                    raise EjabberdError(f"could not create {user} through the API: {exc}") from None
                time.sleep(0.05)
