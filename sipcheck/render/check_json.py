"""The JSON document of a ``check`` run (``sipcheck check --json``). Pure.

Schema version 1 (the one ``sipcheck.render.json_out`` documents), keys in order:

``schema_version``  1
``command``         "check"
``summary``         ``{accounts, counts: {registered, reachable, failed, skipped},
                    exit_status, wall_ms}``: ``exit_status`` is the worst account's
                    (the process's own unless --nagios), ``wall_ms`` the whole run's
``accounts``        one object per selected account, in file order: ``name``, ``mode``
                    ("register" | "options"), then every key ``register --json``
                    prints (``command``, ``aor``, ``target``, ``result``, ``final_status``,
                    ``exit_status``, ``diagnosis``, ``messages``, ``bindings``,
                    ``timings``, ...) but ``schema_version``, then ``unregister``: the
                    same keys for the unregister that removed our binding, or null
                    (not registered, or ``kept``), and ``kept`` (true with --keep).

A skipped account (``register = false``) has ``result`` "skipped", ``exit_status`` 0
and the other keys empty or null. Nothing of the accounts file but the name, the mode
and the AoR is printed: no password, no password command, no file path.
"""

from __future__ import annotations

from sipcheck.check.results import AccountRun, CheckRun
from sipcheck.render.json_out import SCHEMA_VERSION, JsonValue, outcome_to_json
from sipcheck.trace import Outcome, Trace

__all__ = ["account_to_json", "check_to_json"]


def _run_fields(trace: Trace, outcome: Outcome) -> dict[str, JsonValue]:
    fields = outcome_to_json(trace, outcome)
    del fields["schema_version"]
    return fields


def account_to_json(run: AccountRun) -> dict[str, JsonValue]:
    account = run.account
    obj: dict[str, JsonValue] = {"name": account.name, "mode": account.mode}
    if run.trace is None or run.outcome is None:
        skipped = Outcome(command=account.mode, aor=account.aor, result="skipped")
        obj.update(_run_fields(Trace(), skipped))
    else:
        obj.update(_run_fields(run.trace, run.outcome))
    cleanup = run.cleanup
    obj["unregister"] = None if cleanup is None else _run_fields(cleanup.trace, cleanup.outcome)
    obj["kept"] = run.kept
    return obj


def check_to_json(run: CheckRun) -> dict[str, JsonValue]:
    counts: dict[str, JsonValue] = dict(run.counts())
    return {
        "schema_version": SCHEMA_VERSION,
        "command": "check",
        "summary": {
            "accounts": len(run.runs),
            "counts": counts,
            "exit_status": run.exit_status,
            "wall_ms": round(run.wall_seconds * 1000, 3),
        },
        "accounts": [account_to_json(r) for r in run.runs],
    }
