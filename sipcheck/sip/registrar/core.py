"""The registrar core: REGISTER processing (RFC 3261 §10.3), OPTIONS, and the rest.

Sans-I/O: ``Registrar.handle`` takes a parsed request, the caller's monotonic ``now``
and where the request came from, and returns the response to send plus an ``Attempt``
recording what happened and what the client did wrong. It is one step of
``service.RegistrarService.receive``, the core's entry point for bytes, which parses,
stamps the top Via (``responses.stamp_via``) and passes the wall-clock time for the
Date header as ``wall_time``.

Processing order follows RFC 3261 §10.3:

1. Request-URI: a non-SIP URI gets 416; with ``domains`` set, a domain not served gets
   404. (§10.3 step 1 says a registrar forwards requests for other domains as a proxy;
   this registrar proxies nothing, so it answers 404 Not Found.)
2. Require / Proxy-Require with an option tag we do not support: 420 with Unsupported.
   Proxy-Require is checked too because the registrar also plays the proxy that
   challenges with 407.
3. Authentication (``registrar_auth``): 401 or 407 challenges.
4. Authorisation: the auth user may register the To AoR, else 403.
5. The To AoR must be a SIP AoR with a user, in a served domain: else 404.
6. Contacts, expiry, 423; 7. the Call-ID/CSeq rule, atomic update; 8. 200 listing
   every current binding with its expires.

The core also absorbs retransmissions (§17.2.3 matching on the top Via, Call-ID, CSeq,
From): a retransmitted request gets the same response again without being processed a
second time, so a lost 200 over UDP does not turn into a nonce-count replay (the
responses are held in ``fast.RetransmissionCache``).
"""

from __future__ import annotations

from sipcheck.sip.digest.nonces import NonceManager
from sipcheck.sip.registrar.attempt import Attempt, RegistrarResult
from sipcheck.sip.registrar.authenticator import Account, Authenticator
from sipcheck.sip.registrar.bindings import Binding, BindingStore
from sipcheck.sip.registrar.config import RegistrarConfig
from sipcheck.sip.registrar.fast import RetransmissionCache, transaction_key
from sipcheck.sip.registrar.register_flow import SUPPORTED_OPTIONS, RegisterFlow, Reply
from sipcheck.sip.registrar.responses import make_response
from sipcheck.sip.wire.grammar import is_uint, parse_uint
from sipcheck.sip.wire.message import Request, Response
from sipcheck.sip.wire.parser import parse_message

ALLOW = "REGISTER, OPTIONS"
SUPPORTED = tuple(sorted(SUPPORTED_OPTIONS))

__all__ = [
    "ALLOW", "SUPPORTED", "Account", "Attempt", "Binding", "Registrar", "RegistrarConfig",
    "RegistrarResult",
]  # fmt: skip


