"""Failure + facts -> diagnoses: the one place each diagnosis is written.

Every message, cause and piece of advice a user reads about a failed (or
noteworthy) run comes from here, whether the run was live or read from a
capture. The words use the facts: which header refused us, the auth user we
actually sent, the server's reason phrase, Retry-After, Min-Expires. Pure.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from sipcheck.diagnosis.facts import Facts, FinalSeen, contact_address
from sipcheck.sip.client.failure import Failure
from sipcheck.trace import Address, Diagnosis

Explainer = Callable[[Facts, str], Diagnosis]


def diagnose(
    failure: Failure | None, facts: Facts, detail: str = "", wall_start: float = 0.0
) -> list[Diagnosis]:
    """The failure's diagnosis first (if any), then warnings and notes."""
    out: list[Diagnosis] = []
    if failure is not None:
        if failure is Failure.SERVER_ERROR:
            out.append(_server_error(facts, detail, wall_start))
        else:
            out.append(_EXPLAINERS[failure](facts, detail))
    out += _notes(failure, facts)
    return out


# ------------------------------------------------------------ authentication


def _who(facts: Facts) -> tuple[str, str]:
    """Who refused us and with which header, from the last challenge."""
    last = facts.challenges[-1] if facts.challenges else None
    if last is not None and last.status == 407:
        return "the proxy", "Proxy-Authorization"
    return "the registrar", "Authorization"


def _auth_user(facts: Facts) -> str | None:
    answers = facts.last_answers
    return answers[-1].username if answers else facts.intent.auth_user


def _auth_user_cause(facts: Facts) -> str:
    sent = _auth_user(facts)
    aor_user = facts.intent.aor.user or ""
    if sent is None:
        return "the auth user is wrong (--auth-user)"
    if sent == aor_user:
        return (
            f"the auth user is wrong: we authenticated as {sent!r} (the SIP user); "
            "many providers give a separate authorization user (--auth-user)"
        )
    return f"the auth user is wrong: we authenticated as {sent!r} (--auth-user)"


def _credentials_rejected(facts: Facts, detail: str) -> Diagnosis:
    who, header = _who(facts)
    last = facts.challenges[-1] if facts.challenges else None
    realm = last.realms[0] if last is not None and last.realms else "?"
    sent = _auth_user(facts)
    causes = [
        f"the password is wrong for auth user {sent!r}" if sent else "the password is wrong",
        _auth_user_cause(facts),
    ]
    domain = facts.intent.aor.host.lower()
    if realm != "?" and realm.lower() != domain:
        causes.append(f"the credentials are for another realm: the server asked for {realm!r}")
    realms = {r for c in facts.challenges for r in c.realms}
    if len(realms) > 2:
        causes.insert(0, f"the server names a new realm with each challenge ({len(realms)} so far)")
    status = f" ({last.status})" if last is not None else ""
    return Diagnosis(
        "credentials-rejected",
        "error",
        f"{who} challenged again{status} after our {header} for realm {realm!r}: "
        "it did not accept the credentials",
        causes=tuple(causes),
        advice=(
            "check the password for this account (and where sipcheck read it from)",
            "compare the auth user and realm in the ladder with what your provider gave you",
        ),
    )


def _nonce_always_stale(facts: Facts, detail: str) -> Diagnosis:
    who, _ = _who(facts)
    rounds = [
        f"{(b.time - a.time) * 1000:.0f} ms"
        for a, b in zip(facts.requests, facts.challenges[1:], strict=False)
    ]
    rtt = f" (our answers took {', '.join(rounds)})" if rounds else ""
    return Diagnosis(
        "nonce-always-stale",
        "error",
        f"{who} called our nonce stale (stale=true) after every answer, "
        f"{facts.stale_challenges} times: the password was accepted each time, but the "
        "server's nonce handling refuses even a fresh nonce",
        causes=(
            f"the server's nonce lifetime is shorter than our round trip{rtt}",
            "the server's clock jumps, or the nodes of a cluster differ in time or secret",
        ),
        advice=(
            "check the server's nonce lifetime (Kamailio auth nonce_expire, Asterisk "
            "nonce lifetime) and its clock (NTP); this is not a password problem",
        ),
    )


def _challenge_unsupported(facts: Facts, detail: str) -> Diagnosis:
    offered = ", ".join(
        sorted({(c.algorithm or "MD5") for s in facts.challenges for c in s.challenges})
    )
    return Diagnosis(
        "challenge-unsupported",
        "error",
        f"the server's challenge cannot be answered: {detail or 'algorithms ' + offered}",
        causes=("the server requires an algorithm or qop that sipcheck does not support",),
        advice=("look at the challenge in the ladder; check the server's digest settings",),
    )


