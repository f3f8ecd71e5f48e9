"""The client core and the registrar core paired in memory (DESIGN.md, test tier 2).

As aioquic's tests pair two connections, this runs a ``Registration`` against one or
more peers over a ``Link`` that loses, duplicates, reorders and delays datagrams by a
seeded ``random.Random`` and by explicit datagram numbers, on a ``FakeClock``. Nothing
sleeps and nothing is random beyond the seeds, so every time in the resulting Trace is
exact.

A peer is the real registrar core (``RegistrarPeer``), a function of the request bytes
for answers the registrar core cannot give (``ScriptedPeer``), a proxy that challenges
with 407 in front of another peer (``ProxyPeer``), or ``UNREACHABLE`` (nothing
listens: the client gets a transport error, as with ICMP port unreachable).

``run_pair`` drives the client as ``sipcheck.net.client`` does and returns a
``PairRecord``: a ``sipcheck.outcome.RunRecord`` (for ``build_outcome``) that also holds
the clock, the link, the peers and every client event.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from sipcheck.diagnosis.facts import STEP_SEND
from sipcheck.outcome import FailureRecord, RunRecord
from sipcheck.sip.client.config import RegistrationConfig
from sipcheck.sip.client.events import Event, PasswordNeeded, StrayIgnored, TargetFailed
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.locate.targets import Resolution, Target
from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.sip.registrar.config import RegistrarConfig
from sipcheck.sip.registrar.core import Registrar
from sipcheck.sip.registrar.service import RegistrarService
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.auth import Challenge, format_challenge
from sipcheck.sip.wire.headers import Headers
from sipcheck.sip.wire.message import Request, Response
from sipcheck.sip.wire.parser import parse_message
from sipcheck.trace import Address, Trace, TraceEntry

UP = "up"  # client -> peer
DOWN = "down"  # peer -> client
CLIENT_HOST = "127.0.0.1"
CLIENT_PORT = 40000  # the first local port; each new connection takes the next one
PEER_PORT = 5060  # peer i listens on PEER_PORT + 10 * i
SECRET = b"pairing-secret"
PROXY_SECRET = b"pairing-proxy-secret"  # two cores with one secret issue equal nonces


def peer_address(index: int) -> Address:
    return Address(CLIENT_HOST, PEER_PORT + 10 * index)


class FakeClock:
    """Monotonic seconds that move only when told to."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def advance_to(self, when: float) -> None:
        if when < self.now:
            raise ValueError(f"the fake clock cannot go back from {self.now} to {when}")
        self.now = when

    def advance(self, seconds: float) -> None:
        self.advance_to(self.now + seconds)


# --------------------------------------------------------------------------- link


@dataclass(frozen=True)
class Faults:
    """What the link does to the datagrams of one direction.

    ``loss``, ``duplicate`` and ``reorder`` are probabilities, decided by the link's
    seeded rng with three draws per datagram whether used or not (so one decision never
    shifts the later ones). ``drop``, ``dup`` and ``hold`` name 1-based datagram numbers
    in this direction and apply whatever the draws say. A held (reordered) datagram is
    delivered right after the next datagram of its direction; if none follows, it is lost.
    """

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    drop: frozenset[int] = frozenset()
    dup: frozenset[int] = frozenset()
    hold: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Datagram:
    direction: str  # UP | DOWN
    number: int  # 1-based, per direction
    source: Address
    destination: Address
    data: bytes
    sent: float


@dataclass(frozen=True)
class LinkEvent:
    time: float
    direction: str
    number: int
    action: str  # sent | lost | duplicated | held | delivered | released | no-socket


