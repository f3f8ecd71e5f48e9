"""What the registrar core reports per request: the response, and the client's mistakes.

Mistake ids are stable (renderers, JSON and tests key on them); the message names the
mistake in plain language, with the values involved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sipcheck.sip.wire.message import Response

Severity = Literal["info", "warning", "error"]

# Every id the registrar core emits, with its severity. "info" is normal protocol
# (a first REGISTER without credentials, a nonce that went stale); "warning" is
# accepted but wrong or fragile; "error" made the registrar refuse the request.
SEVERITY: dict[str, Severity] = {
    "no-credentials": "info",
    "stale-nonce": "info",
    "retransmission": "info",
    "wrong-password": "error",
    "digest-miscomputed": "error",
    "unknown-user": "error",
    "wrong-realm": "error",
    "wrong-auth-header": "error",
    "not-digest": "error",
    "invalid-nonce": "error",
    "algorithm-not-offered": "error",
    "qop-not-offered": "error",
    "qop-missing": "warning",
    "digest-uri-mismatch": "warning",
    "nonce-count-reused": "error",
    "nonce-reused": "error",
    "message-too-large": "error",
    "too-many-bindings": "error",
    "interval-too-brief": "error",
    "aor-not-allowed": "error",
    "aor-not-found": "error",
    "domain-not-served": "error",
    "unsupported-uri-scheme": "error",
    "unsupported-extension": "error",
    "cseq-out-of-order": "error",
    "register-ruri-user": "warning",
    "method-not-allowed": "error",
    "version-not-supported": "error",
    "bad-request": "error",
}
MISTAKE_IDS = tuple(SEVERITY)


@dataclass(frozen=True, slots=True)
class ClientMistake:
    id: str
    severity: Severity
    message: str


def mistake(mistake_id: str, message: str) -> ClientMistake:
    return ClientMistake(mistake_id, SEVERITY[mistake_id], message)


@dataclass(slots=True)
class Attempt:
    """One request as the registrar saw it."""

    method: str
    source: tuple[str, int]
    transport: str
    time: float  # the caller's monotonic ``now``
    call_id: str | None = None
    cseq: int | None = None
    aor: str | None = None  # the To address-of-record (REGISTER)
    auth_user: str | None = None  # the digest username, as sent
    status: int = 0  # 0: nothing was sent (unparseable, ACK, a response)
    reason: str = ""
    mistakes: list[ClientMistake] = field(default_factory=list)
    retransmission: bool = False

    def add(self, mistake_id: str, message: str) -> None:
        self.mistakes.append(mistake(mistake_id, message))

    @property
    def mistake_ids(self) -> list[str]:
        return [m.id for m in self.mistakes]

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


@dataclass(frozen=True, slots=True)
class RegistrarResult:
    """``response`` is None when nothing must be sent (unparseable bytes, ACK);
    ``wire`` is its octets when the core serialized it already (to hold it for
    retransmissions), so that the caller need not serialize it again."""

    response: Response | None
    attempt: Attempt
    wire: bytes | None = None
