"""The capture reader on everything the issue lists, with packets built by scapy:
link types, VLAN tags, IPv6 extension headers, IP fragments, IP-in-IP, TCP
reassembly (out of order, retransmitted, overlapping, several messages per
segment, one over several, a lost segment), HEP v2/v3, pcap and pcapng
variants, gzip, a truncated file, unparseable SIP."""

# scapy builds packets with an untyped "/" operator
# mypy: disable-error-code="operator,no-untyped-call"
from __future__ import annotations

import struct
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP, UDP, fragment
from scapy.layers.inet6 import (
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    fragment6,
)
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether, Loopback
from scapy.packet import Packet

from sipcheck.capture.analyze import Analysis, AttemptResult
from sipcheck.capture.files import CaptureFileError
from tests.support.pcaps import flow, pcap, pcapng, sip

C4, S4 = "10.0.0.1", "10.0.0.2"
C6, S6 = "2001:db8::1", "2001:db8::2"


def eth() -> Ether:
    """Both addresses given: scapy would otherwise look the destination up (ARP)."""
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")


def udp(v6: bool = False) -> list[Packet]:
    out = []
    for from_client, raw in flow():
        src, dst = (C6, S6) if v6 else (C4, S4)
        if not from_client:
            src, dst = dst, src
        ip = IPv6(src=src, dst=dst) if v6 else IP(src=src, dst=dst)
        out.append(ip / UDP(sport=5060, dport=5060) / raw)
    return out


def results(path: Path) -> tuple[list[AttemptResult], Analysis]:
    analysis = Analysis(str(path))
    return sorted(analysis, key=lambda r: r.first_frame), analysis


def assert_registered(path: Path, frames: list[int] | None = None) -> Analysis:
    found, analysis = results(path)
    assert [(r.outcome.result, r.outcome.final_status) for r in found] == [("registered", 200)]
    assert len(found[0].trace.entries) == len(frames or [1, 2, 3, 4])
    if frames is not None:
        assert found[0].frames == frames
    return analysis


@pytest.mark.parametrize(
    ("linktype", "wrap"),
    [
        (1, lambda p: eth() / p),
        (1, lambda p: eth() / Dot1Q(vlan=10) / p),
        (1, lambda p: eth() / Dot1AD(vlan=20) / Dot1Q(vlan=10) / p),
        (113, lambda p: CookedLinux(proto=0x0800) / p),
        (276, lambda p: CookedLinuxV2(proto=0x0800) / p),
        (0, lambda p: Loopback(type=2) / p),
        (101, lambda p: p),
        (228, lambda p: p),
        (12, lambda p: p),
    ],
    ids=["ethernet", "vlan", "qinq", "sll", "sll2", "null", "raw", "ipv4", "dlt-raw"],
)
def test_link_types(tmp_path: Path, linktype: int, wrap: object) -> None:
    packets = [bytes(wrap(p)) for p in udp()]
    assert_registered(pcap(tmp_path / "f.pcap", packets, linktype=linktype), [1, 2, 3, 4])


def test_bsd_loopback_byte_orders_and_ipv6(tmp_path: Path) -> None:
    for order, linktype, family in (("<", 0, 24), ("<", 0, 30), (">", 108, 28)):
        packets = [struct.pack(order + "I", family) + bytes(p) for p in udp(v6=True)]
        if linktype == 108:
            packets = [struct.pack("!I", family) + bytes(p) for p in udp(v6=True)]
        path = pcap(tmp_path / f"l{family}.pcap", packets, linktype=linktype)
        found, _ = results(path)
        assert found[0].outcome.result == "registered"
        assert str(found[0].trace.entries[0].local) == "[2001:db8::1]:5060"


def test_ipv6_extension_headers(tmp_path: Path) -> None:
    packets = []
    for p in udp(v6=True):
        ip, rest = p[IPv6], p[UDP]
        packets.append(bytes(eth() / IPv6(src=ip.src, dst=ip.dst) / IPv6ExtHdrHopByHop()
                             / IPv6ExtHdrDestOpt() / rest))  # fmt: skip
    assert_registered(pcap(tmp_path / "ext.pcap", packets))


