"""The asyncio connections (UDP, TCP, TLS) behind ``transports.open_connection``.

Every connection puts whole SIP messages and errors into one asyncio queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

from sipcheck.errors import (
    ConnectTimeout,
    HandshakeTimeout,
    SipParseError,
    TLSFailure,
    TransportError,
)
from sipcheck.net.transports import (
    Connection,
    Failed,
    Item,
    Received,
    TlsOptions,
    address_of,
    bind_for,
    failure_of,
    udp_open_failed,
)
from sipcheck.sip.wire.framing import BoundedFramer
from sipcheck.trace import Address, TlsInfo


class QueuedConnection(Connection):
    """A connection whose protocol callbacks fill an asyncio queue."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Item] = asyncio.Queue()

    async def receive(self, timeout: float | None) -> Item | None:
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except (TimeoutError, asyncio.TimeoutError):
            return None

    def drain(self) -> list[Item]:
        items: list[Item] = []
        while not self.queue.empty():
            items.append(self.queue.get_nowait())
        return items


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, conn: UdpConnection) -> None:
        self.conn = conn

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        self.conn.queue.put_nowait(Received(data, address_of(tuple(addr))))

    def error_received(self, exc: Exception) -> None:
        # On a connected UDP socket, ICMP port unreachable arrives here at once.
        self.conn.queue.put_nowait(failure_of(exc))


class UdpConnection(QueuedConnection):
    transport_name = "udp"

    def __init__(self) -> None:
        super().__init__()
        self._transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, host: str, port: int, bind: tuple[str, int] | None) -> UdpConnection:
        conn = cls()
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(conn),
                remote_addr=(host, port),
                local_addr=bind_for(host, bind),
                family=family,
            )
        except OSError as exc:
            raise udp_open_failed(host, port, exc) from exc
        conn._transport = transport
        conn.local = address_of(transport.get_extra_info("sockname"))
        conn.remote = Address(host, port)
        return conn

    def send(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.sendto(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


# What one server message may make us hold on a stream: a REGISTER's answers are a
# few hundred octets; past these the server is broken or hostile.
MAX_HEADER_OCTETS = 65_536
MAX_BODY_OCTETS = 65_536


class _StreamProtocol(asyncio.Protocol):
    def __init__(self, conn: StreamConnection) -> None:
        self.conn = conn
        self.framer = BoundedFramer(MAX_HEADER_OCTETS, MAX_BODY_OCTETS)
        self.reported = False  # the stream failed: said once, nothing more is read

    def data_received(self, data: bytes) -> None:
        if self.reported:
            return
        try:
            messages = self.framer.feed(data)
        except SipParseError as exc:
            self._fail(f"unframeable data on the stream: {exc}")
            return
        for message in messages:
            self.conn.queue.put_nowait(Received(message, self.conn.remote))
        oversized = self.framer.oversized
        if oversized is not None:
            self._fail(f"the server sent too large a message: {oversized.describe('our')}")

    def _fail(self, detail: str) -> None:
        self.reported = True
        self.conn.queue.put_nowait(Failed(detail, False))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.conn.closing:
            detail = (
                f"connection closed by the server ({exc})"
                if exc
                else "connection closed by the server"
            )
            self.conn.queue.put_nowait(Failed(detail, False))


class StreamConnection(QueuedConnection):
    def __init__(self, transport_name: str) -> None:
        super().__init__()
        self.transport_name = transport_name
        self._transport: asyncio.Transport | None = None
        self.closing = False

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        bind: tuple[str, int] | None,
        *,
        timeout: float,
        tls: TlsOptions | None = None,
        server_name: str | None = None,
    ) -> StreamConnection:
        conn = cls("tls" if tls is not None else "tcp")
        loop = asyncio.get_running_loop()
        context = make_tls_context(tls) if tls is not None else None
        where = Address(host, port)
        # Two steps with a timeout each, so a server that accepts TCP and then
        # never finishes the TLS handshake is told apart from one that is not there.
        try:
            transport, protocol = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _StreamProtocol(conn), host, port, local_addr=bind_for(host, bind)
                ),
                timeout,
            )
        except ConnectionRefusedError as exc:
            raise TransportError(
                f"nothing is listening at {where} (TCP connection refused)",
                hint="check the port and the transport (--transport udp|tcp|tls)",
            ) from exc
        except (TimeoutError, asyncio.TimeoutError) as exc:
            raise ConnectTimeout(
                f"no TCP connection to {where} within {timeout:g} s",
                hint="a firewall may be dropping the packets; check the address and port",
            ) from exc
        except OSError as exc:
            raise TransportError(f"cannot connect to {where}: {exc.strerror or exc}") from exc
        if context is not None:
            transport = await _handshake(
                loop, transport, protocol, context, server_name or host, where, timeout
            )
        conn._transport = transport
        conn.local = address_of(transport.get_extra_info("sockname"))
        conn.remote = where
        if context is not None:
            conn.tls = _tls_info(transport, context, server_name or host)
        return conn

    def send(self, data: bytes) -> None:
        assert self._transport is not None
        self._transport.write(data)

    def close(self) -> None:
        self.closing = True
        if self._transport is not None:
            self._transport.close()


