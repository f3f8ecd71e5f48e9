"""Round trips: ``sipcheck register --pcap FILE`` against sipcheck's registrar and
against Kamailio over UDP, TCP and TLS (real processes on loopback); then tshark
lists exactly the messages of the live run in order, the password is nowhere in
the file, and ``sipcheck analyze FILE`` says what the live run said."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.interop.conftest import KamailioFactory
from tests.support.processes import registrar, sipcheck
from tests.support.required import require_tool

PW = "round-trip-pw-7"


def live(where: str, transport: str, pcap: Path, *extra: str, password: str = PW) -> dict[str, Any]:
    run = sipcheck(
        "register", "alice@127.0.0.1", "--server", where, "--transport", transport,
        "--password-env", "SIPCHECK_PW", "--json", "--timeout", "5", "--pcap", str(pcap), *extra,
        env={"SIPCHECK_PW": password},
    )  # fmt: skip
    data: dict[str, Any] = json.loads(run.stdout)
    assert data["exit_status"] == run.status
    return data


def tshark_messages(pcap: Path) -> list[str]:
    out = subprocess.run(
        [require_tool("tshark"), "-r", str(pcap), "-Y", "sip", "-T", "fields",
         "-e", "sip.Method", "-e", "sip.Status-Code"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return ["".join(line.split("\t")) for line in out.splitlines()]


def wire_labels(data: dict[str, Any]) -> list[str]:
    labels = []
    for m in data["messages"]:
        first = m["start_line"].split()
        labels.append(first[1] if first[0].startswith("SIP/") else first[0])
    return labels


def analyzed(pcap: Path, *extra: str, password: str | None = None) -> tuple[int, dict[str, Any]]:
    env = {"CHECK_PW": password} if password else None
    args = ("--password-env", "CHECK_PW") if password else ()
    run = sipcheck("analyze", str(pcap), "--json", *args, *extra, env=env)
    report: dict[str, Any] = json.loads(run.stdout)
    return run.status, report


def check_round_trip(data: dict[str, Any], pcap: Path) -> dict[str, Any]:
    assert PW.encode() not in pcap.read_bytes()
    assert tshark_messages(pcap) == wire_labels(data)
    status, report = analyzed(pcap)
    attempts: list[dict[str, Any]] = report["attempts"]
    (attempt,) = attempts
    assert status == data["exit_status"]
    for key in ("result", "final_status", "exit_status", "aor", "granted_expires", "seen_as"):
        assert attempt[key] == data[key], key
    assert [d["id"] for d in attempt["diagnosis"]] == [d["id"] for d in data["diagnosis"]]
    assert [m["raw"] for m in attempt["messages"]] == [m["raw"] for m in data["messages"]]
    return attempt


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_embedded_registrar(tmp_path: Path, transport: str) -> None:
    args = ["--account", f"alice:{PW}"] + (["--self-signed"] if transport == "tls" else [])
    with registrar(args) as server:
        port = server.ports[transport]
        extra = ("--insecure",) if transport == "tls" else ()
        ok = live(f"127.0.0.1:{port}", transport, tmp_path / "ok.pcapng", *extra)
        bad = live(f"127.0.0.1:{port}", transport, tmp_path / "bad.pcapng", *extra,
                   password="not-it")  # fmt: skip
    assert ok["result"] == "registered" and bad["diagnosis"][0]["id"] == "credentials-rejected"
    attempt = check_round_trip(ok, tmp_path / "ok.pcapng")
    assert {m["transport"] for m in attempt["messages"]} == {transport}
    check_round_trip(bad, tmp_path / "bad.pcapng")
    # the password check: right for the 200; for the refused run, computed with
    # another password than PW, and correct for the one it was computed with
    _, report = analyzed(tmp_path / "ok.pcapng", password=PW)
    assert [c["correct"] for c in report["attempts"][0]["password_check"]] == [True]
    _, report = analyzed(tmp_path / "bad.pcapng", password=PW)
    (check,) = report["attempts"][0]["password_check"]
    assert check["correct"] is False and "different password" in check["verdict"]
    _, report = analyzed(tmp_path / "bad.pcapng", password="not-it")
    (check,) = report["attempts"][0]["password_check"]
    assert check["correct"] is True and "server refused a correct answer" in check["verdict"]


def test_embedded_registrar_writes_its_own_capture(tmp_path: Path) -> None:
    pcap = tmp_path / "registrar.pcapng"
    with registrar(["--account", f"alice:{PW}", "--pcap", str(pcap)]) as server:
        for transport in ("udp", "tcp"):
            live(f"127.0.0.1:{server.ports[transport]}", transport, tmp_path / "c.pcapng")
    assert tshark_messages(pcap) == ["REGISTER", "401", "REGISTER", "200"] * 2
    status, report = analyzed(pcap)
    assert status == 0
    assert [(a["result"], a["messages"][0]["transport"]) for a in report["attempts"]] == [
        ("registered", "udp"), ("registered", "tcp")]  # fmt: skip


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_kamailio(
    kamailio: KamailioFactory, tmp_path: Path, transport: Literal["udp", "tcp", "tls"]
) -> None:
    server = kamailio(mode="www", users={"alice": PW}, transports=("udp", "tcp", "tls"))
    extra = ("--ca-file", str(server.cert_path)) if transport == "tls" else ()
    where = server.hostport(transport)
    ok = live(where, transport, tmp_path / "ok.pcapng", *extra)
    bad = live(where, transport, tmp_path / "bad.pcapng", *extra, password="not-it")
    assert ok["result"] == "registered"
    check_round_trip(ok, tmp_path / "ok.pcapng")
    check_round_trip(bad, tmp_path / "bad.pcapng")
    unreg = sipcheck(
        "unregister", "alice@127.0.0.1", "--server", where, "--transport", transport,
        "--password-env", "SIPCHECK_PW", "--json", "--timeout", "5",
        "--pcap", str(tmp_path / "unreg.pcapng"), *extra, env={"SIPCHECK_PW": PW},
    )  # fmt: skip
    check_round_trip(json.loads(unreg.stdout), tmp_path / "unreg.pcapng")


def tshark_by_call_id(pcap: Path) -> tuple[dict[str, list[str]], list[float]]:
    """Each Call-ID's messages (method or status) in file order, and every SIP frame's time."""
    out = subprocess.run(
        [require_tool("tshark"), "-r", str(pcap), "-Y", "sip", "-T", "fields",
         "-e", "frame.time_epoch", "-e", "sip.Call-ID", "-e", "sip.Method",
         "-e", "sip.Status-Code"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    flows: dict[str, list[str]] = {}
    times = []
    for line in out.splitlines():
        when, call_id, method, status = line.split("\t")
        flows.setdefault(call_id, []).append(method + status)
        times.append(float(when))
    return flows, times


def call_id_of(data: dict[str, Any]) -> str:
    raw = data["messages"][0]["raw"]
    return next(line.split(":", 1)[1].strip() for line in raw.split("\r\n")
                if line.lower().startswith("call-id:"))  # fmt: skip


def test_check_writes_every_account_side_by_side_in_time_order(tmp_path: Path) -> None:
    """``check --pcap``: the accounts ran concurrently (UDP, TCP, an OPTIONS ping), each
    with the unregister after it; the file holds exactly their messages, in time order,
    and ``analyze`` finds each registration and each unregister again."""
    accounts = tmp_path / "accounts.toml"
    pcap = tmp_path / "check.pcapng"
    with registrar(["--account", f"alice:{PW}", "--account", f"bob:{PW}"]) as server:
        accounts.write_text(
            f'[defaults]\nserver = "127.0.0.1:{server.ports["udp"]}"\n'
            'password_env = "SIPCHECK_PW"\n'
            '[[account]]\nname = "alice"\naor = "alice@127.0.0.1"\n'
            '[[account]]\nname = "bob"\naor = "bob@127.0.0.1"\ntransport = "tcp"\n'
            f'server = "127.0.0.1:{server.ports["tcp"]}"\n'
            f'[[account]]\nname = "ping"\nmode = "options"\n'
            f'aor = "sip:127.0.0.1:{server.ports["udp"]}"\n'
        )
        run = sipcheck("check", str(accounts), "--json", "--pcap", str(pcap),
                       env={"SIPCHECK_PW": PW})  # fmt: skip
    assert run.status == 0, run.stderr
    assert PW.encode() not in pcap.read_bytes()
    expected: dict[str, list[str]] = {}
    for account in run.json()["accounts"]:
        for data in (account, account.get("unregister")):
            if data:
                expected[call_id_of(data)] = wire_labels(data)
    flows, times = tshark_by_call_id(pcap)
    assert flows == expected
    assert len(flows) == 5  # two registrations, their two unregisters, one OPTIONS
    assert times == sorted(times)
    status, report = analyzed(pcap)
    assert status == 0
    assert report["packets"]["not_register"] == {"OPTIONS": 2}
    results = sorted((a["aor"], a["result"], a["messages"][0]["transport"])
                     for a in report["attempts"])  # fmt: skip
    assert results == [
        ("sip:alice@127.0.0.1", "registered", "udp"),
        ("sip:alice@127.0.0.1", "unregistered", "udp"),
        ("sip:bob@127.0.0.1", "registered", "tcp"),
        ("sip:bob@127.0.0.1", "unregistered", "tcp"),
    ]


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_watch_writes_each_exchange_as_it_ends(tmp_path: Path, transport: str) -> None:
    """``watch --pcap``: the registration, a refresh and the unregister at the end, on
    the one connection watch keeps (over TCP: one stream, its sequence numbers running
    on from one exchange to the next, so tshark reassembles all of it)."""
    pcap = tmp_path / "watch.pcapng"
    with registrar(["--account", f"alice:{PW}", "--min-expires", "1"]) as server:
        run = sipcheck(
            "watch", "alice@127.0.0.1", "--server", f"127.0.0.1:{server.ports[transport]}",
            "--transport", transport, "--password-env", "SIPCHECK_PW", "--expires", "2",
            "--refresh-margin", "1", "--duration", "3", "--json", "--pcap", str(pcap),
            env={"SIPCHECK_PW": PW}, timeout=30,
        )  # fmt: skip
    assert run.status == 0, run.stderr
    assert PW.encode() not in pcap.read_bytes()
    assert tshark_messages(pcap)[:4] == ["REGISTER", "401", "REGISTER", "200"]
    status, report = analyzed(pcap)
    assert status == 0
    results = [a["result"] for a in report["attempts"]]
    assert len(results) >= 3 and results[-1] == "unregistered"
    assert set(results[:-1]) == {"registered"}
    assert {m["transport"] for a in report["attempts"] for m in a["messages"]} == {transport}
    assert report["packets"]["tcp_retransmissions"] == 0
    if transport == "tcp":
        streams = subprocess.run(
            [require_tool("tshark"), "-r", str(pcap), "-Y", "sip", "-T", "fields",
             "-e", "tcp.stream"], capture_output=True, text=True, check=True, timeout=60,
        ).stdout.split()  # fmt: skip
        assert set(streams) == {"0"}