def test_ipv4_fragments_in_any_order(tmp_path: Path) -> None:
    body = b"v=0\r\n" + b"a=x\r\n" * 1200
    big = IP(src=C4, dst=S4) / UDP(sport=5060, dport=5060) / sip(
        "REGISTER sip:example.com SIP/2.0", 1, body=body)  # fmt: skip
    pieces = fragment(big, fragsize=1400)
    assert len(pieces) > 3
    ok = IP(src=S4, dst=C4) / UDP(sport=5060, dport=5060) / sip("SIP/2.0 200 OK", 1)
    packets = [bytes(eth() / f) for f in reversed(pieces)] + [bytes(eth() / ok)]
    found, analysis = results(pcap(tmp_path / "frag.pcap", packets))
    assert analysis.stats.ip_fragments_reassembled == 1
    assert found[0].trace.entries[0].message is not None
    assert found[0].trace.entries[0].message.body == body
    assert found[0].frames == [len(pieces), len(pieces) + 1]  # the last fragment completes it


def test_ipv6_fragments(tmp_path: Path) -> None:
    body = b"a=y\r\n" * 1000
    big = IPv6(src=C6, dst=S6) / IPv6ExtHdrFragment() / UDP(sport=5060, dport=5060) / sip(
        "REGISTER sip:example.com SIP/2.0", 1, body=body)  # fmt: skip
    pieces = fragment6(big, 1280)
    ok = IPv6(src=S6, dst=C6) / UDP(sport=5060, dport=5060) / sip("SIP/2.0 200 OK", 1)
    path = pcap(tmp_path / "f6.pcap", [bytes(eth() / f) for f in pieces] + [bytes(eth() / ok)])
    found, _ = results(path)
    assert found[0].outcome.result == "registered"
    message = found[0].trace.entries[0].message
    assert message is not None and message.body == body


def test_ip_in_ip_and_6in4(tmp_path: Path) -> None:
    v4 = [bytes(IP(src="192.0.2.1", dst="192.0.2.2") / p) for p in udp()]
    assert_registered(pcap(tmp_path / "ipip.pcap", v4, linktype=101))
    v6 = [bytes(IP(src="192.0.2.1", dst="192.0.2.2", proto=41) / p) for p in udp(v6=True)]
    assert_registered(pcap(tmp_path / "6in4.pcap", v6, linktype=101))


def tcp_packets(segments: list[tuple[bool, int, bytes, str]]) -> list[bytes]:
    """(from the client?, offset in its stream, payload, flags) -> Ethernet frames."""
    out = []
    isn = {True: 1000, False: 5000}
    for from_client, offset, payload, flags in segments:
        src, dst, sport, dport = (C4, S4, 40000, 5060) if from_client else (S4, C4, 5060, 40000)
        seq = isn[from_client] + (0 if "S" in flags else 1 + offset)
        ack = isn[not from_client] + 1
        segment = TCP(sport=sport, dport=dport, seq=seq, ack=ack, flags=flags)
        out.append(bytes(eth() / IP(src=src, dst=dst) / segment / payload))
    return out


def test_tcp_reassembly(tmp_path: Path) -> None:
    (_, r1), (_, a1), (_, r2), (_, a2) = flow()
    third = len(r1) // 3
    packets = tcp_packets([
        (True, 0, b"", "S"), (False, 0, b"", "SA"), (True, 0, b"", "A"),
        (True, third, r1[third:2 * third], "PA"),  # early: waits for the first third
        (True, 0, r1[:third], "PA"),
        (True, 0, r1[:third], "PA"),  # retransmitted
        (True, third - 5, r1[third - 5:], "PA"),  # overlaps what came, completes REGISTER
        (False, 0, a1 + r2[:0], "PA"),
        (True, len(r1), r2 + b"\r\n\r\n", "PA"),  # a CRLF keep-alive after it
        (False, len(a1), a2, "PA"),
        (False, len(a1), a2, "PA"),  # the 200 again: a retransmission, no second 200
    ])  # fmt: skip
    analysis = assert_registered(pcap(tmp_path / "tcp.pcap", packets), [7, 8, 9, 10])
    assert analysis.stats.tcp_retransmissions == 2


