"""``sipcheck registrar`` under abuse, as a hostile network would try it: on loopback,
bounded in count and time. It must keep serving, keep its memory bounded and print
counted lines, never a traceback.

- more idle TCP connections than it may hold, under a low descriptor limit: refused at
  once; UDP clients keep registering, TCP ones again once the idle ones are closed;
- a huge Content-Length and an endless header line over TCP: 413 / 513 and closed;
- a flood of garbage datagrams: an OPTIONS prober keeps getting answers at once.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import resource
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import pytest

from tests.support.processes import SIPCHECK, sipcheck

HOST = "127.0.0.1"
PW = {"SIPCHECK_PW": "s3cret-pw"}
_LISTEN_RE = re.compile(r"listening on (UDP|TCP|TLS) \S+:(\d+)")


@dataclass
class Registrar:
    proc: subprocess.Popen[str]
    ports: dict[str, int] = field(default_factory=dict)
    banner: list[str] = field(default_factory=list)
    # Both streams are read all the time, as a terminal would: a registrar writing to
    # a full pipe would wait for its reader.
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    readers: list[threading.Thread] = field(default_factory=list)

    def rss_kib(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self) -> tuple[str, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for reader in self.readers:
            reader.join(10)
        return "".join(self.out), "".join(self.err)


def _collect(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


@contextlib.contextmanager
def registrar(*args: str, open_files: int | None = None) -> Iterator[Registrar]:
    """``sipcheck registrar`` on a free port, with an open-file limit when asked."""

    def limit() -> None:
        if open_files is not None:
            _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, hard))

    proc = subprocess.Popen(
        [*SIPCHECK, "registrar", "--listen", f"{HOST}:0", "--account", "alice:s3cret-pw",
         "--duration", "120", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "NO_COLOR": "1"}, preexec_fn=limit,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    server = Registrar(proc)
    for stream, into in ((proc.stdout, server.out), (proc.stderr, server.err)):
        reader = threading.Thread(target=_collect, args=(stream, into), daemon=True)
        reader.start()
        server.readers.append(reader)
    lines = server.err if "--json" in args else server.out
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and proc.poll() is None:
        if any(line.startswith("Ctrl-C stops") for line in list(lines)):
            break
        time.sleep(0.02)
    for line in list(lines):
        if line.startswith("Ctrl-C stops"):
            break
        server.banner.append(line.rstrip("\n"))
        match = _LISTEN_RE.search(line)
        if match:
            server.ports[match.group(1).lower()] = int(match.group(2))
    if not server.ports:
        raise RuntimeError(f"registrar did not start: {server.banner} {server.stop()}")
    try:
        yield server
    finally:
        server.stop()


def register(port: int, transport: str) -> dict[str, object]:
    run = sipcheck(
        "register", "alice@example.com", "--server", f"{HOST}:{port}", "--transport",
        transport, "--password-env", "SIPCHECK_PW", "--json", "--timeout", "5", env=PW,
    )  # fmt: skip
    data: dict[str, object] = run.json()
    return data


def options(n: int, transport: str = "UDP", port: int = 9) -> bytes:
    return (
        f"OPTIONS sip:{HOST} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {HOST}:{port};branch=z9hG4bKp{n}\r\n"
        f"From: <sip:probe@{HOST}>;tag={n}\r\nTo: <sip:{HOST}>\r\n"
        f"Call-ID: p{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def no_traceback(err: str) -> None:
    assert "Traceback" not in err, err[-3000:]


def test_idle_connections_past_the_descriptor_limit_lock_nobody_out() -> None:
    """Reproduces 1,100 idle connections under a 1024-descriptor limit, scaled down:
    128 descriptors, so at most 64 connections, and 150 idle ones tried."""
    with registrar("--idle-timeout", "2", open_files=128) as server:
        assert any("limits: 64 TCP/TLS connections (half the open-file limit 128" in line
                   for line in server.banner), server.banner  # fmt: skip
        idle: list[socket.socket] = []
        refused = 0
        try:
            for _ in range(150):
                try:
                    sock = socket.create_connection((HOST, server.ports["tcp"]), timeout=5)
                except ConnectionResetError:  # reset before connect() returned
                    refused += 1
                    continue
                idle.append(sock)
            time.sleep(0.5)
            for sock in idle:  # the refused ones were reset at once
                sock.setblocking(False)
                try:
                    if sock.recv(1) == b"":
                        refused += 1
                except BlockingIOError:
                    pass  # open, and idle
                except ConnectionResetError:
                    refused += 1
            assert refused == 150 - 64
            # While they are held: UDP registers.
            udp = register(server.ports["udp"], "udp")
            assert udp["result"] == "registered", udp
            # Once the idle ones are closed (2 s without a byte), TCP registers too.
            time.sleep(3)
            tcp = register(server.ports["tcp"], "tcp")
            assert tcp["result"] == "registered", tcp
        finally:
            for sock in idle:
                sock.close()
        out, err = server.stop()
    no_traceback(err)
    assert re.search(r"\d+ TCP/TLS connections refused: 64 are open, the limit", err), err
    assert "86 connections refused (--max-connections)" in out
    assert "64 idle connections closed" in out


def _flood_connection(port: int, head: bytes, chunk: bytes) -> tuple[bytes, float]:
    """Send ``head``, then ``chunk`` again and again (50 MiB at most) while reading what
    comes back; what came back, and how long until the server ended the connection."""
    sock = socket.create_connection((HOST, port), timeout=5)
    started = time.monotonic()
    ended = threading.Event()

    def send() -> None:
        with contextlib.suppress(OSError):  # the server closes while we still send
            sock.sendall(head)
            for _ in range(50 * 2**20 // len(chunk)):
                sock.sendall(chunk)
        ended.set()

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    got = b""
    sock.settimeout(10)
    with contextlib.suppress(ConnectionResetError, TimeoutError):
        while data := sock.recv(65536):
            got += data
    sender.join(15)
    took = time.monotonic() - started
    sock.close()
    assert ended.is_set()
    return got, took


def test_a_huge_content_length_is_answered_413_and_closed() -> None:
    with registrar() as server:
        before = server.rss_kib()
        head = options(1, "TCP").replace(b"Content-Length: 0", b"Content-Length: 999999999")
        got, took = _flood_connection(server.ports["tcp"], head, b"x" * 65536)
        assert got.startswith(b"SIP/2.0 413 Request Entity Too Large\r\n"), got[:200]
        assert b"Call-ID: p1\r\n" in got
        assert took < 5  # closed, not read for ever
        assert server.rss_kib() - before < 20 * 1024
        out, err = server.stop()
    no_traceback(err)
    assert "message-too-large" in out and "1 too large" in out


def test_an_endless_header_line_is_answered_513_and_closed() -> None:
    with registrar() as server:
        before = server.rss_kib()
        head = options(2, "TCP")[: -len(b"Content-Length: 0\r\n\r\n")] + b"X-Endless: "
        got, took = _flood_connection(server.ports["tcp"], head, b"a" * 65536)
        assert got.startswith(b"SIP/2.0 513 Message Too Large\r\n"), got[:200]
        assert took < 5
        assert server.rss_kib() - before < 20 * 1024
        out, err = server.stop()
    no_traceback(err)
    assert "the header section grew past this registrar's limit of 65536 octets" in out


def _garbage(rng: random.Random, n: int) -> bytes:
    kind = n % 4
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if kind == 1:  # what the fuzzing found: Unicode digits where a number goes
        return (
            b"OPTIONS sip:a SIP/2.0\r\nVia: SIP/2.0/UDP h:\xc2\xb9\r\n"
            b"Content-Length: \xc2\xb9\r\n\r\n"
        )
    if kind == 2:
        return b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1\r\n\r\n\x00\xff"
    return b"\r\n".join(bytes(rng.randrange(32, 127) for _ in range(30)) for _ in range(8))


@pytest.mark.parametrize("mode", [[], ["--json"], ["--quiet"]], ids=["ladder", "json", "quiet"])
def test_a_garbage_flood_does_not_starve_options(mode: list[str]) -> None:
    flood_size = 10_000
    with registrar(*mode) as server:
        port = server.ports["udp"]
        done = threading.Event()

        def flood() -> None:
            rng = random.Random(8)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                for n in range(flood_size):
                    sock.sendto(_garbage(rng, n), (HOST, port))
                    if n % 50 == 49:
                        # 5,000/s at most: what the registrar parses on a slow or busy
                        # machine, ten times what it prints (before, printing set the pace)
                        time.sleep(0.01)
            done.set()

        flooder = threading.Thread(target=flood, daemon=True)
        waits: list[float] = []
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((HOST, 0))
            probe.settimeout(3)
            flooder.start()
            n = 0
            while not done.is_set() or n < 5:
                n += 1
                started = time.monotonic()
                probe.sendto(options(n, port=probe.getsockname()[1]), (HOST, port))
                while True:
                    try:
                        reply = probe.recv(65535)
                    except TimeoutError:
                        waits.append(float("inf"))
                        break
                    if f"Call-ID: p{n}\r\n".encode() in reply:
                        waits.append(time.monotonic() - started)
                        break
                time.sleep(0.05)
            flooder.join(10)
        out, err = server.stop()
    no_traceback(err)
    assert len(waits) >= 5
    assert max(waits) < 1.0, waits  # every probe answered, each within a second
    summary = (err if "--json" in mode else out).strip().splitlines()[-1]
    handled = int(re.search(r"stopped: (\d+) requests", summary).group(1))  # type: ignore[union-attr]
    assert handled >= flood_size * 0.9, summary  # (before: 27% in the ladder mode)
    assert re.search(r"\d+ unparseable messages, not answered", err), err[-2000:]
    # (the Unicode digits met a bug in the parser: counted, dropped, no traceback)
    assert len(err.splitlines()) < 40  # counted lines, once a second at most per kind


def test_with_qop_none_a_replayed_register_with_an_edited_call_id_or_cseq_is_refused() -> None:
    """The reproducer: a REGISTER captured from a real client (``sipcheck register``)
    against ``--qop none``, replayed with its CSeq or Call-ID edited."""
    with registrar("--qop", "none") as server:
        port = server.ports["udp"]
        data = register(port, "udp")
        assert data["result"] == "registered", data
        messages: list[dict[str, str]] = data["messages"]  # type: ignore[assignment]
        sent = [m["raw"] for m in messages if m["direction"] == "out"]
        captured = sent[-1]
        assert "Authorization: Digest" in captured and "qop=" not in captured
        call_id = re.search(r"Call-ID: (\S+)", captured).group(1)  # type: ignore[union-attr]
        cseq = int(re.search(r"CSeq: (\d+)", captured).group(1))  # type: ignore[union-attr]

        def edited(*, new_call_id: str = call_id, new_cseq: int = cseq, branch: str) -> bytes:
            text = re.sub(r"branch=[^;\r\n]+", f"branch=z9hG4bK{branch}", captured)
            text = text.replace(f"Call-ID: {call_id}", f"Call-ID: {new_call_id}")
            return text.replace(f"CSeq: {cseq} ", f"CSeq: {new_cseq} ").encode()

        replays = {
            "another Call-ID": edited(new_call_id="replayed", branch="r1"),
            "another Call-ID and CSeq": edited(
                new_call_id="replayed", new_cseq=cseq + 5, branch="r2"
            ),
            "the same CSeq, a new transaction": edited(branch="r3"),
            "a lower CSeq": edited(new_cseq=cseq - 1, branch="r4"),
        }
        statuses: dict[str, bytes] = {}
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(5)
            for what, replay in replays.items():
                sock.sendto(replay, (HOST, port))
                statuses[what] = sock.recv(65535).split(b"\r\n", 1)[0]
        out, err = server.stop()
    assert statuses == dict.fromkeys(replays, b"SIP/2.0 401 Unauthorized"), statuses
    assert out.count("nonce-reused") >= len(replays)
    no_traceback(err)
