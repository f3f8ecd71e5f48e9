#!/usr/bin/env python3
"""How fast ``sipcheck analyze`` reads a large real capture, and how much memory it
needs, next to tshark and next to scapy's own dissection.

The capture is made here, on loopback: Kamailio (``benchmarks/kamailio-bench.cfg``,
401 with MD5 and qop auth) and SIPp playing ``tests/interop/sipp/register_auth.xml``
(one call = REGISTER, 401, REGISTER with credentials, 200: four packets), recorded
by dumpcap on ``lo`` (needs root or CAP_NET_RAW). 100,000 calls make 400,000
packets. The file is kept in ``--keep DIR`` if given, so later runs can reuse it
(``--capture FILE``).

Then, each in its own process, timed (wall clock) and measured (peak resident
memory, from the kernel's rusage of that process):

* ``sipcheck analyze FILE --summary`` (every attempt diagnosed, the table printed)
  and ``sipcheck analyze FILE --json`` (every attempt rendered as JSON, to /dev/null);
* ``tshark -r FILE -Y sip -T fields -e sip.Call-ID -e sip.Status-Code``;
* sipcheck's reader alone: frames -> SIP messages (link layer, IP, UDP/TCP,
  framing; no grouping, no diagnosis): the part scapy's dissection compares with;
* a floor for any pure-Python analyzer (pcap files only, such as the script's own):
  the file read in 1 MiB chunks, each record's Ethernet/IPv4/UDP headers decoded,
  the SIP header lines split into a dict and the messages grouped by Call-ID, with
  nothing else (no URI, CSeq or auth parsing, no diagnosis, no output). Whatever
  ``analyze`` does on top of this costs time, so this is as fast as it can get in
  CPython; it is here to show how far the target of 2x tshark is from that (it
  keeps every message: its peak memory means nothing);
* scapy: ``PcapReader`` (every packet fully dissected, Ether/IP/UDP/Raw) counting
  the REGISTER requests, with ``--scapy-packets`` packets at most (it is slow).

Packets per second = packets in the file / wall time. Everything runs on loopback
and stops by itself.

    python benchmarks/analyze_vs_tshark.py
    python benchmarks/analyze_vs_tshark.py --calls 20000 --rate 4000
    python benchmarks/analyze_vs_tshark.py --capture /tmp/big.pcap
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from registrar_rate import (  # noqa: E402  (a sibling script, not a package)
    HOST,
    SCENARIO,
    free_port,
    kamailio_server,
    stop_group,
    write_accounts,
)

READER_CODE = """
import sys
from sipcheck.capture.files import open_capture
from sipcheck.capture.messages import Extractor
extractor = Extractor()
messages = 0
with open_capture(sys.argv[1]) as reader:
    for frame in reader:
        messages += len(extractor.feed(frame))