def _no_password(facts: Facts, detail: str) -> Diagnosis:
    return Diagnosis(
        "no-password",
        "error",
        detail or "a challenge came and no password was given",
        advice=(
            "give the password with --password-env NAME, --password-file PATH, or "
            "run in a terminal to be prompted",
        ),
    )


def _no_credentials(facts: Facts, detail: str) -> Diagnosis:
    return Diagnosis(
        "no-credentials-for-realm",
        "error",
        f"the server challenged and sipcheck has no credentials to answer: {detail}",
        causes=(
            "--realm names another realm than the one the server asked for",
            "no user was given (--user / --auth-user) for a server that asks for one",
        ),
        advice=("drop --realm, or give the realm from the challenge in the ladder",),
    )


# ------------------------------------------------------------ final responses


def _status_line(final: FinalSeen | None) -> str:
    if final is None:
        return "no final response"
    return f"{final.status} {final.reason}" if final.reason else str(final.status)


def _knowledge(final: FinalSeen | None) -> tuple[str, tuple[str, ...]]:
    if final is None:
        return "", ()
    from sipcheck.sip.knowledge.codes import lookup  # the knowledge base: only on failure

    info = lookup(final.status)
    return info.for_register, tuple(info.next_steps)


def _by_status(identifier: str) -> Explainer:
    def explain(facts: Facts, detail: str) -> Diagnosis:
        text, steps = _knowledge(facts.final)
        message = f"{_status_line(facts.final)}: {text}" if text else _status_line(facts.final)
        if detail and facts.final is None:
            message = detail
        return Diagnosis(identifier, "error", message, (), steps)

    return explain


def _request_failed(facts: Facts, detail: str) -> Diagnosis:
    status = facts.final.status if facts.final is not None else 0
    return _by_status(f"status-{status}")(facts, detail)


def _forbidden(facts: Facts, detail: str) -> Diagnosis:
    text, steps = _knowledge(facts.final)
    final = facts.final
    said = f" (the server said {final.reason!r})" if final is not None and final.reason else ""
    sent = _auth_user(facts) if facts.answers else None
    aor = facts.intent.aor
    if sent is None:
        causes: tuple[str, ...] = ("the server refuses this AoR or your address by policy",)
        message = f"{_status_line(final)}: {text}"
    else:
        aor_text = f"{aor.user}@{aor.host}"
        message = f"403 to our REGISTER with credentials (auth user {sent!r}){said}"
        if sent != (aor.user or ""):
            causes = (
                f"the auth user {sent!r} may not register {aor_text}: many registrars only let "
                "an auth user register its own AoR",
                f"the account {sent!r} is disabled or blocked on the server",
            )
        else:
            causes = (
                f"the account {sent!r} is disabled or blocked on the server",
                "an IP or ACL restriction refuses this source address",
            )
        causes += ("some servers answer 403 for a wrong password",)
    return Diagnosis("forbidden", "error", message, causes, steps)


def _not_found(facts: Facts, detail: str) -> Diagnosis:
    text, steps = _knowledge(facts.final)
    if facts.intent.mode == "query" and facts.answers:
        return Diagnosis(
            "not-found",
            "error",
            f"{_status_line(facts.final)} to a query after our credentials were accepted",
            causes=(
                "the AoR has no bindings: some registrars (ejabberd) answer a query for an "
                "AoR with nothing bound with 404",
                "the registrar does not know the AoR or the domain",
            ),
            advice=("register first (sipcheck register), then query again", *steps),
        )
    if facts.intent.mode == "unregister" and facts.answers:
        return Diagnosis(
            "not-found",
            "error",
            f"{_status_line(facts.final)} to an unregister after our credentials were accepted",
            causes=(
                f"our Contact {facts.contact_sent} is not bound: some registrars (ejabberd) "
                "answer 404 when there is nothing to remove; each sipcheck run sends from its "
                "own port, so its Contact is not the one an earlier run registered",
                "the registrar does not know the AoR or the domain",
            ),
            advice=(
                "remove every binding with --all (Contact: *), or name one with --contact",
                "list the bindings first with `sipcheck query`",
            ),
        )
    return Diagnosis("not-found", "error", f"{_status_line(facts.final)}: {text}", (), steps)


def _interval_too_brief(facts: Facts, detail: str) -> Diagnosis:
    text, steps = _knowledge(facts.final)
    final = facts.final
    raised = facts.min_expires_retry
    if raised is not None:
        why = f"423 again after we raised the expiry from {raised[0]} s to {raised[1]} s"
    elif final is not None and final.min_expires is None:
        why = "423 without a usable Min-Expires, so there is nothing to retry with"
    else:
        why = f"423 (Min-Expires: {final.min_expires if final else '?'})"
    return Diagnosis("interval-too-brief", "error", f"{why}: {text}", (), steps)


