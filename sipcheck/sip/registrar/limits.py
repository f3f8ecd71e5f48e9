"""Every bound on what the registrar core keeps, in one value.

A peer can send endless bytes, endless new Call-IDs, nonces and transactions; what
the core keeps for each is bounded here, by count and by age, so that memory stays
bounded whatever arrives and the registrar keeps answering. The I/O shell's bounds
(connections, idle time, write buffers) are ``sipcheck.net.server.ServerLimits``;
the README lists both.

When a bound is reached the registrar degrades, it does not fail:

- a stream message over ``max_header_octets`` or ``max_body_octets`` is answered
  513 or 413 when it can be, and its connection is closed (RFC 3261 §18.3: a stream
  that cannot be framed is closed; §21.4.14, §21.5.11);
- the oldest held response goes first: a retransmission that arrives after it is
  processed again (a nonce-count replay then gets a fresh challenge);
- the oldest nonce counts go first, and every nonce as old as one forgotten is
  answered ``stale=true`` from then on, so a replay is never accepted;
- the oldest open attempt is ended early (it is reported as it stands);
- beyond ``unparseable_records_per_second``, unparseable messages are only counted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sipcheck.errors import ConfigError


@dataclass(frozen=True)
class Limits:
    # A stream (TCP, TLS) message: its header section, and its Content-Length. UDP is
    # bounded by the datagram (65,535 octets).
    max_header_octets: int = 65_536
    max_body_octets: int = 65_536
    # Responses held for retransmitted UDP requests (RFC 3261 §17.2.3), each for
    # Timer J (32 s) at most.
    max_held_responses: int = 65_536
    # Nonces whose counts (qop) or Call-ID and CSeq (no qop) are remembered, each for
    # the nonce lifetime at most.
    max_tracked_nonces: int = 100_000
    # Registration attempts recorded (one Trace each) and not yet ended; the messages
    # one attempt records; how long one attempt may last.
    max_open_attempts: int = 2_000
    max_attempt_messages: int = 64
    max_attempt_seconds: float = 120.0
    # The octets of every message those attempts recorded, in all (a message may be
    # 64 KiB: the counts above alone would allow gigabytes).
    max_recorded_octets: int = 32 * 1024 * 1024
    # Unparseable messages recorded as attempts of their own, per second; the others
    # are counted (``Stats.unparseable_unrecorded``).
    unparseable_records_per_second: int = 1
    # Bindings per AoR, and in all.
    max_bindings_per_aor: int = 100
    max_bindings: int = 100_000

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "unparseable_records_per_second":
                if value < 0:
                    raise ConfigError(f"{f.name} must not be negative")
            elif value <= 0:
                raise ConfigError(f"{f.name} must be positive, not {value!r}")


DEFAULT_LIMITS = Limits()
