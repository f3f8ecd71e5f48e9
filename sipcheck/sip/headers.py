"""Header names and the ordered, case-insensitive header multimap."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

# RFC 3261 §7.3.3 and later RFCs: compact forms.
COMPACT_FORMS: dict[str, str] = {
    "i": "Call-ID",
    "f": "From",
    "t": "To",
    "v": "Via",
    "m": "Contact",
    "l": "Content-Length",
    "k": "Supported",
    "s": "Subject",
    "c": "Content-Type",
    "e": "Content-Encoding",
    "o": "Event",  # RFC 6665
    "u": "Allow-Events",  # RFC 6665
    "r": "Refer-To",  # RFC 3515
    "x": "Session-Expires",  # RFC 4028
    "y": "Identity",  # RFC 8224
    "b": "Referred-By",  # RFC 3892
    "a": "Accept-Contact",  # RFC 3841
    "d": "Request-Disposition",  # RFC 3841
    "j": "Reject-Contact",  # RFC 3841
}

_KNOWN = [
    "Accept", "Accept-Contact", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow",
    "Allow-Events", "Authentication-Info", "Authorization", "Call-ID", "Call-Info", "Contact",
    "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Length",
    "Content-Type", "CSeq", "Date", "Error-Info", "Event", "Expires", "From", "Identity",
    "In-Reply-To", "Max-Forwards", "MIME-Version", "Min-Expires", "Min-SE", "Organization",
    "P-Asserted-Identity", "P-Preferred-Identity", "Path", "Priority", "Proxy-Authenticate",
    "Proxy-Authorization", "Proxy-Require", "Reason", "Record-Route", "Refer-To",
    "Referred-By", "Reject-Contact", "Reply-To", "Request-Disposition", "Require",
    "Retry-After", "Route", "Security-Client", "Security-Server", "Security-Verify", "Server",
    "Service-Route", "Session-Expires", "SIP-ETag", "SIP-If-Match", "Subject",
    "Subscription-State", "Supported", "Timestamp", "To", "Unsupported", "User-Agent", "Via",
    "Warning", "WWW-Authenticate", "RSeq", "RAck", "Flow-Timer",
]  # fmt: skip
_CANONICAL: dict[str, str] = {name.lower(): name for name in _KNOWN}
for _short, _long in COMPACT_FORMS.items():
    _CANONICAL[_short] = _long

# Headers whose grammar is not a comma-separated list (RFC 3261 §7.3.1): a
# comma inside them is part of one value.
NOT_LISTS = frozenset(
    name.lower()
    for name in (
        "WWW-Authenticate", "Proxy-Authenticate", "Authorization", "Proxy-Authorization",
        "Authentication-Info", "Date", "Call-ID", "CSeq", "From", "To", "Subject",
        "User-Agent", "Server", "Organization", "Content-Length", "Content-Type",
        "Max-Forwards", "Expires", "Min-Expires", "Retry-After", "Timestamp", "Priority",
        "Identity", "Refer-To", "Referred-By", "Subscription-State", "Event",
    )
)  # fmt: skip


def canonical_name(name: str) -> str:
    """Long, conventionally capitalised form of a header name."""
    low = name.lower()
    known = _CANONICAL.get(low)
    if known is not None:
        return known
    return "-".join(part[:1].upper() + part[1:].lower() for part in name.split("-"))


def header_key(name: str) -> str:
    """Comparison key: lower case long form (``v`` and ``VIA`` both give ``via``)."""
    low = name.lower()
    long = COMPACT_FORMS.get(low)
    return long.lower() if long is not None else low


def split_list(value: str) -> list[str]:
    """Split a header value at commas that are outside quotes and angle brackets."""
    if "," not in value:
        stripped = value.strip()
        return [stripped] if stripped else []
    parts: list[str] = []
    depth = 0
    quoted = False
    start = 0
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        if quoted:
            if c == "\\":
                i += 1
            elif c == '"':
                quoted = False
        elif c == '"':
            quoted = True
        elif c == "<":
            depth += 1
        elif c == ">":
            depth = max(0, depth - 1)
        elif c == "," and depth == 0:
            parts.append(value[start:i].strip())
            start = i + 1
        i += 1
    parts.append(value[start:].strip())
    return parts


class Headers:
    """Ordered header fields; lookups ignore case and compact forms.

    Each item is one header field line as received: (name as written, value).
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = list(items)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def copy(self) -> Headers:
        return Headers(self._items)

    def get(self, name: str) -> str | None:
        key = header_key(name)
        for n, v in self._items:
            if header_key(n) == key:
                return v
        return None

    def get_all(self, name: str) -> list[str]:
        """Every field line with this name, unsplit."""
        key = header_key(name)
        return [v for n, v in self._items if header_key(n) == key]

    def values(self, name: str) -> list[str]:
        """Every value: field lines split at top-level commas (list headers only)."""
        lines = self.get_all(name)
        if header_key(name) in NOT_LISTS:
            return [v.strip() for v in lines]
        out: list[str] = []
        for line in lines:
            out.extend(split_list(line))
        return out

    def add(self, name: str, value: str) -> None:
        self._items.append((name, value))

    def set(self, name: str, value: str) -> None:
        """Replace every field with this name by one, at the first one's place."""
        key = header_key(name)
        for index, (n, _) in enumerate(self._items):
            if header_key(n) == key:
                self._items[index] = (name, value)
                self._items = [
                    item
                    for i, item in enumerate(self._items)
                    if i <= index or header_key(item[0]) != key
                ]
                return
        self._items.append((name, value))

    def remove(self, name: str) -> None:
        key = header_key(name)
        self._items = [item for item in self._items if header_key(item[0]) != key]

    def names(self) -> list[str]:
        return [n for n, _ in self._items]
