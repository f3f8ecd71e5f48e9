#!/usr/bin/env python3
"""How many authenticated registrations per second: sipcheck's registrar vs Kamailio.

SIPp plays ``tests/interop/sipp/register_auth.xml`` (one call = REGISTER, 401,
REGISTER with credentials, 200) at rising rates against ``sipcheck registrar
--quiet`` and against Kamailio, both on 127.0.0.1 of this machine, and prints
for each server the highest rate it sustains.

What "sustains" means here. SIPp retransmits an unanswered REGISTER after 500 ms,
so an overloaded server shows no failed calls, only a run that takes longer than
it should. Each step therefore offers a fixed number of calls (``--seconds`` x
rate) and measures the *achieved* rate: successful calls / wall time of the run
(SIPp's start to its last call's end, from the ``-trace_stat`` file). A step
passes only if all three hold:

* failed calls (including calls never finished) under 0.1 %,
* achieved rate at least 95 % of the offered rate,
* SIPp retransmissions under 1 % of the REGISTERs it sent.

Response times: a copy of the scenario with SIPp response-time counters
(``rtd``) around each transaction, traced with ``-trace_rtt``; p50/p99 are per
transaction (REGISTER -> 401 and REGISTER -> 200). ``cpu`` is the server's own
CPU time during the step, over the step's wall time (100 % = one core);
``sipp`` is SIPp's (when it nears 100 %, SIPp is the limit, not the server).

Kamailio runs ``benchmarks/kamailio-bench.cfg`` by default: the same job as the
interop suite's configuration (401 with MD5 and qop=auth, passwords from an
htable, usrloc in memory) without its per-request log lines, which would make
the comparison one of logging. ``--kamailio-config harness`` runs the interop
suite's own configuration instead.

Everything runs on loopback and stops by itself: SIPp gets ``-timeout``, every
subprocess a wall-clock limit, the servers are stopped at the end (and
sipcheck's registrar gets ``--duration`` as a backstop).

    python benchmarks/registrar_rate.py
    python benchmarks/registrar_rate.py --rates 1000,2000,4000 --seconds 4
    python benchmarks/registrar_rate.py --servers sipcheck --rates 3000,4000,5000
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "interop" / "sipp" / "register_auth.xml"
KAMAILIO_CFG = Path(__file__).resolve().parent / "kamailio-bench.cfg"
HOST = "127.0.0.1"

MAX_FAILED = 0.001  # share of calls
MIN_ACHIEVED = 0.95  # share of the offered rate
MAX_RETRANS = 0.01  # share of REGISTERs sent

DEFAULT_RATES = "500,1000,2000,3000,4000,5000,6000,8000,10000,12000,15000,20000"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


# --------------------------------------------------------------------------- accounts


def write_accounts(directory: Path, count: int) -> dict[str, Path]:
    """The same accounts for everybody: u1/p1 ... uN/pN."""
    users = [(f"u{i}", f"p{i}") for i in range(1, count + 1)]
    toml = directory / "accounts.toml"
    toml.write_text("".join(f'[[account]]\nuser = "{u}"\npassword = "{p}"\n' for u, p in users))
    # SIPp 3.6.1 does not expand [fieldN] nested inside [authentication ...]:
    # field1 is the whole keyword.
    csv = directory / "accounts.csv"
    csv.write_text(
        "SEQUENTIAL\n"
        + "".join(f"{u};[authentication username={u} password={p}]\n" for u, p in users)
    )
    kam = directory / "bench-users.cfg"
    kam.write_text("".join(f'$sht(pw=>{u}) = "{p}";\n' for u, p in users))
    return {"toml": toml, "csv": csv, "kamailio": kam}


def timed_scenario(directory: Path) -> Path:
    """The interop scenario with a response-time counter around each transaction."""
    text = SCENARIO.read_text(encoding="iso-8859-1")
    sends = [m.start() for m in re.finditer(r'<send retrans="500">', text)]
    if len(sends) != 2 or '<recv response="401"' not in text or '<recv response="200"' not in text:
        return SCENARIO  # the scenario changed shape: run it as it is, without p50/p99
    # Replace from the end so earlier offsets stay valid.
    text = (
        text[: sends[1]]
        + '<send retrans="500" start_rtd="2">'
        + text[sends[1] + len('<send retrans="500">') :]
    )
    text = (
        text[: sends[0]]
        + '<send retrans="500" start_rtd="1">'
        + text[sends[0] + len('<send retrans="500">') :]
    )
    text = text.replace('<recv response="401"', '<recv response="401" rtd="1"', 1)
    text = text.replace('<recv response="200"', '<recv response="200" rtd="2"', 1)
    path = directory / "register_auth_timed.xml"
    path.write_text(text, encoding="iso-8859-1")
    return path


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (sipcheck listens on both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((HOST, 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((HOST, port))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free loopback port")


def probe(port: int, deadline: float, alive: subprocess.Popen[bytes]) -> None:
    """Wait until OPTIONS on UDP gets a 200."""
    while True:
        if alive.poll() is not None:
            raise RuntimeError(f"server exited with status {alive.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"server did not answer on UDP {HOST}:{port}")
        tag = uuid.uuid4().hex[:12]
        request = (
            f"OPTIONS sip:{HOST}:{port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {HOST}:9;branch=z9hG4bK{tag};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:probe@{HOST}>;tag={tag}\r\n"
            f"To: <sip:probe@{HOST}>\r\nCall-ID: {tag}@bench\r\nCSeq: 1 OPTIONS\r\n"
            "Content-Length: 0\r\n\r\n"
        ).encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.2)
            try:
                sock.sendto(request, (HOST, port))
                if sock.recv(65535).startswith(b"SIP/2.0 200"):
                    return
            except OSError:
                time.sleep(0.05)


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process in a process group (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: split after it
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[2]) == pgid:  # field 5, pgrp
            total += int(fields[11]) + int(fields[12])  # fields 14, 15: utime, stime
    return total / tick


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server, then SIGKILL its process group if anything is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=STOP_TIMEOUT)


# --------------------------------------------------------------------------- servers


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    notes: list[str] = field(default_factory=list)

    def cpu(self) -> float:
        return group_cpu_seconds(self.proc.pid)

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@contextlib.contextmanager
def sipcheck_server(work: Path, files: dict[str, Path], budget: float) -> Iterator[Server]:
    port = free_port()
    log_path = work / "sipcheck.log"
    command = [
        sys.executable, "-m", "sipcheck", "registrar",
        "--accounts-file", str(files["toml"]), "--algorithm", "MD5", "--quiet",
        "--listen", f"{HOST}:{port}", "--duration", f"{budget:.0f}",
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    shown = ["sipcheck", *command[3:]]
    shown[shown.index("--accounts-file") + 1] = files["toml"].name
    server = Server("sipcheck", port, proc, log_path, [" ".join(shown)])
    try:
        probe(port, time.monotonic() + START_TIMEOUT, proc)
        yield server
    finally:
        stop_group(proc)


@contextlib.contextmanager
def kamailio_server(work: Path, files: dict[str, Path], children: int) -> Iterator[Server]:
    binary = os.environ.get("SIPCHECK_KAMAILIO") or shutil.which("kamailio")
    if binary is None:
        raise RuntimeError("kamailio is not installed (scripts/install-test-deps.sh)")
    kdir = work / "kamailio"
    (kdir / "run").mkdir(parents=True)
    shutil.copy(files["kamailio"], kdir / "bench-users.cfg")
    port = free_port()
    log_path = kdir / "kamailio.log"
    command = [
        binary, "-f", str(KAMAILIO_CFG), "-DD", "-E", "-m", "256", "-M", "16",
        "-n", str(children), "-l", f"udp:{HOST}:{port}",
        "-Y", str(kdir / "run"), "-P", str(kdir / "run" / "kamailio.pid"), "-w", str(kdir),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=kdir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    version = subprocess.run(
        [binary, "-v"], capture_output=True, text=True, timeout=10, check=False
    ).stdout.splitlines()
    server = Server(
        "kamailio",
        port,
        proc,
        log_path,
        [
            (version[0] if version else "kamailio").strip(),
            f"{KAMAILIO_CFG.name}, {children} UDP worker processes",
        ],
    )
    try:
        probe(port, time.monotonic() + START_TIMEOUT, proc)
        yield server
    except RuntimeError as exc:
        raise RuntimeError(f"{exc}\n{server.log_tail(20)}") from None
    finally:
        stop_group(proc)


@contextlib.contextmanager
def harness_kamailio(work: Path, count: int) -> Iterator[Server]:
    """The interop suite's Kamailio (tests/interop/kamailio_server.py), for comparison."""
    sys.path.insert(0, str(ROOT))
    try:
        from tests.interop.kamailio_server import KamailioError, start_kamailio
    except ImportError as exc:
        raise RuntimeError(f"cannot import the interop harness: {exc}") from None
    users = {f"u{i}": f"p{i}" for i in range(1, count + 1)}
    try:
        kamailio = start_kamailio(
            work / "harness", mode="www", qop="auth", users=users, transports=["udp"]
        )
    except KamailioError as exc:
        raise RuntimeError(str(exc)) from None
    try:
        yield Server(
            "kamailio",
            kamailio.port,
            kamailio.proc,
            kamailio.log_path,
            ["tests/interop/kamailio/kamailio.cfg (mode www, qop auth; logs every request)"],
        )
    finally:
        kamailio.stop()


