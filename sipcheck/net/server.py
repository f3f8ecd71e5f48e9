"""The embedded registrar's I/O shell: sockets on one side, the registrar core on the other.

Everything a request means (faults, framing, the Via stamp, the answer, the attempt it
belongs to) is decided by ``sip.registrar.service.RegistrarService``; this module only
moves bytes between the listeners and ``RegistrarService.receive``, sends what it
returns (later, when it says so), arms the one timer ``next_timer`` asks for, and hands
each ended attempt to ``on_attempt`` (and one left open, waiting for the client, to
``on_waiting``). The stream listeners keep the connections within
``ServerLimits`` (``stream_server.py``).

Nothing here prints. What goes wrong is counted (``server_stats``, the core's
``stats``) and the last error kept (``last_error``, handed to ``on_error`` too): an
input that meets a bug, and (``own_loop_errors``) whatever asyncio would have logged
with a traceback, so that a flood of bad input gives counted lines, not a traceback
per datagram.
"""

from __future__ import annotations

import asyncio
import errno
import math
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

from sipcheck.errors import TransportError
from sipcheck.net.stream_server import (
    ServerLimits,
    ServerStats,
    StreamListener,
    bind_stream,
    connection_cap,
    descriptor_limit,
)
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
        on_waiting: Callable[[AttemptLog], None] | None = None,
        on_error: Callable[[Exception], None] | None = None,
        limits: ServerLimits | None = None,
        own_loop_errors: bool = False,
    ) -> None:
        """``own_loop_errors``: the registrar is the loop's only user (the command), so
        what asyncio reports goes to ``on_error`` and is counted, never printed."""
        self.core = core
        self.on_attempt = on_attempt
        self.on_waiting = on_waiting  # an attempt left open, as it happens (not ended)
        self.on_error = on_error
        self.limits = limits or ServerLimits()
        self.server_stats = ServerStats()
        # Under half the descriptor limit, so that a flood of connections cannot take
        # the descriptors UDP, TLS and the output need.
        self.descriptors = descriptor_limit()
        self.max_connections = connection_cap(self.limits.max_connections, self.descriptors)
        self.last_error: Exception | None = None
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()  # the core's now == 0
        self._closers: list[Callable[[], None]] = []
        self._streams: list[StreamListener] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._previous_handler = self.loop.get_exception_handler()
        self._own_loop_errors = own_loop_errors
        if own_loop_errors:
            self.loop.set_exception_handler(self._loop_error)

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
            return await self._start_stream(transport, bind_stream(host, port), context)
        except OSError as exc:
            raise _listen_error(transport, host, port, exc) from exc

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
            streams = bind_stream(host, number)
        except OSError as exc:
            sock.close()
            if pick_again and exc.errno == errno.EADDRINUSE:
                raise _TcpPortTaken from exc
            raise _listen_error("tcp", host, number, exc) from exc
        return await self._start_udp(sock), await self._start_stream("tcp", streams, None)

    async def _start_udp(self, sock: socket.socket) -> Address:
        listener = UdpListener(self.loop, sock, self.handle)
        await listener.start()
        self._closers.append(listener.close)
        return listener.local

    async def _start_stream(
        self, transport: str, socks: list[socket.socket], context: ssl.SSLContext | None
    ) -> Address:
        listener = StreamListener(
            self.loop, socks, transport, self._feed_stream, self.core.connection_lost,
            limits=self.limits, stats=self.server_stats, context=context,
            max_connections=self.max_connections,
        )  # fmt: skip
        await listener.start()
        self._streams.append(listener)
        return listener.local

    async def close(self) -> None:
        for close in self._closers:
            close()
        for listener in self._streams:
            listener.close()
        await asyncio.sleep(0)  # let the aborted connections report connection_lost
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._deliver(self.core.close(self.now()))
        if self._own_loop_errors:
            self.loop.set_exception_handler(self._previous_handler)

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
        if out.error is not None:
            self._error(out.error)
        for reply, delay in out.sends:
            if delay:
                self.loop.call_later(delay, send, reply)
            else:
                send(reply)
        if out.ended:
            self._deliver(out.ended)
        elif out.waiting is not None and self.on_waiting is not None:
            self.on_waiting(out.waiting)
        if self.core.record:
            self._arm()
        return out

    def _feed_stream(
        self,
        data: bytes,
        source: Address,
        local: Address,
        transport: str,
        send: Callable[[bytes], None],
    ) -> bool:
        return self.feed(data, source, local, transport, send).close

    # ------------------------------------------------------------ errors

    def _error(self, exc: Exception) -> None:
        self.last_error = exc
        if self.on_error is not None:
            self.on_error(exc)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # What asyncio would log with a traceback (an error in a callback, a transport
        # failing): counted and kept, never printed per occurrence.
        self.server_stats.loop_errors += 1
        exc = context.get("exception")
        if not isinstance(exc, Exception):
            exc = RuntimeError(str(context.get("message") or "error in the event loop"))
        self._error(exc)

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
