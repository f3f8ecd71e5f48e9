"""What the decoder hands on: a UDP datagram (or a PDU whose transport needs no
state) or a TCP segment, with the addresses as a Trace holds them."""

from __future__ import annotations

from dataclasses import dataclass

from sipcheck.trace import Address


@dataclass(frozen=True, slots=True)
class Datagram:
    """A UDP payload, or a PDU exported with its addresses (no TCP state to keep)."""

    src: Address
    dst: Address
    payload: bytes
    transport: str = "udp"
    time: float | None = None  # set when an encapsulation carries its own time (HEP)


@dataclass(frozen=True, slots=True)
class Segment:
    src: Address
    dst: Address
    seq: int
    flags: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class Unreachable:
    """ICMP (v6) port unreachable: nothing listened where the quoted datagram went."""

    reporter: str  # the host that sent the ICMP message
    src: Address  # the quoted datagram's source and destination
    dst: Address


Decoded = Datagram | Segment | Unreachable
