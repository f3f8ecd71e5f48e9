"""Failure -> exit status: the one mapping (the README's table)."""

from __future__ import annotations

from sipcheck.exit_status import ExitStatus
from sipcheck.sip.client.failure import Failure

_EXIT: dict[Failure, ExitStatus] = {
    Failure.CREDENTIALS_REJECTED: ExitStatus.AUTH_FAILED,
    Failure.NONCE_ALWAYS_STALE: ExitStatus.AUTH_FAILED,
    Failure.CHALLENGE_UNSUPPORTED: ExitStatus.AUTH_FAILED,
    Failure.NO_PASSWORD: ExitStatus.AUTH_FAILED,
    Failure.NO_CREDENTIALS_FOR_REALM: ExitStatus.AUTH_FAILED,
    Failure.FORBIDDEN: ExitStatus.AUTH_FAILED,
    Failure.NOT_FOUND: ExitStatus.CLIENT_FAILURE,
    Failure.INTERVAL_TOO_BRIEF: ExitStatus.CLIENT_FAILURE,
    Failure.REDIRECTED: ExitStatus.CLIENT_FAILURE,
    Failure.REQUEST_FAILED: ExitStatus.CLIENT_FAILURE,
    Failure.BINDING_NOT_REMOVED: ExitStatus.CLIENT_FAILURE,
    Failure.BINDINGS_REMAIN: ExitStatus.CLIENT_FAILURE,
    Failure.LOOP: ExitStatus.CLIENT_FAILURE,
    Failure.SERVER_ERROR: ExitStatus.SERVER_FAILURE,
    Failure.GLOBAL_FAILURE: ExitStatus.GLOBAL_FAILURE,
    Failure.TIMEOUT: ExitStatus.TIMEOUT,
    Failure.UNREACHABLE: ExitStatus.NETWORK,
    Failure.CONNECT_TIMEOUT: ExitStatus.NETWORK,
    Failure.TLS_FAILED: ExitStatus.NETWORK,
    Failure.TLS_HANDSHAKE_TIMEOUT: ExitStatus.NETWORK,
    Failure.DNS_FAILED: ExitStatus.NETWORK,
}


def exit_status(failure: Failure | None) -> ExitStatus:
    return ExitStatus.SUCCESS if failure is None else _EXIT[failure]


# What only `sipcheck watch` reports: a 2xx that did not keep our binding, or a query's
# 2xx that no longer lists it (a 2xx that did not do what was asked, like
# binding-not-removed).
_WATCH_EXIT: dict[str, ExitStatus] = {
    "contact-missing": ExitStatus.CLIENT_FAILURE,
    "binding-gone": ExitStatus.CLIENT_FAILURE,
}


def cause_exit_status(cause: str) -> ExitStatus:
    """The exit status of a diagnosis id: a failure's (status-NNN included) or a watch's."""
    if cause in _WATCH_EXIT:
        return _WATCH_EXIT[cause]
    if cause.startswith("status-"):
        return ExitStatus.CLIENT_FAILURE
    return exit_status(Failure(cause))
