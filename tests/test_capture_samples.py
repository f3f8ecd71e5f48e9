"""``sipcheck analyze`` on the real captures in tests/data/pcaps: the expected flows
are the tables of tests/data/pcaps/SOURCES.md (extracted with scapy and checked
against tshark by whoever collected them), read from that file, not restated here;
the Zeek log is a second, independent answer for the Wireshark sample."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from sipcheck.capture.analyze import Analysis, AttemptResult
from sipcheck.capture.files import open_capture
from sipcheck.sip.wire.auth import parse_challenges
from sipcheck.sip.wire.message import Request, Response

PCAPS = Path(__file__).parent / "data" / "pcaps"


@dataclass(frozen=True)
class Row:
    frame: int
    t: float
    src: str
    dst: str
    transport: str
    message: str
    cseq: str


def _sections() -> dict[str, str]:
    text = (PCAPS / "SOURCES.md").read_text(encoding="utf-8")
    parts = re.split(r"^### (\S+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


@cache
def expected() -> dict[str, dict[str, list[Row]]]:
    """file -> Call-ID -> the rows of its table."""
    out: dict[str, dict[str, list[Row]]] = {}
    for name, body in _sections().items():
        flows: dict[str, list[Row]] = {}
        for call_id, table in re.findall(r"Call-ID `([^`]+)`:\n\n((?:\|.*\n)+)", body):
            rows = []
            for line in table.splitlines()[2:]:
                cells = [c.strip() for c in line.strip("|").split("|")]
                src, dst = (s.strip() for s in cells[2].split("->"))
                rows.append(Row(int(cells[0]), float(cells[1]), src, dst, *cells[3:6]))
            flows[call_id] = rows
        out[name] = flows
    return out


@cache
def analysed(name: str) -> tuple[list[AttemptResult], Analysis, float]:
    path = str(PCAPS / name)
    with open_capture(path) as reader:
        first = next(iter(reader)).time
    analysis = Analysis(path)
    results = sorted(analysis, key=lambda r: r.first_frame)
    return results, analysis, first


def _label(entry_message: Request | Response) -> str:
    if isinstance(entry_message, Request):
        return entry_message.method
    return f"{entry_message.status} {entry_message.reason}"


def _seen(name: str, call_id: str) -> list[Row]:
    results, _, first = analysed(name)
    rows = []
    for result in results:
        if result.call_id != call_id:
            continue
        for frame, entry in zip(result.frames, result.trace.entries, strict=True):
            message = entry.message
            assert message is not None
            src, dst = (entry.local, entry.remote) if entry.direction == "out" else (
                entry.remote, entry.local)  # fmt: skip
            when = result.trace.wall_start + entry.time - first
            cseq = message.headers.get("CSeq") or ""
            rows.append(Row(frame, round(when, 3), str(src), str(dst),
                            entry.transport.upper(), _label(message), cseq))  # fmt: skip
    return sorted(rows, key=lambda r: r.frame)


def test_every_capture_is_here_unmodified() -> None:
    sections = _sections()
    files = sorted(p.name for p in PCAPS.iterdir() if p.suffix in (".pcap", ".pcapng"))
    assert files == sorted(sections)
    assert (PCAPS / "wireshark-aaa-sip-only.zeek-sip.log").is_file()
    for name, body in sections.items():
        digest = re.search(r"sha256 `([0-9a-f]{64})`", body)
        assert digest is not None, name
        assert hashlib.sha256((PCAPS / name).read_bytes()).hexdigest() == digest.group(1), name


CASES = [
    (name, call_id)
    for name, flows in expected().items()
    for call_id in flows
    if name != "voipshark-sip-over-tls-rtp.pcap"  # needs the server's key: see below
]


@pytest.mark.parametrize(("name", "call_id"), CASES)
def test_the_flows_are_the_documented_ones(name: str, call_id: str) -> None:
    rows = expected()[name][call_id]
    if name == "heplify-sip-ipv4-tcp-retrans.pcap":
        # Frame 38 is a TCP retransmission of frame 36: no second 200 OK (as tshark).
        assert rows[-1].frame == 38
        rows = rows[:-1]
    seen = _seen(name, call_id)
    assert [r.frame for r in seen] == [r.frame for r in rows]
    for got, want in zip(seen, rows, strict=True):
        assert got.t == pytest.approx(want.t, abs=0.0011)
        assert (got.src, got.dst, got.transport, got.message, got.cseq) == (
            want.src, want.dst, want.transport, want.message, want.cseq)  # fmt: skip


def test_heplify_retransmission_is_not_a_second_200() -> None:
    results, analysis, _ = analysed("heplify-sip-ipv4-tcp-retrans.pcap")
    assert analysis.stats.tcp_retransmissions == 1
    assert all(38 not in r.frames for r in results)
    legs = {(r.outcome.target["transport"], r.outcome.result, r.outcome.final_status)
            for r in results}  # fmt: skip
    assert legs == {("tcp", "registered", 200), ("udp", "registered", 200)}
    assert [len(r.frames) for r in results] == [4, 4]


def test_raw_ip_repeated_401_with_the_same_nonce() -> None:
    results, analysis, _ = analysed("heplify-ipip0.pcap")
    assert analysis.stats.not_register == {"INVITE": 2}
    (attempt,) = results
    assert attempt.frames == [3, 4, 5, 6, 7, 8]
    assert (attempt.outcome.result, attempt.outcome.final_status) == ("failed", 401)
    assert attempt.outcome.diagnoses[0].id == "credentials-rejected"
    assert attempt.outcome.exit_status == 3
    nonces = set()
    for entry in attempt.trace.entries:
        message = entry.message
        if isinstance(message, Response):
            header = message.headers.get("WWW-Authenticate") or ""
            nonces |= {c.nonce for c in parse_challenges(header)}
    assert len(nonces) == 1


def test_forbidden_after_the_answer() -> None:
    results, analysis, _ = analysed("sipnab-sip-auth-failure.pcapng")
    (attempt,) = results
    assert attempt.outcome.final_status == 403 and attempt.outcome.diagnoses[0].id == "forbidden"
    assert analysis.stats.not_register == {"SUBSCRIBE": 4}


def test_hello_keepalives_are_not_sip() -> None:
    results, analysis, _ = analysed("ndpi-sip-hello.pcapng")
    assert analysis.stats.udp_not_sip == 22
    assert [(r.outcome.result, r.frames) for r in results] == [
        ("registered", [9, 10, 11, 12]), ("registered", [25, 26, 27, 28])]  # fmt: skip


def test_voipshark_registrations_and_deregistrations() -> None:
    results, analysis, _ = analysed("voipshark-sip-udp-rtp.pcap")
    assert [(r.intent.mode, r.outcome.result) for r in results] == [
        ("register", "registered"), ("register", "registered"),
        ("unregister", "unregistered"), ("unregister", "unregistered")]  # fmt: skip
    assert analysis.stats.not_register["INVITE"] > 0 and analysis.stats.attempts == 4


def test_the_full_capture_has_the_same_attempts_as_its_sip_only_cut() -> None:
    def summary(name: str) -> list[tuple[str, str, int | None, list[str]]]:
        return [
            (r.call_id, r.outcome.result, r.outcome.final_status,
             [d.id for d in r.outcome.diagnoses])
            for r in analysed(name)[0]
        ]  # fmt: skip

    full, cut = summary("wireshark-aaa.pcap"), summary("wireshark-aaa-sip-only.pcap")
    assert full == cut and len(full) == 9
    assert analysed("wireshark-aaa.pcap")[1].stats.packets == 691
    # 403 'Wrong password', then credentials refused until the 200; the
    # de-registration (CSeq 76/77) ends in a 401 'nonce has changed'
    assert [r[1:3] for r in full][:5] == [("failed", 403), ("failed", 401), ("failed", 401),
                                          ("registered", 200), ("failed", 401)]  # fmt: skip
    assert analysed("wireshark-aaa.pcap")[0][4].intent.mode == "unregister"


def test_zeek_log_is_an_independent_answer() -> None:
    log = (PCAPS / "wireshark-aaa-sip-only.zeek-sip.log").read_text(encoding="utf-8")
    columns: list[str] = []
    zeek = []
    for line in log.splitlines():
        if line.startswith("#fields"):
            columns = line.split("\t")[1:]
        elif not line.startswith("#"):
            row = dict(zip(columns, line.split("\t"), strict=False))
            if row["method"] == "REGISTER":
                zeek.append(
                    (row["call_id"], row["seq"], int(row["status_code"]), row["status_msg"])
                )
    ours = []
    for result in analysed("wireshark-aaa-sip-only.pcap")[0]:
        for entry in result.trace.entries:
            message = entry.message
            if isinstance(message, Response):
                cseq = message.headers.get("CSeq") or ""
                ours.append((result.call_id, cseq, message.status, message.reason))
    assert len(zeek) == 22
    assert sorted(ours) == sorted(zeek)


def test_tls_without_the_key_shows_no_sip() -> None:
    """The expected table needs the server's RSA key; without it: two TLS connections
    to port 5061 and nothing readable (what an offline tool must say)."""
    results, analysis, _ = analysed("voipshark-sip-over-tls-rtp.pcap")
    assert results == [] and analysis.stats.tls_connections == 2
    assert analysis.stats.sip_messages == 0
    assert set(expected()["voipshark-sip-over-tls-rtp.pcap"]) == {
        "48ece8eb43f3456f855c6e81caa9446c", "71d333c289db4764a2390b9f2ec4107a"}  # fmt: skip
