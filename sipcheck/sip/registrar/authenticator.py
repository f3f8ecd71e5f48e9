"""The registrar's authentication step (RFC 3261 §10.3 step 3, §22; RFC 7616; RFC 8760).

Challenges carry one self-validating nonce (``nonces.py``) shared by one challenge per
offered algorithm, in the configured order: RFC 8760 §2.4 says to list them by
preference, and RFC 7616 §3.9.2's example shares the nonce the same way. Every refusal
names the client's mistake; a wrong digest response is checked against the usual ways
of computing it wrongly before it is called a wrong password.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sipcheck.errors import DigestError, SipParseError
from sipcheck.sip.digest.compute import verify_credentials
from sipcheck.sip.digest.explain import diagnose_wrong_response, same_uri
from sipcheck.sip.digest.nonces import NonceManager
from sipcheck.sip.registrar.attempt import Attempt
from sipcheck.sip.registrar.fast import ChallengeTemplates, Ha1Cache
from sipcheck.sip.wire.auth import Credentials, parse_credentials
from sipcheck.sip.wire.message import Request

_HEX = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True)
class Account:
    """A digest account: its password and the AoR users it may register.

    ``aors`` holds user parts (``alice``) or ``user@host``; empty means the account's
    own name only; ``*`` means any AoR.
    """

    password: str
    aors: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int  # 400 or the challenge status
    headers: list[tuple[str, str]]


class Authenticator:
    def __init__(
        self,
        *,
        accounts: dict[str, Account],
        algorithms: Sequence[str],
        qop_options: tuple[str, ...],
        proxy: bool,
        nonces: NonceManager,
        strict_uri: bool,
    ) -> None:
        self.accounts = accounts
        self.algorithms = tuple(algorithms)
        self._offered = {a.upper() for a in algorithms}
        self.qop_options = qop_options
        self._qops = {q.lower() for q in qop_options}
        self.proxy = proxy
        self.status = 407 if proxy else 401
        self.challenge_header = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
        self.credentials_header = "Proxy-Authorization" if proxy else "Authorization"
        self.credentials_key = self.credentials_header.lower()
        self.other_key = "authorization" if proxy else "proxy-authorization"
        self.nonces = nonces
        self.strict_uri = strict_uri
        self._ha1 = Ha1Cache()
        self._templates = ChallengeTemplates(self.algorithms, qop_options)

    # --- challenges ----------------------------------------------------------------

    def challenge(self, realm: str, now: float, *, stale: bool = False) -> Refusal:
        nonce = self.nonces.issue(now, realm)
        name = self.challenge_header
        return Refusal(
            self.status, [(name, value) for value in self._templates.values(realm, nonce, stale)]
        )

    # --- checking an answer ----------------------------------------------------------

    def authenticate(
        self,
        request: Request,
        values: list[str],
        other: bool,
        realm: str,
        now: float,
        attempt: Attempt,
    ) -> str | Refusal:
        """The authenticated user name, or the refusal to send."""
        header = self.credentials_header
        if not values:
            if other:
                wrong = "Authorization" if self.proxy else "Proxy-Authorization"
                attempt.add(
                    "wrong-auth-header",
                    f"sent {wrong} but this registrar challenges with {self.status} and "
                    f"{self.challenge_header}, which is answered with {header} "
                    "(RFC 3261 §22.3)",
                )
            else:
                attempt.add(
                    "no-credentials",
                    f"no {header} header: the registrar challenges with {self.status} "
                    "(normal for a first REGISTER)",
                )
            return self.challenge(realm, now)
        creds: Credentials | None = None
        realms: list[str] = []
        schemes: list[str] = []
        for value in values:
            try:
                parsed = parse_credentials(value, proxy=self.proxy)
            except SipParseError as exc:
                attempt.add("bad-request", f"the {header} header cannot be parsed: {exc.message}")
                return Refusal(400, [])
            if not parsed.is_digest:
                schemes.append(parsed.scheme)
            elif parsed.realm == realm:
                creds = parsed
                break
            else:
                realms.append(parsed.realm)
        if creds is None:
            if realms:
                attempt.add(
                    "wrong-realm",
                    f"answered for realm {realms[0]!r} but the challenge was for realm "
                    f"{realm!r} (the realm must be copied from the challenge)",
                )
            else:
                attempt.add(
                    "not-digest",
                    f"sent {', '.join(schemes)} credentials; this registrar only accepts "
                    "Digest (RFC 3261 §22.1 forbids Basic)",
                )
            return self.challenge(realm, now)
        attempt.auth_user = creds.username
        return self._check(request, creds, realm, now, attempt)

    def _check(
        self, request: Request, creds: Credentials, realm: str, now: float, attempt: Attempt
    ) -> str | Refusal:
        algorithm = creds.algorithm if creds.algorithm is not None else "MD5"
        if algorithm.upper() not in self._offered:
            attempt.add(
                "algorithm-not-offered",
                f"answered with algorithm {algorithm}"
                + (" (no algorithm parameter means MD5)" if creds.algorithm is None else "")
                + f" but the challenge offered {', '.join(self.algorithms)}",
            )
            return self.challenge(realm, now)
        qop = creds.qop
        nc: int | None = None
        if qop is not None:
            if qop.lower() not in self._qops:
                offered = ", ".join(self.qop_options) if self.qop_options else "no qop"
                attempt.add(
                    "qop-not-offered",
                    f"answered with qop={qop} but the challenge offered {offered}",
                )
                return self.challenge(realm, now)
            text = creds.nc or ""
            if len(text) != 8 or not _HEX.issuperset(text) or not creds.cnonce:
                attempt.add(
                    "bad-request",
                    f"qop={qop} needs nc as 8 hex digits and a cnonce (RFC 7616 §3.4); got "
                    f"nc={creds.nc!r}, cnonce={creds.cnonce!r}",
                )
                return Refusal(400, [])
            nc = int(text, 16)
        elif self.qop_options:
            attempt.add(
                "qop-missing",
                f"answered without qop although the challenge offered qop="
                f"{','.join(self.qop_options)} (RFC 7616 §3.4 requires it; without it there "
                "is no nonce count and no replay protection)",
            )
        call_id, cseq = attempt.call_id, attempt.cseq or 0
        state = self.nonces.check(creds.nonce, now, realm=realm, nc=nc, call_id=call_id, cseq=cseq)
        if state == "invalid":
            attempt.add(
                "invalid-nonce",
                "the nonce was not issued by this registrar for this realm (altered, "
                "made up, or from another server)",
            )
            return self.challenge(realm, now)
        if state == "replay":
            attempt.add(
                "nonce-count-reused",
                f"nonce count nc={creds.nc} was already used with this nonce; each request "
                "must increase it (RFC 7616 §3.4)",
            )
            return self.challenge(realm, now)
        if state == "reused":
            attempt.add(
                "nonce-reused",
                "this nonce was already answered for another Call-ID, or for this Call-ID "
                "with a CSeq as high: an answer without qop has no nonce count, so a nonce "
                "is good for one Call-ID and a rising CSeq only (a replayed or edited "
                "request?); answer with qop=auth for replay protection",
            )
            return self.challenge(realm, now)
        account = self.accounts.get(creds.username)
        if account is None:
            attempt.add(
                "unknown-user",
                f"unknown auth user {creds.username!r}: no such account on this registrar",
            )
            return self.challenge(realm, now)
        if not same_uri(creds.uri, request.uri):
            attempt.add(
                "digest-uri-mismatch",
                f"the digest uri {creds.uri!r} differs from the Request-URI {request.uri!r} "
                "(RFC 3261 §22.4: it must be the Request-URI)",
            )
            if self.strict_uri:
                return Refusal(400, [])
        ha1 = self._ha1.get(algorithm, creds.username, realm, account.password)
        try:
            ok = verify_credentials(creds, ha1=ha1, method=request.method, body=request.body)
        except DigestError as exc:
            attempt.add("bad-request", f"the credentials cannot be checked: {exc.message}")
            return Refusal(400, [])
        if not ok:
            attempt.add(*diagnose_wrong_response(request, creds, realm, account.password))
            return self.challenge(realm, now)
        if state == "stale":
            # RFC 7616 §3.3: stale=true only when the digest was right for the old nonce.
            attempt.add(
                "stale-nonce",
                f"the nonce is older than {self.nonces.lifetime:g} s; challenged again with "
                "stale=true (the client should retry without asking for the password)",
            )
            return self.challenge(realm, now, stale=True)
        self.nonces.use(creds.nonce, nc, now, call_id=call_id, cseq=cseq)
        return creds.username
