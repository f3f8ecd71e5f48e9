"""The registrar's location service: bindings of an address-of-record to contacts.

Pure and in memory; time is the caller's ``now``. Expired bindings are invisible at
once (every read filters by ``now``) and are dropped from memory by ``purge``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from sipcheck.sip.wire.uri import Params, SipUri, Uri


@dataclass(frozen=True, slots=True)
class Binding:
    contact: str  # the contact URI as the client wrote it
    params: Params  # the Contact's header parameters other than expires (q, +sip.instance)
    expires_at: float
    call_id: str
    cseq: int
    source: tuple[str, int]
    transport: str
    path: tuple[str, ...] = ()  # Path header values (RFC 3327), when the UA supports it

    def remaining(self, now: float) -> int:
        """Whole seconds left, as a Contact ``expires`` parameter; at least 1 while live."""
        return max(1, round(self.expires_at - now))

    def contact_value(self, now: float) -> str:
        params = "".join(f";{n}" if v is None else f";{n}={v}" for n, v in self.params)
        return f"<{self.contact}>{params};expires={self.remaining(now)}"


def aor_of(uri: SipUri) -> str:
    """Canonical AoR (RFC 3261 §10.3 step 5): parameters dropped, user unescaped, host
    lower."""
    user = uri.user_unescaped
    return f"{uri.scheme}:{user}@{uri.host.lower()}" if user else f"{uri.scheme}:{uri.host.lower()}"


def contact_key(uri: Uri) -> str:
    """A comparison key for contact URIs, after RFC 3261 §19.1.4.

    Scheme, host and parameters compare case-insensitively, the user part after
    unescaping and case-sensitively, URI headers are ignored. Simplification: a
    parameter present in one URI only makes the URIs differ (§19.1.4 lets some be
    absent on one side); clients refresh with the URI they registered, so this only
    matters for hand-made requests.
    """
    if not isinstance(uri, SipUri):
        return str(uri).lower()
    user = "" if uri.user is None else unquote(uri.user, errors="surrogateescape") + "@"
    password = "" if uri.password is None else ":" + uri.password
    port = "" if uri.port is None else f":{uri.port}"
    params = ";".join(
        sorted(n.lower() if v is None else f"{n.lower()}={v.lower()}" for n, v in uri.params)
    )
    return f"{uri.scheme}:{user}{password}{uri.host.lower()}{port};{params}"


class BindingStore:
    """AoR -> contact key -> Binding."""

    __slots__ = ("_aors", "_count")

    def __init__(self) -> None:
        self._aors: dict[str, dict[str, Binding]] = {}
        self._count = 0  # bindings held, live or expired but not yet purged

    def bindings(self, aor: str, now: float) -> list[Binding]:
        """The live bindings of ``aor``, oldest registration first."""
        table = self._aors.get(aor)
        if not table:
            return []
        return [b for b in table.values() if b.expires_at > now]

    def lookup(self, aor: str, key: str, now: float) -> Binding | None:
        table = self._aors.get(aor)
        binding = table.get(key) if table else None
        return binding if binding is not None and binding.expires_at > now else None

    def live_items(self, aor: str, now: float) -> list[tuple[str, Binding]]:
        table = self._aors.get(aor)
        if not table:
            return []
        return [(k, b) for k, b in table.items() if b.expires_at > now]

    def put(self, aor: str, key: str, binding: Binding) -> None:
        table = self._aors.get(aor)
        if table is None:
            self._aors[aor] = {key: binding}
            self._count += 1
        else:
            if key not in table:
                self._count += 1
            table[key] = binding

    def remove(self, aor: str, key: str) -> None:
        table = self._aors.get(aor)
        if table is not None:
            if table.pop(key, None) is not None:
                self._count -= 1
            if not table:
                del self._aors[aor]

    def remove_all(self, aor: str) -> None:
        table = self._aors.pop(aor, None)
        if table is not None:
            self._count -= len(table)

    def purge(self, now: float) -> int:
        """Drop expired bindings (and empty AoRs); return how many were dropped."""
        dropped = 0
        for aor in list(self._aors):
            table = self._aors[aor]
            dead = [k for k, b in table.items() if b.expires_at <= now]
            for key in dead:
                del table[key]
            dropped += len(dead)
            if not table:
                del self._aors[aor]
        self._count -= dropped
        return dropped

    def aors(self) -> Iterator[str]:
        return iter(list(self._aors))

    def __len__(self) -> int:
        return self._count
