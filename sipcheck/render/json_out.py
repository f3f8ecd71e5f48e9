"""The JSON form of a run: one object, stable keys, for scripts and CI.

Schema version 1. Keys, in this order (``dumps`` keeps it):

``schema_version``  1
``command``         "register" | "unregister" | "query" | "options" ...
``aor``             the address of record, e.g. "sip:alice@example.com"
``target``          how the server was found: ``steps`` (list of strings),
                    ``address``, ``transport``, ``server_name`` (as the run gave them)
``result``          "registered" | "unregistered" | "queried" | "reachable" | "failed"
``final_status``    the final response code, or null (timeout, network failure)
``exit_status``     the process exit status (``sipcheck.exit_status.ExitStatus``)
``diagnosis``       list of ``{id, severity, message, causes, advice}`` (causes: most likely first)
``messages``        list of ``{direction: "out"|"in", time_ms, local, remote, transport,
                    start_line, raw, retransmission}``; ``local``/``remote`` are
                    "host:port" with IPv6 in brackets; ``raw`` is the message decoded
                    as UTF-8 with undecodable octets replaced by U+FFFD
``bindings``        list of ``{contact, expires}`` (expires null when not given)
``removed``         Contacts the 2xx listed with expires=0 (removed by this request)
``timings``         ``{total_ms, rrd_ms}`` (each null when unknown)

Extra keys, always present (null or empty when not known):

``final_reason``    reason phrase of the final response
``granted_expires`` the expiry the registrar granted our Contact, in seconds
``server``          the Server header of the final response
``seen_as``         "host:port" the registrar saw us as (Via received/rport)
``contact_sent``    the Contact we sent
``tls``             ``{version, cipher, subject, issuer, not_after, verified,
                    server_name}`` of the TLS connection, or null
``notes``           off-the-wire events: list of ``{time_ms, kind, text}``
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from sipcheck.render.annotate import valid_text
from sipcheck.trace import Address, Note, Outcome, Trace, TraceEntry

__all__ = ["SCHEMA_VERSION", "dumps", "outcome_to_json"]

SCHEMA_VERSION = 1

JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def _plain(value: object) -> JsonValue:
    """A JSON-ready copy of ``value``: tuples as lists, other objects as their str,
    strings valid UTF-8 (header text may hold surrogate-escaped octets)."""
    if isinstance(value, str):
        return valid_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _message(entry: TraceEntry) -> dict[str, object]:
    return {
        "direction": entry.direction,
        "time_ms": _ms(entry.time),
        "local": str(entry.local),
        "remote": str(entry.remote),
        "transport": entry.transport,
        "start_line": entry.start_line,
        "raw": entry.raw.decode("utf-8", errors="replace"),
        "retransmission": entry.retransmission,
    }


def _note(note: Note) -> dict[str, object]:
    return {"time_ms": _ms(note.time), "kind": note.kind, "text": note.text}


def _address(address: Address | None) -> str | None:
    return None if address is None else str(address)


def outcome_to_json(trace: Trace, outcome: Outcome) -> dict[str, JsonValue]:
    """The run as a JSON-ready dict, keys in the documented order."""
    tls = trace.tls
    obj: dict[str, object] = {
        "schema_version": SCHEMA_VERSION,
        "command": outcome.command,
        "aor": outcome.aor,
        "target": _plain(outcome.target),
        "result": outcome.result,
        "final_status": outcome.final_status,
        "exit_status": int(outcome.exit_status),
        "diagnosis": [
            {
                "id": d.id,
                "severity": d.severity,
                "message": d.message,
                "causes": list(d.causes),
                "advice": list(d.advice),
            }
            for d in outcome.diagnoses
        ],
        "messages": [_message(e) for e in trace.entries],
        "bindings": [{"contact": b.contact, "expires": b.expires} for b in outcome.bindings],
        "removed": list(outcome.removed),
        "timings": {"total_ms": outcome.total_ms, "rrd_ms": outcome.rrd_ms},
        "final_reason": outcome.final_reason,
        "granted_expires": outcome.granted_expires,
        "server": outcome.server,
        "seen_as": _address(outcome.seen_as),
        "contact_sent": outcome.contact_sent,
        "tls": None
        if tls is None
        else {
            "version": tls.version,
            "cipher": tls.cipher,
            "subject": tls.subject,
            "issuer": tls.issuer,
            "not_after": tls.not_after,
            "verified": tls.verified,
            "server_name": tls.server_name,
        },
        "notes": [_note(n) for n in trace.notes],
    }
    return {key: _plain(value) for key, value in obj.items()}


def dumps(obj: Mapping[str, object], *, indent: int | None = 2) -> str:
    """The one JSON encoding: keys in the order given (not sorted), ``indent=None`` for
    one line. ASCII only (non-ASCII as \\u escapes), so any stdout encoding can carry
    it and whatever text the wire held stays valid JSON."""
    return json.dumps(obj, indent=indent, ensure_ascii=True)
