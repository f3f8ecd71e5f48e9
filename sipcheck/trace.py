"""Trace and Outcome: the one record every output (ladder, JSON, pcap, CI
formats) is rendered from.

A Trace is what crossed the wire, in order, with monotonic times relative to
its start and the wall-clock time of that start (for pcap timestamps). An
Outcome is what it meant: result, final status, diagnoses, bindings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipcheck.errors import SipParseError
from sipcheck.sip.wire.message import Message
from sipcheck.sip.wire.parser import parse_message


@dataclass(frozen=True)
class Address:
    host: str  # numeric address, IPv6 without brackets
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass
class TraceEntry:
    direction: str  # "out" | "in"
    time: float  # seconds since the trace started
    local: Address
    remote: Address
    transport: str  # "udp" | "tcp" | "tls" | "ws" | "wss"
    raw: bytes
    retransmission: bool = False
    # Why a received message was not used (stray, unparseable), for the ladder.
    note: str | None = None
    _parsed: Message | None = field(default=None, repr=False, compare=False)

    @property
    def message(self) -> Message | None:
        """The parsed message, or None when the octets do not parse."""
        if self._parsed is None:
            try:
                self._parsed = parse_message(self.raw, stream=False)
            except SipParseError:
                return None
        return self._parsed

    @property
    def start_line(self) -> str:
        message = self.message
        if message is not None:
            return message.start_line()
        first = self.raw.split(b"\n", 1)[0].rstrip(b"\r")
        return first.decode("utf-8", "replace")


@dataclass(frozen=True)
class TlsInfo:
    version: str
    cipher: str
    subject: str
    issuer: str
    not_after: str
    verified: bool
    server_name: str | None = None


@dataclass(frozen=True)
class Note:
    """Something that happened off the wire: a resolution, a connection, an error."""

    time: float
    kind: str  # "resolve" | "connect" | "tls" | "error" | "timeout" | "info"
    text: str
    step: str | None = None  # for errors: "dns" | "connect" | "tls" | "send"


@dataclass
class Trace:
    wall_start: float = 0.0  # epoch seconds when time 0 happened
    entries: list[TraceEntry] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    tls: TlsInfo | None = None

    def add(self, entry: TraceEntry) -> TraceEntry:
        self.entries.append(entry)
        return entry

    def note(self, time: float, kind: str, text: str, step: str | None = None) -> None:
        self.notes.append(Note(time, kind, text, step))


@dataclass(frozen=True)
class Diagnosis:
    id: str  # stable identifier, listed in the README
    severity: str  # "error" | "warning" | "info"
    message: str
    causes: tuple[str, ...] = ()  # most likely first
    advice: tuple[str, ...] = ()


@dataclass(frozen=True)
class BoundContact:
    """A Contact the registrar's 2xx lists as bound to the AoR."""

    contact: str
    expires: int | None
    ours: bool = False


@dataclass
class Outcome:
    command: str
    aor: str
    result: str  # registered | unregistered | queried | reachable | failed
    final_status: int | None = None
    final_reason: str | None = None
    exit_status: int = 0
    diagnoses: list[Diagnosis] = field(default_factory=list)
    bindings: list[BoundContact] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # Contacts a 2xx lists with expires=0
    granted_expires: int | None = None
    server: str | None = None  # Server header of the final response
    seen_as: Address | None = None  # received/rport the server reported
    contact_sent: str | None = None
    total_ms: float | None = None
    rrd_ms: float | None = None
    target: dict[str, object] = field(default_factory=dict)
    auth: list[dict[str, object]] = field(default_factory=list)
    info: dict[str, object] = field(default_factory=dict)