class Link:
    """Datagrams both ways, with a fixed one-way ``delay`` and per-direction faults."""

    def __init__(
        self,
        *,
        seed: int = 0,
        delay: float = 0.0,
        up: Faults | None = None,
        down: Faults | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.delay = delay
        self.faults = {UP: up or Faults(), DOWN: down or Faults()}
        self.counts = {UP: 0, DOWN: 0}
        self.log: list[LinkEvent] = []
        self._queue: list[tuple[float, int, Datagram]] = []
        self._order = 0
        self._held: dict[str, list[Datagram]] = {UP: [], DOWN: []}

    def send(
        self, direction: str, source: Address, destination: Address, data: bytes, now: float
    ) -> None:
        self.counts[direction] += 1
        n = self.counts[direction]
        faults = self.faults[direction]
        lose, duplicate, reorder = (self.rng.random() for _ in range(3))
        datagram = Datagram(direction, n, source, destination, data, now)
        self.log.append(LinkEvent(now, direction, n, "sent"))
        if n in faults.drop or lose < faults.loss:
            self.log.append(LinkEvent(now, direction, n, "lost"))
            return
        copies = 1
        if n in faults.dup or duplicate < faults.duplicate:
            self.log.append(LinkEvent(now, direction, n, "duplicated"))
            copies = 2
        if n in faults.hold or reorder < faults.reorder:
            self.log.append(LinkEvent(now, direction, n, "held"))
            self._held[direction].extend([datagram] * copies)
            return
        for _ in range(copies):
            self._push(now + self.delay, datagram)

    def _push(self, when: float, datagram: Datagram) -> None:
        self._order += 1
        heapq.heappush(self._queue, (when, self._order, datagram))

    def next_delivery(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    def pop_due(self, now: float) -> Datagram | None:
        """The next datagram due by ``now``, releasing what it overtook."""
        if not self._queue or self._queue[0][0] > now:
            return None
        when, _, datagram = heapq.heappop(self._queue)
        self.log.append(LinkEvent(when, datagram.direction, datagram.number, "delivered"))
        held, self._held[datagram.direction] = self._held[datagram.direction], []
        for late in held:
            self.log.append(LinkEvent(when, late.direction, late.number, "released"))
            self._push(when, late)
        return datagram

    def actions(self, direction: str, action: str) -> list[int]:
        """Datagram numbers of one direction that met ``action``, in order."""
        return [e.number for e in self.log if e.direction == direction and e.action == action]


# -------------------------------------------------------------------------- peers


class Peer(Protocol):
    def handle(self, data: bytes, now: float, source: Address) -> bytes | None: ...


@dataclass(frozen=True)
class Served:
    time: float
    request: bytes
    response: bytes | None


class RegistrarPeer:
    """The registrar core through its one entry point, as ``sipcheck.net.server``
    drives it: bytes in (with the source address), bytes out."""

    LOCAL = Address("127.0.0.1", 5060)

    def __init__(self, config: RegistrarConfig, *, secret: bytes = SECRET) -> None:
        self.core = RegistrarService(Registrar(config, secret), record=False)
        self.served: list[Served] = []
        self.attempts: list[Attempt] = []

    def handle(self, data: bytes, now: float, source: Address) -> bytes | None:
        result = self.core.receive(data, source=source, local=self.LOCAL, transport="udp", now=now)
        self.attempts.extend(result.handled)
        out = result.sends[0].data if result.sends else None
        self.served.append(Served(now, data, out))
        return out


Script = Callable[[bytes], bytes | None]


class ScriptedPeer:
    """A peer whose answer is a function of the request's bytes (None: no answer)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.served: list[Served] = []

    def handle(self, data: bytes, now: float, source: Address) -> bytes | None:
        out = self.script(data)
        self.served.append(Served(now, data, out))
        return out


class ProxyPeer:
    """An outbound proxy that challenges with 407 in front of ``inner``.

    Its authentication is a registrar core in proxy mode: what that core would accept
    (a 2xx) is passed on unchanged to ``inner`` (a transparent proxy: no Via of its own);
    anything else (the 407) is answered by the proxy itself.
    """

    def __init__(self, proxy: RegistrarConfig, inner: Peer) -> None:
        if proxy.challenge != "proxy":
            raise ValueError("the proxy's registrar config needs challenge='proxy'")
        self.front = RegistrarPeer(proxy, secret=PROXY_SECRET)
        self.inner = inner

    def handle(self, data: bytes, now: float, source: Address) -> bytes | None:
        answer = self.front.handle(data, now, source)
        if answer is None or not answer.startswith(b"SIP/2.0 2"):
            return answer
        return self.inner.handle(data, now, source)


class Unreachable:
    """Nothing listens there: every datagram comes back as a transport error."""

    detail = "ICMP port unreachable"


UNREACHABLE = Unreachable()


# ------------------------------------------------------------- scripted answers

_REASONS = {
    100: "Trying",
    200: "OK",
    302: "Moved Temporarily",
    401: "Unauthorized",
    404: "Not Found",
    407: "Proxy Authentication Required",
    423: "Interval Too Brief",
    503: "Service Unavailable",
    603: "Decline",
}


def reply(request: bytes, status: int, reason: str | None = None, *extra: tuple[str, str]) -> bytes:
    """A response to ``request`` (RFC 3261 §8.2.6.2): Via, From, To, Call-ID and CSeq
    copied from the parsed request, a To tag added (except on 100), then ``extra``."""
    message = parse_message(request)
    assert isinstance(message, Request), "a scripted peer answers requests only"
    headers = Headers()
    for name in ("Via", "From", "To", "Call-ID", "CSeq"):
        for value in message.headers.get_all(name):
            if name == "To" and status != 100 and ";tag=" not in value:
                value = f"{value};tag=scripted"
            headers.add(name, value)
    for name, value in extra:
        headers.add(name, value)
    headers.add("Content-Length", "0")
    return Response(status, reason or _REASONS.get(status, "Scripted"), headers).to_bytes()


def cseq_of(request: bytes) -> int:
    message = parse_message(request)
    return fields.parse_cseq(message.headers.get("CSeq") or "").number


def always(status: int, *extra: tuple[str, str]) -> Script:
    """Every request gets the same status and extra headers."""
    return lambda request: reply(request, status, None, *extra)


def in_turn(*scripts: Script) -> Script:
    """The request with CSeq n gets ``scripts[n - 1]`` (the last one repeats), so a
    retransmission gets the same answer as its original."""

    def script(request: bytes) -> bytes | None:
        n = cseq_of(request)
        return scripts[min(n, len(scripts)) - 1](request)

    return script


def challenge_header(
    realm: str, nonce: str, *, proxy: bool = False, stale: bool = False
) -> tuple[str, str]:
    value = format_challenge(
        Challenge("Digest", realm, nonce, algorithm="MD5", qop_options=("auth",), stale=stale)
    )
    return ("Proxy-Authenticate" if proxy else "WWW-Authenticate", value)


def challenge(realm: str = "example.com", *, proxy: bool = False, stale: bool = False) -> Script:
    """A digest challenge, with a nonce derived from the CSeq (new per request)."""

    def script(request: bytes) -> bytes | None:
        n = cseq_of(request)
        status = 407 if proxy else 401
        return reply(
            request,
            status,
            None,
            challenge_header(realm, f"nonce{n:04d}", proxy=proxy, stale=stale),
        )

    return script


def stale_forever(realm: str = "example.com") -> Script:
    """A registrar whose nonces are always stale: every answer gets stale=true."""
    return in_turn(challenge(realm), challenge(realm, stale=True))


def realm_changing(realm: str = "example.com") -> Script:
    """A server that challenges each request for a new realm: realm, realm-2, ..."""

    def script(request: bytes) -> bytes | None:
        n = cseq_of(request)
        name = realm if n == 1 else f"{realm}-{n}"
        return reply(request, 401, None, challenge_header(name, f"nonce{n:04d}"))

    return script


# ------------------------------------------------------------------------- driver


@dataclass
class PairRecord(RunRecord):
    """A RunRecord (give it to ``build_outcome``) and what the pairing saw."""

    clock: FakeClock = field(default_factory=FakeClock)
    link: Link = field(default_factory=Link)
    peers: tuple[Peer | Unreachable, ...] = ()
    events: list[Event] = field(default_factory=list)

    @property
    def sent(self) -> list[TraceEntry]:
        return [e for e in self.trace.entries if e.direction == "out"]

    @property
    def received(self) -> list[TraceEntry]:
        return [e for e in self.trace.entries if e.direction == "in"]

    @property
    def cseqs(self) -> list[int]:
        """The CSeq of each new request (retransmissions left out), in order."""
        return [cseq_of(e.raw) for e in self.sent if not e.retransmission]

    @property
    def retransmissions(self) -> int:
        return sum(1 for e in self.sent if e.retransmission)

    @property
    def send_times(self) -> list[float]:
        return [e.time for e in self.sent]


PeerLike = Peer | Unreachable | RegistrarConfig
OnFailure = Literal["next", "same", "give-up"]


def run_pair(
    client: RegistrationConfig,
    peers: PeerLike | Sequence[PeerLike],
    link: Link | None = None,
    *,
    password: str | None = None,
    prompt_seconds: float = 0.0,
    on_failure: OnFailure = "next",
    seed: int = 7,
    clock: FakeClock | None = None,
    bind: Address | None = None,
    max_steps: int = 10_000,
) -> PairRecord:
    """Run ``client`` to completion against ``peers`` (peer i at ``peer_address(i)``).

    The client starts on peer 0. After a TargetFailed it follows a redirect to the peer
    at the Contact's address (a numeric "resolution"; none there: give up), and
    otherwise goes to the next peer (``"next"``, give up when none is left), back to the
    same one (``"same"``) or gives up (``"give-up"``). Each connection is a new local
    port (or the one ``bind`` address, as ``--bind`` does); what is still in flight to
    an old connection is dropped. PasswordNeeded is answered with ``password`` after
    ``prompt_seconds`` of fake time. The client core draws from ``random.Random(seed)``.
    """
    listed = list(peers) if isinstance(peers, Sequence) else [peers]
    made = tuple(RegistrarPeer(p) if isinstance(p, RegistrarConfig) else p for p in listed)
    driver = _Driver(
        client,
        made,
        link or Link(),
        clock or FakeClock(),
        password,
        prompt_seconds,
        on_failure,
        seed,
        bind,
    )
    driver.run(max_steps)
    return driver.record


class _Driver:
    def __init__(
        self,
        client: RegistrationConfig,
        peers: tuple[Peer | Unreachable, ...],
        link: Link,
        clock: FakeClock,
        password: str | None,
        prompt_seconds: float,
        on_failure: OnFailure,
        seed: int,
        bind: Address | None,
    ) -> None:
        self.clock = clock
        self.link = link
        self.peers = peers
        self.password = password
        self.prompt_seconds = prompt_seconds
        self.on_failure = on_failure
        self.reg = Registration(client, rng=random.Random(seed), now=clock.now)
        self.targets = tuple(
            Target(a.host, a.host, a.port, "udp") for a in map(peer_address, range(len(peers)))
        )
        resolution = Resolution(self.targets, ())
        self.record = PairRecord(
            client.mode.value,
            self.reg,
            Trace(),
            resolution,
            None,
            clock=clock,
            link=link,
            peers=peers,
        )
        self.connections = 0
        self.bind = bind
        self.current = -1
        self.local = Address(CLIENT_HOST, CLIENT_PORT)
        self.remote = peer_address(0)

    def run(self, max_steps: int) -> None:
        reg = self.reg
        self._connect(0)
        reg.start(self.clock.now)
        self._settle()
        steps = 0
        while not reg.done:
            steps += 1
            if steps > max_steps:
                raise AssertionError(f"the pairing did not finish within {max_steps} steps")
            due = [t for t in (reg.next_timer(), self.link.next_delivery()) if t is not None]
            if not due:
                raise AssertionError("the client waits for nothing and is not done")
            self.clock.advance_to(max(self.clock.now, min(due)))
            datagram = self.link.pop_due(self.clock.now)
            if datagram is not None:
                self._deliver(datagram)  # deliveries before timers due at the same time
            else:
                reg.handle_timer(self.clock.now)
            self._settle()

    # --- the client's side of the wire ---------------------------------------------

    def _connect(self, index: int) -> None:
        self.current = index
        self.local = self.bind or Address(CLIENT_HOST, CLIENT_PORT + self.connections)
        self.connections += 1
        self.remote = peer_address(index)
        self.record.target = self.targets[index]
        self.record.trace.note(self.clock.now, "connect", f"UDP {self.local} -> {self.remote}")
        self.reg.connect(self.local.host, self.local.port, "udp")

    def _flush(self) -> None:
        now = self.clock.now
        for out in self.reg.take_outgoing():
            self.record.trace.add(
                TraceEntry("out", now, self.local, self.remote, "udp", out.data, out.retransmission)
            )
            self.link.send(UP, self.local, self.remote, out.data, now)

    def _deliver(self, datagram: Datagram) -> None:
        now = self.clock.now
        if datagram.direction == UP:
            index = (datagram.destination.port - PEER_PORT) // 10
            peer = self.peers[index]
            if isinstance(peer, Unreachable):
                if datagram.source == self.local:
                    self.record.trace.note(now, "error", peer.detail, STEP_SEND)
                    self.reg.transport_error(peer.detail, now)
                return
            answer = peer.handle(datagram.data, now, datagram.source)
            if answer is not None:
                self.link.send(DOWN, datagram.destination, datagram.source, answer, now)
            return
        if datagram.destination != self.local or datagram.source != self.remote:
            # The connected socket it was meant for is closed (or never was).
            self.link.log.append(LinkEvent(now, DOWN, datagram.number, "no-socket"))
            return
        entry = self.record.trace.add(
            TraceEntry("in", now, self.local, datagram.source, "udp", datagram.data)
        )
        self.reg.receive(datagram.data, now)
        for event in self.reg.events:
            if isinstance(event, StrayIgnored) and event.raw is datagram.data:
                entry.note = f"ignored: {event.reason}"

    def _settle(self) -> None:
        """Send what the core queued and answer its events until it is quiet."""
        while True:
            self._flush()
            events = self.reg.take_events()
            if not events:
                return
            self.record.events.extend(events)
            for event in events:
                if isinstance(event, TargetFailed):
                    self._target_failed(event)
                elif isinstance(event, PasswordNeeded):
                    self.clock.advance(self.prompt_seconds)
                    self.reg.provide_password(event.realm, self.password, self.clock.now)

    def _target_failed(self, event: TargetFailed) -> None:
        now = self.clock.now
        target = self.record.target
        if target is not None:
            self.record.failures.append(FailureRecord(target, event.reason, event.detail))
        index: int | None
        if event.redirect_to is not None:
            uri = event.redirect_to
            wanted = Address(uri.host, uri.port or PEER_PORT)
            self.record.trace.note(now, "resolve", f"redirected to {uri}")
            index = next((i for i in range(len(self.peers)) if peer_address(i) == wanted), None)
        elif self.on_failure == "next":
            index = self.current + 1 if self.current + 1 < len(self.peers) else None
        elif self.on_failure == "same":
            index = self.current
        else:
            index = None
        if index is None:
            self.reg.give_up(now)
            return
        self._connect(index)
        self.reg.resume(now)
