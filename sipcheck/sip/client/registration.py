"""The registration flow (RFC 3261 §10.2) as a sans-I/O state machine.

One ``Registration`` runs one command (register, unregister, query, options):
it builds requests, walks 401/407 challenges, retries a 423 once, follows
redirects and asks the shell for another target after a 503 or a transport
failure. The shell feeds it octets, errors and time, and sends what
``take_outgoing()`` returns to the current target.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import Enum

from sipcheck.errors import DigestError, LocalProtocolError, SipParseError
from sipcheck.sip.client.config import Credential, Mode, RegistrationConfig
from sipcheck.sip.client.events import (
    ChallengeAnswered,
    Event,
    Finished,
    PasswordNeeded,
    ResponseReceived,
    StrayIgnored,
    TargetFailed,
)
from sipcheck.sip.client.failure import Failure, status_failure
from sipcheck.sip.client.requests import RequestSpec, build_request, contact_uri
from sipcheck.sip.client.transaction import ClientTransaction, Outgoing, TxState
from sipcheck.sip.digest.compute import NonceCounter, answer_challenge, choose_challenge
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.auth import Challenge, Credentials, format_credentials, parse_challenges
from sipcheck.sip.wire.headers import Headers
from sipcheck.sip.wire.message import Response
from sipcheck.sip.wire.parser import parse_message
from sipcheck.sip.wire.uri import SipUri

MAX_REQUESTS = 12  # a guard against any loop we did not foresee
MAX_REDIRECTS = 3
MAX_STALE_RETRIES = 2  # stale=true answered at most this often per run
MAX_REALMS = 4  # distinct (proxy, realm) challenges answered per run
DEFAULT_ALLOW = "OPTIONS"


class Phase(Enum):
    IDLE = "idle"
    WAITING = "waiting"  # a transaction is under way
    NEED_TARGET = "need-target"
    NEED_PASSWORD = "need-password"
    DONE = "done"


@dataclass
class AuthState:
    """One challenge we are answering, kept for the requests that follow."""

    challenge: Challenge
    auth_user: str
    password: str | None
    ha1: str | None
    offered: tuple[Challenge, ...] = ()
    answered_nonces: set[str] = field(default_factory=set)
    announced: bool = False


@dataclass
class Result:
    """What happened, for diagnosis. Filled in as the flow goes."""

    final: Response | None = None
    failure: Failure | None = None
    failure_detail: str = ""
    provisional_seen: bool = False
    challenges_answered: list[ChallengeAnswered] = field(default_factory=list)
    rejected_realm: str | None = None
    stale_retries: int = 0
    min_expires_retry: int | None = None
    redirects: list[str] = field(default_factory=list)
    first_sent: float | None = None
    final_received: float | None = None
    requests_sent: int = 0
    unsupported: str | None = None
    prompt_seconds: float = 0.0  # waiting for a person to type a password
    _prompt_started: float | None = None


class Registration:
    def __init__(self, config: RegistrationConfig, *, rng: random.Random, now: float) -> None:
        self.config = config
        self.rng = rng
        self.phase = Phase.IDLE
        self.result = Result()
        self.events: list[Event] = []
        self.call_id = f"{self._hex(16)}@sipcheck"
        self.from_tag = self._hex(8)
        self.cseq = 0
        self.expires = config.expires
        self.request_uri = config.registrar_uri
        self.deadline = now + config.timeout
        self.transaction: ClientTransaction | None = None
        self._auth: dict[tuple[bool, str], AuthState] = {}  # (proxy, realm) -> state
        self._counter = NonceCounter()
        self._passwords: dict[str, str] = {}
        self._pending_challenge: tuple[list[Challenge], list[Challenge]] | None = None
        self._local: tuple[str, int] | None = None
        self._transport = "udp"
        self._last_request: bytes = b""

    # ---------------------------------------------------------- shell API

    def connect(self, local_host: str, local_port: int, transport: str) -> None:
        """The shell has a transport to the (next) target, bound at this address."""
        self._local = (local_host, local_port)
        self._transport = transport

    def start(self, now: float) -> None:
        if self.phase is not Phase.IDLE:
            raise LocalProtocolError("start() called twice")
        self._send_request(now)

    def resume(self, now: float) -> None:
        """After a TargetFailed: send again to the newly connected target."""
        if self.phase is not Phase.NEED_TARGET:
            raise LocalProtocolError("resume() without a target failure")
        if now >= self.deadline:
            self.result.failure = Failure.TIMEOUT
            self.result.failure_detail = (
                f"no final response within --timeout {self.config.timeout:g} s"
            )
            self._finish(now)
            return
        # What failed at the last target is history now (the shell keeps it).
        self.result.failure = None
        self.result.failure_detail = ""
        self._send_request(now)

    def give_up(self, now: float) -> None:
        """No target left after a TargetFailed."""
        if self.result.failure is None:
            self.result.failure = Failure.UNREACHABLE
            self.result.failure_detail = "no target left to try"
        self._finish(now)

    def abort(self, failure: Failure, detail: str, now: float) -> None:
        """The shell could not even reach a target (refused, TLS, DNS)."""
        if self.transaction is not None:
            self.transaction.terminate()
        self.result.failure = failure
        self.result.failure_detail = detail
        self._finish(now)

    def provide_password(self, realm: str, password: str | None, now: float) -> None:
        """Answer to PasswordNeeded; None when no password can be had."""
        if self.phase is not Phase.NEED_PASSWORD or self._pending_challenge is None:
            raise LocalProtocolError("provide_password() without PasswordNeeded")
        if self.result._prompt_started is not None:
            self.result.prompt_seconds += now - self.result._prompt_started
            self.result._prompt_started = None
        if password is None:
            self.result.failure = Failure.NO_PASSWORD
            self.result.failure_detail = (
                f"a challenge for realm {realm!r} came and no password was given"
            )
            self._finish(now)
            return
        self._passwords[realm] = password
        www, proxy = self._pending_challenge
        self._pending_challenge = None
        self.phase = Phase.WAITING
        self._answer_challenges(www, proxy, now)

    def receive(self, data: bytes, now: float) -> None:
        try:
            message = parse_message(data)
        except SipParseError as exc:
            self.events.append(StrayIgnored(now, data, f"unparseable: {exc}"))
            return
        if not isinstance(message, Response):
            self.events.append(
                StrayIgnored(now, data, f"a {message.method} request, not a response")
            )
            return
        tx = self.transaction
        if tx is None or tx.state is TxState.TERMINATED:
            self.events.append(StrayIgnored(now, data, "no transaction is waiting"))
            return
        if message.call_id != self.call_id:
            self.events.append(StrayIgnored(now, data, f"Call-ID {message.call_id} is not ours"))
            return
        why = tx.mismatch(message)
        if why is not None:
            self.events.append(StrayIgnored(now, data, why))
            return
        outcome = tx.receive(message, now)
        self.events.append(ResponseReceived(now, message, outcome.kind))
        if outcome.kind == "provisional":
            self.result.provisional_seen = True
        elif outcome.kind == "final":
            self.result.final = message
            self.result.final_received = now
            self._on_final(message, now)

    def transport_error(self, detail: str, now: float) -> None:
        """The transport reported the target unreachable (ICMP, refused, reset)."""
        if self.phase is not Phase.WAITING:
            return
        if self.transaction is not None:
            self.transaction.terminate()
        self.result.failure = Failure.UNREACHABLE
        self.result.failure_detail = detail
        self._target_failed(Failure.UNREACHABLE, detail, now)

    def take_outgoing(self) -> list[Outgoing]:
        if self.transaction is None:
            return []
        return self.transaction.take_outgoing()

    def take_events(self) -> list[Event]:
        out, self.events = self.events, []
        return out

    def next_timer(self) -> float | None:
        if self.phase is Phase.DONE:
            return None
        tx_timer = self.transaction.next_timer() if self.transaction is not None else None
        if self.phase in (Phase.NEED_PASSWORD, Phase.NEED_TARGET):
            return tx_timer  # only absorbing retransmissions; the shell is busy
        return self.deadline if tx_timer is None else min(tx_timer, self.deadline)

    def handle_timer(self, now: float) -> None:
        tx = self.transaction
        if tx is not None:
            was_waiting = tx.state in (TxState.TRYING, TxState.PROCEEDING)
            tx.handle_timer(now)
            if was_waiting and tx.timed_out and self.phase is Phase.WAITING:
                self.result.failure = Failure.TIMEOUT
                self.result.failure_detail = (
                    f"no final response within Timer F ({self.config.timers.f:g} s)"
                )
                self._target_failed(Failure.TIMEOUT, self.result.failure_detail, now)
                return
        if self.phase is Phase.WAITING and now >= self.deadline:
            if tx is not None:
                tx.terminate()
            self.result.failure = Failure.TIMEOUT
            self.result.failure_detail = (
                f"no final response within --timeout {self.config.timeout:g} s"
            )
            self._finish(now)

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    # ---------------------------------------------------------- internals

    def _hex(self, digits: int) -> str:
        return f"{self.rng.getrandbits(digits * 4):0{digits}x}"

    def _target_failed(
        self, reason: Failure, detail: str, now: float, redirect: SipUri | None = None
    ) -> None:
        self.phase = Phase.NEED_TARGET
        self.events.append(TargetFailed(now, reason, detail, redirect))

    def _finish(self, now: float) -> None:
        self.phase = Phase.DONE
        self.events.append(Finished(now))

    def _send_request(self, now: float) -> None:
        if self._local is None:
            raise LocalProtocolError("connect() must be called before sending")
        if self.result.requests_sent >= MAX_REQUESTS:
            self.result.failure = Failure.LOOP
            self.result.failure_detail = f"stopped after {MAX_REQUESTS} requests"
            self._finish(now)
            return
        self.cseq += 1
        branch = "z9hG4bK" + self._hex(16)  # RFC 3261 §8.1.1.7 magic cookie
        mode = self.config.mode
        method = "OPTIONS" if mode is Mode.OPTIONS else "REGISTER"
        headers = Headers()
        for state in self._auth.values():
            try:
                creds = self._credentials(state, method)
            except DigestError as exc:  # ChallengeUnsupported included
                self.result.failure = Failure.CHALLENGE_UNSUPPORTED
                self.result.unsupported = str(exc)
                self._finish(now)
                return
            name = "Proxy-Authorization" if state.challenge.proxy else "Authorization"
            headers.add(name, format_credentials(creds))
            if not state.announced:
                state.announced = True
                event = ChallengeAnswered(
                    now, state.challenge, creds, state.auth_user, state.offered
                )
                self.result.challenges_answered.append(event)
                self.events.append(event)
        spec = RequestSpec(
            method=method,
            request_uri=self.request_uri,
            aor=self.config.aor,
            local=self._local,
            transport=self._transport,
            branch=branch,
            call_id=self.call_id,
            cseq=self.cseq,
            from_tag=self.from_tag,
            contact=self._contact_header(mode),
            expires=None if mode in (Mode.QUERY, Mode.OPTIONS) else self._expires_value(mode),
            user_agent=self.config.user_agent,
            max_forwards=self.config.max_forwards,
            allow=DEFAULT_ALLOW,
            extra=headers,
        )
        data = build_request(spec)
        self._last_request = data
        self.transaction = ClientTransaction(
            data,
            branch=branch,
            method=method,
            cseq=self.cseq,
            reliable=self._transport != "udp",
            timers=self.config.timers,
            now=now,
        )
        self.phase = Phase.WAITING
        self.result.requests_sent += 1
        if self.result.first_sent is None:
            self.result.first_sent = now

    def _expires_value(self, mode: Mode) -> int:
        return 0 if mode in (Mode.UNREGISTER, Mode.UNREGISTER_ALL) else self.expires

    def _contact_header(self, mode: Mode) -> str | None:
        if mode in (Mode.QUERY, Mode.OPTIONS):
            return None
        if mode is Mode.UNREGISTER_ALL:
            return "*"  # RFC 3261 §10.2.2
        uri = self.contact_uri
        return None if uri is None else f"<{uri}>"

    @property
    def contact_uri(self) -> str | None:
        """Our Contact URI; None before any target was connected."""
        if self.config.contact is not None:
            return self.config.contact
        if self._local is None:
            return None
        user = self.config.contact_user or self.config.aor.user
        return contact_uri(self.config.aor, user, self._local, self._transport)

    def _credentials(self, state: AuthState, method: str) -> Credentials:
        challenge = state.challenge
        nc = self._counter.next(challenge.nonce)
        creds = answer_challenge(
            challenge,
            username=state.auth_user,
            password=state.password,
            ha1=state.ha1,
            method=method,
            uri=str(self.request_uri),
            cnonce=self._hex(16),
            nc=nc,
            qop_preference=self.config.qop_preference,
        )
        state.answered_nonces.add(challenge.nonce)
        return creds

    def _on_final(self, response: Response, now: float) -> None:
        status = response.status
        if status in (401, 407):
            www, www_error = _challenges(response, "WWW-Authenticate", proxy=False)
            proxy, proxy_error = _challenges(response, "Proxy-Authenticate", proxy=True)
            self._answer_challenges(www, proxy, now, www_error or proxy_error)
            return
        if status == 423 and self.config.mode is Mode.REGISTER:
            self._retry_min_expires(response, now)
            return
        if 300 <= status < 400 and self.config.mode is not Mode.OPTIONS:
            self._redirect(response, now)
            return
        if status == 503:
            retry = response.headers.get("Retry-After")
            detail = "503 Service Unavailable" + (f" (Retry-After: {retry})" if retry else "")
            self.result.failure = Failure.SERVER_ERROR
            self.result.failure_detail = detail
            self._target_failed(Failure.SERVER_ERROR, detail, now)
            return
        if status >= 300:
            self.result.failure = status_failure(status)
        self._finish(now)

    def _answer_challenges(
        self, www: list[Challenge], proxy: list[Challenge], now: float, error: str | None = None
    ) -> None:
        if not www and not proxy:
            self.result.failure = Failure.CHALLENGE_UNSUPPORTED
            self.result.unsupported = (
                f"the challenge does not parse: {error}"
                if error
                else "the challenge response carries no WWW-Authenticate/Proxy-Authenticate"
            )
            self._finish(now)
            return
        for offered in (proxy, www):
            if not offered:
                continue
            try:
                chosen = choose_challenge(
                    offered,
                    self.config.algorithm_preference,
                    qop_preference=self.config.qop_preference,
                )
            except DigestError as exc:  # ChallengeUnsupported included
                self.result.failure = Failure.CHALLENGE_UNSUPPORTED
                self.result.unsupported = str(exc)
                self._finish(now)
                return
            key = (chosen.proxy, chosen.realm)
            previous = self._auth.get(key)
            if previous is not None and previous.answered_nonces:
                if chosen.stale and self.result.stale_retries < MAX_STALE_RETRIES:
                    # RFC 2617 §3.2.1 / RFC 7616 §3.3: stale=true: the password was
                    # right, the nonce was old; answer once more with the new one.
                    self.result.stale_retries += 1
                else:
                    # Each nonce is answered once: a new challenge after our answer
                    # means the credentials were refused, unless the server keeps
                    # calling every nonce stale (its nonce handling). Never loop.
                    self.result.failure = (
                        Failure.NONCE_ALWAYS_STALE if chosen.stale else Failure.CREDENTIALS_REJECTED
                    )
                    self.result.rejected_realm = chosen.realm
                    self._finish(now)
                    return
            elif previous is None and len(self._auth) >= MAX_REALMS:
                # A server that names a new realm with every challenge would otherwise
                # get a fresh answer each time: bound the realms answered per run.
                self.result.failure = Failure.CREDENTIALS_REJECTED
                self.result.rejected_realm = chosen.realm
                self._finish(now)
                return
            account = self._account_for(chosen.realm)
            if account is None:
                self.result.failure = Failure.NO_CREDENTIALS_FOR_REALM
                self.result.failure_detail = f"no account for realm {chosen.realm!r}"
                self._finish(now)
                return
            password = (
                account.password
                if account.password is not None
                else self._passwords.get(chosen.realm)
            )
            if password is None and account.ha1 is None:
                self._pending_challenge = (www, proxy)
                self.phase = Phase.NEED_PASSWORD
                self.result._prompt_started = now
                self.events.append(PasswordNeeded(now, chosen.realm, account.auth_user))
                return
            state = AuthState(chosen, account.auth_user, password, account.ha1, tuple(offered))
            if previous is not None:
                state.answered_nonces = previous.answered_nonces
            self._auth[key] = state
        self._send_request(now)

    def _method(self) -> str:
        return "OPTIONS" if self.config.mode is Mode.OPTIONS else "REGISTER"

    def _account_for(self, realm: str) -> Credential | None:
        fallback = None
        for account in self.config.accounts:
            if account.realm == realm:
                return account
            if account.realm is None and fallback is None:
                fallback = account
        if fallback is None and not self.config.accounts and self.config.aor.user:
            # No account given: authenticate as the AoR's user, asking for a password.
            return Credential(self.config.aor.user)
        return fallback

    def _retry_min_expires(self, response: Response, now: float) -> None:
        value = response.headers.get("Min-Expires")
        try:
            minimum = fields.parse_delta_seconds(value or "", "Min-Expires")
        except SipParseError:
            minimum = None
        if minimum is None or self.result.min_expires_retry is not None or minimum <= self.expires:
            # RFC 3261 §10.2.8: retry once with the server's minimum; a second 423
            # (or one without a usable Min-Expires) is final.
            self.result.failure = Failure.INTERVAL_TOO_BRIEF
            self._finish(now)
            return
        self.result.min_expires_retry = minimum
        self.expires = minimum
        self._send_request(now)

    def _redirect(self, response: Response, now: float) -> None:
        try:
            targets = [c for c in fields.contacts(response.headers) if c.address is not None]
        except SipParseError:
            targets = []
        uri = None
        if targets and targets[0].address is not None:
            parsed = targets[0].address.uri
            uri = parsed if isinstance(parsed, SipUri) else None
        if uri is None or len(self.result.redirects) >= MAX_REDIRECTS:
            self.result.failure = Failure.REDIRECTED
            self.result.failure_detail = (
                "redirect without a usable sip: Contact"
                if uri is None
                else f"more than {MAX_REDIRECTS} redirects"
            )
            self._finish(now)
            return
        self.result.redirects.append(str(uri))
        # RFC 3261 §8.1.3.4: the Contact of a 3xx is the next Request-URI.
        self.request_uri = SipUri(uri.scheme, uri.host, None, None, uri.port, uri.params)
        self._target_failed(
            Failure.REDIRECTED, f"{response.status} {response.reason} to {uri}", now, uri
        )


def _challenges(
    response: Response, name: str, *, proxy: bool
) -> tuple[list[Challenge], str | None]:
    """The challenges of one header that parse, and the first parse error."""
    out: list[Challenge] = []
    error: str | None = None
    for value in response.headers.get_all(name):
        try:
            out.extend(parse_challenges(value, proxy=proxy))
        except SipParseError as exc:
            error = error or f"{name}: {exc}"
    return out, error
