"""Bytes to messages: one message per datagram, or framed out of a stream.

Strict on what framing and routing depend on (start line, header syntax,
Content-Length, the Request-URI); header *values* are parsed on demand by
``sipcheck.sip.wire.fields`` so that one odd header does not hide a message.
"""

from __future__ import annotations

import re

from sipcheck.errors import SipParseError
from sipcheck.sip.wire.grammar import is_digits, is_token, parse_uint
from sipcheck.sip.wire.headers import Headers
from sipcheck.sip.wire.message import ENCODING, ERRORS, Message, Request, Response
from sipcheck.sip.wire.uri import parse_uri

_VERSION_RE = re.compile(r"SIP/[0-9]+\.[0-9]+\Z", re.IGNORECASE)

# Methods, header names and Request-URIs repeat from message to message; those
# that passed the checks once are remembered (bounded; what fails is never kept,
# so it fails again with the same error).
_GOOD_TOKENS: set[str] = set()
_GOOD_URIS: set[str] = set()
_MAX_REMEMBERED = 4096


def _remember(good: set[str], text: str) -> None:
    if len(good) >= _MAX_REMEMBERED:
        good.clear()
    good.add(text)


def find_header_end(data: bytes | bytearray, start: int) -> tuple[int, int]:
    """(end of header section, start of body), or (-1, -1) when not found."""
    crlf = data.find(b"\r\n\r\n", start)
    lf = data.find(b"\n\n", start)
    if crlf >= 0 and (lf < 0 or crlf + 1 <= lf):
        return crlf, crlf + 4
    if lf >= 0:
        return lf, lf + 2
    return -1, -1


def _skip_leading_crlf(data: bytes) -> int:
    # RFC 3261 §7.5: empty lines before the start line SHOULD be ignored.
    i = 0
    n = len(data)
    while i < n and data[i] in (13, 10):
        i += 1
    return i


def parse_message(data: bytes, *, stream: bool = False) -> Message:
    """Parse one whole message (one UDP payload, or one framed stream message)."""
    start = _skip_leading_crlf(data)
    if start >= len(data):
        raise SipParseError("empty message")
    head_end, body_start = find_header_end(data, start)
    defects: list[str] = []
    if head_end < 0:
        head_end = body_start = len(data)
        defects.append("the header section does not end with an empty line")
    head = data[start:head_end].decode(ENCODING, ERRORS)
    if head.count("\n") == head.count("\r\n"):
        # Every line ends with CRLF (the usual case): split there directly.
        lines = head.split("\r\n")
        if lines[-1].endswith("\r"):
            lines[-1] = lines[-1][:-1]
    else:
        defects.append("lines end with a bare LF instead of CRLF")
        lines = [line[:-1] if line.endswith("\r") else line for line in head.split("\n")]
    message = _parse_start_line(lines[0])
    message.headers = _parse_header_lines(lines)
    message.body = _take_body(message.headers, data, body_start, stream, defects)
    message.defects = defects
    return message


def _parse_start_line(line: str) -> Message:
    if not line.strip():
        raise SipParseError("missing start line", line=1, column=1)
    if line.upper().startswith("SIP/"):
        parts = line.split(" ", 2)
        if len(parts) < 3:
            if len(parts) == 2 and is_digits(parts[1]):
                parts.append("")
            else:
                raise SipParseError("status line must be 'SIP/2.0 CODE REASON'", line=1, column=1)
        version, code, reason = parts
        if not _VERSION_RE.match(version):
            raise SipParseError(f"bad SIP version {version!r}", line=1, column=1)
        if len(code) != 3 or not is_digits(code) or not 100 <= int(code) <= 699:
            raise SipParseError(
                f"status code {code!r} is not three digits from 100 to 699",
                line=1,
                column=len(version) + 2,
            )
        return Response(int(code), reason, version=version)
    parts = line.split(" ")
    if len(parts) != 3 or not all(parts):
        col = _first_bad_space(line)
        raise SipParseError(
            "request line must be 'METHOD Request-URI SIP/2.0' with single spaces "
            "and nothing after the version",
            line=1,
            column=col,
        )
    method, uri, version = parts
    if method not in _GOOD_TOKENS:
        if not is_token(method):
            raise SipParseError(f"bad method {method!r}", line=1, column=1)
        _remember(_GOOD_TOKENS, method)
    if version != "SIP/2.0" and not _VERSION_RE.match(version):
        raise SipParseError(
            f"bad SIP version {version!r}", line=1, column=len(method) + len(uri) + 3
        )
    if uri.startswith("<"):
        raise SipParseError(
            "the Request-URI must not be enclosed in <...>", line=1, column=len(method) + 2
        )
    if uri not in _GOOD_URIS:
        try:
            parse_uri(uri, allow_headers=False)
        except SipParseError as exc:
            raise SipParseError(
                f"bad Request-URI: {exc.message}", line=1, column=len(method) + 2
            ) from None
        _remember(_GOOD_URIS, uri)
    return Request(method, uri, version=version)


def _first_bad_space(line: str) -> int:
    if line != line.rstrip(" \t"):
        return len(line.rstrip(" \t")) + 1
    index = line.find("  ")
    return index + 2 if index >= 0 else 1


def _parse_header_lines(lines: list[str]) -> Headers:
    items: list[tuple[str, str]] = []
    good = _GOOD_TOKENS
    for number, line in enumerate(lines[1:], start=2):
        name, sep, value = line.partition(":")
        if sep and name in good:
            # A name seen before, written right before the colon (the usual case;
            # a good name holds no blank, so this is no continuation line either).
            items.append((name, value.strip(" \t")))
            continue
        if not line:
            continue
        if line[0] in " \t":
            # RFC 3261 §7.3.1: a continuation line; LWS folds to one SP.
            if not items:
                raise SipParseError("continuation line before any header", line=number, column=1)
            name, value = items[-1]
            more = line.strip(" \t")
            items[-1] = (name, f"{value} {more}" if value else more)
            continue
        colon = line.find(":")
        if colon < 0:
            raise SipParseError(f"header line without ':' ({line[:40]!r})", line=number, column=1)
        name = line[:colon].rstrip(" \t")
        if name not in _GOOD_TOKENS:
            if not name or not is_token(name):
                raise SipParseError(f"bad header name {line[:colon]!r}", line=number, column=1)
            _remember(_GOOD_TOKENS, name)
        items.append((name, line[colon + 1 :].strip(" \t")))
    return Headers(items)


def content_length(headers: Headers) -> int | None:
    """The Content-Length value; several disagreeing values are an error."""
    values = {v.strip() for v in headers.get_all("Content-Length")}
    if not values:
        return None
    if len(values) > 1:
        raise SipParseError(f"several different Content-Length values: {sorted(values)}")
    return parse_uint(values.pop(), "Content-Length")


def _take_body(
    headers: Headers, data: bytes, body_start: int, stream: bool, defects: list[str]
) -> bytes:
    length = content_length(headers)
    available = len(data) - body_start
    if length is None:
        if stream:
            # RFC 3261 §18.3: mandatory over stream transports.
            raise SipParseError("Content-Length is required on a stream transport")
        return data[body_start:]
    if length > available:
        raise SipParseError(f"Content-Length says {length} octets but the body has {available}")
    if length < available:
        extra = data[body_start + length :]
        if extra.strip(b"\r\n"):
            # RFC 3261 §18.3: octets beyond Content-Length are discarded.
            defects.append(
                f"{available - length} octets after the body (beyond Content-Length) ignored"
            )
    return data[body_start : body_start + length]
