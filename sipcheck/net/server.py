"""The embedded registrar's I/O shell: sockets on one side, the registrar core on the other.

Everything a request means (faults, framing, the Via stamp, the answer, the attempt it
belongs to) is decided by ``sip.registrar.service.RegistrarService``; this module only
moves bytes between the listeners and ``RegistrarService.receive``, sends what it
returns (later, when it says so), arms the one timer ``next_timer`` asks for, and hands
each ended attempt to ``on_attempt``.
"""

from __future__ import annotations

import asyncio
import errno
import math
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import cast

from sipcheck.errors import TransportError
from sipcheck.net.udp_server import UdpListener, bind_udp
from sipcheck.sip.registrar.attempts import AttemptLog
from sipcheck.sip.registrar.service import Output, RegistrarService, Stats
from sipcheck.trace import Address

PORT_PICKS = 20  # port 0: UDP picks tried until TCP has the same number free


class _TcpPortTaken(Exception):
    """The port UDP was given is in use for TCP: pick another."""


def _listen_error(transport: str, host: str, port: int, exc: OSError) -> TransportError:
    return TransportError(
        f"cannot listen on {transport.upper()} {Address(host, port)}: {exc.strerror or exc}",
        hint="is another server using that port? port 0 picks a free one",
    )


class RegistrarServer:
    def __init__(
        self,
        core: RegistrarService,
        *,
        on_attempt: Callable[[AttemptLog], None] | None = None,
    ) -> None:
        self.core = core
        self.on_attempt = on_attempt
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()  # the core's now == 0
        self._closers: list[Callable[[], None]] = []
        self._servers: list[asyncio.base_events.Server] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf

    def now(self) -> float:
        return self.loop.time() - self.t0

    @property
    def stats(self) -> Stats:
        return self.core.stats

    # ------------------------------------------------------------ listeners

    async def listen(
        self, transport: str, host: str, port: int, tls: ssl.SSLContext | None = None
    ) -> Address:
        try:
            if transport == "udp":
                return await self._start_udp(await bind_udp(self.loop, host, port))
            context = tls if transport == "tls" else None
            if transport == "tls" and context is None:
                raise TransportError("TLS needs a certificate (--cert/--key or --self-signed)")
            server = await self._stream_server(transport, host, port, context)
        except OSError as exc:
            raise _listen_error(transport, host, port, exc) from exc
        return self._keep(server)

    async def listen_udp_and_tcp(self, host: str, port: int) -> tuple[Address, Address]:
        """UDP and TCP on one port number.

        With port 0 the kernel picks a free UDP port, and TCP may have that number
        in use already (another program's connection): then UDP picks again, up to
        PORT_PICKS times in all.
        """
        for _ in range(PORT_PICKS - 1 if port == 0 else 0):
            try:
                return await self._udp_and_tcp(host, port, pick_again=True)
            except _TcpPortTaken:
                continue
        return await self._udp_and_tcp(host, port, pick_again=False)

    async def _udp_and_tcp(
        self, host: str, port: int, *, pick_again: bool
    ) -> tuple[Address, Address]:
        try:
            sock = await bind_udp(self.loop, host, port)
        except OSError as exc:
            raise _listen_error("udp", host, port, exc) from exc
        number = int(sock.getsockname()[1])
        try:
            server = await self._stream_server("tcp", host, number, None)
        except OSError as exc:
            sock.close()
            if pick_again and exc.errno == errno.EADDRINUSE:
                raise _TcpPortTaken from exc
            raise _listen_error("tcp", host, number, exc) from exc
        return await self._start_udp(sock), self._keep(server)

    async def _start_udp(self, sock: socket.socket) -> Address:
        listener = UdpListener(self.loop, sock, self.handle)
        await listener.start()
        self._closers.append(listener.close)
        return listener.local

    async def _stream_server(
        self, transport: str, host: str, port: int, context: ssl.SSLContext | None
    ) -> asyncio.base_events.Server:
        return await self.loop.create_server(
            lambda: _StreamServerProtocol(self, transport), host, port, ssl=context
        )

    def _keep(self, server: asyncio.base_events.Server) -> Address:
        self._servers.append(server)
        sockname = server.sockets[0].getsockname()
        return Address(str(sockname[0]), int(sockname[1]))

    async def close(self) -> None:
        for close in self._closers:
            close()
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deliver(self.core.close(self.now()))

    # ------------------------------------------------------------ bytes

    def handle(
        self,
        data: bytes,
        source: Address,
        local: Address,
        transport: str,
        send: Callable[[bytes], None],
    ) -> None:
        self.feed(data, source, local, transport, send)

    def feed(
        self,
        data: bytes,
        source: Address,
        local: Address,
        transport: str,
        send: Callable[[bytes], None],
    ) -> Output:
        out = self.core.receive(
            data, source=source, local=local, transport=transport, now=self.now()
        )
        for reply, delay in out.sends:
            if delay:
                self.loop.call_later(delay, send, reply)
            else:
                send(reply)
        if out.ended:
            self._deliver(out.ended)
        if self.core.record:
            self._arm()
        return out

    # ------------------------------------------------------------ the timer

    def _arm(self) -> None:
        due = self.core.next_timer()
        if due is None or due >= self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = due
        self._timer = self.loop.call_at(self.t0 + due, self._fire)

    def _fire(self) -> None:
        # asyncio may run a timer a clock tick early: never pass a now before its due time.
        now = max(self.now(), self._timer_at)
        self._timer, self._timer_at = None, math.inf
        self._deliver(self.core.handle_timer(now))
        self._arm()

    def _deliver(self, logs: Iterable[AttemptLog]) -> None:
        if self.on_attempt is not None:
            for log in logs:
                self.on_attempt(log)


class _StreamServerProtocol(asyncio.Protocol):
    def __init__(self, server: RegistrarServer, transport_name: str) -> None:
        self.server = server
        self.transport_name = transport_name
        self.transport: asyncio.Transport | None = None
        self.peer = Address("", 0)
        self.local = Address("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        self.peer = Address(str(peer[0]), int(peer[1]))
        self.local = Address(str(sock[0]), int(sock[1]))

    def data_received(self, data: bytes) -> None:
        transport = self.transport
        assert transport is not None
        out = self.server.feed(data, self.peer, self.local, self.transport_name, transport.write)
        if out.close:
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.core.connection_lost(self.peer, self.local, self.transport_name)
