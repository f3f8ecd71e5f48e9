"""Every flow of tests/test_flows.py (two cores in memory: loss, challenges, 423,
redirects, 5xx, timeouts, unregister...) as a capture: ``wire_outcome`` on the
Trace gives build_outcome's answer, and so does the Trace written as pcapng and
read back by ``analyze``."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipcheck.capture.analyze import Analysis
from sipcheck.capture.writer import write_pcap
from sipcheck.outcome import build_outcome, intent_of, wire_outcome
from sipcheck.trace import Outcome
from tests.test_flows import CASES, Case


def key(outcome: Outcome) -> tuple[object, ...]:
    return (
        outcome.result,
        outcome.final_status,
        outcome.exit_status,
        [d.id for d in outcome.diagnoses],
        [(b.contact, b.expires) for b in outcome.bindings],
        outcome.granted_expires,
        outcome.seen_as,
    )


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_wire_outcome_is_build_outcome(case: Case) -> None:
    record = case.run()
    live = build_outcome(record)
    wire = wire_outcome(live.command, record.trace, intent_of(record.registration))
    assert key(wire) == key(live)
    assert wire.contact_sent == live.contact_sent


# What only the command line knew: --realm restricted the credentials, so the live
# run refused to answer the other realm; a capture shows an unanswered challenge.
NOT_ON_THE_WIRE = {"realm-not-ours": ("challenge-unsupported", "no-credentials-for-realm")}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_the_flow_as_a_capture(case: Case, tmp_path: Path) -> None:
    record = case.run()
    live = build_outcome(record)
    if not record.trace.entries:
        pytest.skip("nothing crossed the wire")
    path = tmp_path / "flow.pcapng"
    write_pcap(str(path), record.trace)
    results = list(Analysis(str(path)))
    assert len(results) == 1, [r.frames for r in results]
    (result,) = results
    got, want = key(result.outcome)[:4], key(live)[:4]
    if case.name in NOT_ON_THE_WIRE:
        ids = NOT_ON_THE_WIRE[case.name]
        assert (got[3][0], want[3][0]) == ids  # type: ignore[index]
        got, want = got[:3], want[:3]
    assert got == want
