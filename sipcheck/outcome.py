"""From what the client core recorded to an Outcome: verdict, diagnoses with
likely causes and advice, bindings, NAT hints, timings, exit status. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from sipcheck.errors import SipParseError
from sipcheck.exit_status import ExitStatus
from sipcheck.sip.client.registration import Mode, Registration
from sipcheck.sip.locate.targets import Resolution, Target
from sipcheck.sip.wire import fields
from sipcheck.sip.wire.message import Response
from sipcheck.sip.wire.uri import SipUri, parse_uri
from sipcheck.trace import Address, Binding, Diagnosis, Outcome, Trace

SUCCESS_RESULT = {
    Mode.REGISTER: "registered",
    Mode.UNREGISTER: "unregistered",
    Mode.UNREGISTER_ALL: "unregistered",
    Mode.QUERY: "queried",
    Mode.OPTIONS: "reachable",
}
# Diagnosis id -> exit status when it is the reason for failing.
FAILURE_EXIT = {
    "credentials-rejected": ExitStatus.AUTH_FAILED,
    "challenge-unsupported": ExitStatus.AUTH_FAILED,
    "no-password": ExitStatus.AUTH_FAILED,
    "no-credentials-for-realm": ExitStatus.AUTH_FAILED,
    "forbidden": ExitStatus.AUTH_FAILED,
    "timeout": ExitStatus.TIMEOUT,
    "unreachable": ExitStatus.NETWORK,
    "tls-failed": ExitStatus.NETWORK,
    "dns-failed": ExitStatus.NETWORK,
}


@dataclass(frozen=True)
class FailureRecord:
    target: Target
    kind: str
    detail: str


@dataclass
class RunRecord:
    """What one client run produced, as the outcome builder needs it."""

    command: str
    registration: Registration
    trace: Trace
    resolution: Resolution | None
    target: Target | None
    failures: list[FailureRecord] = field(default_factory=list)


def build_outcome(run: RunRecord) -> Outcome:
    reg = run.registration
    res = reg.result
    mode = reg.config.mode
    final = res.final
    outcome = Outcome(command=run.command, aor=str(reg.config.aor), result="failed")
    outcome.target = _target_info(run)
    if final is not None:
        outcome.final_status = final.status
        outcome.final_reason = final.reason
        outcome.server = final.headers.get("Server") or final.headers.get("User-Agent")
    if res.first_sent is not None and res.final_received is not None:
        # Time at the password prompt is a person typing, not the network.
        elapsed = res.final_received - res.first_sent - res.prompt_seconds
        outcome.total_ms = round(elapsed * 1000, 3)
        if res.prompt_seconds:
            outcome.info["password_prompt_ms"] = round(res.prompt_seconds * 1000, 3)
    if mode is not Mode.QUERY and mode is not Mode.OPTIONS:
        outcome.contact_sent = "*" if mode is Mode.UNREGISTER_ALL else reg.contact_uri
    outcome.auth = [
        {
            "realm": e.challenge.realm,
            "proxy": e.challenge.proxy,
            "algorithm": e.challenge.algorithm or "MD5",
            "qop": e.credentials.qop,
            "auth_user": e.auth_user,
            "uri": e.credentials.uri,
            "nc": e.credentials.nc,
            "stale": e.challenge.stale,
        }
        for e in res.challenges_answered
    ]
    ok = final is not None and 200 <= final.status < 300 and res.failure is None
    if ok and final is not None:
        outcome.result = SUCCESS_RESULT[mode]
        outcome.exit_status = int(ExitStatus.SUCCESS)
        if mode is Mode.REGISTER:
            # RFC 6076 §4.1: Registration Request Delay, first REGISTER to its 2xx.
            outcome.rrd_ms = outcome.total_ms
        _read_bindings(outcome, final, reg)
    else:
        diagnosis = _failure_diagnosis(run)
        outcome.diagnoses.append(diagnosis)
        outcome.exit_status = int(_exit_for(diagnosis.id, final))
    _warnings(outcome, run, final)
    return outcome


def _exit_for(diagnosis_id: str, final: Response | None) -> ExitStatus:
    if diagnosis_id in FAILURE_EXIT:
        return FAILURE_EXIT[diagnosis_id]
    if final is not None:
        if final.status >= 600:
            return ExitStatus.GLOBAL_FAILURE
        if final.status >= 500:
            return ExitStatus.SERVER_FAILURE
        if final.status >= 300:
            return ExitStatus.CLIENT_FAILURE
    return ExitStatus.INTERNAL_ERROR


def _target_info(run: RunRecord) -> dict[str, object]:
    info: dict[str, object] = {}
    if run.resolution is not None:
        info["steps"] = [
            f"{s.kind} {s.name}: " + (", ".join(s.answers) or s.note or "no answer")
            for s in run.resolution.steps
        ]
        info["candidates"] = [
            f"{t.transport}:{Address(t.address, t.port)}" for t in run.resolution.targets
        ]
    if run.target is not None:
        info["host"] = run.target.host
        info["address"] = str(Address(run.target.address, run.target.port))
        info["transport"] = run.target.transport
    return info


def _read_bindings(outcome: Outcome, final: Response, reg: Registration) -> None:
    default = final.headers.get("Expires")
    try:
        contacts = fields.contacts(final.headers)
    except SipParseError:
        contacts = []
    sent = reg.contact_uri
    ours = _uri_key(sent) if sent and reg.config.mode is not Mode.QUERY else None
    for contact in contacts:
        if contact.address is None:
            continue
        try:
            expires = contact.expires
        except SipParseError:
            expires = None
        if expires is None and default is not None and default.strip().isdigit():
            expires = int(default)
        uri = str(contact.address.uri)
        is_ours = ours is not None and _uri_key(uri) == ours
        outcome.bindings.append(Binding(uri, expires, is_ours))
        if is_ours:
            outcome.granted_expires = expires
    top = final.headers.values("Via")[:1]
    if top:
        try:
            via = fields.parse_via(top[0])
        except SipParseError:
            return
        host = via.received or via.host.strip("[]")
        port = via.rport or via.port or 5060
        outcome.seen_as = Address(host, port)
    for name in ("Service-Route", "Path"):
        values = final.headers.values(name)
        if values:
            outcome.info[name.lower().replace("-", "_")] = values


def _uri_key(text: str) -> tuple[str, str, int | None] | None:
    try:
        uri = parse_uri(text)
    except SipParseError:
        return None
    if not isinstance(uri, SipUri):
        return None
    return (uri.user or "", uri.host.lower(), uri.port)


def _warnings(outcome: Outcome, run: RunRecord, final: Response | None) -> None:
    reg = run.registration
    domain = reg.config.aor.host.lower()
    for answered in reg.result.challenges_answered:
        realm = answered.challenge.realm
        if realm.lower() != domain and not any(d.id == "realm-differs" for d in outcome.diagnoses):
            outcome.diagnoses.append(
                Diagnosis(
                    "realm-differs",
                    "info" if outcome.result != "failed" else "warning",
                    f"the realm {realm!r} is not the AoR's domain {domain!r}",
                    causes=("the server uses its own realm (Asterisk's default is 'asterisk')",),
                    advice=(f"if your provider gave credentials per realm, pass --realm {realm}",),
                )
            )
    if reg.result.stale_retries:
        outcome.diagnoses.append(
            Diagnosis(
                "stale-nonce",
                "info",
                "the server said our nonce was stale (stale=true); we answered again with the"
                " new nonce, which means the password itself was accepted",
            )
        )
    if outcome.seen_as is not None and run.trace.entries:
        local = run.trace.entries[0].local
        if (outcome.seen_as.host, outcome.seen_as.port) != (local.host, local.port):
            outcome.diagnoses.append(
                Diagnosis(
                    "nat-detected",
                    "warning",
                    f"the registrar saw you as {outcome.seen_as}; your Contact says {local}",
                    causes=("a NAT or firewall between you and the registrar rewrites addresses",),
                    advice=(
                        "calls to you may fail unless the registrar handles NAT (RFC 5626 "
                        "outbound, force_rport/fix_nated_contact) or you advertise the public "
                        "address with --contact",
                    ),
                )
            )


def _failure_diagnosis(run: RunRecord) -> Diagnosis:
    res = run.registration.result
    final = res.final
    kind = res.failure or ""
    if kind in ("unreachable", "tls-failed", "timeout") and run.failures:
        kind = run.failures[-1].kind if run.failures[-1].kind != "503" else kind
    if kind == "credentials-rejected":
        return _credentials_rejected(run)
    if kind == "challenge-unsupported":
        return Diagnosis(
            "challenge-unsupported",
            "error",
            f"the server's challenge cannot be answered: {res.unsupported}",
            causes=("the server requires an algorithm or qop that sipcheck does not support",),
            advice=("look at the challenge in the ladder; check the server's digest settings",),
        )
    if kind == "no-password":
        return Diagnosis(
            "no-password",
            "error",
            res.failure_detail,
            advice=(
                "give the password with --password-env NAME, --password-file PATH, or "
                "run in a terminal to be prompted",
            ),
        )
    if kind == "no-account":
        return Diagnosis(
            "no-credentials-for-realm",
            "error",
            f"the server challenged and sipcheck has no credentials to answer: "
            f"{res.failure_detail}",
            causes=(
                "--realm names another realm than the one the server asked for",
                "no user was given (--user / --auth-user) for a server that asks for one",
            ),
            advice=("drop --realm, or give the realm from the challenge in the ladder",),
        )
    if kind == "timeout":
        return _timeout(run)
    if kind == "unreachable":
        detail = run.failures[-1].detail if run.failures else res.failure_detail
        return Diagnosis(
            "unreachable",
            "error",
            detail,
            causes=(
                "nothing is listening on that address and port",
                "the transport is wrong (the server may accept only TCP or TLS)",
            ),
            advice=("check the port and --transport; try `sipcheck options` on the target",),
        )
    if kind == "tls-failed":
        return Diagnosis(
            "tls-failed",
            "error",
            run.failures[-1].detail if run.failures else res.failure_detail,
            causes=(
                "the certificate is self-signed or from a CA this machine does not trust",
                "the certificate does not name the host you connected to",
            ),
            advice=("give the CA with --ca-file, or use --insecure for a test only",),
        )
    if kind == "dns-failed":
        return Diagnosis(
            "dns-failed",
            "error",
            res.failure_detail,
            causes=(
                "the domain has no SIP records (NAPTR/SRV) and no address",
                "a typo in the domain, or no DNS server reachable from here",
            ),
            advice=("give the server directly with --server HOST[:PORT]",),
        )
    if final is None:
        return Diagnosis(kind or "failed", "error", res.failure_detail or "no final response")
    return _status_diagnosis(run, final)


def _credentials_rejected(run: RunRecord) -> Diagnosis:
    res = run.registration.result
    last = res.challenges_answered[-1] if res.challenges_answered else None
    aor_user = run.registration.config.aor.user or ""
    causes = ["the password is wrong"]
    if last is not None and last.auth_user == aor_user:
        causes.append(
            f"the auth user is wrong: we authenticated as {last.auth_user!r} (the SIP user); "
            "many providers give a separate authorization user (--auth-user)"
        )
    else:
        causes.append("the auth user is wrong (--auth-user)")
    if last is not None and last.challenge.realm.lower() != run.registration.config.aor.host:
        causes.append(
            f"the credentials are for another realm: the server asked for {last.challenge.realm!r}"
        )
    realm = res.rejected_realm or (last.challenge.realm if last else "?")
    return Diagnosis(
        "credentials-rejected",
        "error",
        f"the server challenged again after our answer for realm {realm!r}: "
        "it did not accept the credentials",
        causes=tuple(causes),
        advice=(
            "check the password for this account (and where sipcheck read it from)",
            "compare the auth user and realm in the ladder with what your provider gave you",
        ),
    )


def _timeout(run: RunRecord) -> Diagnosis:
    res = run.registration.result
    transport = run.target.transport if run.target else "udp"
    if res.provisional_seen:
        return Diagnosis(
            "timeout",
            "error",
            "only provisional responses came back; no final response in time",
            causes=("the registrar is slow or waits on a backend (database, upstream)",),
            advice=("raise --timeout; look at the registrar's logs",),
        )
    causes = ["a firewall drops the packets", "the server is down or is not on this address"]
    if transport == "udp":
        causes.insert(1, "the server does not listen on UDP (try --transport tcp or tls)")
    return Diagnosis(
        "timeout",
        "error",
        f"nothing came back at all ({res.failure_detail})",
        causes=tuple(causes),
        advice=("check the address and port; try another --transport; check firewalls",),
    )


def _status_diagnosis(run: RunRecord, final: Response) -> Diagnosis:
    from sipcheck.sip.knowledge.codes import lookup  # the knowledge base: only on failure

    info = lookup(final.status)
    status = final.status
    line = f"{status} {final.reason}"
    steps = tuple(info.next_steps)
    answered = bool(run.registration.result.challenges_answered)
    if status == 403:
        causes = (
            (
                "the credentials were accepted but this account may not register here "
                "(disabled, IP restriction, AoR not owned by the auth user)",
                "some servers answer 403 for a wrong password",
            )
            if answered
            else ("the server refuses this AoR or your address by policy",)
        )
        return Diagnosis("forbidden", "error", f"{line}: {info.for_register}", causes, steps)
    if status == 404:
        return Diagnosis("not-found", "error", f"{line}: {info.for_register}", (), steps)
    if status == 423:
        return Diagnosis("interval-too-brief", "error", f"{line}: {info.for_register}", (), steps)
    if 300 <= status < 400:
        return Diagnosis("redirected", "error", f"{line}: {info.for_register}", (), steps)
    if 500 <= status < 600:
        return Diagnosis("server-error", "error", f"{line}: {info.for_register}", (), steps)
    if status >= 600:
        return Diagnosis("global-failure", "error", f"{line}: {info.for_register}", (), steps)
    return Diagnosis(f"status-{status}", "error", f"{line}: {info.for_register}", (), steps)