# --------------------------------------------------------------------------- one step


@dataclass
class Step:
    offered: int
    calls: int
    successful: int = 0
    failed: int = 0
    retransmissions: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    sipp_cpu: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    error: str = ""

    @property
    def achieved(self) -> float:
        return self.successful / self.wall if self.wall > 0 else 0.0

    @property
    def failed_share(self) -> float:
        return self.failed / self.calls if self.calls else 1.0

    @property
    def retrans_share(self) -> float:
        sent = 2 * self.calls  # two REGISTERs per call, retransmissions not counted
        return self.retransmissions / sent if sent else 0.0

    @property
    def passed(self) -> bool:
        return (
            not self.error
            and self.failed_share < MAX_FAILED
            and self.achieved >= MIN_ACHIEVED * self.offered
            and self.retrans_share < MAX_RETRANS
        )


def _epoch(cell: str) -> float:
    # "2026-11-21\t10:11:23.557172\t1795255883.557172": the last part is epoch seconds
    return float(cell.split("\t")[-1])


def parse_stat(path: Path) -> dict[str, str]:
    """The last row of a SIPp -trace_stat file, by column name."""
    rows = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if len(rows) < 2:
        raise ValueError(f"{path.name} has no data rows")
    names = rows[0].rstrip(";").split(";")
    values = rows[-1].rstrip(";").split(";")
    return dict(zip(names, values, strict=False))


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def run_step(
    sipp: str,
    scenario: Path,
    accounts_csv: Path,
    server: Server,
    offered: int,
    calls: int,
    work: Path,
) -> Step:
    step = Step(offered, calls)
    sdir = work / f"{server.name}-{offered}"
    sdir.mkdir()
    stat = sdir / "stat.csv"
    expected = calls / offered
    # SIPp's own stop: generous for an overloaded server (retransmissions, Timer F
    # of 32 s for the last calls), but bounded.
    sipp_timeout = int(expected * 3 + 40)
    command = [
        sipp, "-sf", str(scenario), "-inf", str(accounts_csv), f"{HOST}:{server.port}",
        "-i", HOST, "-p", str(free_port()), "-m", str(calls), "-r", str(offered),
        "-rp", "1000", "-nostdin", "-timeout", f"{sipp_timeout}s",
        # SIPp's own socket buffers default to 64 KB: too small for bursts of
        # answers at these rates (the kernel caps this at net.core.rmem_max)
        "-buff_size", str(4 * 1024 * 1024),
        "-trace_stat", "-stf", str(stat), "-fd", "3600",
        "-trace_rtt", "-rtt_freq", "1000",
    ]  # fmt: skip
    cpu0 = server.cpu()
    # SIPp is the only child that ends during the step: its CPU is the change in
    # the children's usage.
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    try:
        run = subprocess.run(
            command,
            cwd=sdir,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=sipp_timeout + 30,
            check=False,
        )
        output = run.stdout + run.stderr
    except subprocess.TimeoutExpired:
        step.error = "SIPp did not stop"
        output = ""
    elapsed = time.monotonic() - started
    step.cpu = server.cpu() - cpu0
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    step.sipp_cpu = (children.ru_utime - children0.ru_utime) + (
        children.ru_stime - children0.ru_stime
    )
    try:
        row = parse_stat(stat)
        step.successful = int(row["SuccessfulCall(C)"])
        step.failed = calls - step.successful  # failed, and never finished
        step.retransmissions = int(row["Retransmissions(C)"])
        step.wall = _epoch(row["CurrentTime"]) - _epoch(row["StartTime"])
    except (OSError, ValueError, KeyError) as exc:
        step.error = step.error or f"no SIPp statistics ({exc}): {output.strip()[-300:]}"
        step.wall = elapsed
    if step.wall > 0:
        step.cpu /= step.wall
        step.sipp_cpu /= step.wall
    times: list[float] = []
    for rtt in sdir.glob("*_rtt.csv"):
        for line in rtt.read_text(errors="replace").splitlines()[1:]:
            parts = line.split(";")
            with contextlib.suppress(IndexError, ValueError):
                times.append(float(parts[1]))
    if times:
        step.p50_ms = percentile(times, 0.50)
        step.p99_ms = percentile(times, 0.99)
    if server.proc.poll() is not None:
        step.error = step.error or f"the server exited: {server.log_tail()}"
    return step


