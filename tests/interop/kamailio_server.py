"""A real Kamailio 5.6 registrar on loopback for the interop tests.

``start_kamailio()`` runs ``kamailio`` in the foreground with the one
configuration in ``tests/interop/kamailio/kamailio.cfg``; the mode and the
options become ``-A`` defines, the listeners ``-l`` options, and the accounts a
``users.cfg`` in the server's own working directory under ``tmp_path``. It
returns once the server answers a probe on every transport it listens on.

    with start_kamailio(tmp_path, mode="proxy", qop="auth") as server:
        send REGISTER to (server.host, server.port) over UDP ...

Only loopback addresses are used; every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Literal

from tests.support.processes import kill_group

CONFIG = Path(__file__).parent / "kamailio" / "kamailio.cfg"
HOST = "127.0.0.1"
HOST6 = "::1"

Transport = Literal["udp", "tcp", "tls"]
TRANSPORTS: tuple[Transport, ...] = ("udp", "tcp", "tls")
MODES = ("www", "proxy", "both", "both-at-once", "open", "silent", "redirect")
ALGORITHMS = ("MD5", "SHA-256")
QOPS = (None, "auth", "auth-int")
DEFAULT_USERS: Mapping[str, str] = {"alice": "secret"}

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0
# what may appear inside a $sht(table=>key) key or a quoted cfg string
_KEY_RE = re.compile(r"[A-Za-z0-9._~+!*'-]+")
_BAD_VALUE_CHARS = re.compile(r'["\\\r\n]')


class KamailioError(RuntimeError):
    """Kamailio could not be started; the message carries its log."""


def kamailio_binary() -> str | None:
    return os.environ.get("SIPCHECK_KAMAILIO") or shutil.which("kamailio")


def kamailio_available() -> bool:
    """True when a kamailio binary runs and has the modules the config loads."""
    binary = kamailio_binary()
    if binary is None:
        return False
    try:
        out = subprocess.run(
            [binary, "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "kamailio" in out


def tls_available() -> bool:
    """kamailio-tls-modules and openssl (to make the self-signed certificate)."""
    return kamailio_available() and shutil.which("openssl") is not None and _has_tls_module()


def _has_tls_module() -> bool:
    binary = kamailio_binary()
    assert binary is not None
    module_dir = _module_dir()
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        # `-c` with a config that only loads tls.so: fast and exact
        probe = subprocess.run(
            [binary, "-c", "-f", "/dev/stdin", *(["-L", module_dir] if module_dir else [])],
            input='#!KAMAILIO\nloadmodule "tls.so"\nrequest_route { exit; }\n',
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return probe.returncode == 0
    return False


def ipv6_available() -> bool:
    """Whether ::1 can be bound (some containers have no IPv6 loopback)."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind((HOST6, 0))
    except OSError:
        return False
    return True


def _module_dir() -> str | None:
    """Kamailio's compiled-in module path is right on Debian; allow an override."""
    return os.environ.get("SIPCHECK_KAMAILIO_MODULES")