class Registrar:
    def __init__(self, config: RegistrarConfig, secret: bytes) -> None:
        self.config = config
        limits = config.limits
        self.nonces = NonceManager(
            secret, config.nonce_lifetime, max_tracked=limits.max_tracked_nonces
        )
        self.store = BindingStore()
        accounts = None
        if config.accounts is not None:
            accounts = {
                name: Account(acc) if isinstance(acc, str) else acc
                for name, acc in config.accounts.items()
            }
        self.auth = Authenticator(
            accounts=accounts or {},
            algorithms=config.algorithms,
            qop_options=config.qop_options,
            proxy=config.challenge == "proxy",
            nonces=self.nonces,
            strict_uri=config.strict_uri,
        )
        self._flow = RegisterFlow(config, self.store, self.auth if accounts is not None else None)
        self._server = ("Server", config.server)
        self._retransmissions = RetransmissionCache(limits.max_held_responses)
        self._next_purge = 0.0

    # --- entry points ------------------------------------------------------------------

    def handle(
        self,
        request: Request,
        now: float,
        *,
        source: tuple[str, int],
        transport: str,
        wall_time: float | None = None,
    ) -> RegistrarResult:
        attempt = Attempt(request.method, source, transport, now)
        if now >= self._next_purge:
            self.purge(now)
        idx = request.headers.index()  # read, never changed
        key: str | None = None
        # Only UDP retransmits requests (RFC 3261 §17.1.2.2, Timer E).
        if (
            self.config.absorb_retransmissions
            and transport.upper() == "UDP"
            and request.method != "ACK"
        ):
            key = transaction_key(request, idx)
            if key is not None:
                wire = self._retransmissions.replay(key, attempt, now)
                if wire is not None:
                    attempt.retransmission = True
                    attempt.add("retransmission", "a retransmission: the last response is resent")
                    held = parse_message(wire)  # our own octets: they parse
                    assert isinstance(held, Response)
                    return RegistrarResult(held, attempt, wire)
        reply = self._dispatch(request, idx, attempt, now, wall_time)
        if reply is None:
            return RegistrarResult(None, attempt)
        response = make_response(
            request, reply.status, reply.reason, headers=[*reply.headers, self._server]
        )
        attempt.status, attempt.reason = response.status, response.reason
        if key is None:
            return RegistrarResult(response, attempt)
        wire = response.to_bytes()
        self._retransmissions.hold(key, wire, response.status, response.reason, attempt, now)
        return RegistrarResult(response, attempt, wire)

    def bindings(self, aor: str, now: float) -> list[Binding]:
        return self.store.bindings(aor, now)

    def purge(self, now: float) -> None:
        """Forget expired bindings, nonce counts and held responses (memory only)."""
        self.store.purge(now)
        self.nonces.purge(now)
        self._retransmissions.purge(now)
        self._next_purge = now + min(self.config.min_expires, 60)

    # --- internals -----------------------------------------------------------------------

    def _dispatch(
        self,
        request: Request,
        idx: dict[str, list[str]],
        attempt: Attempt,
        now: float,
        wall_time: float | None,
    ) -> Reply | None:
        method = request.method
        if "via" not in idx:
            attempt.add("bad-request", "no Via header: there is nowhere to send a response")
            return None
        if method == "ACK":
            return None  # RFC 3261 §17.2.1: ACK is never answered
        if request.version.upper() != "SIP/2.0":
            attempt.add("version-not-supported", f"SIP version {request.version} is not SIP/2.0")
            return Reply(505)
        problem = self._check_basics(request, idx, attempt)
        if problem is not None:
            attempt.add("bad-request", problem)
            return Reply(400, problem)
        if method == "REGISTER":
            return self._flow.register(request, idx, attempt, now, wall_time)
        if method == "OPTIONS":
            # RFC 3261 §11.2
            return Reply(
                200,
                headers=[
                    ("Allow", ALLOW),
                    ("Supported", ", ".join(SUPPORTED)),
                    ("Accept", "application/sdp"),
                ],
            )
        if method == "CANCEL":
            # RFC 3261 §9.2: REGISTER and OPTIONS are answered at once, nothing to cancel.
            return Reply(481)
        attempt.add(
            "method-not-allowed", f"{method} is not handled by a registrar (Allow: {ALLOW})"
        )
        return Reply(405, headers=[("Allow", ALLOW)])

    @staticmethod
    def _check_basics(request: Request, idx: dict[str, list[str]], attempt: Attempt) -> str | None:
        # RFC 3261 §8.1.1 mandatory header fields (Max-Forwards aside: a UAS need not).
        for key, name in (("from", "From"), ("to", "To"), ("call-id", "Call-ID")):
            found = idx.get(key)
            if found is None:
                return f"Missing {name} header"
            if len(found) > 1:
                return f"Several {name} headers"
        attempt.call_id = idx["call-id"][0].strip()
        cseq = idx.get("cseq")
        if cseq is None or len(cseq) != 1:
            return "Missing CSeq header" if cseq is None else "Several CSeq headers"
        number, _, cseq_method = cseq[0].strip().partition(" ")
        if not is_uint(number, maximum=2**31 - 1):
            return f"Bad CSeq {cseq[0]!r}"
        attempt.cseq = parse_uint(number, "CSeq")
        if cseq_method.strip() != request.method:
            # RFC 3261 §8.1.1.5
            return f"CSeq method {cseq_method.strip()!r} differs from {request.method}"
        return None
