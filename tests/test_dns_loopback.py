"""`sipcheck.net.dns.resolve` against a tiny authoritative DNS server on loopback.

Real dnspython resolver, real UDP sockets, 127.0.0.1 only; every test is
bounded by a timeout.  No real DNS server is ever asked.
"""

from __future__ import annotations

import asyncio
import random
import socket
import subprocess
import sys
import threading
from collections.abc import Coroutine, Iterator
from types import TracebackType
from typing import Any, TypeVar

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
import pytest

from sipcheck.errors import ConfigError, ResolutionError
from sipcheck.net.dns import resolve
from sipcheck.sip.locate.targets import Resolution, ResolutionFailed

T = TypeVar("T")

ZONE: dict[tuple[str, str], list[str]] = {
    ("example.test", "NAPTR"): [
        '20 10 "s" "SIP+D2U" "" _sip._udp.example.test.',
        '10 10 "s" "SIP+D2T" "" _sip._tcp.example.test.',
    ],
    ("_sip._tcp.example.test", "SRV"): [
        "10 0 5070 backup.example.test.",
        "0 0 5060 pbx.example.test.",
    ],
    ("_sip._udp.example.test", "SRV"): ["0 0 5060 pbx.example.test."],
    ("pbx.example.test", "A"): ["192.0.2.10"],
    ("pbx.example.test", "AAAA"): ["2001:db8::10"],
    ("backup.example.test", "A"): ["192.0.2.11"],
}


class LoopbackDNS:
    """Answers UDP queries from a dict; unknown names get NXDOMAIN.

    With ``silent=True`` it reads queries and never answers (for timeouts).
    """

    def __init__(self, zone: dict[tuple[str, str], list[str]], *, silent: bool = False) -> None:
        self.zone = zone
        self.silent = silent
        self.rcode: dns.rcode.Rcode | None = None  # answer every query with this
        self.queries: list[tuple[str, str]] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> LoopbackDNS:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    @property
    def address(self) -> list[tuple[str, int]]:
        return [("127.0.0.1", self.port)]

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text(omit_final_dot=True).lower()
            rdtype = dns.rdatatype.to_text(question.rdtype)
            self.queries.append((rdtype, name))
            if self.silent:
                continue
            self.sock.sendto(self._answer(query, name, rdtype).to_wire(), peer)

    def _answer(self, query: dns.message.Message, name: str, rdtype: str) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if self.rcode is not None:
            response.set_rcode(self.rcode)
            return response
        texts = self.zone.get((name, rdtype))
        if texts:
            owner = query.question[0].name
            response.answer.append(dns.rrset.from_text(owner, 300, "IN", rdtype, *texts))
        elif not any(n == name or n.endswith("." + name) for n, _ in self.zone):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response


@pytest.fixture
def server() -> Iterator[LoopbackDNS]:
    with LoopbackDNS(ZONE) as running:
        yield running


def run(coro: Coroutine[Any, Any, T], limit: float = 10.0) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, limit)

    return asyncio.run(bounded())


def test_naptr_srv_a_chain(server: LoopbackDNS) -> None:
    result: Resolution = run(
        resolve("example.test", nameservers=server.address, timeout=2.0, rng=random.Random(1))
    )
    assert [(t.host, t.address, t.port, t.transport) for t in result.targets] == [
        ("pbx.example.test", "192.0.2.10", 5060, "tcp"),
        ("pbx.example.test", "2001:db8::10", 5060, "tcp"),
        ("backup.example.test", "192.0.2.11", 5070, "tcp"),
        ("pbx.example.test", "192.0.2.10", 5060, "udp"),
        ("pbx.example.test", "2001:db8::10", 5060, "udp"),
    ]
    kinds = [(s.kind, s.name) for s in result.steps]
    assert kinds == [
        ("NAPTR", "example.test"),
        ("SRV", "_sip._tcp.example.test"),
        ("SRV", "_sip._udp.example.test"),
        ("A", "pbx.example.test"),
        ("AAAA", "pbx.example.test"),
        ("A", "backup.example.test"),
        ("AAAA", "backup.example.test"),
    ]
    naptr = result.steps[0]
    # dnspython shuffles records when rendering the reply, so compare unordered.
    assert sorted(naptr.answers) == [
        '10 10 "s" "SIP+D2T" "" _sip._tcp.example.test',
        '20 10 "s" "SIP+D2U" "" _sip._udp.example.test',
    ]
    assert result.steps[-1].note == "NODATA"
    assert set(server.queries) == set(kinds)


