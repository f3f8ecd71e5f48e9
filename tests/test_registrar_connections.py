"""The registrar's stream listeners within their limits, on loopback: a connection
limit that refuses at once, idle connections closed, TLS handshakes bounded, peers
that do not read closed, and asyncio's errors counted instead of printed."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from sipcheck.net.server import RegistrarServer
from sipcheck.net.stream_server import (
    ServerLimits,
    StreamConnection,
    connection_cap,
    descriptor_limit,
)
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.service import RegistrarService

HOST = "127.0.0.1"


def options(n: int, transport: str = "TCP") -> bytes:
    return (
        f"OPTIONS sip:{HOST} SIP/2.0\r\n"
        f"Via: SIP/2.0/{transport} {HOST}:9;branch=z9hG4bKc{n}\r\n"
        f"From: <sip:probe@{HOST}>;tag={n}\r\nTo: <sip:{HOST}>\r\n"
        f"Call-ID: c{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    ).encode()


@asynccontextmanager
async def running(
    limits: ServerLimits, tls: Any = None
) -> AsyncIterator[tuple[RegistrarServer, dict[str, int]]]:
    core = RegistrarService(Registrar(RegistrarConfig(accounts={"a": "b"}), b"k" * 32))
    server = RegistrarServer(core, limits=limits, own_loop_errors=True)
    udp, tcp = await server.listen_udp_and_tcp(HOST, 0)
    ports = {"udp": udp.port, "tcp": tcp.port}
    if tls is not None:
        ports["tls"] = (await server.listen("tls", HOST, 0, tls)).port
    try:
        yield server, ports
    finally:
        await server.close()


async def until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not check():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> bytes:
    writer.write(options(n))
    await writer.drain()
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)


async def refused(port: int) -> bool:
    """Whether a connection to ``port`` is reset (while connecting, or at once after)."""
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except ConnectionResetError:
        return True
    try:
        await asyncio.wait_for(reader.read(1), 2)
    except ConnectionResetError:
        return True
    finally:
        writer.close()
    return False


async def udp_options(port: int, n: int) -> bytes:
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        sock.sendto(options(n, "UDP"), (HOST, port))  # (loop.sock_sendto is 3.11+)
        return await asyncio.wait_for(loop.sock_recv(sock, 65535), 5)


def test_connections_past_the_limit_are_refused_at_once_and_idle_ones_closed() -> None:
    async def run() -> None:
        limits = ServerLimits(max_connections=5, idle_timeout=0.6)
        async with running(limits) as (server, ports):
            stats = server.server_stats
            idle = [await asyncio.open_connection(HOST, ports["tcp"]) for _ in range(5)]
            await until(lambda: stats.connections == 5)
            for _ in range(3):  # reset at once: no waiting in the backlog
                assert await refused(ports["tcp"])
            assert (stats.refused, stats.connections) == (3, 5)
            # UDP is served meanwhile, and so is an open connection that talks.
            assert (await udp_options(ports["udp"], 1)).startswith(b"SIP/2.0 200")
            assert (await ask(*idle[0], 2)).startswith(b"SIP/2.0 200")
            # Idle ones are closed after idle_timeout; then TCP clients get in again.
            await until(lambda: stats.connections == 0, 3)
            assert stats.idle_closed == 5
            for reader, _ in idle:
                assert await asyncio.wait_for(reader.read(), 2) == b""
            fresh = await asyncio.open_connection(HOST, ports["tcp"])
            assert (await ask(*fresh, 3)).startswith(b"SIP/2.0 200")
            for _, writer in [*idle, fresh]:
                writer.close()

    asyncio.run(asyncio.wait_for(run(), 20))


def test_the_connection_limit_stays_under_half_the_descriptor_limit() -> None:
    assert connection_cap(512, 1024) == 512
    assert connection_cap(512, 600) == 300
    assert connection_cap(512, 1) == 1
    assert connection_cap(512, None) == 512
    limit = descriptor_limit()
    assert limit is None or limit > 0

    async def run() -> int:
        async with running(ServerLimits(max_connections=10**6)) as (server, _):
            return server.max_connections

    assert asyncio.run(run()) == (10**6 if limit is None else limit // 2)


def _cert(tmp_path: Path) -> Any:
    import ssl

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def test_a_tls_handshake_that_never_comes_is_closed_and_counted(tmp_path: Path) -> None:
    import ssl

    context = _cert(tmp_path)

    async def run() -> None:
        limits = ServerLimits(max_connections=2, tls_handshake_timeout=0.4)
        async with running(limits, context) as (server, ports):
            stats = server.server_stats
            silent = await asyncio.open_connection(HOST, ports["tls"])  # no ClientHello
            await until(lambda: stats.connections == 1)
            await until(lambda: stats.handshake_failures == 1 and stats.connections == 0, 3)
            assert await asyncio.wait_for(silent[0].read(), 2) == b""
            client = ssl.create_default_context()
            client.check_hostname, client.verify_mode = False, ssl.CERT_NONE
            talker = await asyncio.open_connection(HOST, ports["tls"], ssl=client)
            assert (await ask(*talker, 1)).startswith(b"SIP/2.0 200")
            assert stats.connections == 1
            for _, writer in (silent, talker):
                writer.close()

    asyncio.run(asyncio.wait_for(run(), 20))


class _FakeTransport(asyncio.Transport):
    def __init__(self, buffered: int) -> None:
        super().__init__()
        self.buffered = buffered
        self.written: list[bytes] = []
        self.aborted = self.paused = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True

    def pause_reading(self) -> None:
        self.paused = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return (HOST, 5060)


def test_a_peer_that_does_not_read_is_paused_then_closed() -> None:
    async def run() -> None:
        limits = ServerLimits(max_write_buffer=1000)
        async with running(limits) as (server, _):
            listener = server._streams[0]
            connection = StreamConnection(listener)
            transport = _FakeTransport(buffered=10)
            connection.connection_made(transport)
            connection.write(b"x")
            assert transport.written == [b"x"] and not transport.aborted
            connection.pause_writing()  # asyncio's high-water mark
            assert transport.paused
            transport.buffered = 1001
            connection.write(b"y")
            assert transport.is_closing() and server.server_stats.slow_readers_closed == 1
            connection.write(b"z")  # after the close: dropped, not raised
            assert transport.written == [b"x", b"y"]

    asyncio.run(run())


def test_what_asyncio_would_log_is_counted_and_kept(capsys: pytest.CaptureFixture[str]) -> None:
    errors: list[Exception] = []

    async def run() -> None:
        async with running(ServerLimits()) as (server, _):
            server.on_error = errors.append

            def broken() -> None:
                raise ValueError("a bug in a callback")

            asyncio.get_running_loop().call_soon(broken)
            await asyncio.sleep(0.05)
            assert server.server_stats.loop_errors == 1

    asyncio.run(run())
    assert [str(e) for e in errors] == ["a bug in a callback"]
    assert "Traceback" not in capsys.readouterr().err