# --------------------------------------------------------------------------- table


def _ms(value: float | None) -> str:
    # SIPp measures response times in whole milliseconds
    return "-" if value is None else "<1" if value < 1 else f"{value:.0f}"


def _cell(step: Step | None) -> list[str]:
    if step is None:
        return ["", "", "", "", "", "", "", ""]
    if step.error and not step.wall:
        return ["error", "", "", "", "", "", "", "FAIL"]
    return [
        f"{step.achieved:,.0f}",
        f"{step.failed} ({100 * step.failed_share:.2f}%)",
        f"{step.retransmissions} ({100 * step.retrans_share:.1f}%)",
        _ms(step.p50_ms),
        _ms(step.p99_ms),
        f"{100 * step.cpu:.0f}%",
        f"{100 * step.sipp_cpu:.0f}%",
        "ok" if step.passed else "FAIL",
    ]


def render(rates: Sequence[int], results: dict[str, dict[int, Step]]) -> str:
    columns = ["achieved/s", "failed", "retrans", "p50 ms", "p99 ms", "cpu", "sipp", ""]
    names = list(results)
    header1 = ["offered/s"] + [n for name in names for n in [name] + [""] * (len(columns) - 1)]
    header2 = [""] + columns * len(names)
    rows = [header1, header2]
    for rate in rates:
        rows.append([f"{rate:,}"] + [c for name in names for c in _cell(results[name].get(rate))])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header1))]
    sep = "   "

    def line(row: list[str]) -> str:
        out = [row[0].rjust(widths[0])]
        for block in range(len(names)):
            cells = row[1 + block * len(columns) : 1 + (block + 1) * len(columns)]
            ws = widths[1 + block * len(columns) : 1 + (block + 1) * len(columns)]
            out.append("  ".join(c.rjust(w) for c, w in zip(cells, ws, strict=True)))
        return sep.join(out).rstrip()

    text = [line(rows[0]), line(rows[1])]
    text.append("-" * len(text[1]))
    text += [line(row) for row in rows[2:]]
    return "\n".join(text)


