"""One request of a watched binding, read into the watch core's ``Exchange`` (pure).

The shell runs a request as any client run: a ``RunRecord`` whose ``Outcome`` has the
diagnosis. This reads what the ``Keeper`` decides on from it: success or the cause
(the first diagnosis id), the cause in a few plain words for the event line, whether
the 2xx lists our Contact and for how long, and what a change would show (Server
header, received/rport, the target).
"""

from __future__ import annotations

from dataclasses import replace

from sipcheck.diagnosis.facts import read_facts, uri_key
from sipcheck.outcome import RunRecord, intent_of
from sipcheck.sip.client.config import Mode
from sipcheck.sip.client.keeper import Exchange
from sipcheck.sip.locate.targets import Target
from sipcheck.trace import Address, Diagnosis, Outcome

_REFUSED = ("credentials-rejected", "nonce-always-stale", "forbidden", "interval-too-brief")
_AUTH = ("credentials-rejected", "nonce-always-stale")


def where(target: Target | None) -> str | None:
    """``udp:127.0.0.1:5060``: a target as the watch names it."""
    if target is None:
        return None
    return f"{target.transport}:{Address(target.address, target.port)}"


def read_exchange(
    run: RunRecord, outcome: Outcome, *, ended: float, contact: str | None
) -> Exchange:
    """What ``run`` ended with; ``contact`` is the binding's Contact URI (ours)."""
    res = run.registration.result
    started = res.first_sent if res.first_sent is not None else ended
    facts = read_facts(run.trace, intent_of(run.registration))
    final = facts.final
    base = Exchange(
        started=started,
        ended=ended,
        ok=outcome.result != "failed",
        server=outcome.server,
        seen_as=None if outcome.seen_as is None else str(outcome.seen_as),
        target=where(run.target),
    )
    first = outcome.diagnoses[0] if outcome.diagnoses else None
    cause = first.id if first is not None else "timeout"
    if not base.ok and cause == "not-found" and run.registration.config.mode is Mode.QUERY:
        # ejabberd answers a query for an AoR with nothing bound with 404
        return replace(base, ok=True)
    if not base.ok:
        retry = final.retry_after if final is not None and final.status == 503 else None
        return replace(
            base,
            cause=cause,
            detail=_words(cause, first, run, facts.retransmissions, facts.provisional),
            retry_after=None if retry is None else float(retry),
        )
    key = uri_key(contact) if contact else None
    granted: int | None = None
    ours = False
    for binding in outcome.bindings:
        if key is not None and uri_key(binding.contact) == key:
            ours = True
            # RFC 3261 §10.2.4: a 200 without an expiry for us grants what was asked
            granted = binding.expires if binding.expires is not None else _asked(run)
    return replace(
        base,
        ours=ours,
        granted=granted,
        rrd=None if outcome.rrd_ms is None else outcome.rrd_ms / 1000,
        raised_to=res.min_expires_retry,
    )


def _asked(run: RunRecord) -> int:
    return run.registration.expires


def _words(
    cause: str, first: Diagnosis | None, run: RunRecord, retransmissions: int, provisional: bool
) -> str:
    """The cause in a few words, for ``<refresh|registration|attempt n> <words>``."""
    said = first.message if first is not None else "no final response"
    target = run.target
    at = "the target" if target is None else f"{Address(target.address, target.port)}"
    at_transport = at if target is None else f"{at}/{target.transport}"
    if cause == "timeout":
        if provisional:
            return f"timed out: only provisional responses from {at_transport}"
        again = "" if target is not None and target.transport != "udp" else _times(retransmissions)
        return f"timed out: no answer from {at_transport}{again}"
    if cause == "unreachable":
        return f"failed: {at_transport} is unreachable: {said}"
    if cause in _AUTH:
        return f"refused: credentials rejected: {said}"
    if cause in _REFUSED:
        return f"refused: {said}"
    return f"failed: {said}"


def _times(retransmissions: int) -> str:
    if retransmissions == 1:
        return " (1 retransmission)"
    return f" ({retransmissions} retransmissions)"
