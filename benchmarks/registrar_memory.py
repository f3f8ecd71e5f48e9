#!/usr/bin/env python3
"""Does the registrar's memory stay bounded under a steady load?

SIPp plays ``tests/interop/sipp/register_auth.xml`` (REGISTER, 401, REGISTER with
credentials, 200; a new Call-ID and nonce per call) at a fixed rate against
``sipcheck registrar`` on 127.0.0.1, and the registrar's resident set size (VmRSS
from /proc) is read at the sample times. Memory is bounded when the figures level
off once the caches are full (the retransmission cache holds 32 s of answers, the
nonce-count table a nonce lifetime of counts): the 2-minute and the 10-minute
figures should then be about the same.

The registrar runs as a user would start it: ``--quiet`` by default (``--mode
ladder`` or ``--mode json`` record and print every attempt, to /dev/null), with any
``--registrar-arg`` added. SIPp's counts at the end say whether the registrar kept
serving the whole time.

Everything stays on loopback and stops by itself: SIPp gets ``-timeout`` and a call
count, the registrar ``--duration``, and both are stopped at the end.

    python benchmarks/registrar_memory.py                       # 30 s, 2 min, 10 min
    python benchmarks/registrar_memory.py --samples 10,30,60    # a short run
    python benchmarks/registrar_memory.py --rate 2000 --mode ladder --samples 30,120
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from registrar_rate import (  # the benchmark next to this one
    HOST,
    ROOT,
    SCENARIO,
    START_TIMEOUT,
    free_port,
    parse_stat,
    probe,
    stop_group,
    write_accounts,
)

DEFAULT_SAMPLES = "30,120,600"


def rss_mib(pid: int) -> float | None:
    """The resident set size of ``pid`` in MiB (Linux /proc), None once it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def parse_seconds(text: str) -> list[float]:
    values = sorted({float(v) for v in text.split(",") if v.strip()})
    if not values or values[0] <= 0:
        raise ValueError("sample times must be positive seconds")
    return values


def _label(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:g} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=int, default=1000, help="calls per second (default 1000)")
    parser.add_argument(
        "--samples",
        default=DEFAULT_SAMPLES,
        help=f"seconds after the load starts at which RSS is reported (default {DEFAULT_SAMPLES});"
        " the run lasts until the last one",
    )
    parser.add_argument(
        "--every", type=float, default=10.0, help="also print RSS every N seconds (default 10)"
    )
    parser.add_argument("--accounts", type=int, default=500, help="accounts (default 500)")
    parser.add_argument(
        "--mode",
        choices=("quiet", "ladder", "json"),
        default="quiet",
        help="how the registrar prints attempts (default quiet)",
    )
    parser.add_argument(
        "--registrar-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="one more argument for sipcheck registrar (repeatable), e.g. "
        "--registrar-arg=--nonce-lifetime=60",
    )
    args = parser.parse_args(argv)
    try:
        samples = parse_seconds(args.samples)
    except ValueError as exc:
        parser.error(str(exc))
    sipp = shutil.which("sipp")
    if sipp is None:
        print("sipp is not installed (scripts/install-test-deps.sh)", file=sys.stderr)
        return 2
    if not Path("/proc/self/status").exists():
        print("this benchmark reads RSS from /proc (Linux)", file=sys.stderr)
        return 2
    duration = samples[-1]
    work = Path(tempfile.mkdtemp(prefix="sipcheck-memory-"))
    try:
        return _run(args, sipp, samples, duration, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(
    args: argparse.Namespace, sipp: str, samples: list[float], duration: float, work: Path
) -> int:
    files = write_accounts(work, args.accounts)
    port = free_port()
    mode = {"quiet": ["--quiet"], "ladder": [], "json": ["--json"]}[args.mode]
    command = [
        sys.executable, "-m", "sipcheck", "registrar", "--accounts-file", str(files["toml"]),
        "--listen", f"{HOST}:{port}", "--duration", f"{duration + 60:.0f}", *mode,
        *args.registrar_arg,
    ]  # fmt: skip
    env = dict(os.environ, NO_COLOR="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    with (work / "registrar.out").open("wb") as out, (work / "registrar.err").open("wb") as err:
        server = subprocess.Popen(
            command, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True,
        )  # fmt: skip
    sipp_proc: subprocess.Popen[bytes] | None = None
    try:
        probe(port, time.monotonic() + START_TIMEOUT, server)
        idle = rss_mib(server.pid)
        calls = int(args.rate * duration)
        stat = work / "stat.csv"
        sipp_command = [
            sipp, "-sf", str(SCENARIO), "-inf", str(files["csv"]), f"{HOST}:{port}",
            "-i", HOST, "-p", str(free_port()), "-m", str(calls), "-r", str(args.rate),
            "-rp", "1000", "-nostdin", "-timeout", f"{duration + 40:.0f}s",
            "-buff_size", str(4 * 1024 * 1024), "-trace_stat", "-stf", str(stat), "-fd", "5",
        ]  # fmt: skip
        shown = " ".join(command[4:]).replace(str(files["toml"]), "accounts.toml")
        print(f"sipcheck registrar {shown}")
        print(f"SIPp {SCENARIO.name} at {args.rate:,} calls/s for {_label(duration)}")
        print(f"RSS idle: {idle:.1f} MiB" if idle is not None else "RSS idle: ?")
        with (work / "sipp.log").open("wb") as sipp_log:
            sipp_proc = subprocess.Popen(
                sipp_command, cwd=work, stdin=subprocess.DEVNULL, stdout=sipp_log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        started = time.monotonic()
        figures: dict[float, float | None] = {}
        peak = idle or 0.0
        ticks = sorted(
            set(samples) | {args.every * k for k in range(1, int(duration // args.every) + 1)}
        )
        for tick in ticks:
            time.sleep(max(0.0, started + tick - time.monotonic()))
            rss = rss_mib(server.pid)
            peak = max(peak, rss or 0.0)
            if tick in samples:
                figures[tick] = rss
            shown = "gone" if rss is None else f"{rss:7.1f} MiB"
            print(f"  t={tick:6.0f} s  RSS {shown}", flush=True)
            if server.poll() is not None:
                print(f"the registrar exited with status {server.returncode}", file=sys.stderr)
                break
        try:
            sipp_proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stop_group(sipp_proc)
        print()
        for tick in samples:
            rss = figures.get(tick)
            print(f"RSS after {_label(tick):>7}: " + ("?" if rss is None else f"{rss:.1f} MiB"))
        print(f"RSS peak: {peak:.1f} MiB")
        try:
            row = parse_stat(stat)
            ok, failed = int(row["SuccessfulCall(C)"]), int(row["FailedCall(C)"])
            retrans = int(row["Retransmissions(C)"])
            print(f"SIPp: {ok:,} calls succeeded, {failed:,} failed, {retrans:,} retransmissions")
        except (OSError, ValueError, KeyError) as exc:
            print(f"SIPp: no statistics ({exc})")
    finally:
        if sipp_proc is not None:
            stop_group(sipp_proc)
        stop_group(server)
    tail = (work / "registrar.err").read_text(errors="replace").strip()
    if tail:
        print("registrar stderr (last lines):")
        print("\n".join("  " + line for line in tail.splitlines()[-5:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
