"""DNS lookups for RFC 3263 server location: the I/O shell around `sip.targets`.

dnspython is imported inside functions only, so `sipcheck --help` (and any
command given a numeric address) never loads it.

Where answers come from:

* ``nameservers=[(host, port), ...]`` given: every query (NAPTR, SRV, A,
  AAAA) goes to those servers and nowhere else.  Tests use this with a
  loopback server.
* no nameservers: NAPTR and SRV go to the system resolver's servers
  (/etc/resolv.conf); A/AAAA are answered by ``getaddrinfo`` (one call per
  name, AF_UNSPEC, split by family), so the hosts file, search domains and
  nsswitch apply exactly as for any other program on the machine.  The price:
  getaddrinfo cannot always tell "no such name" from "no address of this
  family", and its address order is the system's (RFC 6724) order.
"""

from __future__ import annotations

import random
import socket
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from sipcheck.errors import ConfigError, ResolutionError
from sipcheck.net.blocking import bridged
from sipcheck.sip.locate.targets import (
    Answer,
    AnswerStatus,
    NaptrRecord,
    Plan,
    QType,
    Query,
    Record,
    Resolution,
    SrvRecord,
    plan_targets,
)
from sipcheck.sip.wire.hostport import numeric_host

if TYPE_CHECKING:
    import dns.asyncresolver

__all__ = ["resolve"]


async def resolve(
    host: str,
    port: int | None = None,
    transport: str | None = None,
    *,
    secure: bool = False,
    nameservers: Sequence[tuple[str, int]] | None = None,
    timeout: float = 5.0,
    rng: random.Random | None = None,
    family: int | None = None,
) -> Resolution:
    """Locate the SIP servers for `host` (RFC 3263 §4); all targets, in try order.

    `timeout` bounds each DNS query (and each getaddrinfo call).  Raises
    ResolutionError (with a hint) when no target is found.
    """
    if nameservers is not None:
        _check_nameservers(nameservers)
    plan = plan_targets(
        host,
        port,
        transport,
        secure=secure,
        rng=rng if rng is not None else random.Random(),
        family=family,
    )
    lookup = _Lookup(nameservers, timeout)
    return await _drive(plan, lookup)


def _check_nameservers(nameservers: Sequence[tuple[str, int]]) -> None:
    if not nameservers:
        raise ConfigError("empty list of DNS servers", hint="give at least one IP:PORT")
    for address, port in nameservers:
        if numeric_host(address) is None or not 1 <= port <= 65535:
            raise ConfigError(
                f"bad DNS server {address!r} port {port}",
                hint="DNS servers are numeric IP addresses with a port 1-65535",
            )


async def _drive(plan: Plan, lookup: _Lookup) -> Resolution:
    try:
        batch = next(plan)
        while True:
            answers = await bridged(lookup.answer(batch))  # a one-shot command: no loop
            batch = plan.send(answers)
    except StopIteration as stop:
        result: Resolution = stop.value
        return result


