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
