"""Checked accounts with realistic Traces and Outcomes, for the Nagios and JUnit tests.

Each one is a real run of the client core against the registrar core (or a scripted
peer) through tests/support/pairing.py, on a fake clock, turned into an Outcome by
``sipcheck.outcome.build_outcome``: the times, retransmissions and diagnoses are what
a run on the wire would record. ``missing`` fails under CI (CI=true) and skips
elsewhere, as tests/interop/conftest.py does for the interop peers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import replace

import pytest

from sipcheck.exit_status import ExitStatus
from sipcheck.outcome import build_outcome
from sipcheck.render.checked import CheckedAccount
from sipcheck.render.nagios_range import NO_THRESHOLDS, Thresholds
from sipcheck.sip.client.config import Credential, Mode, RegistrationConfig, parse_aor
from sipcheck.sip.registrar.config import RegistrarConfig
from tests.support.pairing import (
    UNREACHABLE,
    Faults,
    Link,
    PairRecord,
    PeerLike,
    ScriptedPeer,
    always,
    reply,
    run_pair,
)

PASSWORD = "pairing-pw-7f3a"  # the one password of these runs: no output may show it
DELAY = 0.006  # one-way delay of the link: a 401-then-200 registration takes 24 ms


def missing(what: str) -> None:
    hint = f"{what} is not installed (run scripts/install-test-deps.sh)"
    if os.environ.get("CI") == "true":
        pytest.fail(hint, pytrace=False)
    pytest.skip(hint)


def perl_module(*modules: str) -> str:
    """The perl binary, once every one of ``modules`` loads in it (else ``missing``)."""
    perl = shutil.which("perl")
    if perl is None:
        missing("perl")
    assert perl is not None
    args = [perl, *(f"-M{m}" for m in modules), "-e", "1"]
    if subprocess.run(args, capture_output=True, check=False).returncode != 0:
        missing("libmonitoring-plugin-perl (" + ", ".join(modules) + ")")
    return perl


def client(password: str | None = PASSWORD, *, mode: Mode = Mode.REGISTER) -> RegistrationConfig:
    return RegistrationConfig(
        aor=parse_aor("alice@example.com"),
        mode=mode,
        accounts=(Credential("alice", password=password),),
    )


def registrar() -> RegistrarConfig:
    return RegistrarConfig(accounts={"alice": PASSWORD}, realm="example.com")


def account(
    name: str,
    record: PairRecord,
    mode: str = "register",
    thresholds: Thresholds = NO_THRESHOLDS,
) -> CheckedAccount:
    return CheckedAccount(name, mode, record.trace, build_outcome(record), thresholds)


def run(peer: PeerLike, *, password: str | None = PASSWORD, link: Link | None = None) -> PairRecord:
    return run_pair(client(password), peer, link or Link(delay=DELAY))


def registered(
    name: str = "alice", *, delay: float = DELAY, thresholds: Thresholds = NO_THRESHOLDS
) -> CheckedAccount:
    """401, then 200: the RRD is four one-way delays."""
    return account(name, run(registrar(), link=Link(delay=delay)), thresholds=thresholds)


def lossy(name: str = "lossy") -> CheckedAccount:
    """The first REGISTER is lost: Timer E sends it again at 0.5 s (one retransmission)."""
    return account(name, run(registrar(), link=Link(delay=DELAY, up=Faults(drop=frozenset({1})))))


def wrong_password(name: str = "bob") -> CheckedAccount:
    return account(name, run(registrar(), password="wrong"))


def unreachable(name: str = "dead") -> CheckedAccount:
    return account(name, run(UNREACHABLE))


def timed_out(name: str = "silent") -> CheckedAccount:
    """A peer that never answers: Timer F gives up after 32 s."""
    return account(name, run(ScriptedPeer(lambda request: None)))


def trunk(name: str = "trunk") -> CheckedAccount:
    """An OPTIONS ping answered 200."""
    record = run_pair(client(None, mode=Mode.OPTIONS), ScriptedPeer(always(200)), Link(delay=0.004))
    return account(name, record, "options")


# What a hostile or broken server can put on the wire: C0 and C1 controls, markup.
EVIL_REASON = "Forbidden \x1b[31mred\x07 <&> ]]> \x85"
EVIL_SERVER = "evil\x01\x02\x00 <x> & \"q\" 'a'"


def evil(name: str = "evil") -> CheckedAccount:
    """A 403 whose reason phrase and Server header hold control characters."""

    def script(request: bytes) -> bytes:
        return reply(request, 403, EVIL_REASON, ("Server", EVIL_SERVER))

    return account(name, run(ScriptedPeer(script)))


def not_judged(name: str = "broken") -> CheckedAccount:
    """A run that stopped for a reason of ours (a usage error), not the server's."""
    base = wrong_password(name)
    assert base.outcome is not None
    outcome = replace(base.outcome, exit_status=int(ExitStatus.USAGE))
    return replace(base, outcome=outcome)


def skipped(name: str = "off", mode: str = "register") -> CheckedAccount:
    return CheckedAccount(name, mode)
