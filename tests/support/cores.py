"""The two sans-I/O cores set up for feeding them hostile input (tests and
scripts/fuzz_wire.py share these)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from sipcheck.sip.client.config import Credential, RegistrationConfig, parse_aor
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.registrar.core import Registrar, RegistrarConfig
from sipcheck.sip.registrar.service import Output, RegistrarService
from sipcheck.trace import Address
from tests.support.pairing import reply

SOURCE = Address("192.0.2.1", 5060)
LOCAL = Address("192.0.2.254", 5060)


def started_registration() -> tuple[Registration, bytes]:
    """A client core (alice@example.com, password "secret") that has sent its first
    REGISTER over UDP: the core, and the request's octets."""
    config = RegistrationConfig(
        aor=parse_aor("alice@example.com"), accounts=(Credential("alice", password="secret"),)
    )
    reg = Registration(config, rng=random.Random(7), now=0.0)
    reg.connect("192.0.2.10", 5070, "udp")
    reg.start(0.0)
    [out] = reg.take_outgoing()
    return reg, out.data


def challenge_for(request: bytes, challenges: Sequence[bytes], status: int = 401) -> bytes:
    """A 401 (or 407) to ``request``, one WWW-/Proxy-Authenticate field per value (any
    octets: they are written back exactly, through surrogateescape)."""
    name = "WWW-Authenticate" if status == 401 else "Proxy-Authenticate"
    fields = [(name, value.decode("utf-8", "surrogateescape")) for value in challenges]
    return reply(request, status, "Challenge", *fields)


def registrar_service(*, record: bool = False) -> RegistrarService:
    """The registrar core (account alice/secret, MD5 and SHA-256, a fixed secret) behind
    its one entry point; ``record`` keeps the attempt records too."""
    config = RegistrarConfig(accounts={"alice": "secret"}, algorithms=("MD5", "SHA-256"))
    return RegistrarService(Registrar(config, b"k" * 32), record=record)


def deliver(service: RegistrarService, data: bytes, transport: str, now: float = 1.0) -> Output:
    """``data`` as one datagram, or as one whole stream connection (then closed)."""
    out = service.receive(data, source=SOURCE, local=LOCAL, transport=transport, now=now)
    if transport != "udp":
        service.connection_lost(SOURCE, LOCAL, transport)
    return out
