"""The character-by-character auth-param scanner that ``sipcheck.sip.wire.auth`` had
before its regex tokenizer: kept as the reference the tokenizer is tested against
(``tests/test_auth_scanner.py``). Not used by sipcheck itself."""

from __future__ import annotations

import re

from sipcheck.errors import SipParseError
from sipcheck.sip.wire.grammar import HTTP_TOKEN_RE, bad_char, describe_char, read_quoted

Param = tuple[str, str]

_TOKEN68_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*(?=[ \t\r\n]*(?:,|\Z))")
_WS = " \t\r\n"


class _Scanner:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.pos = 0
        self.what = what

    def error(self, message: str) -> SipParseError:
        return SipParseError(
            f"{self.what}: {message} at column {self.pos + 1}: {self.text!r}",
            column=self.pos + 1,
        )

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _WS:
            self.pos += 1

    def skip_separators(self) -> bool:
        """Skip LWS and commas; say whether there was a comma."""
        comma = False
        while self.pos < len(self.text) and self.text[self.pos] in _WS + ",":
            comma = comma or self.text[self.pos] == ","
            self.pos += 1
        return comma

    def token(self) -> str | None:
        m = HTTP_TOKEN_RE.match(self.text, self.pos)
        if m is None:
            return None
        self.pos = m.end()
        return m.group()

    def token68(self) -> str | None:
        m = _TOKEN68_RE.match(self.text, self.pos)
        if m is None:
            return None
        self.pos = m.end()
        return m.group()

    def value(self, name: str) -> str:
        self.skip_ws()
        if self.peek() == '"':
            return self.quoted(name)
        # Lenient: RFC 3261 allows token or quoted-string; servers send unquoted values
        # that are not tokens (nonces with '/', '=', ':'), so read up to LWS or comma.
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in _WS + ",":
            self.pos += 1
        bad = bad_char(self.text, start)
        if 0 <= bad < self.pos:
            # The same characters a quoted value may not hold (RFC 7230 §3.2.6).
            self.pos = bad
            raise self.error(f"{describe_char(self.text[bad])} in parameter {name!r}")
        return self.text[start : self.pos]

    def quoted(self, name: str) -> str:
        value, self.pos = read_quoted(
            self.text, self.pos, what=f"{self.what} parameter {name!r}", http=True
        )
        return value


def parse_items(value: str, what: str) -> list[tuple[str, list[Param]]]:
    """Split a header value into (scheme, params) items, RFC 7235 §4.1 style."""
    s = _Scanner(value, what)
    items: list[tuple[str, list[Param]]] = []
    current: list[Param] | None = None
    while True:
        comma = s.skip_separators()
        if s.at_end():
            break
        start = s.pos
        name = s.token()
        if name is None:
            raise s.error(f"unexpected character {s.peek()!r}")
        s.skip_ws()
        if s.peek() == "=":
            if current is None:
                s.pos = start
                raise s.error(f"parameter {name!r} before any auth scheme")
            s.pos += 1
            current.append((name, s.value(name)))
            continue
        # A token not followed by '=' starts a new challenge (RFC 7235 §4.1).
        if current is not None and not comma:
            s.pos = start
            raise s.error(f"expected ',' before {name!r}")
        current = []
        items.append((name, current))
        if s.pos > start + len(name):  # whitespace after the scheme: maybe a token68
            t68 = s.token68()
            if t68 is not None:
                current.append(("", t68))
    return items