def _server_error(facts: Facts, detail: str, wall_start: float) -> Diagnosis:
    text, steps = _knowledge(facts.final)
    final = facts.final
    message = f"{_status_line(final)}: {text}" if final is not None else detail
    advice = steps
    if final is not None and final.retry_after is not None:
        at = wall_start + final.time + final.retry_after
        when = datetime.fromtimestamp(at, tz=timezone.utc).strftime("%H:%M:%S UTC")
        message += f" The server asked us to retry after {final.retry_after} s (Retry-After)."
        advice = (f"try again in {final.retry_after} s (after {when})", *steps)
    targets = sum(1 for f in facts.finals if f.status == 503)
    if targets > 1:
        message += f" {targets} servers answered 503."
    return Diagnosis("server-error", "error", message, (), advice)


# ------------------------------------------------------------ after a 2xx


def _binding_not_removed(facts: Facts, detail: str) -> Diagnosis:
    ours = facts.contact_sent or "?"
    return Diagnosis(
        "binding-not-removed",
        "error",
        f"the registrar answered {_status_line(facts.final)} but still lists our Contact "
        f"{ours} as bound",
        causes=("the registrar ignored Expires: 0 for this Contact",),
        advice=("remove every binding with --all (Contact: *)",),
    )


def _bindings_remain(facts: Facts, detail: str) -> Diagnosis:
    final = facts.final
    left = [c.uri for c in final.contacts if c.expires] if final is not None else []
    return Diagnosis(
        "bindings-remain",
        "error",
        f"our Contact is not bound, but {len(left)} other binding(s) remain: {', '.join(left)}",
        causes=(
            "they were registered with another Contact: each sipcheck run (and each phone) "
            "sends from its own address and port, so an unregister removes only its own",
        ),
        advice=(
            "remove every binding with --all (Contact: *)",
            f"or remove one with --contact {left[0]}" if left else "or name one with --contact",
        ),
    )


# ------------------------------------------------------------ no final response


def _timeout(facts: Facts, detail: str) -> Diagnosis:
    if facts.provisional:
        return Diagnosis(
            "timeout",
            "error",
            "only provisional responses came back; no final response in time",
            causes=("the registrar is slow or waits on a backend (database, upstream)",),
            advice=("raise --timeout; look at the registrar's logs",),
        )
    what = f" ({detail})" if detail else ""
    if facts.transport in (None, "udp"):
        causes: tuple[str, ...] = (
            "a firewall drops the packets",
            "the server does not listen on UDP (try --transport tcp or tls)",
            "the server is down or is not on this address",
        )
        advice = "check the address and port; try another --transport; check firewalls"
    else:
        causes = (
            f"the server accepted the {facts.transport.upper()} connection but never answered: "
            "it may not speak SIP on this port, or it silently drops our requests",
            "the server is overloaded or waits on a backend",
        )
        advice = "check the port and the server's logs; try `sipcheck options` on the target"
    return Diagnosis(
        "timeout", "error", f"nothing came back at all{what}", causes=causes, advice=(advice,)
    )


def _unreachable(facts: Facts, detail: str) -> Diagnosis:
    return Diagnosis(
        "unreachable",
        "error",
        detail or "nothing is listening",
        causes=(
            "nothing is listening on that address and port",
            "the transport is wrong (the server may accept only TCP or TLS)",
        ),
        advice=("check the port and --transport; try `sipcheck options` on the target",),
    )


def _connect_timeout(facts: Facts, detail: str) -> Diagnosis:
    return Diagnosis(
        "connect-timeout",
        "error",
        detail or "no TCP connection was established",
        causes=(
            "a firewall drops the connection attempt (no answer to the TCP SYN)",
            "the address is wrong, or the host is down",
        ),
        advice=("check the address and port and any firewall in between",),
    )


def _tls_failed(facts: Facts, detail: str) -> Diagnosis:
    if "certificate" in detail:
        causes: tuple[str, ...] = (
            "the certificate is self-signed or from a CA this machine does not trust",
            "the certificate does not name the host you connected to",
        )
        advice: tuple[str, ...] = ("give the CA with --ca-file, or use --insecure for a test only",)
    else:
        causes = (
            "the port does not speak TLS (a plain SIP/TCP or UDP port?)",
            "the server and sipcheck share no TLS version or cipher",
        )
        advice = ("check the port for TLS (usually 5061) and the server's TLS settings",)
    return Diagnosis("tls-failed", "error", detail or "the TLS handshake failed", causes, advice)


