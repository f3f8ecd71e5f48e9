"""Exit statuses: one enum, mapped once at the CLI edge."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    SUCCESS = 0
    INTERNAL_ERROR = 1
    USAGE = 2
    AUTH_FAILED = 3
    CLIENT_FAILURE = 4  # other final 3xx/4xx
    SERVER_FAILURE = 5  # final 5xx
    GLOBAL_FAILURE = 6  # final 6xx
    TIMEOUT = 7
    NETWORK = 8  # network, DNS or TLS failure
    LINT_ERRORS = 10  # sipcheck lint: the message has errors
    INTERRUPTED = 130
    BROKEN_PIPE = 141  # stdout closed by its reader (`| head`): 128 + SIGPIPE, as a shell says
