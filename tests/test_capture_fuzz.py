"""Random and mutated captures never make ``analyze`` raise: a file that is not a
capture is a CaptureFileError (exit 2); anything inside a capture is skipped,
counted or shown as unparseable."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sipcheck.capture.analyze import Analysis
from sipcheck.capture.files import CaptureFileError, open_capture
from sipcheck.render.analyze import attempt_json, counts_lines, packets_json
from tests.support.pcaps import pcap, pcapng

SAMPLES = Path(__file__).parent / "data" / "pcaps"
LINKTYPES = [0, 1, 12, 101, 108, 113, 228, 229, 252, 276, 9999]


def _frames(name: str) -> list[tuple[int, bytes]]:
    with open_capture(str(SAMPLES / name)) as reader:
        return [(f.linktype, f.data) for f in reader]


REAL = _frames("wireshark-aaa-sip-only.pcap") + _frames("heplify-sip-ipv4-tcp-retrans.pcap")


def analyse(path: Path) -> None:
    analysis = Analysis(str(path), password="pw")
    for result in analysis:
        attempt_json(result)
    packets_json(analysis.stats)
    counts_lines(analysis.stats)


def run_on(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.pcap"
        path.write_bytes(data)
        try:
            analyse(path)
        except CaptureFileError:
            pass


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_files(data: bytes) -> None:
    run_on(data)
    run_on(b"\xd4\xc3\xb2\xa1" + data)
    run_on(b"\x0a\x0d\x0d\x0a" + data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(LINKTYPES),
    st.lists(st.binary(max_size=300), max_size=8),
    st.booleans(),
)
def test_random_packets_in_a_good_container(linktype: int, packets: list[bytes], ng: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write = pcapng if ng else pcap
        analyse(write(Path(tmp) / "f", packets, linktype=linktype))


@st.composite
def mutated(draw: st.DrawFn) -> tuple[int, list[bytes]]:
    start = draw(st.integers(0, len(REAL) - 8))
    chosen = REAL[start : start + draw(st.integers(1, 8))]
    out = []
    for _, data in chosen:
        buf = bytearray(data)
        for _ in range(draw(st.integers(0, 6))):
            if not buf:
                break
            at = draw(st.integers(0, len(buf) - 1))
            kind = draw(st.sampled_from(["flip", "cut", "insert", "digit"]))
            if kind == "flip":
                buf[at] ^= draw(st.integers(1, 255))
            elif kind == "cut":
                del buf[at:]
            elif kind == "insert":
                buf[at:at] = draw(st.binary(min_size=1, max_size=20))
            else:
                buf[at] = draw(st.sampled_from(b"0123456789:\r\n "))
        out.append(bytes(buf))
    return chosen[0][0], out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_real_packets(case: tuple[int, list[bytes]]) -> None:
    linktype, packets = case
    with tempfile.TemporaryDirectory() as tmp:
        analyse(pcap(Path(tmp) / "f.pcap", packets, linktype=linktype))


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=2000))
def test_a_cut_capture(cut: bytes) -> None:
    data = (SAMPLES / "sipnab-sip-auth-failure.pcapng").read_bytes()
    run_on(data[: len(cut) * 3])
