"""One-shot commands without an event loop: a blocking UDP socket and a coroutine runner.

``sipcheck register`` runs one registration and exits. Importing asyncio (with
the ssl, concurrent.futures, logging and subprocess modules it brings) cost it
more start-up time than the whole exchange takes, so a one-shot command runs
the same driver coroutine (``net.client``) with ``run_blocking`` instead of
``asyncio.run``. That coroutine only suspends where a connection or a lookup
waits for I/O, and outside an event loop those waits block instead:

* a UDP connection is a blocking connected socket (``BlockingUdpConnection``),
  the common case, which needs no asyncio at all;
* TCP, TLS and DNS lookups keep their asyncio code and run it, while the
  caller waits, on a private event loop (``bridged``), made the first time one
  is needed and closed, as ``asyncio.run`` closes its loop, when
  ``run_blocking`` returns.

Inside a running event loop (``check``, ``watch``, ``demo``, tests that run
``execute`` with ``asyncio.run``) nothing here is used: every connection and
lookup is the asyncio one, and many runs share the loop.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from sipcheck.net.transports import (
    Connection,
    Failed,
    Item,
    Received,
    address_of,
    bind_for,
    failure_of,
    udp_open_failed,
)
from sipcheck.trace import Address

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")

# asyncio's datagram transport reads up to 256 KiB: the same datagrams arrive whole
MAX_DATAGRAM = 256 * 1024

_loop: asyncio.AbstractEventLoop | None = None


def in_event_loop() -> bool:
    """True inside a running asyncio loop (asyncio is imported by then)."""
    aio = sys.modules.get("asyncio")
    return aio is not None and aio._get_running_loop() is not None


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to its end in this thread, without an event loop of its own.

    Every await in it must complete at once (a blocking call, or ``bridged``);
    one that suspends is a bug, and raises RuntimeError.
    """
    try:
        coro.send(None)
    except StopIteration as stop:
        result: T = stop.value
        return result
    else:
        coro.close()
        raise RuntimeError("a coroutine run by run_blocking waited for an event loop")
    finally:
        _close_loop()


async def bridged(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``: in the running loop if there is one, else on the private loop."""
    if in_event_loop():
        return await awaitable
    return _private_loop().run_until_complete(awaitable)


async def open_bridged(opening: Awaitable[Connection]) -> Connection:
    """An asyncio connection (TCP, TLS), opened and then used from outside any loop."""
    loop = _private_loop()
    return BridgedConnection(loop.run_until_complete(opening), loop)


def _private_loop() -> asyncio.AbstractEventLoop:
    global _loop
    if _loop is None:
        import asyncio

        _loop = asyncio.new_event_loop()
    return _loop


def _close_loop() -> None:
    """What ``asyncio.run`` does at its end: cancel what is left, stop the executor."""
    global _loop
    loop, _loop = _loop, None
    if loop is None:
        return
    import asyncio

    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


class BlockingUdpConnection(Connection):
    """A connected UDP socket; ``receive`` blocks until a datagram, an error or the timeout.

    It reports what asyncio's datagram transport reports: every datagram whole,
    and an error (ICMP port unreachable on the connected socket, a failed send)
    as a ``Failed`` item.
    """

    transport_name = "udp"

    def __init__(self, sock: socket.socket, remote: Address) -> None:
        self._sock = sock
        self._failures: list[Failed] = []
        self.local = address_of(sock.getsockname())
        self.remote = remote

    @classmethod
    def open(cls, host: str, port: int, bind: tuple[str, int] | None) -> BlockingUdpConnection:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            sock = socket.socket(family, socket.SOCK_DGRAM)
        except OSError as exc:
            raise udp_open_failed(host, port, exc) from exc
        try:
            local = bind_for(host, bind)
            if local is not None:
                sock.bind(local)
            sock.connect((host, port))
        except OSError as exc:
            sock.close()
            raise udp_open_failed(host, port, exc) from exc
        return cls(sock, Address(host, port))

    async def receive(self, timeout: float | None) -> Item | None:
        if self._failures:
            return self._failures.pop(0)
        if timeout is not None and timeout <= 0:
            return None  # as asyncio.wait_for(..., 0): the due timer first
        self._sock.settimeout(timeout)
        try:
            data, source = self._sock.recvfrom(MAX_DATAGRAM)
        except TimeoutError:
            return None
        except OSError as exc:
            return failure_of(exc)
        return Received(data, address_of(tuple(source)))

    def drain(self) -> list[Item]:
        items: list[Item] = list(self._failures)
        self._failures.clear()
        self._sock.setblocking(False)
        try:
            while True:
                data, source = self._sock.recvfrom(MAX_DATAGRAM)
                items.append(Received(data, address_of(tuple(source))))
        except BlockingIOError:
            pass
        except OSError as exc:
            items.append(failure_of(exc))
        return items

    def send(self, data: bytes) -> None:
        try:
            self._sock.settimeout(None)
            self._sock.send(data)
        except OSError as exc:
            self._failures.append(failure_of(exc))

    def close(self) -> None:
        self._sock.close()


class BridgedConnection(Connection):
    """An asyncio connection (TCP, TLS) used from outside an event loop."""

    def __init__(self, inner: Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._inner = inner
        self._loop = loop
        self.transport_name = inner.transport_name
        self.local = inner.local
        self.remote = inner.remote
        self.tls = inner.tls

    async def receive(self, timeout: float | None) -> Item | None:
        return self._loop.run_until_complete(self._inner.receive(timeout))

    def drain(self) -> list[Item]:
        return self._inner.drain()

    def send(self, data: bytes) -> None:
        self._inner.send(data)

    def close(self) -> None:
        self._inner.close()
