"""sipcheck's client against sipcheck's registrar: two real processes, real
sockets on loopback (UDP, TCP, TLS, IPv6), exact exit codes and JSON."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.processes import registrar, sipcheck

PW = {"SIPCHECK_PW": "s3cret-pw"}


def _register(port: int, *extra: str, env: dict[str, str] | None = None) -> dict[str, object]:
    run = sipcheck(
        "register", "alice@example.com", "--server", f"127.0.0.1:{port}",
        "--password-env", "SIPCHECK_PW", "--json", "--timeout", "5", *extra,
        env=env or PW,
    )  # fmt: skip
    data = json.loads(run.stdout)  # stdout holds one JSON object and nothing else
    assert data["exit_status"] == run.status
    assert "s3cret-pw" not in run.stdout + run.stderr
    return data


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_register_through_401(transport: str) -> None:
    with registrar(["--account", "alice:s3cret-pw"]) as server:
        data = _register(server.ports[transport], "--transport", transport)
    assert (data["result"], data["final_status"], data["exit_status"]) == ("registered", 200, 0)
    statuses = [m["start_line"] for m in data["messages"]]  # type: ignore[index]
    assert statuses[1].startswith("SIP/2.0 401") and statuses[-1] == "SIP/2.0 200 OK"
    assert all(m["transport"] == transport for m in data["messages"])  # type: ignore[index]
    bindings = data["bindings"]
    assert isinstance(bindings, list) and len(bindings) == 1
    assert bindings[0]["expires"] == 3600
    timings = data["timings"]
    assert isinstance(timings, dict) and 0 < timings["total_ms"] < 2000


def test_register_through_407_with_auth_user() -> None:
    with registrar(["--account", "1001:alice-auth:s3cret-pw", "--challenge", "proxy"]) as server:
        run = sipcheck(
            "register", "1001@example.com", "--server", f"127.0.0.1:{server.ports['udp']}",
            "--auth-user", "alice-auth", "--password-env", "SIPCHECK_PW", "--json", env=PW,
        )  # fmt: skip
    data = run.json()
    assert run.status == 0 and data["result"] == "registered"
    answered = [m["raw"] for m in data["messages"] if "Proxy-Authorization" in m["raw"]]
    assert answered and 'username="alice-auth"' in answered[0]


def test_wrong_password_exits_3_and_registrar_names_the_mistake() -> None:
    with registrar(["--account", "alice:right-one", "--json"]) as server:
        data = _register(server.ports["udp"])
        out, _ = server.stop()
    assert (data["result"], data["exit_status"]) == ("failed", 3)
    assert data["diagnosis"][0]["id"] == "credentials-rejected"  # type: ignore[index]
    attempts = [json.loads(line) for line in out.splitlines() if line.strip()]
    ids = [d["id"] for a in attempts for d in a["diagnosis"]]
    assert "wrong-password" in ids


def test_423_is_retried_with_min_expires() -> None:
    with registrar(["--account", "alice:s3cret-pw", "--min-expires", "120"]) as server:
        data = _register(server.ports["udp"], "--expires", "30")
    assert data["result"] == "registered"
    starts = [m["start_line"] for m in data["messages"]]  # type: ignore[index]
    assert "SIP/2.0 423 Interval Too Brief" in starts
    assert data["granted_expires"] == 120


def test_lifecycle_query_unregister_all() -> None:
    with registrar(["--account", "alice:s3cret-pw"]) as server:
        port = server.ports["udp"]
        assert _register(port)["result"] == "registered"
        assert _register(port, "--contact", "sip:alice@192.0.2.7:5060")["result"] == "registered"
        q = sipcheck("query", "alice@example.com", "--server", f"127.0.0.1:{port}",
                     "--password-env", "SIPCHECK_PW", "--json", env=PW)  # fmt: skip
        assert q.status == 0 and q.json()["result"] == "queried"
        assert len(q.json()["bindings"]) == 2
        u = sipcheck("unregister", "alice@example.com", "--all", "--server", f"127.0.0.1:{port}",
                     "--password-env", "SIPCHECK_PW", "--json", env=PW)  # fmt: skip
        assert u.status == 0 and u.json()["result"] == "unregistered"
        assert "Contact: *" in u.json()["messages"][0]["raw"]
        q2 = sipcheck("query", "alice@example.com", "--server", f"127.0.0.1:{port}",
                      "--password-env", "SIPCHECK_PW", "--json", env=PW)  # fmt: skip
        assert q2.json()["bindings"] == []


def test_options_reachable() -> None:
    with registrar(["--account", "alice:x"]) as server:
        run = sipcheck("options", f"127.0.0.1:{server.ports['udp']}", "--json")
    assert run.status == 0 and run.json()["result"] == "reachable"
    assert run.json()["final_status"] == 200


def test_ipv6_loopback() -> None:
    with registrar(["--account", "alice:s3cret-pw"], listen="[::1]:0") as server:
        run = sipcheck("register", "alice@example.com", "--server", f"[::1]:{server.ports['udp']}",
                       "--password-env", "SIPCHECK_PW", "--json", env=PW)  # fmt: skip
    data = run.json()
    assert run.status == 0, run.stderr
    assert data["messages"][0]["remote"] == f"[::1]:{server.ports['udp']}"


def _make_cert(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def test_tls_verified_with_ca_file_and_refused_without(tmp_path: Path) -> None:
    cert, key = _make_cert(tmp_path)
    with registrar(["--account", "alice:s3cret-pw", "--cert", str(cert), "--key", str(key)]) as s:
        port = s.ports["tls"]
        ok = _register(port, "--transport", "tls", "--ca-file", str(cert))
        refused = _register(port, "--transport", "tls")
        insecure = _register(port, "--transport", "tls", "--insecure")
    assert ok["result"] == "registered" and ok["tls"]["verified"] is True  # type: ignore[index]
    assert "localhost" in ok["tls"]["subject"]  # type: ignore[index]
    assert (refused["result"], refused["exit_status"]) == ("failed", 8)
    assert refused["diagnosis"][0]["id"] == "tls-failed"  # type: ignore[index]
    assert insecure["result"] == "registered"


def test_tls_versions_are_limited_by_tls_max_and_min(tmp_path: Path) -> None:
    cert, key = _make_cert(tmp_path)
    files = ["--account", "alice:s3cret-pw", "--cert", str(cert), "--key", str(key)]
    with registrar([*files, "--tls-max", "1.2"]) as s:
        assert any("(TLS 1.2 only)" in line for line in s.banner)
        capped = _register(s.ports["tls"], "--transport", "tls", "--ca-file", str(cert))
    with registrar(files) as s:
        default = _register(s.ports["tls"], "--transport", "tls", "--ca-file", str(cert))
    assert capped["result"] == default["result"] == "registered"
    assert capped["tls"]["version"] == "TLSv1.2"  # type: ignore[index]
    assert default["tls"]["version"] == "TLSv1.3"  # type: ignore[index]
    bad = sipcheck("registrar", "--account", "a:b", "--tls-min", "1.3", "--tls-max", "1.2")
    assert bad.status == 2 and "--tls-min 1.3 is above --tls-max 1.2" in bad.stderr


def test_nothing_listening_is_reported_at_once() -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # the port is now closed: the kernel answers ICMP port unreachable
    data = _register(port)
    diagnosis = data["diagnosis"][0]  # type: ignore[index]
    assert (data["exit_status"], diagnosis["id"]) == (8, "unreachable")
    assert data["timings"]["total_ms"] is None  # type: ignore[index]


def test_silence_times_out_with_exit_7() -> None:
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))  # bound, never answers
    try:
        data = _register(sink.getsockname()[1], "--timeout", "1.2", "--t1", "0.1")
    finally:
        sink.close()
    assert (data["exit_status"], data["diagnosis"][0]["id"]) == (7, "timeout")  # type: ignore[index]
    retrans = [m["retransmission"] for m in data["messages"]]  # type: ignore[index]
    assert retrans[0] is False and retrans.count(True) >= 3


def test_password_sources_and_errors(tmp_path: Path) -> None:
    pw_file = tmp_path / "pw"
    pw_file.write_text("s3cret-pw\n")
    with registrar(["--account", "alice:s3cret-pw"]) as server:
        where = f"127.0.0.1:{server.ports['udp']}"
        from_file = sipcheck(
            "register", "alice@example.com", "--server", where, "--password-file", str(pw_file),
            "--json",
        )  # fmt: skip
        assert from_file.status == 0 and from_file.json()["result"] == "registered"
        both = sipcheck("register", "alice@example.com", "--server", where, "--password-file",
                        str(pw_file), "--password-env", "SIPCHECK_PW", env=PW)  # fmt: skip
        assert both.status == 2 and "give the password one way only" in both.stderr
        missing = sipcheck(
            "register", "alice@example.com", "--server", where, "--password-env", "NOPE_UNSET"
        )
        assert missing.status == 2 and "NOPE_UNSET is not set" in missing.stderr
        no_pw = sipcheck("register", "alice@example.com", "--server",
                         f"127.0.0.1:{server.ports['udp']}", "--json")  # fmt: skip
        assert no_pw.status == 3 and no_pw.json()["diagnosis"][0]["id"] == "no-password"


def test_human_output_is_plain_without_colour() -> None:
    with registrar(["--account", "alice:s3cret-pw"]) as server:
        run = sipcheck("register", "alice@example.com", "--server",
                       f"127.0.0.1:{server.ports['udp']}", "--password-env", "SIPCHECK_PW",
                       env={**PW, "NO_COLOR": "1"})  # fmt: skip
    assert run.status == 0
    assert "\x1b[" not in run.stdout
    assert "REGISTERED" in run.stdout and "401 Unauthorized" in run.stdout
    assert "s3cret-pw" not in run.stdout
