"""Cutting a TCP or TLS byte stream into messages (RFC 3261 §18.3), within limits.

The one stream framer, for the registrar and the client alike: whoever reads a
stream must bound what one peer can make it hold. A header section may grow to
``max_header_octets`` and a Content-Length may announce ``max_body_octets``; past
either, ``feed`` stops and sets ``oversized`` (the registrar answers 513 or 413 when
it can, and closes the connection; the client reports the server's message as too
large). It is also linear: each octet is searched for the end of the header section
once, however the stream is split, where re-searching the whole buffer at every read
would make a slow sender of a long header cost quadratic time.

CRLF keep-alives between messages are skipped and counted (RFC 5626 §3.5.1: a double
CRLF is a ping that expects a single CRLF pong), the header section ends at the first
empty line (CRLF CRLF, or LF LF), the first Content-Length (or ``l``) field gives the
body's size, and a stream without one cannot be framed (SipParseError).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sipcheck.errors import SipParseError
from sipcheck.sip.wire.grammar import is_digits, is_uint, parse_uint
from sipcheck.sip.wire.parser import find_header_end

# The first Content-Length (or compact ``l``) field of a header section; group 1 its value.
CONTENT_LENGTH_RE = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*([^\r\n]*)")


@dataclass(frozen=True, slots=True)
class Oversized:
    """A message over a limit: its complete header lines so far, and which limit."""

    head: bytes  # the header section (``body``), or its complete lines so far (``header``)
    what: str  # "header" | "body"
    size: str  # the header section's octets so far, or the Content-Length as sent
    limit: int

    def describe(self, whose: str) -> str:
        """What was over which limit; ``whose`` limit it is ("this registrar's")."""
        if self.what == "body":
            return (
                f"Content-Length {self.size} is over {whose} limit of "
                f"{self.limit} octets on a stream"
            )
        return (
            f"the header section grew past {whose} limit of {self.limit} octets "
            f"({self.size} octets without an empty line)"
        )


def skip_keepalives(buf: bytearray, newlines: int) -> tuple[int, int]:
    """Drop the CR and LF octets before a message from ``buf`` (CRLFCRLF keep-alive
    pings, RFC 5626 §3.5.1, possibly split across reads). ``newlines`` is the LF
    count carried over from the last read; returns the new count and the pings done."""
    skip, pings, n = 0, 0, len(buf)
    while skip < n and buf[skip] in (13, 10):
        if buf[skip] == 10:
            newlines += 1
            if newlines == 2:
                pings += 1
                newlines = 0
        skip += 1
    if skip:
        del buf[:skip]
    return newlines, pings


class BoundedFramer:
    """Messages out of one stream, each within the limits (see the module docstring)."""

    __slots__ = (
        "_body_end",
        "_buffer",
        "_max_body",
        "_max_header",
        "_newlines",
        "_scan",
        "oversized",
        "pings",
    )

    def __init__(self, max_header_octets: int, max_body_octets: int) -> None:
        self._buffer = bytearray()
        self._max_header = max_header_octets
        self._max_body = max_body_octets
        self._scan = -1  # where the search for the header end resumes; -1: between messages
        self._body_end = -1  # where the current message ends, once its header is complete
        self._newlines = 0
        self.pings = 0
        self.oversized: Oversized | None = None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add received octets; return every complete message's octets.

        Raises SipParseError when the stream cannot be framed; stops at a message over
        a limit (``oversized`` says which; nothing more is framed after it)."""
        if self.oversized is not None:
            return []
        buf = self._buffer
        buf += data
        out: list[bytes] = []
        while True:
            if self._body_end < 0:
                if self._scan < 0 and not self._skip_keepalives(buf):
                    return out
                end, body_start = find_header_end(buf, max(0, self._scan))
                if end < 0:
                    if len(buf) > self._max_header:
                        return self._stop(out, buf, "header", str(len(buf)), self._max_header)
                    self._scan = max(0, len(buf) - 3)  # the empty line may straddle reads
                    return out
                if end > self._max_header:
                    return self._stop(out, buf, "header", str(end), self._max_header)
                length = self._content_length(buf, end)
                if length is None:
                    text = CONTENT_LENGTH_RE.search(buf, 0, end)
                    size = text.group(1).strip().decode("ascii", "replace") if text else "?"
                    return self._stop(out, buf, "body", size, self._max_body, end)
                self._body_end = body_start + length
            if len(buf) < self._body_end:
                return out
            out.append(bytes(buf[: self._body_end]))
            del buf[: self._body_end]
            self._body_end = self._scan = -1

    def _skip_keepalives(self, buf: bytearray) -> bool:
        """Skip CRLFs before a message, counting pings; whether a message has begun."""
        self._newlines, pings = skip_keepalives(buf, self._newlines)
        self.pings += pings
        if not buf:
            return False
        self._newlines = 0
        self._scan = 0
        return True

    def _content_length(self, buf: bytearray, end: int) -> int | None:
        """The body's size; None when it is over the limit. Raises SipParseError."""
        match = CONTENT_LENGTH_RE.search(buf, 0, end)
        if match is None:
            raise SipParseError("Content-Length is required on a stream transport")
        text = match.group(1).strip().decode("ascii", "replace")
        if not is_digits(text):
            raise SipParseError(f"Content-Length {text[:40]!r} is not a number")
        return parse_uint(text, "Content-Length") if is_uint(text, self._max_body) else None

    def _stop(
        self,
        out: list[bytes],
        buf: bytearray,
        what: str,
        size: str,
        limit: int,
        end: int = -1,
    ) -> list[bytes]:
        if end < 0:  # the complete lines so far, within the limit
            cut = buf.rfind(b"\n", 0, min(len(buf), self._max_header))
            head = bytes(buf[: cut + 1]) if cut >= 0 else b""
        else:
            head = bytes(buf[:end])
        self.oversized = Oversized(head, what, size, limit)
        buf.clear()
        return out
