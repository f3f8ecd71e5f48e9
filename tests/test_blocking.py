"""net.blocking: the one-shot commands' connections and runner, without an event loop."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from sipcheck.errors import TransportError
from sipcheck.net import blocking
from sipcheck.net.blocking import BlockingUdpConnection, bridged, run_blocking
from sipcheck.net.transports import REFUSED, Failed, Received, open_connection
from sipcheck.trace import Address


async def _value() -> int:
    return 7


def test_run_blocking_returns_what_the_coroutine_returns() -> None:
    async def outer() -> int:
        return await _value() + await bridged(_value())

    assert run_blocking(outer()) == 14


def test_bridged_runs_asyncio_code_on_a_private_loop_closed_at_the_end() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def on_a_loop() -> str:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0.01)
        return "slept"

    async def outer() -> str:
        return await bridged(on_a_loop())

    assert run_blocking(outer()) == "slept"
    assert loops and loops[0].is_closed()


def test_run_blocking_refuses_a_coroutine_that_suspends() -> None:
    async def suspends() -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="waited for an event loop"):
        run_blocking(suspends())


def test_inside_a_running_loop_bridged_is_a_plain_await() -> None:
    async def main() -> bool:
        await bridged(asyncio.sleep(0))
        return blocking._loop is None  # no private loop was made

    assert asyncio.run(main())


@pytest.fixture
def peer() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    yield sock
    sock.close()


def test_udp_datagrams_both_ways(peer: socket.socket) -> None:
    host, port = peer.getsockname()
    conn = run_blocking(open_connection("udp", host, port))
    try:
        assert isinstance(conn, BlockingUdpConnection)
        assert (conn.remote.host, conn.remote.port) == (host, port)
        assert conn.local.host == "127.0.0.1" and conn.local.port > 0
        conn.send(b"REGISTER")
        data, source = peer.recvfrom(100)
        assert data == b"REGISTER" and source == (conn.local.host, conn.local.port)
        peer.sendto(b"SIP/2.0 200 OK", source)
        item = run_blocking(conn.receive(5))
        assert item == Received(b"SIP/2.0 200 OK", conn.remote)
    finally:
        conn.close()


def test_udp_timeout_and_a_zero_wait_are_none(peer: socket.socket) -> None:
    host, port = peer.getsockname()
    conn = BlockingUdpConnection.open(host, port, None)
    try:
        started = time.monotonic()
        assert run_blocking(conn.receive(0.05)) is None
        assert time.monotonic() - started >= 0.04
        conn.send(b"x")
        _, source = peer.recvfrom(10)
        peer.sendto(b"y", source)
        time.sleep(0.05)
        assert run_blocking(conn.receive(0)) is None  # a due timer comes first, as in asyncio
        assert run_blocking(conn.receive(1)) == Received(b"y", conn.remote)
    finally:
        conn.close()


def test_udp_port_unreachable_is_a_refused_failure() -> None:
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    conn = BlockingUdpConnection.open("127.0.0.1", port, None)
    try:
        conn.send(b"REGISTER")
        item = run_blocking(conn.receive(2))
        assert item == Failed(REFUSED, True)
    finally:
        conn.close()


def test_udp_bind_to_a_foreign_address_is_a_transport_error() -> None:
    with pytest.raises(TransportError, match=r"cannot open a UDP socket to 127\.0\.0\.1:5060"):
        BlockingUdpConnection.open("127.0.0.1", 5060, ("192.0.2.1", 0))


def test_udp_drain_takes_what_waits_without_blocking(peer: socket.socket) -> None:
    host, port = peer.getsockname()
    conn = BlockingUdpConnection.open(host, port, None)
    try:
        assert conn.drain() == []
        conn.send(b"x")
        _, source = peer.recvfrom(10)
        peer.sendto(b"late 1", source)
        peer.sendto(b"late 2", source)
        time.sleep(0.05)
        assert conn.drain() == [Received(b"late 1", conn.remote), Received(b"late 2", conn.remote)]
        assert run_blocking(conn.receive(0.01)) is None  # and the socket blocks again
    finally:
        conn.close()


def test_tcp_outside_a_loop_is_the_asyncio_connection_on_the_private_loop() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(5)
    host, port = server.getsockname()

    async def exchange() -> tuple[object, object]:
        conn = await open_connection("tcp", host, port)
        peer, _ = server.accept()
        with peer:
            conn.send(b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n")
            assert peer.recv(100).startswith(b"OPTIONS")
            peer.sendall(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n")
            item = await conn.receive(5)
        conn.close()
        return type(conn).__name__, item

    try:
        name, item = run_blocking(exchange())
    finally:
        server.close()
    assert name == "BridgedConnection"
    assert item == Received(b"SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", Address(host, port))
    assert blocking._loop is None  # closed when run_blocking returned
