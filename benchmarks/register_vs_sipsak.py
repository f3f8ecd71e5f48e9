"""Benchmark: `sipcheck register` against sipsak, registering with the same
Kamailio on loopback, alternating, N times each; `sipcheck --help` and bare
`python -c pass` in the same loop.

Prints medians of
- whole-process time (fork/exec to exit): wall time, or with ``--clock cpu``
  the child's user+system CPU time (for a machine shared with other work,
  where wall time mostly measures the queue for a core), and
- protocol time: first REGISTER out to the final 200 in, measured the same way
  for both tools by a timing UDP relay in front of Kamailio.

Targets (issue 3, issue 8 item 11): sipcheck protocol time <= 2 ms; register
wall <= 2.5 x sipsak's; `sipcheck --help` <= 2 x `python -c pass`.

Beside them, the floors that no change to sipcheck's own code can go below:
the interpreter importing click (every sipcheck command is a click command),
and click with the rich modules that draw the ladder; and `sipcheck register`
with its default output (the ladder), not only with ``--json``.

    python benchmarks/register_vs_sipsak.py --runs 30
    python benchmarks/register_vs_sipsak.py --runs 30 --clock cpu
    python benchmarks/register_vs_sipsak.py --sipcheck /tmp/venv/bin/sipcheck

The interpreter that runs this script is the one timed for `python -c pass`
(and for sipcheck, through the console script beside it, unless --sipcheck
names another).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.interop.kamailio_server import start_kamailio  # noqa: E402

PASSWORD = "bench-pw"
# What the ladder and the verdict import of rich, with click: the floor of `register`.
RICH_FLOOR = "import click, rich.console, rich.panel, rich.table, rich.text"


class TimingRelay:
    """UDP relay that stamps every datagram with time.perf_counter()."""

    def __init__(self, server: tuple[str, int]) -> None:
        self.server = server
        self.log: list[tuple[float, str, bytes]] = []
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(5)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        relay = self
        client: list[tuple[str, int]] = []

        class Front(asyncio.DatagramProtocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                self.transport = transport

            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
                relay.log.append((time.perf_counter(), "up", data))
                client[:] = [addr]
                back.sendto(data)  # type: ignore[attr-defined]

        class Back(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
                relay.log.append((time.perf_counter(), "down", data))
                if client:
                    front.sendto(data, client[0])  # type: ignore[attr-defined]

        front, _ = loop.run_until_complete(
            loop.create_datagram_endpoint(Front, local_addr=("127.0.0.1", 0))
        )
        back, _ = loop.run_until_complete(
            loop.create_datagram_endpoint(Back, remote_addr=self.server)
        )
        self.port = front.get_extra_info("sockname")[1]
        self._ready.set()
        loop.run_forever()

    def protocol_ms(self) -> float | None:
        """First REGISTER up to the first 200 for a REGISTER down."""
        first = next(
            (t for t, d, data in self.log if d == "up" and data.startswith(b"REGISTER")), None
        )
        final = next(
            (t for t, d, data in self.log if d == "down" and data.startswith(b"SIP/2.0 200")
             and b"REGISTER" in data.split(b"CSeq:", 1)[-1][:40]),
            None,
        )  # fmt: skip
        if first is None or final is None:
            return None
        return (final - first) * 1000


def timed(command: list[str], env: dict[str, str], clock: str) -> tuple[float, int]:
    """Milliseconds of wall time, or of the child's CPU time (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, env=env, timeout=30)
    wall = (time.perf_counter() - start) * 1000
    if clock == "wall":
        return wall, proc.returncode
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu * 1000, proc.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="registrations per tool")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="what to time (default wall)"
    )
    parser.add_argument("--sipcheck", help="the sipcheck to run (default: the one beside python)")
    args = parser.parse_args()
    sipsak = shutil.which("sipsak")
    # The console script pip installed beside this interpreter: on PATH there may
    # be a wrapper (pyenv's bash shim costs ~80 ms per start) that a user of a
    # plain `pip install .` does not have.
    script = Path(sys.executable).parent / "sipcheck"
    sipcheck = [str(script)] if script.exists() else [sys.executable, "-m", "sipcheck"]
    if args.sipcheck:
        sipcheck = [args.sipcheck]
    # The floors are measured with the interpreter of that sipcheck (its click and rich).
    beside = Path(sipcheck[0]).parent / "python"
    floor_python = str(beside) if beside.exists() else sys.executable
    if sipsak is None:
        print("sipsak is not installed (bash scripts/install-test-deps.sh)")
        return 2
    # pip byte-compiles an installed package; an editable checkout run with
    # PYTHONDONTWRITEBYTECODE would recompile every module on every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "sipcheck")],
                   check=True, capture_output=True)  # fmt: skip
    env = {**os.environ, "BENCH_PW": PASSWORD, "NO_COLOR": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        server = start_kamailio(Path(tmp), mode="www", users={"alice": PASSWORD})
        try:
            relay = TimingRelay(("127.0.0.1", server.port))
            relay.start()
            target = f"127.0.0.1:{relay.port}"
            tools = {
                "sipcheck": [*sipcheck, "register", "alice@127.0.0.1", "--server", target,
                                        "--password-env", "BENCH_PW", "--json"],
                "sipsak": [sipsak, "-U", "-s", f"sip:alice@{target}", "-u", "alice",
                           "-a", PASSWORD, "-H", "127.0.0.1"],
                "ladder": [*sipcheck, "register", "alice@127.0.0.1", "--server", target,
                                      "--password-env", "BENCH_PW"],
                "--help": [*sipcheck, "--help"],
                "python": [sys.executable, "-c", "pass"],
                "click": [floor_python, "-c", "import click"],
                "click+rich": [floor_python, "-c", RICH_FLOOR],
            }  # fmt: skip
            results: dict[str, dict[str, list[float]]] = {
                name: {"wall": [], "protocol": []} for name in tools
            }
            failures = {name: 0 for name in tools}
            for _ in range(args.runs):
                for name, command in tools.items():
                    relay.log.clear()
                    wall, status = timed(command, env, args.clock)
                    if name in ("sipcheck", "sipsak", "ladder"):
                        time.sleep(0.02)  # let the last datagrams land in the log
                    if status != 0:
                        failures[name] += 1
                        continue
                    results[name]["wall"].append(wall)
                    proto = relay.protocol_ms()
                    if proto is not None:
                        results[name]["protocol"].append(proto)
        finally:
            server.stop()
    med = {n: {k: statistics.median(v) if v else float("nan") for k, v in r.items()}
           for n, r in results.items()}  # fmt: skip
    best = {n: min(r["wall"], default=float("nan")) for n, r in results.items()}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{args.runs} runs each, alternating; registrations against Kamailio 5.6 on "
          f"127.0.0.1 (UDP, 401 MD5); {args.clock} time; load average {load} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'':18}{args.clock + ' median':>14}{'min':>10}{'protocol median':>18}{'failures':>10}")
    labels = {"sipcheck": "register --json", "sipsak": "sipsak",
              "ladder": "register (ladder)", "--help": "sipcheck --help",
              "python": "python -c pass", "click": "import click",
              "click+rich": "import click+rich"}  # fmt: skip
    for name in tools:
        proto = med[name]["protocol"]
        timed_protocol = name in ("sipcheck", "sipsak", "ladder")
        proto_text = f"{proto:>15.2f} ms" if timed_protocol else f"{'':>18}"
        print(f"{labels[name]:18}{med[name]['wall']:>11.1f} ms{best[name]:>7.1f} ms{proto_text}"
              f"{failures[name]:>10}")  # fmt: skip
    ratio = med["sipcheck"]["wall"] / med["sipsak"]["wall"]
    print(f"{args.clock} ratio sipcheck register / sipsak: {ratio:.2f} (target <= 2.5)")
    help_ratio = med["--help"]["wall"] / med["python"]["wall"]
    print(f"{args.clock} ratio sipcheck --help / python -c pass: {help_ratio:.2f} (target <= 2)")
    ladder_ratio = med["ladder"]["wall"] / med["sipsak"]["wall"]
    print(f"{args.clock} ratio sipcheck register (ladder) / sipsak: {ladder_ratio:.2f}")
    floors = (med["click"]["wall"] / med["sipsak"]["wall"],
              med["click+rich"]["wall"] / med["sipsak"]["wall"])  # fmt: skip
    print(f"floors / sipsak: import click {floors[0]:.2f}, import click+rich {floors[1]:.2f}")
    print(f"sipcheck protocol time: {med['sipcheck']['protocol']:.2f} ms (target <= 2 ms)")
    print(
        f"(ratios of the minima: register / sipsak {best['sipcheck'] / best['sipsak']:.2f}, "
        f"--help / python {best['--help'] / best['python']:.2f})"
    )
    if args.clock == "cpu":
        print("(the register target is a wall-time one: sipsak mostly waits, it uses little CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