print(messages)
"""

FLOOR_CODE = """
import struct, sys
records = struct.Struct("<IIII")
groups = {}
packets = messages = 0
with open(sys.argv[1], "rb") as file:
    if file.read(4) != bytes.fromhex("d4c3b2a1"):
        sys.exit("the floor reads little-endian pcap (microseconds) only")
    file.read(20)
    buffer = b""
    at = 0
    while True:
        if len(buffer) - at < 16 + 65536:
            buffer = buffer[at:] + file.read(1 << 20)
            at = 0
            if len(buffer) < 16:
                break
        _seconds, _fraction, caplen, _length = records.unpack_from(buffer, at)
        packet = buffer[at + 16 : at + 16 + caplen]
        at += 16 + caplen
        packets += 1
        if packet[12:14] != b"\\x08\\x00" or packet[23] != 17:
            continue
        payload = packet[14 + (packet[14] & 15) * 4 + 8 :]
        head = payload[: payload.find(b"\\r\\n\\r\\n")].decode("utf-8", "replace")
        lines = head.split("\\r\\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        call_id = headers.get("call-id") or headers.get("i")
        group = groups.get(call_id)
        if group is None:
            groups[call_id] = group = []
        group.append((lines[0], headers))
        messages += 1
print(packets, messages, len(groups))
"""

SCAPY_CODE = """
import sys
from scapy.utils import PcapReader
from scapy.packet import Raw
n = registers = 0
with PcapReader(sys.argv[1]) as reader:
    for packet in reader:
        n += 1
        raw = packet.getlayer(Raw)
        if raw is not None and bytes(raw.load).startswith(b"REGISTER "):
            registers += 1
        if n >= int(sys.argv[2]):
            break
print(n, registers)
"""


@dataclass
class Measure:
    name: str
    seconds: float
    peak_mb: float
    packets: int
    note: str = ""

    @property
    def rate(self) -> float:
        return self.packets / self.seconds if self.seconds else 0.0


def measure(name: str, command: Sequence[str], packets: int, note: str = "") -> Measure:
    """Run ``command`` (stdout to /dev/null), its wall time and its own peak RSS."""
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(ROOT))
    with open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=sink, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 3, 4, 5, 7):
        raise RuntimeError(f"{name} failed ({proc.returncode}): {err[-500:]}")
    return Measure(name, seconds, usage.ru_maxrss / 1024, packets, note)


def count_packets(path: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from sipcheck.capture.files import open_capture

    with open_capture(str(path)) as reader:
        return sum(1 for _ in reader)


def make_capture(work: Path, calls: int, rate: int, accounts: int) -> Path:
    for tool in ("sipp", "dumpcap", "kamailio"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (scripts/install-test-deps.sh)")
    files = write_accounts(work, accounts)
    capture = work / "registrations.pcap"
    with kamailio_server(work, files, children=4) as server:
        dump = subprocess.Popen(
            ["dumpcap", "-q", "-i", "lo", "-f", f"udp port {server.port}", "-B", "64",
             "-P", "-w", str(capture)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        time.sleep(1.5)  # dumpcap opens the interface
        if dump.poll() is not None:
            err = dump.stderr.read().decode(errors="replace") if dump.stderr else ""
            raise SystemExit(f"dumpcap could not capture on lo (root or CAP_NET_RAW?): {err}")
        budget = calls / rate * 3 + 30
        sipp = [
            "sipp", f"{HOST}:{server.port}", "-sf", str(SCENARIO), "-inf", str(files["csv"]),
            "-i", HOST, "-p", str(free_port()), "-m", str(calls), "-r", str(rate),
            "-rp", "1000", "-nostdin", "-timeout", f"{budget:.0f}s",
            "-buff_size", str(4 * 1024 * 1024),
        ]  # fmt: skip
        started = time.monotonic()
        subprocess.run(sipp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=budget + 30, check=False, cwd=work)  # fmt: skip
        print(f"SIPp: {calls} calls in {time.monotonic() - started:.1f} s", file=sys.stderr)
        time.sleep(1.0)
        stop_group(dump)  # type: ignore[arg-type]
    return capture


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100_000, help="SIPp calls (4 packets each)")
    parser.add_argument("--rate", type=int, default=5000, help="SIPp calls per second")
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--capture", type=Path, help="use this capture instead of making one")
    parser.add_argument("--keep", type=Path, help="keep the capture made in this directory")
    parser.add_argument("--scapy-packets", type=int, default=40_000)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sipcheck-bench-") as tmp:
        work = Path(tmp)
        capture = args.capture or make_capture(work, args.calls, args.rate, args.accounts)
        if args.keep and not args.capture:
            args.keep.mkdir(parents=True, exist_ok=True)
            capture = Path(shutil.copy(capture, args.keep / capture.name))
        packets = count_packets(capture)
        size = capture.stat().st_size / 1e6
        print(f"capture: {capture.name}, {packets} packets, {size:.1f} MB", file=sys.stderr)
        sipcheck = [sys.executable, "-m", "sipcheck", "analyze", str(capture)]
        tshark = shutil.which("tshark")
        results = [
            measure("sipcheck analyze --summary", [*sipcheck, "--summary"], packets),
            measure("sipcheck analyze --json", [*sipcheck, "--json"], packets),
        ]
        if tshark:
            fields = [tshark, "-r", str(capture), "-Y", "sip", "-T", "fields",
                      "-e", "sip.Call-ID", "-e", "sip.Status-Code"]  # fmt: skip
            results.append(measure("tshark -Y sip -T fields", fields, packets))
        reader = [sys.executable, "-c", READER_CODE, str(capture)]
        results.append(measure("sipcheck reader alone (frames -> SIP messages)", reader, packets))
        with capture.open("rb") as file:
            plain_pcap = file.read(4) == bytes.fromhex("d4c3b2a1")
        if plain_pcap:
            floor = [sys.executable, "-c", FLOOR_CODE, str(capture)]
            results.append(measure("pure-Python floor (split + group only)", floor, packets))
        cap = min(packets, args.scapy_packets)
        scapy = [sys.executable, "-c", SCAPY_CODE, str(capture), str(cap)]
        results.append(measure("scapy PcapReader (full dissection)", scapy, cap,
                               f"first {cap} packets"))  # fmt: skip
    width = max(len(r.name) for r in results)
    print(f"{'':{width}}  {'packets/s':>10}  {'seconds':>8}  {'peak MB':>8}")
    for r in results:
        extra = f"  ({r.note})" if r.note else ""
        print(f"{r.name:{width}}  {r.rate:10,.0f}  {r.seconds:8.2f}  {r.peak_mb:8.1f}{extra}")
    by = {r.name: r for r in results}
    if "tshark -Y sip -T fields" in by:
        ratio = by["sipcheck analyze --summary"].rate / by["tshark -Y sip -T fields"].rate
        print(f"sipcheck analyze --summary / tshark: {ratio:.2f}x packets per second")
        if "pure-Python floor (split + group only)" in by:
            floor_ratio = (
                by["pure-Python floor (split + group only)"].rate
                / by["tshark -Y sip -T fields"].rate
            )
            print(f"pure-Python floor / tshark: {floor_ratio:.2f}x packets per second")
    return 0


if __name__ == "__main__":
    sys.exit(main())
