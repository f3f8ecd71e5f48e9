"""RFC 3263 server location, sans-I/O.

`plan_targets` is a generator: it yields batches of DNS queries (`Query`),
the caller performs them however it likes and sends back a mapping from each
query to its `Answer`; when the plan is complete the generator returns a
`Resolution` (all targets in try order, plus the steps taken) or raises
`ResolutionFailed`.  The queries of one batch are independent of each other,
so a shell may run them concurrently.  `run_plan` drives a plan from a plain
lookup function (used by the tests with canned answers).

No sockets, no clocks; randomness (RFC 2782 weighted SRV ordering) comes from
the `random.Random` the caller passes in.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from sipcheck.errors import ConfigError, ResolutionError
from sipcheck.sip.wire.hostport import numeric_host, parse_hostport

TRANSPORTS = ("udp", "tcp", "tls")
DEFAULT_PORTS = {"udp": 5060, "tcp": 5060, "tls": 5061}

HINT_CHECK_NAME = "check the domain name, or give --server HOST:PORT"
HINT_DNS_DOWN = (
    "no usable answer from the DNS server; check your network and resolver settings, "
    "or give --server IP:PORT to skip DNS"
)

__all__ = [
    "Answer",
    "AnswerStatus",
    "NaptrRecord",
    "Plan",
    "Query",
    "Record",
    "Resolution",
    "ResolutionFailed",
    "ResolutionStep",
    "SrvRecord",
    "Target",
    "default_port",
    "numeric_host",
    "order_srv",
    "parse_hostport",
    "plan_targets",
    "run_plan",
    "srv_name",
]

QType = Literal["NAPTR", "SRV", "A", "AAAA"]


@dataclass(frozen=True)
class Target:
    """One address to try."""

    host: str  # the name the address came from (or the address itself); for SNI/display
    address: str  # numeric IPv4/IPv6
    port: int
    transport: str  # "udp" | "tcp" | "tls"


@dataclass(frozen=True)
class ResolutionStep:
    """One DNS query and what it returned, for display."""

    kind: str  # "NAPTR" | "SRV" | "A" | "AAAA"
    name: str
    answers: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Resolution:
    targets: tuple[Target, ...]
    steps: tuple[ResolutionStep, ...]


class ResolutionFailed(ResolutionError):
    """No target could be found; `steps` tells what was asked and answered."""

    def __init__(
        self, message: str, *, hint: str | None = None, steps: Sequence[ResolutionStep] = ()
    ) -> None:
        super().__init__(message, hint=hint)
        self.steps = tuple(steps)


# --- the query/answer protocol between planner and shell -------------------


@dataclass(frozen=True)
class Query:
    qtype: QType
    name: str


@dataclass(frozen=True)
class NaptrRecord:
    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str  # "." for none

    def __str__(self) -> str:
        return (
            f'{self.order} {self.preference} "{self.flags}" "{self.service}" '
            f'"{self.regexp}" {self.replacement}'
        )


@dataclass(frozen=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str  # "." means the service is not available

    def __str__(self) -> str:
        return f"{self.priority} {self.weight} {self.port} {self.target}"


Record = NaptrRecord | SrvRecord | str  # str: an A/AAAA address


class AnswerStatus(Enum):
    OK = "ok"
    NXDOMAIN = "nxdomain"  # the name does not exist
    NODATA = "nodata"  # the name exists, no records of this type
    TIMEOUT = "timeout"  # no answer in time
    FAILED = "failed"  # SERVFAIL, REFUSED, unreachable servers, bad name...


@dataclass(frozen=True)
class Answer:
    status: AnswerStatus
    records: tuple[Record, ...] = ()
    detail: str = ""  # the shell's remark: error text, or where the answer came from

    @classmethod
    def ok(cls, *records: Record, detail: str = "") -> Answer:
        if not records:
            return cls(AnswerStatus.NODATA, (), detail)
        return cls(AnswerStatus.OK, records, detail)


Plan = Generator[tuple[Query, ...], Mapping[Query, Answer], Resolution]


# --- pure helpers ----------------------------------------------------------


def default_port(transport: str) -> int:
    return DEFAULT_PORTS[transport]


def order_srv(records: Iterable[SrvRecord], rng: random.Random) -> list[SrvRecord]:
    """Order SRV records for trying: by priority, then RFC 2782 weighted random."""
    usable = [r for r in records if r.target != "."]
    ordered: list[SrvRecord] = []
    for priority in sorted({r.priority for r in usable}):
        # RFC 2782 "Usage rules": zero weights first, then pick by running sum.
        group = [r for r in usable if r.priority == priority and r.weight == 0]
        group += [r for r in usable if r.priority == priority and r.weight > 0]
        while len(group) > 1:
            total = sum(r.weight for r in group)
            pick = rng.randint(0, total)
            running = 0
            for index, record in enumerate(group):
                running += record.weight
                if running >= pick:
                    ordered.append(group.pop(index))
                    break
        ordered += group
    return ordered


def srv_name(transport: str, domain: str) -> str:
    # RFC 3263 §4.2: TLS uses the "_sips" service even for SIP URIs.
    service = "_sips._tcp" if transport == "tls" else f"_sip._{transport}"
    return f"{service}.{domain}"


_NAPTR_SERVICES = {"SIP+D2U": "udp", "SIP+D2T": "tcp", "SIPS+D2T": "tls"}


def _normalize_transport(transport: str | None, secure: bool) -> str | None:
    if transport is None:
        return None
    value = transport.lower()
    if value not in TRANSPORTS:
        raise ConfigError(f"unknown transport {transport!r}", hint="use udp, tcp or tls")
    if secure and value == "udp":
        raise ConfigError("a sips: URI needs TLS; transport udp is not allowed", hint="use tls")
    # RFC 3261 §26.2.2: for sips, transport=tcp means TLS over TCP.
    return "tls" if secure else value


# --- the planner -----------------------------------------------------------


def plan_targets(
    host: str,
    port: int | None = None,
    transport: str | None = None,
    *,
    secure: bool = False,
    rng: random.Random,
    family: int | None = None,
) -> Plan:
    """Generator implementing RFC 3263 §4 client rules; see the module docstring.

    Addresses of one name are listed A first, then AAAA, each family in the order
    returned; `family` 4 asks for A records only, 6 for AAAA only (-4, -6).
    """
    chosen = _normalize_transport(transport, secure)
    if port is not None and not 1 <= port <= 65535:
        raise ConfigError(f"port {port} out of range", hint="use 1-65535")
    return _Planner(host, port, chosen, secure, rng, family).run()


def run_plan(plan: Plan, lookup: Callable[[Query], Answer]) -> Resolution:
    """Drive a plan synchronously, answering each query with `lookup`."""
    try:
        batch = next(plan)
        while True:
            batch = plan.send({query: lookup(query) for query in batch})
    except StopIteration as stop:
        result: Resolution = stop.value
        return result


class _Planner:
    def __init__(
        self,
        host: str,
        port: int | None,
        transport: str | None,
        secure: bool,
        rng: random.Random,
        family: int | None,
    ) -> None:
        if not host:
            raise ConfigError("empty host name", hint="give a domain name or IP address")
        self.host = host
        self.port = port
        self.transport = transport
        self.secure = secure
        self.rng = rng
        self.families: tuple[QType, ...] = (
            ("A",) if family == 4 else ("AAAA",) if family == 6 else ("A", "AAAA")
        )
        self.default_transport = "tls" if secure else "udp"
        self.steps: list[ResolutionStep] = []
        self.seen: set[AnswerStatus] = set()
        self.last: set[AnswerStatus] = set()  # statuses of the latest batch
        self.srv_unavailable: list[str] = []

    def run(self) -> Plan:
        address = numeric_host(self.host)
        if address is not None:
            # RFC 3263 §4.1/§4.2: numeric host, no DNS at all.
            transport = self.transport or self.default_transport
            port = self.port or default_port(transport)
            return self._done([Target(address, address, port, transport)])
        name = self.host
        if self.port is not None:
            # RFC 3263 §4.2: explicit port, so A/AAAA only.
            transport = self.transport or self.default_transport
            why = f"explicit port {self.port}: A/AAAA only"
            targets = yield from self._addresses([(name, self.port, transport)], why)
            return self._done(targets)
        if _is_localhost(name):
            transport = self.transport or self.default_transport
            why = "localhost is never looked up in NAPTR/SRV (RFC 6761 §6.3)"
            port = default_port(transport)
            return self._done((yield from self._addresses([(name, port, transport)], why)))
        if self.transport is not None:
            # RFC 3263 §4.2: transport given, so SRV for it alone.
            srv = [(srv_name(self.transport, name), self.transport)]
            why = f"transport {self.transport} given: no NAPTR"
            return self._done((yield from self._srv_then_addresses(srv, self.transport, why)))
        return self._done((yield from self._naptr(name)))

    def _naptr(
        self, name: str
    ) -> Generator[tuple[Query, ...], Mapping[Query, Answer], list[Target]]:
        query = Query("NAPTR", name)
        answer = (yield from self._ask([query]))[query]
        records = [r for r in answer.records if isinstance(r, NaptrRecord)]
        usable = sorted(
            (r for r in records if self._naptr_transport(r) is not None),
            key=lambda r: (r.order, r.preference),  # RFC 3263 §4.1; sort is stable
        )
        srv: list[tuple[str, str]] = []
        for record in usable:
            pair = (record.replacement, self._naptr_transport(record) or "")
            if pair not in srv:
                srv.append(pair)
        note = ""
        if srv:
            note = "using " + ", ".join(f"{t} via {n}" for n, t in srv)
        elif records:
            note = "no usable SIP records; trying SRV"
        self._record(query, answer, note)
        fallback = self.default_transport
        if srv:
            fallback = srv[0][1]
        elif answer.status in (AnswerStatus.NXDOMAIN, AnswerStatus.TIMEOUT):
            # The SRV names live under this name: NXDOMAIN covers them too
            # (RFC 8020), and a silent server will not answer them either.
            why = "SRV skipped: " + (
                "name does not exist" if answer.status is AnswerStatus.NXDOMAIN else "DNS timed out"
            )
            return (yield from self._addresses([(name, default_port(fallback), fallback)], why))
        else:
            # RFC 3263 §4.1: no NAPTR, so SRV for each supported transport.
            transports = ("tls",) if self.secure else TRANSPORTS
            srv = [(srv_name(t, name), t) for t in transports]
        return (yield from self._srv_then_addresses(srv, fallback, ""))

    def _naptr_transport(self, record: NaptrRecord) -> str | None:
        if record.flags.lower() != "s" or record.regexp or record.replacement == ".":
            return None
        transport = _NAPTR_SERVICES.get(record.service.upper())
        if self.secure and transport != "tls":
            return None  # RFC 3263 §4.1: sips discards non-TLS services
        return transport

    def _srv_then_addresses(
        self, srv: list[tuple[str, str]], fallback: str, why: str
    ) -> Generator[tuple[Query, ...], Mapping[Query, Answer], list[Target]]:
        queries = [Query("SRV", n) for n, _ in srv]
        answers = yield from self._ask(queries)
        wanted: list[tuple[str, int, str]] = []
        for (name, transport), query in zip(srv, queries, strict=True):
            answer = answers[query]
            records = [r for r in answer.records if isinstance(r, SrvRecord)]
            ordered = order_srv(records, self.rng)
            note = why
            if records and not ordered:
                self.srv_unavailable.append(f"{transport} ({name})")
                note = _join(note, 'target "." : service not available (RFC 2782)')
            elif ordered:
                note = _join(
                    note, "try order: " + ", ".join(f"{r.target}:{r.port}" for r in ordered)
                )
            self._record(query, answer, note)
            wanted += [(r.target, r.port, transport) for r in ordered]
        if wanted:
            return (yield from self._addresses(wanted, ""))
        if self.srv_unavailable:
            return []  # a "." target is decidedly final; no A/AAAA fallback
        # RFC 3263 §4.2: no SRV records, so A/AAAA at the default port.
        return (yield from self._addresses([(self.host, default_port(fallback), fallback)], ""))

    def _addresses(
        self, wanted: list[tuple[str, int, str]], why: str
    ) -> Generator[tuple[Query, ...], Mapping[Query, Answer], list[Target]]:
        names = list(dict.fromkeys(name for name, _, _ in wanted))
        queries = [Query(family, name) for name in names for family in self.families]
        answers = yield from self._ask(queries)
        for query in queries:
            self._record(query, answers[query], why)
        targets: list[Target] = []
        for name, port, transport in wanted:
            for family in self.families:
                for record in answers[Query(family, name)].records:
                    if not isinstance(record, str):
                        continue
                    target = Target(name, record, port, transport)
                    if target not in targets:
                        targets.append(target)
        return targets

    def _ask(
        self, queries: list[Query]
    ) -> Generator[tuple[Query, ...], Mapping[Query, Answer], Mapping[Query, Answer]]:
        answers = yield tuple(queries)
        missing = [q for q in queries if q not in answers]
        if missing:
            raise ValueError(f"no answer sent for {missing}")
        self.last = {answers[query].status for query in queries}
        self.seen |= self.last
        return answers

    def _record(self, query: Query, answer: Answer, note: str) -> None:
        status = "" if answer.status is AnswerStatus.OK else answer.status.value.upper()
        text = _join(_join(status, answer.detail), note)
        answers = tuple(str(r) for r in answer.records)
        self.steps.append(ResolutionStep(query.qtype, query.name, answers, text))

    def _done(self, targets: list[Target]) -> Resolution:
        if targets:
            return Resolution(tuple(targets), tuple(self.steps))
        if self.srv_unavailable:
            message = f"{self.host}: SRV says SIP is not available over " + ", ".join(
                self.srv_unavailable
            )
            hint = "try another --transport, or give --server HOST:PORT"
        elif self.last <= {AnswerStatus.TIMEOUT, AnswerStatus.FAILED}:
            # The final address lookups got no answer at all: blame DNS, not the name.
            failure = "timed out" if AnswerStatus.TIMEOUT in self.last else "failed"
            message = f"{self.host}: DNS lookup {failure}"
            hint = HINT_DNS_DOWN
        elif AnswerStatus.OK in self.seen or AnswerStatus.NODATA in self.seen:
            asked = ", ".join(("NAPTR", "SRV", *self.families))
            message = f"{self.host}: no SIP server addresses found (no usable {asked})"
            hint = HINT_CHECK_NAME
        else:
            message = f"{self.host}: no such domain (NXDOMAIN)"
            hint = HINT_CHECK_NAME
        raise ResolutionFailed(message, hint=hint, steps=self.steps)


def _is_localhost(name: str) -> bool:
    bare = name.lower().rstrip(".")
    return bare == "localhost" or bare.endswith(".localhost")


def _join(first: str, second: str) -> str:
    return f"{first}; {second}" if first and second else first or second
