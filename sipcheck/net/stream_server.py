"""The registrar's TCP and TLS listeners, within limits.

A registrar that accepts every connection and keeps each forever is locked out by a
few hundred idle peers: past the process's descriptor limit ``accept()`` fails for
everyone (and asyncio logs a traceback per try). This listener accepts by itself
(one reader per listening socket, as asyncio's own server does) so that it can:

- refuse at once what is over ``max_connections`` (accepted, then reset: the peer
  learns at once, rather than waiting in the backlog), counted, never logged per
  connection; ``max_connections`` is also kept under half the descriptor limit
  (``connection_cap``), so UDP, TLS and the logs keep descriptors of their own;
- close a connection that sent nothing for ``idle_timeout`` seconds (one sweep
  timer for all of them), and a TLS handshake that takes ``tls_handshake_timeout``;
- stop reading from a peer that does not read its responses (asyncio's flow
  control), and close it once ``max_write_buffer`` octets wait for it;
- pause accepting for a second when the system is out of descriptors anyway.

Each number it counts is in ``ServerStats``; the command prints them once a second
at most, and in its summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import ssl
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sipcheck.errors import ConfigError
from sipcheck.trace import Address

ACCEPT_BATCH = 100  # connections accepted per wake-up at most (asyncio's backlog)
ACCEPT_RETRY = 1.0  # seconds without accepting after EMFILE/ENFILE
# After a last answer (413, 513), reading on for this long or this many octets and
# discarding them: closing a socket with unread data sends a reset at once, and the
# kernel drops the answer still waiting to go out.
LINGER = 2.0
LINGER_OCTETS = 1_048_576
LISTEN_BACKLOG = 128
_OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


@dataclass(frozen=True)
class ServerLimits:
    """The I/O shell's bounds (the core's are ``sip.registrar.limits.Limits``)."""

    max_connections: int = 512  # TCP and TLS connections open at once, handshakes included
    idle_timeout: float = 60.0  # seconds without a byte from the peer, then closed
    tls_handshake_timeout: float = 10.0
    max_write_buffer: int = 1_048_576  # octets waiting for a peer that does not read

    def __post_init__(self) -> None:
        if self.max_connections < 1:
            raise ConfigError("--max-connections must be at least 1")
        if self.idle_timeout <= 0 or self.tls_handshake_timeout <= 0:
            raise ConfigError("--idle-timeout must be positive")
        if self.max_write_buffer < 1:
            raise ConfigError("max_write_buffer must be positive")


@dataclass
class ServerStats:
    connections: int = 0  # open now (TCP and TLS, handshakes included)
    accepted: int = 0
    refused: int = 0  # over max_connections: reset at once
    idle_closed: int = 0
    slow_readers_closed: int = 0  # over max_write_buffer
    handshake_failures: int = 0  # TLS handshakes that failed or timed out
    accept_errors: int = 0  # accept() out of descriptors or memory
    loop_errors: int = 0  # errors asyncio reported (never printed as tracebacks)


def descriptor_limit() -> int | None:
    """The process's soft limit on open descriptors, when the platform has one."""
    if sys.platform == "win32":
        return None
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def connection_cap(requested: int, descriptors: int | None) -> int:
    """``requested``, kept under half the descriptor limit (at least 1)."""
    if descriptors is None:
        return requested
    return max(1, min(requested, descriptors // 2))


def bind_stream(host: str, port: int) -> list[socket.socket]:
    """Listening, non-blocking TCP sockets for (host, port), one per address; raises
    OSError. (What ``loop.create_server`` does, minus the accepting.)"""
    infos = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP,
        flags=socket.AI_PASSIVE,
    )  # fmt: skip
    socks: list[socket.socket] = []
    try:
        for family, kind, proto, _, sockaddr in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            if sys.platform != "win32":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(sockaddr)
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
    except OSError:
        for sock in socks:
            sock.close()
        raise
    if not socks:
        raise OSError(f"cannot resolve {host}")
    return socks


# What a connection's bytes are handed to: (data, peer, local, transport name, write)
# and what it returns: whether to close the connection.
Feed = Callable[[bytes, Address, Address, str, Callable[[bytes], None]], bool]
Lost = Callable[[Address, Address, str], None]


class StreamListener:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        socks: list[socket.socket],
        transport_name: str,
        feed: Feed,
        lost: Lost,
        *,
        limits: ServerLimits,
        stats: ServerStats,
        context: ssl.SSLContext | None = None,
        max_connections: int | None = None,
    ) -> None:
        self.loop = loop
        self.socks = socks
        self.name = transport_name
        self.feed = feed
        self.lost = lost
        self.limits = limits
        self.stats = stats
        self.context = context
        self.max_connections = max_connections or limits.max_connections
        self._open: dict[StreamConnection, None] = {}  # in the order they came
        self._tasks: set[asyncio.Task[Any]] = set()
        self._sweep: asyncio.TimerHandle | None = None
        self._fallback: list[asyncio.base_events.Server] = []
        self._closed = False

    @property
    def local(self) -> Address:
        name = self.socks[0].getsockname()
        return Address(str(name[0]), int(name[1]))

    async def start(self) -> None:
        for sock in self.socks:
            try:
                self.loop.add_reader(sock.fileno(), self._accept_ready, sock)
            except NotImplementedError:  # the Windows proactor: asyncio accepts
                server = await self.loop.create_server(
                    self._fallback_protocol, sock=sock, ssl=self.context,
                    ssl_handshake_timeout=self._handshake_timeout(),
                )  # fmt: skip
                self._fallback.append(server)

    def close(self) -> None:
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
        for sock in self.socks:
            if not self._fallback:
                with contextlib.suppress(ValueError, OSError):
                    self.loop.remove_reader(sock.fileno())
            sock.close()
        for server in self._fallback:
            server.close()
        for connection in list(self._open):
            connection.abort()
        for task in self._tasks:
            task.cancel()

    # ------------------------------------------------------------ accepting

    def _accept_ready(self, sock: socket.socket) -> None:
        for _ in range(ACCEPT_BATCH):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    # Linux keeps the socket readable: wait a while, as asyncio does.
                    self.stats.accept_errors += 1
                    self.loop.remove_reader(sock.fileno())
                    self.loop.call_later(ACCEPT_RETRY, self._resume_accepting, sock)
                return
            if self.stats.connections >= self.max_connections:
                self.stats.refused += 1
                _reset(conn)
                continue
            conn.setblocking(False)
            self._serve(conn)

    def _resume_accepting(self, sock: socket.socket) -> None:
        if not self._closed:
            self.loop.add_reader(sock.fileno(), self._accept_ready, sock)

    def _serve(self, conn: socket.socket) -> None:
        connection = StreamConnection(self)
        self._opened(connection)
        task = self.loop.create_task(self._connect(connection, conn))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connect(self, connection: StreamConnection, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(
                lambda: connection, conn, ssl=self.context,
                ssl_handshake_timeout=self._handshake_timeout(),
            )  # fmt: skip
        except (OSError, ssl.SSLError, asyncio.TimeoutError, EOFError):
            # A TLS handshake that failed or took too long (asyncio closed the socket),
            # or a peer gone before we got to it.
            if self.context is not None:
                self.stats.handshake_failures += 1
            conn.close()
            self._gone(connection)

    def _handshake_timeout(self) -> float | None:
        return self.limits.tls_handshake_timeout if self.context is not None else None

    def _fallback_protocol(self) -> StreamConnection:
        connection = StreamConnection(self)
        if self.stats.connections >= self.max_connections:
            self.stats.refused += 1
            connection.refuse = True
        else:
            self._opened(connection)
        return connection

    # ------------------------------------------------------------ bookkeeping

    def _opened(self, connection: StreamConnection) -> None:
        self._open[connection] = None
        self.stats.connections += 1
        self.stats.accepted += 1
        if self._sweep is None:
            self._arm_sweep()

    def _gone(self, connection: StreamConnection) -> None:
        if connection in self._open:  # once: a failed handshake and connection_lost
            del self._open[connection]
            self.stats.connections -= 1

    def _arm_sweep(self) -> None:
        every = max(0.05, min(1.0, self.limits.idle_timeout / 4))
        self._sweep = self.loop.call_later(every, self._sweep_idle)

    def _sweep_idle(self) -> None:
        self._sweep = None
        if self._closed:
            return
        limit = self.loop.time() - self.limits.idle_timeout
        for connection in list(self._open):
            if connection.last_active <= limit and connection.transport is not None:
                self.stats.idle_closed += 1
                connection.close()
        if self._open:
            self._arm_sweep()


def _reset(conn: socket.socket) -> None:
    """Close with a reset (SO_LINGER 0): no TIME_WAIT, and the peer knows at once."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


class StreamConnection(asyncio.Protocol):
    """One TCP or TLS connection: bytes to the registrar, responses back."""

    def __init__(self, listener: StreamListener) -> None:
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.peer = Address("", 0)
        self.local = Address("", 0)
        self.last_active = listener.loop.time()
        self.refuse = False
        self.lingering = False
        self._discarded = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.refuse:
            cast(asyncio.Transport, transport).abort()
            return
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        sock = transport.get_extra_info("sockname")
        self.peer = Address(str(peer[0]), int(peer[1]))
        self.local = Address(str(sock[0]), int(sock[1]))
        self.last_active = self.listener.loop.time()

    def data_received(self, data: bytes) -> None:
        if self.lingering:  # after the last answer: read, and drop
            self._discarded += len(data)
            if self._discarded > LINGER_OCTETS:
                self.close()
            return
        self.last_active = self.listener.loop.time()
        listener = self.listener
        if listener.feed(data, self.peer, self.local, listener.name, self.write):
            self.linger()

    def linger(self) -> None:
        """Close after the last answer: FIN at once, then read and discard for LINGER
        seconds, so that the peer gets the answer rather than a reset."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if not transport.can_write_eof():  # TLS: close_notify, then close
            transport.close()
            return
        transport.write_eof()
        self.lingering = True
        self.listener.loop.call_later(LINGER, self.close)

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return  # closed meanwhile (a --delay'ed answer): nothing to do
        transport.write(data)
        if transport.get_write_buffer_size() > self.listener.limits.max_write_buffer:
            self.listener.stats.slow_readers_closed += 1
            self.abort()

    def pause_writing(self) -> None:
        # The peer does not read: stop reading its requests until it does.
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.refuse:
            return
        self.transport = None
        self.listener._gone(self)
        self.listener.lost(self.peer, self.local, self.listener.name)
