"""From what a client run recorded to an Outcome: verdict, diagnoses, bindings,
timings, exit status. Pure.

The diagnosis itself lives in ``sipcheck.diagnosis``: this module reads the
Trace into facts, takes the core's typed failure (or infers the one a 2xx
hides), and fills the Outcome that every renderer reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sipcheck.diagnosis.classify import after_success
from sipcheck.diagnosis.exit import exit_status
from sipcheck.diagnosis.explain import diagnose
from sipcheck.diagnosis.facts import Facts, Intent, read_facts, uri_key
from sipcheck.sip.client.config import Mode
from sipcheck.sip.client.failure import Failure
from sipcheck.sip.client.registration import Registration
from sipcheck.sip.locate.targets import Resolution, Target
from sipcheck.trace import Address, BoundContact, Outcome, Trace

SUCCESS_RESULT = {
    Mode.REGISTER: "registered",
    Mode.UNREGISTER: "unregistered",
    Mode.UNREGISTER_ALL: "unregistered",
    Mode.QUERY: "queried",
    Mode.OPTIONS: "reachable",
}
# Failures of one target that a later target's outcome should not hide.
_TARGET_FAILURES = (Failure.UNREACHABLE, Failure.TLS_FAILED, Failure.TIMEOUT)


@dataclass(frozen=True)
class FailureRecord:
    """One target given up on: why, in the shell's words."""

    target: Target
    failure: Failure
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


def intent_of(registration: Registration) -> Intent:
    config = registration.config
    account = config.accounts[0] if config.accounts else None
    return Intent(
        mode=config.mode.value,
        aor=config.aor,
        expires=config.expires if config.mode is Mode.REGISTER else None,
        auth_user=account.auth_user if account else config.aor.user,
        realm=account.realm if account else None,
        has_secret=account is not None and (account.password or account.ha1) is not None,
    )


def build_outcome(run: RunRecord) -> Outcome:
    reg = run.registration
    res = reg.result
    mode = reg.config.mode
    facts = read_facts(run.trace, intent_of(reg))
    failure, detail = run_failure(run, facts)
    final = facts.final
    outcome = Outcome(command=run.command, aor=str(reg.config.aor), result="failed")
    outcome.target = _target_info(run)
    if final is not None:
        outcome.final_status = final.status
        outcome.final_reason = final.reason
        outcome.server = final.server
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
    if final is not None and 200 <= final.status < 300:
        _read_bindings(outcome, facts, reg)
    if failure is None and final is not None:
        outcome.result = SUCCESS_RESULT[mode]
        if mode is Mode.REGISTER:
            # RFC 6076 §4.1: Registration Request Delay, first REGISTER to its 2xx.
            outcome.rrd_ms = outcome.total_ms
    outcome.exit_status = int(exit_status(failure))
    outcome.diagnoses = diagnose(failure, facts, detail, run.trace.wall_start)
    return outcome


def run_failure(run: RunRecord, facts: Facts) -> tuple[Failure | None, str]:
    """Why the run failed, and the words of whoever noticed: the core's failure, the
    last target's when that says more (a dead target), or what a 2xx hides."""
    res = run.registration.result
    failure = res.failure
    detail = res.unsupported or res.failure_detail
    if failure in _TARGET_FAILURES and run.failures:
        last = run.failures[-1]
        if last.failure is not Failure.SERVER_ERROR:
            return last.failure, last.detail
    if failure is None and res.final is None:
        return Failure.TIMEOUT, detail  # no final response and nothing said why
    if failure is None:
        return after_success(facts), detail
    return failure, detail


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


def _read_bindings(outcome: Outcome, facts: Facts, reg: Registration) -> None:
    final = facts.final
    assert final is not None
    sent = reg.contact_uri
    ours = uri_key(sent) if sent and reg.config.mode is not Mode.QUERY else None
    for contact in final.contacts:
        if contact.expires == 0:
            outcome.removed.append(contact.uri)
            continue
        is_ours = ours is not None and uri_key(contact.uri) == ours
        outcome.bindings.append(BoundContact(contact.uri, contact.expires, is_ours))
        if is_ours:
            outcome.granted_expires = contact.expires
    outcome.seen_as = final.seen_as
    for name, values in final.extra:
        outcome.info[name.lower().replace("-", "_")] = list(values)