def _tls_handshake_timeout(facts: Facts, detail: str) -> Diagnosis:
    return Diagnosis(
        "tls-handshake-timeout",
        "error",
        detail or "TCP connected, but the TLS handshake never finished",
        causes=(
            "the port speaks plain SIP over TCP, not TLS (try --transport tcp)",
            "the server is stuck or a middlebox holds the handshake",
        ),
        advice=("check that the port is the server's TLS port (usually 5061)",),
    )


def _dns_failed(facts: Facts, detail: str) -> Diagnosis:
    return Diagnosis(
        "dns-failed",
        "error",
        detail or "the domain did not resolve",
        causes=(
            "the domain has no SIP records (NAPTR/SRV) and no address",
            "a typo in the domain, or no DNS server reachable from here",
        ),
        advice=("give the server directly with --server HOST[:PORT]",),
    )


def _loop(facts: Facts, detail: str) -> Diagnosis:
    return Diagnosis(
        "request-loop",
        "error",
        detail or f"stopped after {len(facts.requests)} requests",
        causes=("the server keeps asking for something new (challenges, redirects)",),
        advice=("look at the ladder for what repeats",),
    )


_EXPLAINERS: dict[Failure, Explainer] = {
    Failure.CREDENTIALS_REJECTED: _credentials_rejected,
    Failure.NONCE_ALWAYS_STALE: _nonce_always_stale,
    Failure.CHALLENGE_UNSUPPORTED: _challenge_unsupported,
    Failure.NO_PASSWORD: _no_password,
    Failure.NO_CREDENTIALS_FOR_REALM: _no_credentials,
    Failure.FORBIDDEN: _forbidden,
    Failure.NOT_FOUND: _not_found,
    Failure.INTERVAL_TOO_BRIEF: _interval_too_brief,
    Failure.REDIRECTED: _by_status("redirected"),
    Failure.REQUEST_FAILED: _request_failed,
    Failure.GLOBAL_FAILURE: _by_status("global-failure"),
    Failure.BINDING_NOT_REMOVED: _binding_not_removed,
    Failure.BINDINGS_REMAIN: _bindings_remain,
    Failure.TIMEOUT: _timeout,
    Failure.UNREACHABLE: _unreachable,
    Failure.CONNECT_TIMEOUT: _connect_timeout,
    Failure.TLS_FAILED: _tls_failed,
    Failure.TLS_HANDSHAKE_TIMEOUT: _tls_handshake_timeout,
    Failure.DNS_FAILED: _dns_failed,
    Failure.LOOP: _loop,
}


# ------------------------------------------------------------ notes


def _notes(failure: Failure | None, facts: Facts) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    domain = facts.intent.aor.host.lower()
    answered_realms = [a.realm for a in facts.answers]
    for realm in dict.fromkeys(answered_realms):
        if realm.lower() != domain:
            out.append(
                Diagnosis(
                    "realm-differs",
                    "info" if failure is None else "warning",
                    f"the realm {realm!r} is not the AoR's domain {domain!r}",
                    causes=("the server uses its own realm (Asterisk's default is 'asterisk')",),
                    advice=(f"if your provider gave credentials per realm, pass --realm {realm}",),
                )
            )
            break
    if facts.stale_challenges and failure is not Failure.NONCE_ALWAYS_STALE:
        out.append(
            Diagnosis(
                "stale-nonce",
                "info",
                "the server said our nonce was stale (stale=true); we answered again with the"
                " new nonce, which means the password itself was accepted",
            )
        )
    raised = facts.min_expires_retry
    if raised is not None and failure is None:
        out.append(
            Diagnosis(
                "interval-raised",
                "info",
                f"we asked for {raised[0]} s; the server's minimum is {raised[1]} s (423 Interval "
                f"Too Brief, Min-Expires: {raised[1]}), so we registered again with {raised[1]} s "
                "(RFC 3261 §10.2.8)",
            )
        )
    nat = nat_hint(facts)
    if nat is not None:
        out.append(
            Diagnosis(
                "nat-detected",
                "warning",
                nat,
                causes=("a NAT or firewall between you and the registrar rewrites addresses",),
                advice=(
                    "calls to you may fail unless the registrar handles NAT (RFC 5626 "
                    "outbound, force_rport/fix_nated_contact) or you advertise the public "
                    "address with --contact",
                ),
            )
        )
    return out


def nat_hint(facts: Facts) -> str | None:
    """The NAT sentence, when the registrar saw us elsewhere than our Contact says."""
    final = facts.final
    if final is None or final.seen_as is None or facts.intent.mode in ("query", "options"):
        return None
    contact = facts.contact_sent
    says: Address | None = None
    if contact and contact != "*":
        says = contact_address(contact)
    if says is None:
        says = facts.local
    if says is None or (says.host, says.port) == (final.seen_as.host, final.seen_as.port):
        return None
    return f"the registrar saw you as {final.seen_as}; your Contact says {says}"