class _Lookup:
    """Answers query batches concurrently; creates the resolver on first use."""

    def __init__(self, nameservers: Sequence[tuple[str, int]] | None, timeout: float) -> None:
        self.nameservers = None if nameservers is None else list(nameservers)
        self.timeout = timeout
        self._resolver: dns.asyncresolver.Resolver | None = None

    async def answer(self, batch: Sequence[Query]) -> Mapping[Query, Answer]:
        import asyncio

        answers: dict[Query, Answer] = {}
        dns_queries = list(batch)
        if self.nameservers is None:
            # System mode: A/AAAA come from getaddrinfo, one call per name, for the
            # families asked only (-4 never makes the resolver ask for AAAA).
            dns_queries = [q for q in batch if q.qtype not in ("A", "AAAA")]
            wanted: dict[str, set[str]] = {}
            for q in batch:
                if q.qtype in ("A", "AAAA"):
                    wanted.setdefault(q.name, set()).add(q.qtype)
            results = await asyncio.gather(
                *(self._getaddrinfo(name, _family_of(qtypes)) for name, qtypes in wanted.items())
            )
            for (name, qtypes), by_family in zip(wanted.items(), results, strict=True):
                for qtype, answer in zip(_ADDRESS_TYPES, by_family, strict=True):
                    if qtype in qtypes:
                        answers[Query(qtype, name)] = answer
        found = await asyncio.gather(*(self._query(q) for q in dns_queries))
        answers.update(zip(dns_queries, found, strict=True))
        return answers

    def _get_resolver(self) -> dns.asyncresolver.Resolver:
        if self._resolver is not None:
            return self._resolver
        import dns.asyncresolver
        import dns.nameserver
        import dns.resolver

        if self.nameservers is None:
            try:
                resolver = dns.asyncresolver.Resolver()
            except dns.resolver.NoResolverConfiguration as exc:
                raise ResolutionError(
                    "no DNS servers configured (/etc/resolv.conf)",
                    hint="give --server IP:PORT, or a numeric address",
                ) from exc
        else:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(address, port) for address, port in self.nameservers
            ]
        resolver.lifetime = self.timeout
        resolver.timeout = min(resolver.timeout, self.timeout)
        self._resolver = resolver
        return resolver

    async def _query(self, query: Query) -> Answer:
        import dns.exception
        import dns.name
        import dns.resolver

        resolver = self._get_resolver()
        try:
            name = dns.name.from_text(query.name)  # absolute: no search list
            result = await resolver.resolve(name, query.qtype, search=False)
        except dns.resolver.NXDOMAIN:
            return Answer(AnswerStatus.NXDOMAIN)
        except dns.resolver.NoAnswer:
            return Answer(AnswerStatus.NODATA)
        except dns.exception.Timeout:
            return Answer(AnswerStatus.TIMEOUT, detail=f"no answer within {self.timeout:g} s")
        except dns.resolver.NoNameservers as exc:
            return Answer(AnswerStatus.FAILED, detail=_no_nameservers_detail(exc))
        except dns.exception.DNSException as exc:
            return Answer(AnswerStatus.FAILED, detail=str(exc) or type(exc).__name__)
        except OSError as exc:
            return Answer(AnswerStatus.FAILED, detail=str(exc))
        records = [_convert(rdata) for rdata in result]
        return Answer.ok(*(r for r in records if r is not None))

    async def _getaddrinfo(self, name: str, family: int) -> tuple[Answer, Answer]:
        import asyncio

        loop = asyncio.get_running_loop()
        host = name[:-1] if name.endswith(".") and name != "." else name
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, None, family=family, type=socket.SOCK_DGRAM), self.timeout
            )
        except asyncio.TimeoutError:
            timed_out = Answer(AnswerStatus.TIMEOUT, detail="getaddrinfo: no answer in time")
            return timed_out, timed_out
        except socket.gaierror as exc:
            failed = Answer(_gai_status(exc.errno), detail=f"getaddrinfo: {exc.strerror}")
            return failed, failed
        except (OSError, UnicodeError) as exc:
            failed = Answer(AnswerStatus.FAILED, detail=f"getaddrinfo: {exc}")
            return failed, failed
        v4: list[str] = []
        v6: list[str] = []
        for family, _type, _proto, _canon, sockaddr in infos:
            bucket = v4 if family == socket.AF_INET else v6 if family == socket.AF_INET6 else None
            address = str(sockaddr[0])
            if bucket is not None and address not in bucket:
                bucket.append(address)
        detail = "via getaddrinfo"
        return Answer.ok(*v4, detail=detail), Answer.ok(*v6, detail=detail)


_ADDRESS_TYPES: tuple[QType, QType] = ("A", "AAAA")  # getaddrinfo's answers, in this order


def _family_of(qtypes: set[str]) -> int:
    """The getaddrinfo family for the address records asked of one name."""
    if qtypes == {"A"}:
        return socket.AF_INET
    if qtypes == {"AAAA"}:
        return socket.AF_INET6
    return socket.AF_UNSPEC


def _gai_status(errno: int | None) -> AnswerStatus:
    if errno == socket.EAI_NONAME:
        return AnswerStatus.NXDOMAIN
    if errno == getattr(socket, "EAI_NODATA", None):
        return AnswerStatus.NODATA
    if errno == socket.EAI_AGAIN:
        return AnswerStatus.TIMEOUT
    return AnswerStatus.FAILED


def _no_nameservers_detail(exc: Exception) -> str:
    errors = getattr(exc, "kwargs", {}).get("errors") or []
    # Each error is (server, tcp, port, exception-or-rcode, response).
    servers = [(str(e[0]).removeprefix("Do53:"), e[3]) for e in errors if len(e) > 3]
    reasons = list(dict.fromkeys(f"{server} {reason}" for server, reason in servers))
    if reasons:
        return "all DNS servers failed: " + "; ".join(reasons)
    return "all DNS servers failed"


def _convert(rdata: object) -> Record | None:
    """dnspython rdata -> the planner's record types."""
    import dns.rdtypes.IN.A
    import dns.rdtypes.IN.AAAA
    import dns.rdtypes.IN.NAPTR
    import dns.rdtypes.IN.SRV

    if isinstance(rdata, dns.rdtypes.IN.NAPTR.NAPTR):
        return NaptrRecord(
            order=rdata.order,
            preference=rdata.preference,
            flags=_text(rdata.flags),
            service=_text(rdata.service),
            regexp=_text(rdata.regexp),
            replacement=rdata.replacement.to_text(omit_final_dot=True),
        )
    if isinstance(rdata, dns.rdtypes.IN.SRV.SRV):
        return SrvRecord(
            priority=rdata.priority,
            weight=rdata.weight,
            port=rdata.port,
            target=rdata.target.to_text(omit_final_dot=True),
        )
    if isinstance(rdata, (dns.rdtypes.IN.A.A, dns.rdtypes.IN.AAAA.AAAA)):
        return str(rdata.address)
    return None


def _text(value: bytes) -> str:
    return value.decode("ascii", "backslashreplace")