async def _handshake(
    loop: asyncio.AbstractEventLoop,
    transport: asyncio.Transport,
    protocol: asyncio.BaseProtocol,
    context: ssl.SSLContext,
    server_name: str,
    where: Address,
    timeout: float,
) -> asyncio.Transport:
    """TLS over an established TCP connection (the second step of a TLS connect)."""
    import ssl  # only for TLS: plain UDP/TCP runs never load OpenSSL

    try:
        tls_transport = await asyncio.wait_for(
            loop.start_tls(
                transport,
                protocol,
                context,
                server_hostname=server_name,
                ssl_handshake_timeout=timeout + 1.0,
            ),
            timeout,
        )
    except ssl.SSLCertVerificationError as exc:
        transport.close()
        raise TLSFailure(
            f"TLS certificate of {where} not accepted: {exc.verify_message or exc.reason}",
            hint="give the CA with --ca-file, or --insecure to skip verification (testing only)",
        ) from exc
    except ssl.SSLError as exc:
        transport.close()
        raise TLSFailure(f"TLS handshake with {where} failed: {exc.reason or exc}") from exc
    except (TimeoutError, asyncio.TimeoutError) as exc:
        transport.close()
        raise HandshakeTimeout(
            f"TCP connected to {where}, but the TLS handshake did not finish within {timeout:g} s",
            hint="the server may not speak TLS on this port (a plain SIP/TCP port?)",
        ) from exc
    except OSError as exc:
        transport.close()
        raise TLSFailure(f"TLS handshake with {where} failed: {exc}") from exc
    if tls_transport is None:
        transport.close()
        raise TLSFailure(f"TLS handshake with {where} failed: the connection closed")
    return tls_transport


def make_tls_context(options: TlsOptions) -> ssl.SSLContext:
    import ssl  # only for TLS: plain UDP/TCP runs never load OpenSSL

    # Verified by default against the system CAs (or --ca-file).
    context = ssl.create_default_context(cafile=options.ca_file)
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if options.cert_file:
        context.load_cert_chain(options.cert_file, options.key_file)
    return context


def _name(parts: object) -> str:
    if not isinstance(parts, tuple):
        return ""
    return ", ".join(f"{k}={v}" for rdn in parts for (k, v) in rdn)


def _tls_info(transport: asyncio.Transport, context: ssl.SSLContext, server_name: str) -> TlsInfo:
    import ssl  # only for TLS: plain UDP/TCP runs never load OpenSSL

    obj = transport.get_extra_info("ssl_object")
    cert: dict[str, object] = {}
    if isinstance(obj, ssl.SSLObject):
        peer = obj.getpeercert()
        if peer:
            cert = dict(peer)
        else:
            der = obj.getpeercert(binary_form=True)
            if der:
                cert = _decode_der(der)
        cipher = obj.cipher()
        return TlsInfo(
            version=obj.version() or "",
            cipher=cipher[0] if cipher else "",
            subject=_name(cert.get("subject")),
            issuer=_name(cert.get("issuer")),
            not_after=str(cert.get("notAfter", "")),
            verified=context.verify_mode == ssl.CERT_REQUIRED,
            server_name=server_name,
        )
    return TlsInfo("", "", "", "", "", False, server_name)


def _decode_der(der: bytes) -> dict[str, object]:
    """Subject/issuer/expiry of an unverified certificate (with --insecure)."""
    import os
    import ssl  # only for TLS: plain UDP/TCP runs never load OpenSSL
    import tempfile

    decode = getattr(ssl, "_ssl", None)
    test_decode = getattr(decode, "_test_decode_cert", None)
    if test_decode is None:
        return {}
    with tempfile.NamedTemporaryFile("w", suffix=".pem", delete=False) as handle:
        handle.write(ssl.DER_cert_to_PEM_cert(der))
        path = handle.name
    try:
        result = test_decode(path)
        return dict(result) if isinstance(result, dict) else {}
    except Exception:
        return {}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
