"""Traces -> a pcapng file that Wireshark and tshark dissect as SIP.

- UDP: one datagram per message, as it was sent.
- TCP: one consistent TCP stream per connection: SYN, SYN-ACK, ACK when it first
  appears (at the time of the shell's connect note when there is one), then each
  message as PSH/ACK segments with running sequence numbers, so the stream
  reassembles. The side that sent first on a stream is the one that connected.
- An ICMP port unreachable the shell noted (UDP): written after the datagram.
- TLS (and WebSocket, whose framing a Trace does not keep): the decrypted SIP
  message as an exported PDU (LINKTYPE_WIRESHARK_UPPER_PDU) for Wireshark's "sip"
  dissector, with the real addresses and ports.

Passwords cannot appear: they are never sent, only digest responses are, and the
file holds exactly the octets the Trace holds.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sipcheck.capture.build import (
    ACK,
    PSH,
    SYN,
    exported_pdu,
    port_unreachable,
    tcp_segment,
    udp_datagram,
)
from sipcheck.capture.pcapng_out import LINKTYPE_RAW, LINKTYPE_WIRESHARK_UPPER_PDU, PcapngWriter
from sipcheck.errors import ConfigError
from sipcheck.trace import Address, Trace, TraceEntry

MAX_SEGMENT = 65000  # octets of TCP payload per written segment (fits one IP packet)
_PDU_TRANSPORTS = frozenset({"tls", "ws", "wss"})


@dataclass
class _Stream:
    """One TCP connection: the next sequence number each side will send."""

    next_seq: dict[Address, int]


def _isn(src: Address, dst: Address) -> int:
    """An initial sequence number, the same for the same connection in every run."""
    return zlib.crc32(f"{src}>{dst}".encode()) & 0xFFFFFFFF


class TraceWriter:
    """Writes the messages of one or more Traces to an open binary stream.

    TCP connections are remembered across Traces (the registrar writes one Trace
    per attempt, and attempts share connections), so sequence numbers stay right.
    """

    def __init__(self, stream: BinaryIO, *, in_time_order: bool = False) -> None:
        self._stream = stream
        self._out = PcapngWriter(stream)
        self._streams: dict[frozenset[Address], _Stream] = {}
        self._ident = 0
        # Traces that overlap in time (check's concurrent accounts): the packets are
        # held until release() and written in time order, the same time in write order.
        self._held: list[tuple[float, int, int, bytes, str | None]] | None = (
            [] if in_time_order else None
        )

    @property
    def packets(self) -> int:
        return self._out.packets

    def _packet(self, linktype: int, when: float, data: bytes, comment: str | None = None) -> None:
        if self._held is None:
            self._out.packet(linktype, when, data, comment)
        else:
            self._held.append((when, len(self._held), linktype, data, comment))

    def release(self) -> None:
        """Write what was held (``in_time_order``), earliest first."""
        held = self._held or []
        if self._held is not None:
            self._held = []
        for when, _order, linktype, data, comment in sorted(held, key=lambda p: p[:2]):
            self._out.packet(linktype, when, data, comment)
        self._out.flush()

    def write(self, trace: Trace) -> None:
        # the shell's connect notes say "TCP local -> remote": the handshake's time
        connects = {n.text: n.time for n in trace.notes if n.kind == "connect"}
        refused = _refusals(trace)
        for index, entry in enumerate(trace.entries):
            when = trace.wall_start + entry.time
            src, dst = entry.local, entry.remote
            if entry.direction != "out":
                src, dst = dst, src
            comment = _comment(entry)
            transport = entry.transport.lower()
            if transport in _PDU_TRANSPORTS:
                data = exported_pdu(src, dst, entry.raw, tcp=True)
                self._packet(LINKTYPE_WIRESHARK_UPPER_PDU, when, data, comment)
            elif transport == "tcp":
                key = f"TCP {entry.local} -> {entry.remote}"
                opened = connects.get(key, entry.time) + trace.wall_start
                self._tcp(src, dst, min(opened, when), when, entry.raw, comment)
            else:
                packet = self._udp(src, dst, entry.raw)
                self._packet(LINKTYPE_RAW, when, packet, comment)
                if index in refused:  # the ICMP port unreachable the shell was told of
                    icmp = port_unreachable(dst, packet)
                    self._packet(LINKTYPE_RAW, trace.wall_start + refused[index], icmp)
        if self._held is None:
            self._out.flush()

    def _next_ident(self) -> int:
        self._ident = (self._ident + 1) & 0xFFFF
        return self._ident

    def _udp(self, src: Address, dst: Address, raw: bytes) -> bytes:
        return udp_datagram(src, dst, raw, self._next_ident())

    def _tcp(
        self,
        src: Address,
        dst: Address,
        opened: float,
        when: float,
        raw: bytes,
        comment: str | None,
    ) -> None:
        key = frozenset((src, dst))
        stream = self._streams.get(key)
        if stream is None:
            stream = self._handshake(src, dst, opened)
            self._streams[key] = stream
        for start in range(0, max(len(raw), 1), MAX_SEGMENT):
            chunk = raw[start : start + MAX_SEGMENT]
            seq, ack = stream.next_seq[src], stream.next_seq[dst]
            segment = tcp_segment(src, dst, seq, ack, PSH | ACK, chunk, self._next_ident())
            self._packet(LINKTYPE_RAW, when, segment, comment if start == 0 else None)
            stream.next_seq[src] = (seq + len(chunk)) & 0xFFFFFFFF

    def _handshake(self, client: Address, server: Address, when: float) -> _Stream:
        """RFC 793 §3.4: SYN, SYN-ACK, ACK; each SYN takes one sequence number."""
        c, s = _isn(client, server), _isn(server, client)
        for src, dst, seq, ack, flags in (
            (client, server, c, 0, SYN),
            (server, client, s, c + 1, SYN | ACK),
            (client, server, c + 1, s + 1, ACK),
        ):
            self._packet(
                LINKTYPE_RAW, when, tcp_segment(src, dst, seq, ack, flags, b"", self._next_ident())
            )
        return _Stream({client: (c + 1) & 0xFFFFFFFF, server: (s + 1) & 0xFFFFFFFF})

    def flush(self) -> None:
        self._out.flush()

    def close(self) -> None:
        self._stream.close()


def _refusals(trace: Trace) -> dict[int, float]:
    """Entry index -> time of the ICMP port unreachable that answered it: the note
    names no datagram, so it is the last one sent (by then) to the target of the
    connect note before it."""
    out: dict[int, float] = {}
    target = ""
    for note in trace.notes:
        if note.kind == "connect":
            target = note.text.rsplit(" -> ", 1)[-1]
        elif note.kind == "error" and "ICMP port unreachable" in note.text:
            sent = [
                i
                for i, e in enumerate(trace.entries)
                if e.direction == "out" and e.transport == "udp" and e.time <= note.time
                and (not target or str(e.remote) == target)
            ]  # fmt: skip
            if sent:
                out[sent[-1]] = note.time
    return out


def _comment(entry: TraceEntry) -> str | None:
    words = []
    if entry.retransmission:
        words.append("retransmission")
    if entry.note:
        words.append(entry.note)
    return "; ".join(words) or None


def open_pcap(path: str) -> BinaryIO:
    """The file to write a capture to; ConfigError (exit 2) when it cannot be created."""
    try:
        return Path(path).open("wb")
    except OSError as exc:
        raise ConfigError(f"--pcap {path}: cannot write it: {exc.strerror or exc}") from None


def write_pcap(path: str, *traces: Trace) -> int:
    """Write the Traces to ``path`` as pcapng; the number of packets written."""
    with open_pcap(path) as stream:
        return write_traces(stream, traces)


def write_traces(stream: BinaryIO, traces: Iterable[Trace]) -> int:
    """Write the Traces, which may overlap in time, in time order (they are few: each
    packet is held until all are read); the number of packets written."""
    writer = TraceWriter(stream, in_time_order=True)
    for trace in traces:
        writer.write(trace)
    writer.release()
    return writer.packets