def highest_passing(steps: dict[int, Step]) -> int | None:
    passing = [rate for rate, step in steps.items() if step.passed]
    return max(passing) if passing else None


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=(
            "A step passes when failed calls < 0.1%, achieved rate >= 95%% of offered, "
            "and SIPp retransmissions < 1%% of REGISTERs sent. Needs sipp (3.6) and, "
            "for the comparison, kamailio (5.6) on PATH."
        ).replace("%%", "%"),
    )
    parser.add_argument(
        "--rates",
        default=DEFAULT_RATES,
        help=f"offered call rates per second, comma-separated (default {DEFAULT_RATES})",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=4.0,
        help="calls per step = rate x SECONDS (default 4)",
    )
    parser.add_argument(
        "--calls", type=int, default=None, help="fixed number of calls per step instead"
    )
    parser.add_argument(
        "--accounts", type=int, default=500, help="accounts u1..uN, used in turn (default 500)"
    )
    parser.add_argument(
        "--servers",
        default="sipcheck,kamailio",
        help="which servers, comma-separated: sipcheck, kamailio (default both)",
    )
    parser.add_argument(
        "--kamailio-config",
        choices=("bench", "harness"),
        default="bench",
        help="bench: benchmarks/kamailio-bench.cfg (default; no per-request logging); "
        "harness: the interop suite's configuration via tests/interop/kamailio_server.py",
    )
    parser.add_argument(
        "--kamailio-children",
        type=int,
        default=2,
        help="Kamailio UDP worker processes (default 2, one per core here)",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="run every rate even after two failing steps in a row (default: stop a server there)",
    )
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between steps")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    try:
        args.rate_list = sorted({int(r) for r in args.rates.split(",") if r.strip()})
    except ValueError:
        parser.error("--rates takes integers, e.g. 1000,2000,4000")
    if not args.rate_list or min(args.rate_list) <= 0:
        parser.error("--rates needs positive rates")
    args.server_list = [s.strip() for s in args.servers.split(",") if s.strip()]
    unknown = set(args.server_list) - {"sipcheck", "kamailio"}
    if unknown:
        parser.error(f"unknown servers: {', '.join(sorted(unknown))}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    sipp = shutil.which("sipp")
    if sipp is None:
        print("sipp is not installed (scripts/install-test-deps.sh)", file=sys.stderr)
        return 2
    calls_for = {r: args.calls or max(1, round(r * args.seconds)) for r in args.rate_list}
    budget = sum(c / r * 3 + 75 for r, c in calls_for.items()) + 60
    work = Path(tempfile.mkdtemp(prefix="sipcheck-bench-"))
    results: dict[str, dict[int, Step]] = {}
    notes: list[str] = []
    try:
        files = write_accounts(work, args.accounts)
        scenario = timed_scenario(work)
        for name in args.server_list:
            results[name] = {}
            if name == "sipcheck":
                starter = sipcheck_server(work, files, budget)
            elif args.kamailio_config == "harness":
                starter = harness_kamailio(work, args.accounts)
            else:
                starter = kamailio_server(work, files, args.kamailio_children)
            try:
                with starter as server:
                    notes += [f"{name}: {n}" for n in server.notes]
                    failing = 0
                    for rate in args.rate_list:
                        step = run_step(
                            sipp, scenario, files["csv"], server, rate, calls_for[rate], work
                        )
                        results[name][rate] = step
                        print(
                            f"{name:>9} {rate:>6,}/s: {step.achieved:8,.0f}/s achieved, "
                            f"{step.failed} failed, {step.retransmissions} retrans, "
                            f"cpu {100 * step.cpu:.0f}% (sipp {100 * step.sipp_cpu:.0f}%)"
                            f"{' -> ok' if step.passed else ' -> FAIL'}"
                            f"{'  ' + step.error if step.error else ''}",
                            file=sys.stderr,
                            flush=True,
                        )
                        failing = 0 if step.passed else failing + 1
                        if failing >= 2 and not args.keep_going:
                            break
                        time.sleep(args.pause)
            except RuntimeError as exc:
                print(f"{name}: cannot run: {exc}", file=sys.stderr)
        sys.stderr.flush()
    finally:
        if args.keep:
            print(f"work directory kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    print(
        f"SIPp {SCENARIO.relative_to(ROOT)}, {args.accounts} accounts, MD5 + qop=auth, "
        f"UDP on {HOST}; {os.cpu_count()} CPUs shared by SIPp and the server"
    )
    for note in notes:
        print(f"  {note}")
    print()
    print(render(args.rate_list, results))
    print()
    for name, steps in results.items():
        best = highest_passing(steps)
        print(
            f"{name}: highest passing rate "
            + (f"{best:,} calls/s" if best is not None else "none of the rates tried")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
