"""Facts -> Failure: what went wrong, read from the wire alone.

The client core knows why it stopped; a capture does not say. ``classify``
infers the same typed failure from what crossed the wire, so a pcap of a
failed registration is diagnosed like a live run (tests hold the two to the
same answer). ``after_success`` is the part both need: a 2xx that did not do
what was asked (an unregister that left bindings). Pure.
"""

from __future__ import annotations

from sipcheck.diagnosis.facts import STEP_CONNECT, STEP_DNS, STEP_TLS, Facts, uri_key
from sipcheck.sip.client.failure import Failure, status_failure


def classify(facts: Facts) -> Failure | None:
    final = facts.final
    if final is None:
        return _no_final(facts)
    if 200 <= final.status < 300:
        return after_success(facts)
    if final.status in (401, 407):
        return _challenge_left(facts)
    return status_failure(final.status)


def after_success(facts: Facts) -> Failure | None:
    """An unregister whose 2xx still lists bindings did not do what was asked."""
    final = facts.final
    if final is None or facts.intent.mode != "unregister":
        return None
    bound = [c for c in final.contacts if c.expires]
    if not bound:
        return None
    ours = uri_key(facts.contact_sent or "")
    if ours is not None and any(uri_key(c.uri) == ours for c in bound):
        return Failure.BINDING_NOT_REMOVED
    return Failure.BINDINGS_REMAIN


def _no_final(facts: Facts) -> Failure:
    if facts.transport_failures:
        last = facts.transport_failures[-1]
        if last.step == STEP_DNS:
            return Failure.DNS_FAILED
        if last.step == STEP_TLS:
            return Failure.TLS_HANDSHAKE_TIMEOUT if last.timed_out else Failure.TLS_FAILED
        if last.step == STEP_CONNECT and last.timed_out:
            return Failure.CONNECT_TIMEOUT
        return Failure.TIMEOUT if last.timed_out else Failure.UNREACHABLE
    return Failure.TIMEOUT


def _challenge_left(facts: Facts) -> Failure:
    """A final 401/407 we did not get past: refused, or never answered."""
    last = facts.challenges[-1]
    if last.kind == "refused":
        return Failure.CREDENTIALS_REJECTED
    if last.kind == "stale":
        return Failure.NONCE_ALWAYS_STALE  # we stopped answering stale=true
    if facts.answers and len({r for c in facts.challenges for r in c.realms}) > 2:
        return Failure.CREDENTIALS_REJECTED  # a new realm every time: we stopped answering
    intent = facts.intent
    if intent.realm is not None and intent.realm not in last.realms:
        return Failure.NO_CREDENTIALS_FOR_REALM
    if not intent.auth_user:
        return Failure.NO_CREDENTIALS_FOR_REALM
    if not intent.has_secret:
        return Failure.NO_PASSWORD
    return Failure.CHALLENGE_UNSUPPORTED
