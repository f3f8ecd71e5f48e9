"""Redirect over UDP, TCP and TLS: a real Kamailio answers 302 to sipcheck's
registrar; the next REGISTER goes out at once (no wait for a retransmission
timer, and over TCP/TLS it used not to go out at all)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.interop.conftest import KamailioFactory
from tests.support.processes import registrar, sipcheck

PW = "fail-over-1"
ENV = {"SIPCHECK_PW": PW}


def _cert(tmp_path: Path) -> tuple[Path, Path]:
    import subprocess

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def _register(where: str, transport: str, *extra: str) -> dict[str, Any]:
    run = sipcheck(
        "register", "alice@127.0.0.1", "--server", where, "--transport", transport,
        "--password-env", "SIPCHECK_PW", "--json", "--timeout", "6", *extra, env=ENV,
    )  # fmt: skip
    data: dict[str, Any] = run.json()
    assert data["exit_status"] == run.status
    return data


def _gap_after(data: dict[str, Any], start_line: str) -> float:
    """Milliseconds from the message with this start line to the next one we sent."""
    messages = data["messages"]
    index = next(i for i, m in enumerate(messages) if m["start_line"].startswith(start_line))
    after = next(m for m in messages[index + 1 :] if m["direction"] == "out")
    return float(after["time_ms"]) - float(messages[index]["time_ms"])


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_redirect_is_followed_at_once(
    kamailio: KamailioFactory, transport: str, tmp_path: Path
) -> None:
    cert, key = _cert(tmp_path)
    with registrar(["--account", "alice:" + PW, "--cert", str(cert), "--key", str(key)]) as reg:
        port = reg.ports[transport]
        server = kamailio(
            mode="redirect",
            redirect_to=f"sip:127.0.0.1:{port};transport={transport}",
            transports=("udp", "tcp", "tls"),
            tls_cert=(cert, key),  # one CA for both servers: --ca-file verifies each
        )
        data = _register(server.hostport(transport), transport, "--ca-file", str(cert))
    assert (data["exit_status"], data["result"]) == (0, "registered"), data["diagnosis"]
    starts = [m["start_line"] for m in data["messages"]]
    assert starts[1] == "SIP/2.0 302 Moved Temporarily"
    assert starts[-1] == "SIP/2.0 200 OK"
    assert data["target"]["address"] == f"127.0.0.1:{port}"
    assert _gap_after(data, "SIP/2.0 302") < 200  # sent at once, not after T1 or never


def _dead_port(kind: int) -> int:
    """A loopback port nothing listens on (bound for a moment, then closed)."""
    import socket

    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_failover_from_a_dead_target_to_a_live_one(transport: str, tmp_path: Path) -> None:
    """The first target RFC 3263 gave is dead (refused / ICMP port unreachable): the
    driver moves to the next one, a real sipcheck registrar, and registers there; the
    REGISTER goes out at once after the connect."""
    import asyncio
    import socket

    from sipcheck.cli.aor_argument import parse_aor_argument
    from sipcheck.cli.client_options import ClientOptions
    from sipcheck.cli.client_run import execute
    from sipcheck.cli.client_settings import build_client_settings
    from sipcheck.cli.params import HostPort
    from sipcheck.secret import Secret
    from sipcheck.sip.client.config import Mode
    from sipcheck.sip.locate.targets import Resolution, Target

    cert, key = _cert(tmp_path)
    kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
    dead = _dead_port(kind)
    with registrar(["--account", "alice:" + PW, "--cert", str(cert), "--key", str(key)]) as reg:
        live = reg.ports[transport]
        options = ClientOptions(
            server=HostPort("127.0.0.1", live), transport=transport, timeout=6.0, ca_file=str(cert)
        )
        settings = build_client_settings(
            Mode.REGISTER, parse_aor_argument("alice@127.0.0.1"), options, password=Secret(PW)
        )
        targets = (
            Target("127.0.0.1", "127.0.0.1", dead, transport),
            Target("127.0.0.1", "127.0.0.1", live, transport),
        )
        trace, outcome = asyncio.run(
            execute(settings, resolution=Resolution(targets, ()), prompt=None)
        )
    assert (outcome.exit_status, outcome.result) == (0, "registered"), outcome.diagnoses
    assert outcome.target["address"] == f"127.0.0.1:{live}"
    remotes = [str(e.remote) for e in trace.entries]
    if transport == "udp":
        # UDP learns of the dead port from the ICMP answer to the first REGISTER
        assert remotes[0] == f"127.0.0.1:{dead}"
        remotes = remotes[1:]
    assert set(remotes) == {f"127.0.0.1:{live}"}
    errors = [n for n in trace.notes if n.kind == "error"]
    assert errors  # the dead one was tried first, and said so
    to_live = next(e for e in trace.entries if str(e.remote) == f"127.0.0.1:{live}")
    assert to_live.time - errors[0].time < 0.2  # no wait for a timer after the failover
