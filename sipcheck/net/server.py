"""The embedded registrar's I/O shell: listeners feeding the registrar core.

Requests of one Call-ID are grouped into an attempt with its own Trace (the
registrar is the local lane) until the registrar answers something other than
a challenge, or the client's answer was wrong: then ``on_attempt`` gets it.
With ``record=False`` (``--quiet``, load tests) nothing is kept per request.
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from sipcheck.errors import SipParseError, TransportError
from sipcheck.net.udp_server import UdpListener, bind_udp
from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.sip.registrar.attempts import AttemptLog
from sipcheck.sip.registrar.core import Registrar
from sipcheck.sip.registrar.responses import make_response, stamp_via
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.parser import StreamFramer, parse_message
from sipcheck.trace import Address, Trace, TraceEntry

IDLE_SECONDS = 32.0  # an attempt left waiting this long is over (Timer F)


@dataclass(frozen=True)
class Faults:
    drop: float = 0.0  # share of requests silently dropped
    busy: float = 0.0  # share of requests answered 503
    retry_after: int = 30
    delay: float = 0.0  # seconds before each response


@dataclass
class Stats:
    requests: int = 0
    responses: dict[int, int] = field(default_factory=dict)
    dropped: int = 0
    unparseable: int = 0


class RegistrarServer:
    def __init__(
        self,
        registrar: Registrar,
        *,
        faults: Faults | None = None,
        rng: random.Random | None = None,
        on_attempt: Callable[[AttemptLog], None] | None = None,
        record: bool = True,
    ) -> None:
        self.registrar = registrar
        self.faults = faults or Faults()
        self.rng = rng or random.Random()
        self.on_attempt = on_attempt
        self.record = record
        self.stats = Stats()
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.wall0 = time.time()
        self._open: dict[str, AttemptLog] = {}
        self._closers: list[Callable[[], None]] = []
        self._servers: list[asyncio.base_events.Server] = []

    def now(self) -> float:
        return self.loop.time() - self.t0

    # ------------------------------------------------------------ listeners

    async def listen(
        self, transport: str, host: str, port: int, tls: ssl.SSLContext | None = None
    ) -> Address:
        try:
            if transport == "udp":
                return await self._listen_udp(host, port)
            context = tls if transport == "tls" else None
            if transport == "tls" and context is None:
                raise TransportError("TLS needs a certificate (--cert/--key or --self-signed)")
            server = await self.loop.create_server(
                lambda: _StreamServerProtocol(self, transport), host, port, ssl=context
            )
        except OSError as exc:
            raise TransportError(
                f"cannot listen on {transport.upper()} {Address(host, port)}: "
                f"{exc.strerror or exc}",
                hint="is another server using that port? port 0 picks a free one",
            ) from exc
        self._servers.append(server)
        sockname = server.sockets[0].getsockname()
        return Address(str(sockname[0]), int(sockname[1]))

    async def _listen_udp(self, host: str, port: int) -> Address:
        listener = UdpListener(self.loop, await bind_udp(self.loop, host, port), self.handle)
        await listener.start()
        self._closers.append(listener.close)
        return listener.local

    async def close(self) -> None:
        for close in self._closers:
            close()
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        self.flush(everything=True)

    # ------------------------------------------------------------ requests

    def handle(
        self,
        data: bytes,
        source: Address,
        local: Address,
        transport: str,
        send: Callable[[bytes], None],
    ) -> None:
        stats = self.stats
        stats.requests += 1
        faults = self.faults
        if faults.drop and self.rng.random() < faults.drop:
            stats.dropped += 1
            return
        try:
            message = parse_message(data, stream=transport != "udp")
        except SipParseError as exc:
            stats.unparseable += 1
            if self.record:
                self._unparseable(data, exc, source, local, transport)
            return
        if not isinstance(message, Request):
            return
        now = self.now()
        stamp_via(message, source.host, source.port)
        if faults.busy and self.rng.random() < faults.busy:
            response = make_response(
                message, 503, None, headers=[("Retry-After", str(faults.retry_after))]
            )
            result_attempt = Attempt(message.method, (source.host, source.port), transport, now)
            result_attempt.status, result_attempt.reason = 503, response.reason
            out = response.to_bytes()
        else:
            result = self.registrar.handle(
                message,
                now,
                source=(source.host, source.port),
                transport=transport.upper(),
                wall_time=self.wall0 + now,
            )
            if result.response is None:
                return
            result_attempt = result.attempt
            out = result.response.to_bytes()
        status = result_attempt.status
        stats.responses[status] = stats.responses.get(status, 0) + 1
        if faults.delay:
            self.loop.call_later(faults.delay, send, out)
        else:
            send(out)
        if self.record:
            self._remember(data, out, message, result_attempt, source, local, transport, now)

    def _remember(
        self,
        data: bytes,
        out: bytes,
        request: Request,
        attempt: Attempt,
        source: Address,
        local: Address,
        transport: str,
        now: float,
    ) -> None:
        call_id = request.call_id or f"?{source}"
        log = self._open.get(call_id)
        if log is None:
            log = AttemptLog(call_id, Trace(wall_start=self.wall0 + now), started=now)
            self._open[call_id] = log
        start = log.started
        retrans = attempt.retransmission
        log.trace.add(TraceEntry("in", now - start, local, source, transport, data, retrans))
        sent_at = now - start + self.faults.delay
        log.trace.add(TraceEntry("out", sent_at, local, source, transport, out, retrans))
        log.requests.append(attempt)
        log.last_seen = now
        # A challenge or a 423 is normally followed by a better request; a
        # mistake in the client's answer ends the attempt (it rarely recovers).
        finished = attempt.status not in (401, 407, 423) or any(
            m.severity == "error" and m.id != "interval-too-brief" for m in attempt.mistakes
        )
        if finished:
            del self._open[call_id]
            if self.on_attempt is not None:
                self.on_attempt(log)
        self.flush()

    def _unparseable(
        self, data: bytes, exc: SipParseError, source: Address, local: Address, transport: str
    ) -> None:
        """Show the device's broken message and why it cannot be answered."""
        now = self.now()
        attempt = Attempt("?", (source.host, source.port), transport, now)
        attempt.add("bad-request", f"unparseable message, not answered: {exc}")
        log = AttemptLog(f"?{source}", Trace(wall_start=self.wall0 + now), started=now)
        log.trace.add(TraceEntry("in", 0.0, local, source, transport, data, note=str(exc)))
        log.requests.append(attempt)
        if self.on_attempt is not None:
            self.on_attempt(log)

    def flush(self, *, everything: bool = False) -> None:
        """Hand over attempts that were left waiting (the client gave up)."""
        if not self._open:
            return
        now = self.now()
        for call_id, log in list(self._open.items()):
            if everything or now - log.last_seen > IDLE_SECONDS:
                del self._open[call_id]
                if self.on_attempt is not None:
                    self.on_attempt(log)


class _StreamServerProtocol(asyncio.Protocol):
    def __init__(self, server: RegistrarServer, transport_name: str) -> None:
        self.server = server
        self.transport_name = transport_name
        self.framer = StreamFramer()
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
        try:
            messages = self.framer.feed(data)
        except SipParseError:
            # RFC 3261 §18.3: a stream that cannot be framed must be closed.
            transport.close()
            return
        pings = self.framer.pings
        if pings:
            self.framer.pings = 0
            transport.write(b"\r\n" * pings)  # RFC 5626 §3.5.1 pong
        for message in messages:
            self.server.handle(message, self.peer, self.local, self.transport_name, transport.write)
