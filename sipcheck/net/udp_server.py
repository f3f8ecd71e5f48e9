"""The registrar's UDP listener: a bound socket read straight from the event loop.

asyncio's datagram transport reads one datagram per wake-up of the loop, and
every wake-up costs a trip through the selector and the loop's bookkeeping. A
registrar under load has many datagrams waiting at once, so this listener reads
what is queued (up to ``BATCH`` per wake-up, so that TCP and timers still get
their turn) and answers each with one ``sendto``.

The socket asks for a large receive buffer: a burst, or a pause of the garbage
collector (up to a few hundred milliseconds once the registrar holds 32 s of
answered requests at thousands per second), then waits in the kernel instead of
being dropped and retransmitted. Kamailio likewise raises its UDP receive buffer
at start-up (its ``maxbuffer`` setting).

Loops without ``add_reader`` (the Windows proactor) get asyncio's datagram
endpoint on the same socket instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import deque
from collections.abc import Callable
from typing import Any

from sipcheck.trace import Address

# What a request handler gets: payload, source, local address, transport name,
# and how to send the answer.
Handler = Callable[[bytes, Address, Address, str, Callable[[bytes], None]], None]

RECEIVE_BUFFER = 4 * 1024 * 1024  # asked for; the kernel caps it (net.core.rmem_max)
BATCH = 64  # datagrams read per wake-up at most
MAX_DATAGRAM = 65535
MAX_BACKLOG = 10_000  # responses waiting for a full send buffer; UDP drops beyond
_MAX_SOURCES = 4096


async def bind_udp(loop: asyncio.AbstractEventLoop, host: str, port: int) -> socket.socket:
    """A non-blocking UDP socket bound to (host, port); raises OSError."""
    infos = await loop.getaddrinfo(
        host, port, type=socket.SOCK_DGRAM, proto=socket.IPPROTO_UDP, flags=socket.AI_PASSIVE
    )
    if not infos:
        raise OSError(f"cannot resolve {host}")
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.bind(sockaddr)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    assert error is not None
    raise error


class UdpListener:
    """Feeds each datagram of a bound socket to ``handler``; ``close`` stops it."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, sock: socket.socket, handler: Handler
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.handler = handler
        sockname = sock.getsockname()
        self.local = Address(str(sockname[0]), int(sockname[1]))
        self._sources: dict[Any, Address] = {}
        self._backlog: deque[tuple[bytes, Any]] = deque()
        self._fallback: asyncio.DatagramTransport | None = None

    async def start(self) -> None:
        try:
            self.loop.add_reader(self.sock.fileno(), self._read_ready)
        except NotImplementedError:
            transport, _ = await self.loop.create_datagram_endpoint(
                lambda: _FallbackProtocol(self), sock=self.sock
            )
            self._fallback = transport

    def close(self) -> None:
        if self._fallback is not None:
            self._fallback.close()
            return
        self.loop.remove_reader(self.sock.fileno())
        if self._backlog:
            self.loop.remove_writer(self.sock.fileno())
        self.sock.close()

    # ------------------------------------------------------------ receiving

    def _read_ready(self) -> None:
        recvfrom = self.sock.recvfrom
        for _ in range(BATCH):
            try:
                data, addr = recvfrom(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # An ICMP error for an earlier response (port unreachable):
                # nothing to do for UDP, read on.
                continue
            self.received(data, addr)

    def received(self, data: bytes, addr: Any) -> None:
        source = self._sources.get(addr)
        if source is None:
            # The same few clients send again and again: one Address each.
            if len(self._sources) >= _MAX_SOURCES:
                self._sources.clear()
            source = self._sources[addr] = Address(str(addr[0]), int(addr[1]))
        self.handler(data, source, self.local, "udp", lambda out: self.send(out, addr))

    # ------------------------------------------------------------ sending

    def send(self, data: bytes, addr: Any) -> None:
        if self._fallback is not None:
            self._fallback.sendto(data, addr)
            return
        if self._backlog:
            self._queue(data, addr)
            return
        try:
            self.sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            self._queue(data, addr)
            self.loop.add_writer(self.sock.fileno(), self._write_ready)
        except OSError:
            pass  # unreachable peer, closed socket: UDP gives no promise

    def _queue(self, data: bytes, addr: Any) -> None:
        if len(self._backlog) < MAX_BACKLOG:
            self._backlog.append((data, addr))

    def _write_ready(self) -> None:
        backlog = self._backlog
        while backlog:
            data, addr = backlog[0]
            try:
                self.sock.sendto(data, addr)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                pass
            backlog.popleft()
        self.loop.remove_writer(self.sock.fileno())


class _FallbackProtocol(asyncio.DatagramProtocol):
    def __init__(self, listener: UdpListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.listener.received(data, addr)

    def error_received(self, exc: Exception) -> None:
        pass  # an ICMP error for a response we sent: nothing to do