@dataclass
class KamailioServer:
    """A running Kamailio; ports are the same on 127.0.0.1 and (if ipv6) ::1."""

    mode: str
    port: int  # UDP
    tcp_port: int | None
    tls_port: int | None
    ipv6: bool
    realm: str | None
    workdir: Path
    log_path: Path
    proc: subprocess.Popen[bytes]
    startup_seconds: float
    cert_path: Path | None = None
    command: list[str] = field(default_factory=list)
    host: str = HOST
    host6: str = HOST6

    def port_for(self, transport: Transport) -> int:
        port = {"udp": self.port, "tcp": self.tcp_port, "tls": self.tls_port}[transport]
        if port is None:
            raise ValueError(f"this Kamailio does not listen on {transport}")
        return port

    def address(self, transport: Transport = "udp", *, ipv6: bool = False) -> tuple[str, int]:
        if ipv6 and not self.ipv6:
            raise ValueError("this Kamailio does not listen on ::1")
        return (self.host6 if ipv6 else self.host, self.port_for(transport))

    def hostport(self, transport: Transport = "udp", *, ipv6: bool = False) -> str:
        host, port = self.address(transport, ipv6=ipv6)
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> str:
        """SIGTERM the main process (it ends its children), then the whole group."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                kill_group(self.proc.pid)
                self.proc.wait(timeout=_STOP_TIMEOUT)
        # children that outlived the main process (they share its group)
        kill_group(self.proc.pid)
        return self.log()

    def __enter__(self) -> KamailioServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_kamailio(
    tmp_path: Path,
    *,
    mode: str = "www",
    realm: str | None = None,
    algorithm: str = "MD5",
    qop: str | None = None,
    users: Mapping[str, str] | None = None,
    accounts: Mapping[str, str] | None = None,
    blocked: Collection[str] = ("blocked",),
    min_expires: int | None = None,
    max_expires: int | None = None,
    default_expires: int | None = None,
    redirect_to: str | None = None,
    transports: Collection[Transport] = ("udp", "tcp"),
    ipv6: bool = False,
    tls_cert: tuple[Path, Path] | None = None,
    attempts: int = 3,
) -> KamailioServer:
    """Start Kamailio and wait until it answers on every listener.

    ``mode``: www (401), proxy (407), both (407 then 401), both-at-once (one
    407 carrying both challenges), open (no auth), silent (no answers) or
    redirect (every REGISTER gets a 302 to ``redirect_to``, a SIP URI).
    ``realm``: fixed realm; None uses the To domain. ``algorithm``: MD5 or
    SHA-256. ``qop``: None, "auth" or "auth-int" (offered and required).
    ``users``: auth username -> password. ``accounts``: AoR user -> the auth
    username allowed to register it (default: the AoR user itself).
    ``blocked``: auth usernames whose correct credentials get 403.
    ``min_expires``: Expires below it gets 423 with Min-Expires (None: any).
    ``max_expires``: at most this is granted (None: no maximum); ``default_expires``:
    granted to a REGISTER that names no expiry (None: 3600).
    ``transports``: subset of udp, tcp, tls (udp is always on, for the probe).
    ``ipv6``: also listen on [::1] with the same ports.
    ``tls_cert``: (certificate, key) PEM files; made with openssl if None.
    """
    defines = _defines(mode, realm, algorithm, qop, min_expires)
    defines += _expiry_defines(max_expires, default_expires)
    if (mode == "redirect") != (redirect_to is not None):
        raise ValueError("redirect_to goes with mode='redirect', and only with it")
    if redirect_to is not None:
        if _BAD_VALUE_CHARS.search(redirect_to) or not redirect_to.startswith("sip"):
            raise ValueError(f"redirect_to {redirect_to!r} cannot be passed to Kamailio")
        defines.append(f'REDIRECT_TO="{redirect_to}"')
    unknown = set(transports) - set(TRANSPORTS)
    if unknown:
        raise ValueError(f"unknown transports {sorted(unknown)}")
    wanted: set[Transport] = {"udp", *transports}
    binary = kamailio_binary()
    if binary is None:
        raise KamailioError("kamailio is not installed (scripts/install-test-deps.sh)")

    tmp_path.mkdir(parents=True, exist_ok=True)
    workdir = Path(tmp_path) / f"kamailio-{mode}-{uuid.uuid4().hex[:8]}"
    workdir.mkdir()
    (workdir / "run").mkdir()
    (workdir / "users.cfg").write_text(
        _users_cfg(DEFAULT_USERS if users is None else users, accounts or {}, blocked)
    )
    cert_path: Path | None = None
    if "tls" in wanted:
        cert_path, key_path = tls_cert or make_self_signed_cert(workdir)
        tls_cfg = workdir / "tls.cfg"
        tls_cfg.write_text(_tls_cfg(cert_path, key_path))
        defines += ["WITH_TLS", f'TLS_CONFIG="{_cfg_string(str(tls_cfg))}"']
    if wanted & {"tcp", "tls"}:
        defines.append("WITH_TCP")

    last_error = ""
    for attempt in range(attempts):
        ports = _free_ports(tls="tls" in wanted, ipv6=ipv6)
        listen = _listeners(wanted, ports, ipv6)
        command = [
            binary, "-f", str(CONFIG), "-DD", "-E",
            "-m", "64", "-M", "8",
            "-Y", str(workdir / "run"), "-P", str(workdir / "run" / "kamailio.pid"),
            "-w", str(workdir),
        ]  # fmt: skip
        if _module_dir():
            command += ["-L", str(_module_dir())]
        for define in defines:
            command += ["-A", define]
        for spec in listen:
            command += ["-l", spec]
        log_path = workdir / f"kamailio-{attempt}.log"
        started = time.monotonic()
        with log_path.open("wb") as log_file:
            log_file.write(("$ " + " ".join(command) + "\n").encode())
            log_file.flush()
            proc = subprocess.Popen(
                command,
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = KamailioServer(
            mode=mode,
            port=ports["udp"],
            tcp_port=ports["udp"] if "tcp" in wanted else None,
            tls_port=ports["tls"] if "tls" in wanted else None,
            ipv6=ipv6,
            realm=realm,
            workdir=workdir,
            log_path=log_path,
            proc=proc,
            startup_seconds=0.0,
            cert_path=cert_path,
            command=command,
        )
        try:
            _wait_ready(server, wanted, started + _START_TIMEOUT)
        except KamailioError as exc:
            log = server.stop()
            last_error = str(exc)
            if "Address already in use" in log and attempt + 1 < attempts:
                continue  # a port picked as free was taken meanwhile
            raise KamailioError(f"{exc}\n--- kamailio log ---\n{log}") from None
        server.startup_seconds = time.monotonic() - started
        return server
    raise KamailioError(last_error)


def _defines(
    mode: str, realm: str | None, algorithm: str, qop: str | None, min_expires: int | None
) -> list[str]:
    if mode not in MODES:
        raise ValueError(f"mode {mode!r} is not one of {MODES}")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm {algorithm!r}: Kamailio 5.6 offers only {ALGORITHMS}")
    if qop not in QOPS:
        raise ValueError(f"qop {qop!r} is not one of {QOPS}")
    defines = ["MODE_" + mode.upper().replace("-", "_")]
    if realm is not None:
        if not realm or _BAD_VALUE_CHARS.search(realm):
            raise ValueError(f"realm {realm!r} cannot be passed to Kamailio")
        defines.append(f'REALM="{realm}"')
    if algorithm == "SHA-256":
        defines.append("ALGORITHM_SHA256")
    if qop == "auth":
        defines.append("QOP_AUTH")
    elif qop == "auth-int":
        defines.append("QOP_AUTHINT")
    if min_expires is not None:
        defines.append(f"MIN_EXPIRES={int(min_expires)}")
    return defines


def _expiry_defines(max_expires: int | None, default_expires: int | None) -> list[str]:
    defines = []
    if max_expires is not None:
        defines.append(f"MAX_EXPIRES={int(max_expires)}")
    if default_expires is not None:
        defines.append(f"DEFAULT_EXPIRES={int(default_expires)}")
    return defines


def restart_kamailio(server: KamailioServer) -> KamailioServer:
    """Stop ``server`` and start it again with the same command: the same ports and
    configuration, nothing of its memory (bindings, nonce secret). Returns the new one
    once it answers on UDP (and the stream listeners it had)."""
    server.stop()
    log_path = server.workdir / f"kamailio-restart-{uuid.uuid4().hex[:6]}.log"
    wanted: set[Transport] = {"udp"}
    if server.tcp_port is not None:
        wanted.add("tcp")
    if server.tls_port is not None:
        wanted.add("tls")
    deadline = time.monotonic() + _START_TIMEOUT
    while True:
        started = time.monotonic()
        with log_path.open("ab") as log_file:
            proc = subprocess.Popen(
                server.command,
                cwd=server.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        again = replace(server, proc=proc, log_path=log_path)
        try:
            _wait_ready(again, wanted, started + _START_TIMEOUT)
        except KamailioError as exc:
            log = again.stop()
            # the old sockets may linger a moment: try again while time is left
            if "Address already in use" in log and time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            raise KamailioError(f"{exc}\n--- kamailio log ---\n{log}") from None
        again.startup_seconds = time.monotonic() - started
        return again


def _cfg_string(value: str) -> str:
    if _BAD_VALUE_CHARS.search(value):
        raise ValueError(f"{value!r} cannot be written into a Kamailio string")
    return value


def _cfg_key(value: str) -> str:
    if not _KEY_RE.fullmatch(value):
        raise ValueError(f"{value!r} cannot be a Kamailio hash table key")
    return value


def _users_cfg(
    users: Mapping[str, str], accounts: Mapping[str, str], blocked: Collection[str]
) -> str:
    lines = ["# written by tests/interop/kamailio_server.py"]
    for user, password in users.items():
        lines.append(f'$sht(pw=>{_cfg_key(user)}) = "{_cfg_string(password)}";')
    for aor_user, auth_user in accounts.items():
        lines.append(f'$sht(acct=>{_cfg_key(aor_user)}) = "{_cfg_string(auth_user)}";')
    for user in blocked:
        lines.append(f"$sht(blocked=>{_cfg_key(user)}) = 1;")
    return "\n".join(lines) + "\n"


def _tls_cfg(cert: Path, key: Path) -> str:
    return (
        "[server:default]\n"
        "method = TLSv1.2+\n"
        "verify_certificate = no\n"
        "require_certificate = no\n"
        f"certificate = {cert}\n"
        f"private_key = {key}\n"
        "\n"
        "[client:default]\n"
        "method = TLSv1.2+\n"
        "verify_certificate = no\n"
        "require_certificate = no\n"
    )


def make_self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A P-256 certificate for 127.0.0.1 and ::1, valid two days."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "ec",
        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "2",
        "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,IP:::1",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=30)
    return cert, key


def _free_ports(*, tls: bool, ipv6: bool) -> dict[str, int]:
    """One port free for UDP and TCP (SIP's usual pairing) and one for TLS."""
    hosts = [(socket.AF_INET, HOST)] + ([(socket.AF_INET6, HOST6)] if ipv6 else [])
    ports: dict[str, int] = {}
    held: list[socket.socket] = []
    try:
        for name, kinds in (("udp", (socket.SOCK_DGRAM, socket.SOCK_STREAM)),) + (
            (("tls", (socket.SOCK_STREAM,)),) if tls else ()
        ):
            for _ in range(50):
                first = socket.socket(hosts[0][0], kinds[0])
                first.bind((hosts[0][1], 0))
                port = first.getsockname()[1]
                candidates = [first]
                try:
                    for family, host in hosts:
                        for kind in kinds:
                            if family == hosts[0][0] and kind == kinds[0]:
                                continue
                            sock = socket.socket(family, kind)
                            candidates.append(sock)
                            sock.bind((host, port))
                except OSError:
                    for sock in candidates:
                        sock.close()
                    continue
                held += candidates
                ports[name] = port
                break
            else:
                raise KamailioError(f"no free loopback port for {name}")
    finally:
        for sock in held:
            sock.close()
    return ports


def _listeners(wanted: Collection[str], ports: Mapping[str, int], ipv6: bool) -> list[str]:
    hosts = [HOST] + ([f"[{HOST6}]"] if ipv6 else [])
    specs = []
    for host in hosts:
        specs.append(f"udp:{host}:{ports['udp']}")
        if "tcp" in wanted:
            specs.append(f"tcp:{host}:{ports['udp']}")
        if "tls" in wanted:
            specs.append(f"tls:{host}:{ports['tls']}")
    return specs


def probe_request(host: str, port: int, transport: Transport) -> bytes:
    """The harness readiness probe: OPTIONS to sip:harness-probe@, answered in every mode."""
    branch = "z9hG4bK-probe-" + uuid.uuid4().hex[:12]
    bracketed = f"[{host}]" if ":" in host else host
    proto = transport.upper()
    return (
        f"OPTIONS sip:harness-probe@{bracketed}:{port} SIP/2.0\r\n"
        f"Via: SIP/2.0/{proto} {bracketed}:9;branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:probe@{bracketed}>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:harness-probe@{bracketed}>\r\n"
        f"Call-ID: {uuid.uuid4().hex}@harness\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def sip_exchange(
    host: str,
    port: int,
    transport: Transport,
    data: bytes,
    *,
    timeout: float = 2.0,
) -> bytes:
    """Send one request and return the first response (raises TimeoutError)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    if transport == "udp":
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            sock.settimeout(timeout)
            sock.sendto(data, (host, port))
            return sock.recv(65535)
    with socket.create_connection((host, port), timeout=timeout) as raw:
        raw.settimeout(timeout)
        if transport == "tls":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with context.wrap_socket(raw) as sock:
                sock.sendall(data)
                return read_stream_message(sock)
        raw.sendall(data)
        return read_stream_message(raw)


def read_stream_message(sock: socket.socket) -> bytes:
    """One SIP message from a stream: headers, then Content-Length bytes."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65535)
        if not chunk:
            raise ConnectionError(f"connection closed after {buf!r}")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    match = re.search(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head)
    length = int(match.group(1)) if match else 0
    while len(body) < length:
        chunk = sock.recv(65535)
        if not chunk:
            raise ConnectionError("connection closed inside the body")
        body += chunk
    return head + b"\r\n\r\n" + body[:length]


def _wait_ready(server: KamailioServer, wanted: Collection[Transport], deadline: float) -> None:
    """Probe UDP until it answers, then each stream listener."""
    hosts = [server.host] + ([server.host6] if server.ipv6 else [])
    for transport in TRANSPORTS:
        if transport not in wanted:
            continue
        for host in hosts:
            port = server.port_for(transport)
            while True:
                if server.proc.poll() is not None:
                    raise KamailioError(f"kamailio exited with status {server.proc.returncode}")
                if time.monotonic() > deadline:
                    raise KamailioError(f"kamailio did not answer on {transport} {host}:{port}")
                try:
                    reply = sip_exchange(
                        host,
                        port,
                        transport,
                        probe_request(host, port, transport),
                        timeout=0.05 if transport == "udp" else 1.0,
                    )
                except (OSError, ssl.SSLError):
                    time.sleep(0.02 if transport == "udp" else 0.05)
                    continue
                if reply.startswith(b"SIP/2.0 200"):
                    break
                raise KamailioError(f"unexpected probe answer on {transport}: {reply!r}")
