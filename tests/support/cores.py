"""The two sans-I/O cores set up for feeding them hostile input (tests and
scripts/fuzz_wire.py share these)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from sipcheck.sip.client.registration import (
    Account,
    Registration,
    RegistrationConfig,
    parse_aor,
)
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.parser import parse_message

SOURCE = ("192.0.2.1", 5060)


def started_registration() -> tuple[Registration, bytes]:
    """A client core (alice@example.com, password "secret") that has sent its first
    REGISTER over UDP: the core, and the request's octets."""
    config = RegistrationConfig(
        aor=parse_aor("alice@example.com"), accounts=(Account("alice", password="secret"),)
    )
    reg = Registration(config, rng=random.Random(7), now=0.0)
    reg.connect("192.0.2.10", 5070, "udp")
    reg.start(0.0)
    [out] = reg.take_outgoing()
    return reg, out.data


def challenge_for(request: bytes, challenges: Sequence[bytes], status: int = 401) -> bytes:
    """A 401 (or 407) to ``request``, one WWW-/Proxy-Authenticate field per value."""
    req = parse_message(request)
    assert isinstance(req, Request)
    name = b"WWW-Authenticate" if status == 401 else b"Proxy-Authenticate"
    lines = [f"SIP/2.0 {status} Challenge".encode()]
    for header in ("Via", "From", "To", "Call-ID", "CSeq"):
        lines += [f"{header}: {value}".encode() for value in req.headers.get_all(header)]
    lines += [name + b": " + value for value in challenges]
    lines.append(b"Content-Length: 0")
    return b"\r\n".join(lines) + b"\r\n\r\n"