def test_several_messages_in_one_segment_and_a_lost_segment(tmp_path: Path) -> None:
    (_, r1), (_, a1), (_, r2), (_, a2) = flow()
    packets = tcp_packets([
        (True, 0, r1, "PA"),  # joined mid-connection: no handshake in the capture
        (False, 0, a1 + a2[:10], "PA"),
        (True, len(r1), r2, "PA"),
        (False, len(a1), a2, "PA"),  # overlaps the 10 octets already sent
        (True, len(r1) + len(r2) + 40, b"lost octets", "PA"),  # 40 octets never captured
    ])  # fmt: skip
    found, _ = results(pcap(tmp_path / "multi.pcap", packets))
    assert found[0].outcome.result == "registered"
    # several messages in one segment (a 100 and the 401; the 200 and an OPTIONS),
    # one message over two segments
    trying = sip("SIP/2.0 100 Trying", 1)
    options = b"OPTIONS sip:alice@10.0.0.1 SIP/2.0\r\nCSeq: 7 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    packets = tcp_packets([
        (True, 0, r1, "PA"),
        (False, 0, trying + a1, "PA"),
        (True, len(r1), r2[:50], "PA"),
        (True, len(r1) + 50, r2[50:], "PA"),
        (False, len(trying) + len(a1), a2 + options, "PA"),
    ])  # fmt: skip
    analysis = assert_registered(pcap(tmp_path / "two.pcap", packets), [1, 2, 2, 4, 5])
    assert analysis.stats.not_register == {"OPTIONS": 1}


def hep3(src: str, dst: str, payload: bytes, when: int) -> bytes:
    def chunk(kind: int, value: bytes) -> bytes:
        return struct.pack("!HHH", 0, kind, 6 + len(value)) + value

    body = b"".join([
        chunk(1, b"\x02"), chunk(2, b"\x11"),
        chunk(3, bytes(map(int, src.split(".")))),
        chunk(4, bytes(map(int, dst.split(".")))),
        chunk(7, struct.pack("!H", 5060)), chunk(8, struct.pack("!H", 5060)),
        chunk(9, struct.pack("!I", when)), chunk(10, struct.pack("!I", 250000)),
        chunk(11, b"\x01"), chunk(12, struct.pack("!I", 2001)), chunk(15, payload),
    ])  # fmt: skip
    return b"HEP3" + struct.pack("!H", 6 + len(body)) + body


def hep2(src: str, dst: str, payload: bytes, when: int) -> bytes:
    header = struct.pack("!BBBBHH", 2, 28, 2, 17, 5060, 5060)
    header += bytes(map(int, src.split("."))) + bytes(map(int, dst.split(".")))
    return header + struct.pack("!IIHH", when, 0, 1, 0) + payload


@pytest.mark.parametrize("encode", [hep3, hep2], ids=["hep3", "hep2"])
def test_hep(tmp_path: Path, encode: object) -> None:
    packets = []
    for i, (from_client, raw) in enumerate(flow()):
        src, dst = (C4, S4) if from_client else (S4, C4)
        hep = encode(src, dst, raw, 1_700_000_000 + i)
        packets.append(bytes(eth() / IP(src="192.0.2.9", dst="192.0.2.10")
                             / UDP(sport=9999, dport=9060) / hep))  # fmt: skip
    analysis = assert_registered(pcap(tmp_path / "hep.pcap", packets))
    assert analysis.stats.hep == 4
    found, _ = results(tmp_path / "hep.pcap")
    assert str(found[0].trace.entries[0].local) == f"{C4}:5060"
    assert found[0].trace.wall_start == pytest.approx(
        1_700_000_000 + (0.25 if encode is hep3 else 0)
    )


def test_pcap_and_pcapng_variants(tmp_path: Path) -> None:
    frames = [bytes(eth() / p) for p in udp()]
    start = 1_650_000_000.5
    for name, path in [
        ("big-endian", pcap(tmp_path / "be.pcap", frames, order=">", start=start)),
        ("nanoseconds", pcap(tmp_path / "ns.pcap", frames, nano=True, start=start)),
        ("gzip", pcap(tmp_path / "x.pcap.gz", frames, compress=True, start=start)),
        ("pcapng", pcapng(tmp_path / "a.pcapng", frames, start=start)),
        ("pcapng-be", pcapng(tmp_path / "b.pcapng", frames, order=">", start=start)),
        ("pcapng-ns", pcapng(tmp_path / "c.pcapng", frames, tsresol=9, start=start)),
        ("pcapng-offset", pcapng(tmp_path / "d.pcapng", frames, tsoffset=1_000_000, start=start)),
    ]:
        found, analysis = results(path)
        assert [r.outcome.result for r in found] == ["registered"], name
        assert found[0].trace.wall_start == pytest.approx(start, abs=1e-6), name
        assert found[0].trace.entries[-1].time == pytest.approx(0.03, abs=1e-6), name
        assert analysis.stats.compressed == (name == "gzip")


