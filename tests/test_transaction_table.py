"""The client transaction's table, walked pair by pair (as h2 tests its state
machine): every (state, input) either follows TRANSITIONS or is refused."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sipcheck.errors import LocalProtocolError
from sipcheck.sip.client.transaction import (
    TRANSITIONS,
    ClientTransaction,
    Timers,
    TxAction,
    TxInput,
    TxState,
)

# Inputs that reach each state from TRYING.
_PATH = {
    TxState.TRYING: [],
    TxState.PROCEEDING: [TxInput.PROVISIONAL],
    TxState.COMPLETED: [TxInput.FINAL],
    TxState.TERMINATED: [TxInput.TERMINATE],
}


def _tx(reliable: bool = False) -> ClientTransaction:
    return ClientTransaction(
        b"REGISTER sip:example.com SIP/2.0\r\n\r\n",
        branch="z9hG4bK1",
        method="REGISTER",
        cseq=1,
        reliable=reliable,
        timers=Timers(),
        now=0.0,
    )


@pytest.mark.parametrize(("state", "event"), list(itertools.product(TxState, TxInput)))
def test_every_pair(state: TxState, event: TxInput) -> None:
    tx = _tx()
    for step in _PATH[state]:
        tx.step(step, 0.0)
    assert tx.state is state
    if (state, event) not in TRANSITIONS:
        with pytest.raises(LocalProtocolError):
            tx.step(event, 1.0)
        assert tx.state is state  # a refused input changes nothing
        return
    action, after = TRANSITIONS[(state, event)]
    assert tx.step(event, 1.0) is action
    assert tx.state is after


def test_the_table_is_rfc_3261_figure_6() -> None:
    # What may never happen: a terminated transaction reacting to anything but
    # terminate, and Timer K outside COMPLETED.
    assert {e for (s, e) in TRANSITIONS if s is TxState.TERMINATED} == {TxInput.TERMINATE}
    assert {s for (s, e) in TRANSITIONS if e is TxInput.TIMER_K} == {TxState.COMPLETED}
    assert {a for a, _ in TRANSITIONS.values()} == set(TxAction)


@given(st.lists(st.sampled_from(list(TxInput)), max_size=30), st.booleans())
def test_any_sequence_follows_the_table(events: list[TxInput], reliable: bool) -> None:
    tx = _tx(reliable)
    for event in events:
        before = tx.state
        expected = TRANSITIONS.get((before, event))
        if expected is None or (reliable and event is TxInput.TIMER_E):
            with pytest.raises(LocalProtocolError):
                tx.step(event, 1.0)
            assert tx.state is before
            continue
        tx.step(event, 1.0)
        after = expected[1]
        if reliable and expected[0] is TxAction.REPORT_FINAL:
            after = TxState.TERMINATED  # Timer K is zero on reliable transports
        assert tx.state is after
    if tx.state is TxState.TERMINATED:
        assert tx.next_timer() is None
