"""REGISTER processing, RFC 3261 §10.3 steps 1-8 (see ``registrar.py`` for the order).

Changes to the bindings of an AoR are all-or-nothing: every check (423, the Call-ID /
CSeq rule) runs before the first binding is touched (§10.3 step 7).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipcheck.errors import SipParseError
from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.sip.registrar.authenticator import Account, Authenticator, Refusal
from sipcheck.sip.registrar.bindings import Binding, BindingStore
from sipcheck.sip.registrar.config import RegistrarConfig
from sipcheck.sip.registrar.fast import DateCache, RequestUris, to_address
from sipcheck.sip.registrar.fast import contact as parse_contact
from sipcheck.sip.wire.fields import parse_delta_seconds
from sipcheck.sip.wire.headers import split_list
from sipcheck.sip.wire.message import Request
from sipcheck.sip.wire.uri import SipUri, Uri

SUPPORTED_OPTIONS = frozenset({"path"})
_ONE_HOUR = 3600  # RFC 3261 §10.3 step 7: 423 only for intervals under an hour


@dataclass(slots=True)
class Reply:
    status: int
    reason: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


def _tokens(idx: dict[str, list[str]], key: str) -> list[str]:
    return [t for line in idx.get(key, ()) for t in split_list(line) if t]


def may_register(username: str, account: Account, uri: Uri) -> bool:
    if not isinstance(uri, SipUri) or uri.user is None:
        return False
    allowed = account.aors or frozenset((username,))
    user = uri.user_unescaped or ""
    return "*" in allowed or user in allowed or f"{user}@{uri.host.lower()}" in allowed


class RegisterFlow:
    def __init__(
        self, config: RegistrarConfig, store: BindingStore, auth: Authenticator | None
    ) -> None:
        self.config = config
        self.store = store
        self.auth = auth
        self._domains = (
            None if config.domains is None else frozenset(d.lower() for d in config.domains)
        )
        self._request_uris = RequestUris()
        self._dates = DateCache()

    def register(
        self,
        request: Request,
        idx: dict[str, list[str]],
        attempt: Attempt,
        now: float,
        wall_time: float | None,
    ) -> Reply:
        ruri = self._request_uris.get(request.uri)
        if not isinstance(ruri, SipUri):
            attempt.add(
                "unsupported-uri-scheme",
                f"the Request-URI {request.uri} of a REGISTER must be a sip: or sips: URI "
                "naming the registrar's domain",
            )
            return Reply(416)
        domain = ruri.host.lower()
        if self._domains is not None and domain not in self._domains:
            attempt.add(
                "domain-not-served",
                f"this registrar does not serve the domain {ruri.host} "
                f"(it serves {', '.join(sorted(self._domains))})",
            )
            return Reply(404)
        if ruri.user is not None:
            attempt.add(
                "register-ruri-user",
                f"the Request-URI {request.uri} has a user part; a REGISTER's Request-URI "
                "names only the domain (RFC 3261 §10.2)",
            )
        try:
            to, aor = to_address(idx["to"][0])
        except SipParseError as exc:
            attempt.add("bad-request", f"the To header cannot be parsed: {exc.message}")
            return Reply(400, "Bad To Header")
        attempt.aor = aor
        # RFC 3261 §8.2.2.3 (Require), §16.3 (Proxy-Require)
        unsupported = [
            t
            for t in _tokens(idx, "require") + _tokens(idx, "proxy-require")
            if t.lower() not in SUPPORTED_OPTIONS
        ]
        if unsupported:
            attempt.add(
                "unsupported-extension",
                f"requires {', '.join(unsupported)}, which this registrar does not support "
                f"(it supports {', '.join(sorted(SUPPORTED_OPTIONS))})",
            )
            return Reply(420, headers=[("Unsupported", ", ".join(unsupported))])
        auth = self.auth
        if auth is not None:
            realm = self.config.realm or domain
            values = idx.get(auth.credentials_key, [])
            outcome = auth.authenticate(request, values, auth.other_key in idx, realm, now, attempt)
            if isinstance(outcome, Refusal):
                return Reply(outcome.status, headers=outcome.headers)
            if not may_register(outcome, auth.accounts[outcome], to.uri):
                account = auth.accounts[outcome]
                allowed = ", ".join(sorted(account.aors)) if account.aors else outcome
                attempt.add(
                    "aor-not-allowed",
                    f"auth user {outcome} may not register {attempt.aor} (it may register: "
                    f"{allowed}); the password was right (RFC 3261 §10.3 step 4)",
                )
                return Reply(403)
        uri = to.uri
        if (
            not isinstance(uri, SipUri)
            or uri.user is None
            or (self._domains is not None and uri.host.lower() not in self._domains)
        ):
            attempt.add(
                "aor-not-found",
                f"the To address {to.uri} is not an address-of-record of this registrar "
                "(RFC 3261 §10.3 step 5)",
            )
            return Reply(404)
        # uri is a SIP URI here, so aor is aor_of(uri)
        return self._contacts(request, idx, attempt, aor, now, wall_time)

    def _contacts(
        self,
        request: Request,
        idx: dict[str, list[str]],
        attempt: Attempt,
        aor: str,
        now: float,
        wall_time: float | None,
    ) -> Reply:
        cfg = self.config
        call_id = attempt.call_id or ""
        cseq = attempt.cseq or 0
        header_expires: int | None = None
        try:
            if "expires" in idx:
                header_expires = parse_delta_seconds(idx["expires"][0])
            values = [v for line in idx.get("contact", ()) for v in split_list(line)]
            if "*" in values:
                # RFC 3261 §10.2.2 / §10.3 step 6
                if len(values) != 1 or header_expires != 0:
                    attempt.add(
                        "bad-request",
                        "Contact: * (remove all bindings) must be the only Contact and "
                        "needs Expires: 0 (RFC 3261 §10.2.2)",
                    )
                    return Reply(400, "Invalid Wildcard Contact")
                for _, binding in self.store.live_items(aor, now):
                    if binding.call_id == call_id and cseq <= binding.cseq:
                        return self._out_of_order(attempt, binding)
                self.store.remove_all(aor)
                return self._ok(idx, aor, now, wall_time)
            changes: list[tuple[str, str, tuple[tuple[str, str | None], ...], int]] = []
            for value in values:
                contact = parse_contact(value)
                param = contact.expires
                if param is not None:
                    requested = parse_delta_seconds(param, "Contact expires")
                elif header_expires is not None:
                    requested = header_expires
                else:
                    requested = cfg.default_expires
                if 0 < requested < cfg.min_expires and requested < _ONE_HOUR:
                    attempt.add(
                        "interval-too-brief",
                        f"asked for {requested} s for {contact.address.uri} but this "
                        f"registrar's minimum is {cfg.min_expires} s; the client should retry with "
                        f"Expires of at least {cfg.min_expires} (RFC 3261 §10.2.8)",
                    )
                    return Reply(423, headers=[("Min-Expires", str(cfg.min_expires))])
                granted = min(requested, cfg.max_expires)
                changes.append((contact.key, contact.uri, contact.params, granted))
        except SipParseError as exc:
            attempt.add("bad-request", exc.message)
            return Reply(400)
        store = self.store
        for key, _, _, _ in changes:
            old = store.lookup(aor, key, now)
            # RFC 3261 §10.3 step 7: same Call-ID and a CSeq not higher: refuse it all.
            if old is not None and old.call_id == call_id and cseq <= old.cseq:
                return self._out_of_order(attempt, old)
        refusal = self._over_limit(attempt, aor, changes, now)
        if refusal is not None:
            return refusal
        path = tuple(idx.get("path", ())) if self._wants_path(idx) else ()
        source, transport = attempt.source, attempt.transport
        for key, text, params, granted in changes:
            if granted == 0:
                store.remove(aor, key)
            else:
                store.put(
                    aor,
                    key,
                    Binding(text, params, now + granted, call_id, cseq, source, transport, path),
                )
        return self._ok(idx, aor, now, wall_time)

    def _over_limit(
        self,
        attempt: Attempt,
        aor: str,
        changes: list[tuple[str, str, tuple[tuple[str, str | None], ...], int]],
        now: float,
    ) -> Reply | None:
        """503 when the new bindings would pass ``max_bindings_per_aor`` or
        ``max_bindings`` (memory stays bounded whoever registers)."""
        store = self.store
        if not any(granted for _, _, _, granted in changes):
            return None  # removals only
        live = {key for key, _ in store.live_items(aor, now)}
        final = set(live)
        for key, _, _, granted in changes:  # as the update will apply them, in order
            if granted:
                final.add(key)
            else:
                final.discard(key)
        after, new = len(final), len(final - live)
        limits = self.config.limits
        if after > limits.max_bindings_per_aor:
            attempt.add(
                "too-many-bindings",
                f"{aor} would have {after} bindings; this registrar keeps "
                f"{limits.max_bindings_per_aor} per AoR at most (remove old ones with "
                "Expires: 0, or Contact: * with Expires: 0)",
            )
            return Reply(503, "Too Many Registered Contacts")
        if new and len(store) + new > limits.max_bindings:
            store.purge(now)
            if len(store) + new > limits.max_bindings:
                attempt.add(
                    "too-many-bindings",
                    f"this registrar holds {len(store)} bindings, its limit of "
                    f"{limits.max_bindings}: no new ones until some expire",
                )
                return Reply(503, "Too Many Registered Contacts")
        return None

    @staticmethod
    def _wants_path(idx: dict[str, list[str]]) -> bool:
        # RFC 3327 §5.3: Path is stored and echoed when the UA supports it.
        return "path" in idx and any(
            t.lower() == "path" for t in _tokens(idx, "supported") + _tokens(idx, "require")
        )

    def _out_of_order(self, attempt: Attempt, old: Binding) -> Reply:
        attempt.add(
            "cseq-out-of-order",
            f"reused Call-ID {old.call_id} with CSeq {attempt.cseq}, not higher than CSeq "
            f"{old.cseq} of the binding for {old.contact}; the update was refused "
            "(RFC 3261 §10.3 step 7)",
        )
        return Reply(500)

    def _ok(
        self, idx: dict[str, list[str]], aor: str, now: float, wall_time: float | None
    ) -> Reply:
        # RFC 3261 §10.3 step 8: every current binding, each with its expires.
        headers = [("Contact", b.contact_value(now)) for b in self.store.bindings(aor, now)]
        if self._wants_path(idx):
            headers.extend(("Path", p) for p in idx["path"])
        if wall_time is not None:
            headers.append(("Date", self._dates.get(wall_time)))
        return Reply(200, headers=headers)
