"""Client connections over UDP, TCP and TLS: move octets, report errors.

Every connection delivers whole SIP messages (one datagram, or one
Content-Length-framed stream message) and errors as items, and the driver
waits on one thing: ``await conn.receive(timeout)``.

Two kinds, picked by ``open_connection``: inside a running event loop
(``check``, ``watch``, ``demo``, many runs in one loop) the asyncio ones of
``net.aio_transports``; outside one (a one-shot ``register``, ``options``...,
run by ``net.blocking.run_blocking``) a blocking UDP socket, and for TCP and
TLS the asyncio ones on a private loop. This module itself imports no asyncio.
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

from sipcheck.errors import TransportError
from sipcheck.trace import Address, TlsInfo


@dataclass(frozen=True)
class Received:
    data: bytes
    source: Address


@dataclass(frozen=True)
class Failed:
    detail: str
    refused: bool  # "nothing is listening" (ICMP port unreachable, RST)


Item = Received | Failed

REFUSED = "nothing is listening there (ICMP port unreachable)"


def failure_of(exc: Exception) -> Failed:
    """A socket error as an item; on a connected UDP socket, ICMP port unreachable
    arrives as ECONNREFUSED."""
    refused = isinstance(exc, ConnectionRefusedError)
    return Failed(REFUSED if refused else str(exc), refused)


@dataclass(frozen=True)
class TlsOptions:
    ca_file: str | None = None
    insecure: bool = False
    cert_file: str | None = None
    key_file: str | None = None


class Connection:
    transport_name: str
    local: Address
    remote: Address
    tls: TlsInfo | None = None

    async def receive(self, timeout: float | None) -> Item | None:
        """The next item; None when ``timeout`` seconds pass first (0: at once, even
        when an item is waiting: a due timer goes first, as with asyncio.wait_for)."""
        raise NotImplementedError

    def drain(self) -> list[Item]:
        """The items that came while nobody waited, without waiting."""
        raise NotImplementedError

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


def address_of(sockname: tuple[object, ...]) -> Address:
    host, port = sockname[0], sockname[1]
    assert isinstance(host, str) and isinstance(port, int)
    return Address(host.split("%", 1)[0], port)


def udp_open_failed(host: str, port: int, exc: OSError) -> TransportError:
    """A UDP socket to ``host``:``port`` could not be made (blocking or asyncio alike)."""
    return TransportError(
        f"cannot open a UDP socket to {Address(host, port)}: {exc.strerror or exc}",
        hint="check --bind and that the address family (IPv4/IPv6) is available",
    )


def bind_for(remote_host: str, bind: tuple[str, int] | None) -> tuple[str, int] | None:
    if bind is None:
        return None
    host, port = bind
    if not host:
        host = "::" if ":" in remote_host else "0.0.0.0"
    return host, port


async def open_connection(
    transport: str,
    host: str,
    port: int,
    *,
    bind: tuple[str, int] | None = None,
    timeout: float = 5.0,
    tls: TlsOptions | None = None,
    server_name: str | None = None,
) -> Connection:
    from sipcheck.net import blocking

    if transport not in ("udp", "tcp", "tls"):
        raise TransportError(f"unsupported transport {transport!r}")
    in_loop = blocking.in_event_loop()
    if not in_loop and transport == "udp":
        return blocking.BlockingUdpConnection.open(host, port, bind)
    from sipcheck.net.aio_transports import StreamConnection, UdpConnection

    opening: Coroutine[Any, Any, Connection]
    if transport == "udp":
        opening = UdpConnection.open(host, port, bind)
    else:
        secure = (tls or TlsOptions()) if transport == "tls" else None
        opening = StreamConnection.open(
            host, port, bind, timeout=timeout, tls=secure, server_name=server_name
        )
    if in_loop:
        return await opening
    return await blocking.open_bridged(opening)
