"""The one error hierarchy. The CLI catches SipcheckError in one place."""

from __future__ import annotations


class SipcheckError(Exception):
    """Root of every error sipcheck raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if hint is not None:
            self.hint = hint


class SipParseError(SipcheckError):
    """Bytes that are not a well-formed SIP message (or URI, or header value).

    ``line`` and ``column`` are 1-based positions in the message when known.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is not None:
            where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
            return f"{self.message} ({where})"
        return self.message


class LocalProtocolError(SipcheckError):
    """We were asked to do something the protocol forbids."""


class RemoteProtocolError(SipcheckError):
    """The peer broke a protocol rule."""


class DigestError(SipcheckError):
    """A challenge we cannot answer, or credentials that cannot be checked."""


class TransportError(SipcheckError):
    """Sending or receiving failed (refused, unreachable, reset)."""


class ConnectTimeout(TransportError):
    """No TCP connection was established in time (nothing answered the SYN)."""


class TLSFailure(TransportError):
    """The TLS handshake or certificate verification failed."""


class HandshakeTimeout(TLSFailure):
    """TCP connected, but the TLS handshake did not finish in time."""


class ResolutionError(SipcheckError):
    """DNS resolution of a SIP target failed."""


class ConfigError(SipcheckError):
    """Bad user input: options, files, account strings."""
