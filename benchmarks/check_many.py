"""Benchmark: `sipcheck check` over many accounts in one process, against the
embedded registrar and against Kamailio 5.6 on loopback, next to the same accounts
done by one `sipcheck register` process each (N at a time) and by a loop of sipsak.

Each account is its own AoR (u0@127.0.0.1 ... u199@127.0.0.1) with its own throwaway
password; every registration is challenged once (401, MD5). `check` also sends the
unregister of each binding afterwards (two flows per account); `check --keep` sends
the register alone, as `sipcheck register` and sipsak do.

Prints, per server and tool, the median over --repeat runs of the whole wall time
(fork/exec to exit, all accounts), registrations per second, the CPU time the tool's
processes used (user + system; a figure that the machine's other load does not
change much, unlike the wall time), and the failures.
Target (issue 9): `check` over 200 accounts in under 2 s wall.

    python benchmarks/check_many.py                       # 200 accounts, both servers
    python benchmarks/check_many.py --accounts 500 --servers embedded --repeat 5
    python benchmarks/check_many.py --tools check --repeat 9    # the check rows only

Passwords: sipcheck reads them from the environment; sipsak only takes them on its
command line (-a), which is why they are throwaway test passwords.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.interop.kamailio_server import start_kamailio  # noqa: E402
from tests.support.accounts_file import registrar_accounts, write_accounts  # noqa: E402
from tests.support.processes import registrar  # noqa: E402

CONTACT_PORT = 5999  # the Contact sipsak registers (nothing needs to listen there)
# sipsak asks for 15 s, under the embedded registrar's Min-Expires (60), and does not
# retry a 423: give it what sipcheck asks for.
EXPIRES = 3600


def password(i: int) -> str:
    return f"bench-pw-{i}"


def sipcheck_command() -> list[str]:
    # The console script beside this interpreter: a wrapper on PATH (pyenv's shim)
    # would add its own start-up to every process.
    script = Path(sys.executable).parent / "sipcheck"
    return [str(script)] if script.exists() else [sys.executable, "-m", "sipcheck"]


@contextmanager
def embedded(tmp: Path, count: int) -> Iterator[str]:
    tmp.mkdir(parents=True, exist_ok=True)
    users = {f"u{i}": (None, password(i)) for i in range(count)}
    file = registrar_accounts(tmp / "registrar.toml", users)
    with registrar(["--accounts-file", str(file), "--quiet"]) as server:
        yield f"127.0.0.1:{server.ports['udp']}"


@contextmanager
def kamailio(tmp: Path, count: int) -> Iterator[str]:
    users = {f"u{i}": password(i) for i in range(count)}
    server = start_kamailio(tmp, mode="www", users=users)
    try:
        yield server.hostport("udp")
    finally:
        server.stop()


def timed(run: Callable[[], int]) -> tuple[float, float, int]:
    """Wall seconds the call took, CPU seconds its processes used (user and system,
    every process it ran; not the server's), and the failures it reports."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    failures = run()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, failures


def check_run(sipcheck: list[str], file: Path, env: dict[str, str], *extra: str) -> int:
    done = subprocess.run(
        [*sipcheck, "check", str(file), "--json", *extra],
        capture_output=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    if not done.stdout:
        print(done.stderr.decode(errors="replace"), file=sys.stderr)
        return -1
    counts = json.loads(done.stdout)["summary"]["counts"]
    return int(counts["failed"])


def register_processes(
    sipcheck: list[str], where: str, count: int, parallel: int, env: dict[str, str]
) -> int:
    def one(i: int) -> bool:
        done = subprocess.run(
            [*sipcheck, "register", f"u{i}@127.0.0.1", "--server", where,
             "--password-env", f"PW_{i}", "--json"],
            capture_output=True, env=env, timeout=60, check=False,
        )  # fmt: skip
        return done.returncode == 0

    with ThreadPoolExecutor(parallel) as pool:
        return sum(not ok for ok in pool.map(one, range(count)))


def sipsak_loop(sipsak: str, where: str, count: int) -> int:
    failures = 0
    for i in range(count):
        done = subprocess.run(
            [sipsak, "-U", "-C", f"sip:u{i}@127.0.0.1:{CONTACT_PORT}", "-a", password(i),
             "-u", f"u{i}", "-H", "127.0.0.1", "-x", str(EXPIRES), "-s", f"sip:u{i}@{where}"],
            capture_output=True, timeout=30, check=False,
        )  # fmt: skip
        failures += done.returncode != 0
    return failures


def bench(name: str, where: str, file: Path, args: argparse.Namespace) -> None:
    """Every tool against one server, printing one row each."""
    count = args.accounts
    sipcheck = sipcheck_command()
    sipsak = shutil.which("sipsak")
    env = {**os.environ, "NO_COLOR": "1", **{f"PW_{i}": password(i) for i in range(count)}}
    concurrency = ["--concurrency", str(args.concurrency)]
    tools: dict[str, Callable[[], int]] = {
        "sipcheck check (register + unregister)":
            lambda: check_run(sipcheck, file, env, *concurrency),
        "sipcheck check --keep (register only)":
            lambda: check_run(sipcheck, file, env, "--keep", *concurrency),
        f"sipcheck register x {count}, {args.parallel} at a time":
            lambda: register_processes(sipcheck, where, count, args.parallel, env),
    }  # fmt: skip
    if sipsak is not None:
        tools[f"sipsak -U x {count}, one after another"] = lambda: sipsak_loop(sipsak, where, count)
    for tool, run in tools.items():
        if tool.split()[1] not in args.tools.split(",") and tool.split()[0] not in args.tools:
            continue
        results = [timed(run) for _ in range(args.repeat)]
        wall = statistics.median(r[0] for r in results)
        cpu = statistics.median(r[1] for r in results)
        failed = max(r[2] for r in results)
        print(f"{name:10}{tool:44}{wall:>8.2f} s{count / wall:>9.0f}{cpu:>8.2f} s{failed:>8}",
              flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=20, help="register processes at once")
    parser.add_argument("--concurrency", type=int, default=20, help="check --concurrency")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool (median shown)")
    parser.add_argument("--servers", default="embedded,kamailio")
    parser.add_argument(
        "--tools", default="check,register,sipsak", help="which rows: check, register, sipsak"
    )
    args = parser.parse_args()
    count = args.accounts
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "sipcheck")],
                   check=True, capture_output=True)  # fmt: skip
    servers = {"embedded": embedded, "kamailio": kamailio}
    print(f"{count} accounts, each challenged once (401, MD5), UDP on 127.0.0.1; "
          f"median of {args.repeat} runs; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'server':10}{'tool':44}{'wall':>10}{'reg/s':>9}{'cpu':>10}{'failed':>8}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name in args.servers.split(","):
            with servers[name](tmp / name, count) as where:
                accounts = [
                    {"name": f"u{i}", "aor": f"u{i}@127.0.0.1", "password_env": f"PW_{i}"}
                    for i in range(count)
                ]
                file = write_accounts(tmp / f"{name}.toml", accounts, {"server": where})
                bench(name, where, file, args)
    if shutil.which("sipsak") is None:
        print("sipsak is not installed (bash scripts/install-test-deps.sh): its rows are missing")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