def test_nxdomain(server: LoopbackDNS) -> None:
    with pytest.raises(ResolutionError, match="NXDOMAIN") as info:
        run(resolve("nosuch.test", nameservers=server.address, timeout=2.0))
    assert info.value.hint == "check the domain name, or give --server HOST:PORT"
    assert isinstance(info.value, ResolutionFailed)
    assert [(s.kind, s.note) for s in info.value.steps] == [
        ("NAPTR", "NXDOMAIN"),
        ("A", "NXDOMAIN; SRV skipped: name does not exist"),
        ("AAAA", "NXDOMAIN; SRV skipped: name does not exist"),
    ]
    assert server.queries[0] == ("NAPTR", "nosuch.test")


def test_explicit_port_asks_only_for_addresses(server: LoopbackDNS) -> None:
    result = run(resolve("pbx.example.test", 5080, "tcp", nameservers=server.address))
    assert [(t.address, t.port) for t in result.targets] == [
        ("192.0.2.10", 5080),
        ("2001:db8::10", 5080),
    ]
    assert sorted(server.queries) == [("A", "pbx.example.test"), ("AAAA", "pbx.example.test")]


def test_silent_server_times_out_with_hint() -> None:
    with (
        LoopbackDNS({}, silent=True) as silent,
        pytest.raises(ResolutionError, match="timed out") as info,
    ):
        run(resolve("example.test", nameservers=silent.address, timeout=0.3), limit=5.0)
    assert info.value.hint is not None
    assert "no usable answer from the DNS server" in info.value.hint
    assert silent.queries[0] == ("NAPTR", "example.test")


def test_numeric_host_sends_no_queries(server: LoopbackDNS) -> None:
    result = run(resolve("[::1]", nameservers=server.address, secure=True))
    assert [(t.address, t.port, t.transport) for t in result.targets] == [("::1", 5061, "tls")]
    assert server.queries == []


def test_system_mode_localhost_uses_hosts_file() -> None:
    # localhost skips NAPTR/SRV (RFC 6761), and A/AAAA come from getaddrinfo.
    result = run(resolve("localhost", 5060, timeout=2.0))
    assert "127.0.0.1" in [t.address for t in result.targets]
    assert all(step.kind in ("A", "AAAA") for step in result.steps)
    assert "getaddrinfo" in result.steps[0].note


@pytest.mark.parametrize(("family", "kinds"), [(4, {"A"}), (6, {"AAAA"}), (None, {"A", "AAAA"})])
def test_system_mode_asks_getaddrinfo_for_the_family_only(
    family: int | None, kinds: set[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import socket

    asked: list[int] = []
    real = asyncio.BaseEventLoop.getaddrinfo

    async def spy(self: asyncio.BaseEventLoop, *args: object, **kw: object) -> object:
        asked.append(int(kw.get("family", 0)))  # type: ignore[call-overload]
        return await real(self, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", spy)
    try:
        steps = run(resolve("localhost", 5060, timeout=2.0, family=family)).steps
    except ResolutionFailed as exc:  # a machine whose localhost has no ::1
        steps = exc.steps
    wanted = {4: socket.AF_INET, 6: socket.AF_INET6, None: socket.AF_UNSPEC}[family]
    assert asked == [wanted]
    assert {step.kind for step in steps} == kinds


def test_dnspython_is_not_imported_for_numeric_hosts() -> None:
    code = (
        "import asyncio, sys\n"
        "from sipcheck.net.dns import resolve\n"
        "asyncio.run(resolve('192.0.2.1', 5060, 'udp'))\n"
        "assert 'dns' not in sys.modules, sorted(m for m in sys.modules if m.startswith('dns'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


@pytest.mark.parametrize("nameservers", [[], [("dns.example", 53)], [("127.0.0.1", 0)]])
def test_bad_nameservers_are_config_errors(nameservers: list[tuple[str, int]]) -> None:
    with pytest.raises(ConfigError):
        run(resolve("example.test", nameservers=nameservers))


def test_refusing_server_fails_with_hint(server: LoopbackDNS) -> None:
    server.rcode = dns.rcode.REFUSED
    with pytest.raises(ResolutionError, match="failed") as info:
        run(resolve("example.test", nameservers=server.address, timeout=2.0))
    assert info.value.hint is not None
    assert "no usable answer from the DNS server" in info.value.hint
    assert isinstance(info.value, ResolutionFailed)
    assert "REFUSED" in info.value.steps[0].note
