"""The registrar listens on UDP and TCP with one port number, also for port 0."""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import sipcheck.net.server as server_module
from sipcheck.errors import TransportError
from sipcheck.net.server import PORT_PICKS, RegistrarServer
from sipcheck.sip.registrar.config import RegistrarConfig
from sipcheck.sip.registrar.core import Registrar
from sipcheck.sip.registrar.service import RegistrarService
from sipcheck.trace import Address


@contextmanager
def tcp_taken_udp_bound() -> Iterator[tuple[socket.socket, int]]:
    """A port whose number a TCP listener holds, and a UDP socket bound to it: what
    the kernel's port-0 pick for UDP can hand us."""
    for _ in range(50):
        tcp = socket.create_server(("127.0.0.1", 0))
        port = int(tcp.getsockname()[1])
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            udp.bind(("127.0.0.1", port))
        except OSError:  # that number is busy for UDP too: another one
            udp.close()
            tcp.close()
            continue
        udp.setblocking(False)
        try:
            yield udp, port
        finally:
            udp.close()
            tcp.close()
        return
    raise RuntimeError("no port free for UDP among 50 TCP picks")


def _listen(host: str, port: int) -> tuple[Address, Address]:
    async def run() -> tuple[Address, Address]:
        server = RegistrarServer(RegistrarService(Registrar(RegistrarConfig(), b"k" * 32)))
        try:
            return await server.listen_udp_and_tcp(host, port)
        finally:
            await server.close()

    return asyncio.run(asyncio.wait_for(run(), 10))


def _first_picks(monkeypatch: pytest.MonkeyPatch, *socks: socket.socket) -> list[int]:
    """bind_udp hands out ``socks`` first, then binds as usual; the ports asked for."""
    asked: list[int] = []
    queue = list(socks)
    real = server_module.bind_udp

    async def bind_udp(loop: asyncio.AbstractEventLoop, host: str, port: int) -> socket.socket:
        asked.append(port)
        return queue.pop(0) if queue else await real(loop, host, port)

    monkeypatch.setattr(server_module, "bind_udp", bind_udp)
    return asked


def test_udp_and_tcp_share_the_port_picked_for_port_0() -> None:
    udp, tcp = _listen("127.0.0.1", 0)
    assert udp.port == tcp.port != 0
    assert udp.host == tcp.host == "127.0.0.1"


def test_port_0_picks_again_when_tcp_has_the_number(monkeypatch: pytest.MonkeyPatch) -> None:
    with tcp_taken_udp_bound() as (taken, number):
        asked = _first_picks(monkeypatch, taken)
        udp, tcp = _listen("127.0.0.1", 0)
        assert asked == [0, 0]
        assert taken.fileno() == -1  # the first pick was closed, not leaked
        assert udp.port == tcp.port
        assert udp.port not in (0, number)


def test_port_0_gives_up_after_port_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    with tcp_taken_udp_bound() as (taken, number):
        # The same collision on every pick (one socket each); a pick past PORT_PICKS
        # would get a real, free port and succeed.
        picks = [taken, *(taken.dup() for _ in range(PORT_PICKS - 1))]
        asked = _first_picks(monkeypatch, *picks)
        with pytest.raises(TransportError) as caught:
            _listen("127.0.0.1", 0)
        assert asked == [0] * PORT_PICKS
        assert str(caught.value).startswith(f"cannot listen on TCP 127.0.0.1:{number}: ")
        cause = caught.value.__cause__
        assert isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE
        assert [sock.fileno() for sock in picks] == [-1] * PORT_PICKS


def test_a_given_port_taken_for_tcp_is_an_error_at_once() -> None:
    with tcp_taken_udp_bound() as (taken, number):
        taken.close()  # UDP free, TCP held: the registrar's UDP bind succeeds
        with pytest.raises(TransportError) as caught:
            _listen("127.0.0.1", number)
        cause = caught.value.__cause__
        assert isinstance(cause, OSError) and cause.errno == errno.EADDRINUSE
        assert str(caught.value) == f"cannot listen on TCP 127.0.0.1:{number}: {cause.strerror}"
        assert caught.value.hint == "is another server using that port? port 0 picks a free one"
