"""Why a client run failed: one typed value, whoever noticed it.

The client core sets most of these; the shell sets the ones only it can see
(DNS, connect, TLS) through ``Registration.abort``; a capture reader infers
them from what crossed the wire (``sipcheck.diagnosis.classify``). Each value
is the stable diagnosis id the README lists, so renderers, JSON and tests key
on the same strings.
"""

from __future__ import annotations

from enum import Enum


class Failure(str, Enum):
    # Authentication
    CREDENTIALS_REJECTED = "credentials-rejected"  # challenged again after our answer
    NONCE_ALWAYS_STALE = "nonce-always-stale"  # stale=true after every answer
    CHALLENGE_UNSUPPORTED = "challenge-unsupported"
    NO_PASSWORD = "no-password"
    NO_CREDENTIALS_FOR_REALM = "no-credentials-for-realm"
    # Final responses
    FORBIDDEN = "forbidden"  # 403
    NOT_FOUND = "not-found"  # 404
    INTERVAL_TOO_BRIEF = "interval-too-brief"  # 423 after retrying with Min-Expires
    REDIRECTED = "redirected"  # 3xx that could not be followed
    REQUEST_FAILED = "request-failed"  # any other final 4xx (id: status-NNN)
    SERVER_ERROR = "server-error"  # 5xx
    GLOBAL_FAILURE = "global-failure"  # 6xx
    # The 200 came, but did not do what was asked
    BINDING_NOT_REMOVED = "binding-not-removed"  # unregister: our Contact still bound
    BINDINGS_REMAIN = "bindings-remain"  # unregister: other Contacts still bound
    # No final response
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # ICMP port unreachable, connection refused
    CONNECT_TIMEOUT = "connect-timeout"  # TCP/TLS: no connection established
    TLS_FAILED = "tls-failed"  # handshake refused or certificate not accepted
    TLS_HANDSHAKE_TIMEOUT = "tls-handshake-timeout"  # connected, handshake never ended
    DNS_FAILED = "dns-failed"
    LOOP = "request-loop"  # the core's guard against a loop it did not foresee

    @property
    def id(self) -> str:
        return self.value


def status_failure(status: int) -> Failure:
    """The failure a final non-2xx status means when nothing more is known."""
    if status == 403:
        return Failure.FORBIDDEN
    if status == 404:
        return Failure.NOT_FOUND
    if status == 423:
        return Failure.INTERVAL_TOO_BRIEF
    if 300 <= status < 400:
        return Failure.REDIRECTED
    if 500 <= status < 600:
        return Failure.SERVER_ERROR
    if status >= 600:
        return Failure.GLOBAL_FAILURE
    return Failure.REQUEST_FAILED