def test_a_truncated_file_ends_cleanly(tmp_path: Path) -> None:
    path = pcap(tmp_path / "t.pcap", [bytes(eth() / p) for p in udp()])
    data = path.read_bytes()
    path.write_bytes(data[:-50])
    found, analysis = results(path)
    assert analysis.stats.truncated and analysis.stats.packets == 3
    assert found[0].outcome.result == "failed"  # the 200 is the part cut off


@pytest.mark.parametrize("content", [b"", b"hello world, no capture", b"\x1f\x8bnot gzip"])
def test_not_a_capture(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.pcap"
    path.write_bytes(content)
    with pytest.raises(CaptureFileError):
        list(Analysis(str(path)))


def test_unparseable_sip_is_listed_with_its_error(tmp_path: Path) -> None:
    bad = b"REGISTER sip:example.com SIP/2.0\r\nVia SIP/2.0/UDP 10.0.0.1\r\n\r\n"
    packets = [bytes(eth() / p) for p in udp()]
    packets.insert(2, bytes(eth() / IP(src=C4, dst=S4) / UDP(sport=5060, dport=5060) / bad))
    found, analysis = results(pcap(tmp_path / "bad.pcap", packets))
    assert found[0].outcome.result == "registered"
    (error,) = analysis.stats.errors
    assert error.frame == 3 and error.start_line == "REGISTER sip:example.com SIP/2.0"
    assert "Via" in error.error or "colon" in error.error


def test_non_register_sip_is_counted_and_skipped(tmp_path: Path) -> None:
    options = b"OPTIONS sip:example.com SIP/2.0\r\nCSeq: 9 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    answer = b"SIP/2.0 200 OK\r\nCSeq: 9 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    extra = [bytes(eth() / IP(src=C4, dst=S4) / UDP(sport=5060, dport=5060) / m)
             for m in (options, answer, b"\r\n\r\n", b"\x80\x00rtp")]  # fmt: skip
    packets = extra + [bytes(eth() / p) for p in udp()]
    analysis = assert_registered(pcap(tmp_path / "o.pcap", packets), [5, 6, 7, 8])
    assert analysis.stats.not_register == {"OPTIONS": 2}
    assert analysis.stats.udp_not_sip == 2


def test_a_lost_segment_is_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Octets that never come: once enough waits behind the hole, the stream resumes
    there; the message the hole cut is dropped, the next ones are read."""
    import sipcheck.capture.tcp as tcp
    from sipcheck.capture.files import Frame
    from sipcheck.capture.messages import Extractor

    monkeypatch.setattr(tcp, "MAX_WAITING", 100)
    (_, r1), _, (_, r2), _ = flow()
    r3 = sip("REGISTER sip:example.com SIP/2.0", 3)
    packets = tcp_packets([
        (True, 0, r1, "PA"),
        (True, len(r1) + 30, r2[30:], "PA"),  # r2's first 30 octets were not captured
        (True, len(r1) + len(r2), r3, "PA"),
    ])  # fmt: skip
    extractor = Extractor()
    raws = [m.raw for i, p in enumerate(packets) for m in extractor.feed(Frame(i + 1, 0.0, 1, p))]
    assert raws == [r1, r3]
    assert extractor.tcp.gaps == 1


def test_icmp_port_unreachable_is_unreachable(tmp_path: Path) -> None:
    from scapy.layers.inet import ICMP
    from scapy.layers.inet6 import ICMPv6DestUnreach

    for v6 in (False, True):
        request = udp(v6)[0]
        src, dst = (C6, S6) if v6 else (C4, S4)
        if v6:
            icmp = IPv6(src=dst, dst=src) / ICMPv6DestUnreach(code=4) / request
        else:
            icmp = IP(src=dst, dst=src) / ICMP(type=3, code=3) / bytes(request)[:28]
        path = pcap(tmp_path / f"icmp{v6}.pcap", [bytes(eth() / request), bytes(eth() / icmp)])
        (found,), _ = results(path)
        assert (found.outcome.result, found.outcome.exit_status) == ("failed", 8)
        assert found.outcome.diagnoses[0].id == "unreachable"
