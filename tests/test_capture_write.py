"""Traces written as pcapng (``--pcap``), judged by tshark itself and read back by
``analyze``'s own reader: every message, in order, with its addresses, ports and
times; TCP as one clean stream (no analysis flags, good checksums); TLS as
exported PDUs that Wireshark's SIP dissector takes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from sipcheck.capture.files import open_capture
from sipcheck.capture.messages import Extractor
from sipcheck.capture.writer import TraceWriter, write_pcap
from sipcheck.errors import ConfigError
from sipcheck.trace import Address, Note, Trace, TraceEntry
from tests.support.required import require_tool

WALL = 1_700_000_000.25
CLIENT = Address("127.0.0.1", 40001)
SERVER = Address("127.0.0.1", 5060)


def message(start: str, cseq: int, transport: str, body: bytes = b"") -> bytes:
    head = (
        f"{start}\r\n"
        f"Via: SIP/2.0/{transport.upper()} 127.0.0.1:40001;branch=z9hG4bK{cseq}\r\n"
        "From: <sip:alice@example.com>;tag=a\r\nTo: <sip:alice@example.com>\r\n"
        f"Call-ID: call-{transport}\r\nCSeq: {cseq} REGISTER\r\n"
        "Contact: <sip:alice@127.0.0.1:40001>\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def exchange(
    transport: str, local: Address = CLIENT, remote: Address = SERVER, body: bytes = b""
) -> Trace:
    trace = Trace(wall_start=WALL)
    trace.note(0.001, "connect", f"{transport.upper()} {local} -> {remote}")
    for i, (direction, start) in enumerate(
        [("out", "REGISTER sip:example.com SIP/2.0"), ("in", "SIP/2.0 401 Unauthorized"),
         ("out", "REGISTER sip:example.com SIP/2.0"), ("in", "SIP/2.0 200 OK")]
    ):  # fmt: skip
        raw = message(start, 1 + i // 2, transport, body if i == 2 else b"")
        trace.add(TraceEntry(direction, 0.01 * (i + 1), local, remote, transport, raw))
    return trace


def tshark(path: Path, *fields: str, display: str = "sip", **prefs: str) -> list[list[str]]:
    command = [require_tool("tshark"), "-r", str(path), "-Y", display, "-T", "fields",
               "-E", "separator=|"]  # fmt: skip
    for name, value in prefs.items():
        command += ["-o", f"{name.replace('__', '.')}:{value}"]
    for field in fields:
        command += ["-e", field]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout
    return [line.split("|") for line in out.splitlines()]


def read_back(path: Path) -> list[tuple[str, str, str, bytes, float]]:
    extractor = Extractor()
    out = []
    with open_capture(str(path)) as reader:
        for frame in reader:
            for m in extractor.feed(frame):
                out.append((str(m.src), str(m.dst), m.transport, m.raw, m.time))
    return out


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_tshark_lists_exactly_our_messages(tmp_path: Path, transport: str) -> None:
    trace = exchange(transport)
    path = tmp_path / f"{transport}.pcapng"
    write_pcap(str(path), trace)
    rows = tshark(path, "sip.Method", "sip.Status-Code", "sip.CSeq.seq", "frame.time_epoch")
    assert [r[:3] for r in rows] == [["REGISTER", "", "1"], ["", "401", "1"],
                                     ["REGISTER", "", "2"], ["", "200", "2"]]  # fmt: skip
    times = [float(r[3]) for r in rows]
    assert times == pytest.approx([WALL + 0.01 * i for i in range(1, 5)], abs=1e-6)
    ends = tshark(path, "ip.src", "ip.dst", "tcp.srcport", "udp.srcport", "exported_pdu.src_port")
    ports = [next(p for p in r[2:] if p) for r in ends]
    assert ports == ["40001", "5060", "40001", "5060"]
    # our own reader gives back the very octets, the addresses and the times
    back = read_back(path)
    assert [b[3] for b in back] == [e.raw for e in trace.entries]
    assert [(b[0], b[1]) for b in back][:2] == [
        (str(CLIENT), str(SERVER)),
        (str(SERVER), str(CLIENT)),
    ]
    assert {b[2] for b in back} == {transport}


def test_tcp_is_one_clean_stream(tmp_path: Path) -> None:
    path = tmp_path / "tcp.pcapng"
    write_pcap(str(path), exchange("tcp"))
    flags = tshark(path, "tcp.flags.str", "tcp.seq", "tcp.ack", "tcp.stream", display="tcp",
                   tcp__relative_sequence_numbers="TRUE")  # fmt: skip
    assert [f[0].replace("\u00b7", ".") for f in flags[:3]] == [
        "..........S.", ".......A..S.", ".......A...."]  # fmt: skip
    assert [f[1:3] for f in flags[:3]] == [["0", "0"], ["0", "1"], ["1", "1"]]
    assert {f[3] for f in flags} == {"0"}
    assert tshark(path, "frame.number", display="tcp.analysis.flags") == []
    wrong = "tcp.checksum.status != 1 || ip.checksum.status != 1"
    bad = tshark(path, "frame.number", display=wrong,
                 tcp__check_checksum="TRUE", ip__check_checksum="TRUE")  # fmt: skip
    assert bad == []


def test_handshake_at_the_connect_note(tmp_path: Path) -> None:
    path = tmp_path / "tcp.pcapng"
    write_pcap(str(path), exchange("tcp"))
    syn = tshark(path, "frame.time_epoch", display="tcp.flags.syn == 1 && tcp.flags.ack == 0")
    assert float(syn[0][0]) == pytest.approx(WALL + 0.001, abs=1e-6)


def test_a_large_message_spans_segments_and_reassembles(tmp_path: Path) -> None:
    body = b"x" * 150_000
    path = tmp_path / "big.pcapng"
    trace = exchange("tcp", body=body)
    write_pcap(str(path), trace)
    rows = tshark(path, "sip.Method", "sip.Status-Code", "sip.Content-Length")
    assert ["REGISTER", "", "150000"] in rows and len(rows) == 4
    assert [b[3] for b in read_back(path)] == [e.raw for e in trace.entries]


def test_ipv6_udp_and_tcp(tmp_path: Path) -> None:
    local, remote = Address("::1", 40002), Address("::1", 5060)
    for transport in ("udp", "tcp"):
        path = tmp_path / f"v6-{transport}.pcapng"
        write_pcap(str(path), exchange(transport, local, remote))
        rows = tshark(path, "ipv6.src", "sip.Method", "sip.Status-Code")
        assert [r[0] for r in rows] == ["::1"] * 4
        assert read_back(path)[0][0] == "[::1]:40002"


def test_tls_and_udp_in_one_file_and_traces_sharing_a_connection(tmp_path: Path) -> None:
    """The registrar writes one Trace per attempt: two attempts on one TCP connection
    continue its sequence numbers; TLS goes to a second interface (exported PDUs)."""
    path = tmp_path / "mixed.pcapng"
    with path.open("wb") as stream:
        writer = TraceWriter(stream)
        for trace in (exchange("tcp"), exchange("tcp"), exchange("tls"), exchange("udp")):
            writer.write(trace)
    assert tshark(path, "frame.number", display="tcp.analysis.flags") == []
    assert len(tshark(path, "frame.number", display="tcp.flags.syn == 1")) == 2  # one handshake
    assert len(tshark(path, "sip.CSeq.seq")) == 16
    interfaces = {r[0] for r in tshark(path, "frame.interface_id", display="exported_pdu")}
    assert interfaces == {"1"}


def test_retransmissions_and_notes_become_comments(tmp_path: Path) -> None:
    trace = exchange("udp")
    trace.entries[2].retransmission = True
    trace.entries[3].note = "ignored: stray response"
    path = tmp_path / "c.pcapng"
    write_pcap(str(path), trace)
    comments = [r[0] for r in tshark(path, "frame.comment", display="frame.comment")]
    assert comments == ["retransmission", "ignored: stray response"]


def test_an_unwritable_path_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--pcap"):
        write_pcap(str(tmp_path / "no-such-dir" / "x.pcapng"), Trace(notes=[Note(0, "info", "")]))


def test_traces_that_overlap_are_written_in_time_order(tmp_path: Path) -> None:
    """``check`` writes its accounts' Traces, which ran side by side: the packets come
    out by time (TCP handshake first for its stream), each stream still consistent."""
    late = exchange("tcp", local=Address("127.0.0.1", 40002))
    late.wall_start = WALL + 0.015  # starts between the first trace's 401 and REGISTER
    path = tmp_path / "both.pcapng"
    write_pcap(str(path), exchange("udp"), late)
    rows = tshark(path, "frame.time_epoch", "udp.srcport", "tcp.srcport", "sip.CSeq.seq")
    times = [float(r[0]) for r in rows]
    assert times == sorted(times)
    # (transport, source port, CSeq): UDP at +0.01, +0.02, +0.03, +0.04; TCP at
    # +0.025, +0.035, +0.045, +0.055 (its trace started 0.015 s later)
    assert [("udp" if r[1] else "tcp", r[1] or r[2], r[3]) for r in rows] == [
        ("udp", "40001", "1"), ("udp", "5060", "1"), ("tcp", "40002", "1"),
        ("udp", "40001", "2"), ("tcp", "5060", "1"), ("udp", "5060", "2"),
        ("tcp", "40002", "2"), ("tcp", "5060", "2"),
    ]  # fmt: skip
    assert tshark(path, "frame.number", display="tcp.analysis.flags") == []
