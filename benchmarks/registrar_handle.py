#!/usr/bin/env python3
"""CPU cost of one request in sipcheck's registrar, without sockets.

Feeds ``RegistrarServer.handle``, the I/O shell's handler, which passes each
datagram to the registrar core's entry point ``RegistrarService.receive``
(``record=False``, as ``sipcheck registrar --quiet`` runs it), the exact messages SIPp sends for
``tests/interop/sipp/register_auth.xml`` (captured with ``sipp -trace_msg``):
a REGISTER, which gets a 401, then the REGISTER with credentials, which gets a
200. Prints microseconds per request for each kind and overall; ``--profile``
adds the cProfile functions with the most own time.

This is the per-request part of ``registrar_rate.py``'s figure; the rest is the
asyncio datagram path (one recvfrom and one sendto per request) and SIPp.

    python benchmarks/registrar_handle.py
    python benchmarks/registrar_handle.py --calls 20000 --profile
    python benchmarks/registrar_handle.py --clock cpu --repeat 5   # on a busy machine

``--clock cpu`` counts the process's CPU time instead of wall time, and
``--repeat N`` reports the best of N runs: on a machine shared with other work
both keep the figure from measuring the time spent waiting for a CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sipcheck.net.server import RegistrarServer
from sipcheck.sip.digest.compute import compute_ha1, compute_response
from sipcheck.sip.registrar.authenticator import Account
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.service import RegistrarService
from sipcheck.trace import Address

SERVER = Address("127.0.0.1", 5060)
CLIENT = Address("127.0.0.1", 15091)
PID = 16605
_NONCE_RE = re.compile(rb'nonce="([^"]+)"')


def register(user: int, call: int, cseq: int, authorization: str = "") -> bytes:
    """What SIPp 3.6.1 sends (``-trace_msg``), header for header."""
    branch = f"z9hG4bK-{PID}-{call}-{0 if cseq == 1 else 2}"
    auth = f"Authorization: {authorization}\r\n" if authorization else ""
    return (
        f"REGISTER sip:{SERVER} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {CLIENT};rport;branch={branch}\r\n"
        f"From: <sip:u{user}@{SERVER.host}>;tag={PID}SIPpTag{call}\r\n"
        f"To: <sip:u{user}@{SERVER.host}>\r\n"
        f"Call-ID: {call}-{PID}@{CLIENT.host}\r\n"
        f"CSeq: {cseq} REGISTER\r\n"
        f"Contact: <sip:u{user}@{CLIENT}>\r\n"
        f"{auth}"
        "Max-Forwards: 70\r\n"
        "Expires: 3600\r\n"
        "User-Agent: SIPp\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def answer(user: int, call: int, nonce: str) -> bytes:
    realm, uri, cnonce = SERVER.host, f"sip:{SERVER}", f"{call:08x}"
    ha1 = compute_ha1("MD5", f"u{user}", realm, f"p{user}")
    response = compute_response(
        algorithm="MD5", ha1=ha1, nonce=nonce, method="REGISTER", uri=uri,
        qop="auth", nc=1, cnonce=cnonce,
    )  # fmt: skip
    authorization = (
        f'Digest username="u{user}",realm="{realm}",cnonce="{cnonce}",nc=00000001,'
        f'qop=auth,uri="{uri}",nonce="{nonce}",response="{response}",algorithm=MD5'
    )
    return register(user, call, 2, authorization)


async def run(
    calls: int,
    accounts: int,
    batch: int,
    profile: cProfile.Profile | None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    config = RegistrarConfig(
        accounts={f"u{i}": Account(f"p{i}") for i in range(1, accounts + 1)},
        algorithms=("MD5",),
    )
    core = RegistrarService(Registrar(config, b"benchmark-secret"), record=False)
    server = RegistrarServer(core)
    sent: list[bytes] = []
    send = sent.append
    handle = server.handle
    timed = {"challenge": 0.0, "answer": 0.0}
    for first in range(1, calls + 1, batch):
        numbers = range(first, min(calls + 1, first + batch))
        firsts = [register(1 + n % accounts, n, 1) for n in numbers]
        sent.clear()
        if profile:
            profile.enable()
        t0 = clock()
        for data in firsts:
            handle(data, CLIENT, SERVER, "udp", send)
        timed["challenge"] += clock() - t0
        if profile:
            profile.disable()
        nonces = [_NONCE_RE.search(out) for out in sent]
        if len(sent) != len(firsts) or not all(
            sent_ok.startswith(b"SIP/2.0 401") for sent_ok in sent
        ):
            raise SystemExit(f"expected 401s, got {sent[:1]!r}")
        seconds = [
            answer(1 + n % accounts, n, m.group(1).decode())
            for n, m in zip(numbers, nonces, strict=True)
            if m is not None
        ]
        sent.clear()
        if profile:
            profile.enable()
        t0 = clock()
        for data in seconds:
            handle(data, CLIENT, SERVER, "udp", send)
        timed["answer"] += clock() - t0
        if profile:
            profile.disable()
        if not all(out.startswith(b"SIP/2.0 200") for out in sent):
            raise SystemExit(f"expected 200s, got {sent[:1]!r}")
    return timed


def report(timed: dict[str, float], calls: int, accounts: int) -> None:
    total = timed["challenge"] + timed["answer"]
    print(
        f"{calls:,} calls ({2 * calls:,} requests), {accounts} accounts, "
        f"Python {sys.version.split()[0]}"
    )
    print(f"  REGISTER -> 401        {timed['challenge'] / calls * 1e6:7.1f} us/request")
    print(f"  REGISTER+auth -> 200   {timed['answer'] / calls * 1e6:7.1f} us/request")
    print(f"  mean                   {total / (2 * calls) * 1e6:7.1f} us/request")
    print(f"  one core: at most {calls / total:,.0f} calls/s for handle() alone")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls (default 20000)")
    parser.add_argument("--accounts", type=int, default=500, help="accounts (default 500)")
    parser.add_argument("--batch", type=int, default=1000, help="calls per batch (default 1000)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument("--top", type=int, default=30, help="profile lines (default 30)")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="what to time (default wall)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs (default 1)")
    args = parser.parse_args(argv)
    profile = cProfile.Profile() if args.profile else None
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    runs = [
        asyncio.run(run(args.calls, args.accounts, args.batch, profile, clock))
        for _ in range(max(1, args.repeat))
    ]
    best = min(runs, key=lambda timed: timed["challenge"] + timed["answer"])
    report(best, args.calls, args.accounts)
    if profile is not None:
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
