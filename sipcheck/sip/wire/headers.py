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


# Header names repeat from message to message: remember their keys (bounded, so
# that a peer sending endless made-up names cannot grow it without limit).
_KEYS: dict[str, str] = {}
_MAX_KEYS = 4096


def header_key(name: str) -> str:
    """Comparison key: lower case long form (``v`` and ``VIA`` both give ``via``)."""
    key = _KEYS.get(name)
    if key is None:
        low = name.lower()
        long = COMPACT_FORMS.get(low)
        key = long.lower() if long is not None else low
        if len(_KEYS) < _MAX_KEYS:
            _KEYS[name] = key
    return key


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
    The comparison key of every name, and the values under each key, are computed
    once, on the first lookup, and kept until the fields change: a registrar and
    the diagnosis of a capture look up a dozen names per message.
    """

    __slots__ = ("_index", "_items", "_keys")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items: list[tuple[str, str]] = list(items)
        self._keys: list[str] | None = None
        self._index: dict[str, list[str]] | None = None  # key -> values, in order

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._items == other._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and _key(name) in (self._index or self.index())

    def copy(self) -> Headers:
        return Headers(self._items)

    def keys(self) -> list[str]:
        """The comparison key of each field, in order (do not modify the list)."""
        keys = self._keys
        if keys is None:
            known = _KEYS.get
            keys = self._keys = [known(n) or header_key(n) for n, _ in self._items]
        return keys

    def index(self) -> dict[str, list[str]]:
        """Comparison key -> the values of the fields with it, in order; built once, on
        first use (do not modify it)."""
        index = self._index
        if index is None:
            index = self._index = {}
            for key, (_, value) in zip(self.keys(), self._items, strict=True):
                found = index.get(key)
                if found is None:
                    index[key] = [value]
                else:
                    found.append(value)
        return index

    def _changed(self) -> None:
        self._keys = None
        self._index = None

    def with_value(self, index: int, value: str) -> Headers:
        """A copy with field ``index`` holding ``value`` (same name, same position)."""
        items = self._items.copy()
        items[index] = (items[index][0], value)
        copy = Headers()
        copy._items = items
        copy._keys = None if self._keys is None else self._keys.copy()
        return copy

    # (The lookups below are the hot path of a diagnosis: the index and the key are
    # taken inline, not through a call each.)

    def get(self, name: str) -> str | None:
        found = (self._index or self.index()).get(_KEYS.get(name) or header_key(name))
        return None if found is None else found[0]

    def get_all(self, name: str) -> list[str]:
        """Every field line with this name, unsplit."""
        found = (self._index or self.index()).get(_KEYS.get(name) or header_key(name))
        return [] if found is None else found.copy()

    def values(self, name: str) -> list[str]:
        """Every value: field lines split at top-level commas (list headers only)."""
        key = _KEYS.get(name) or header_key(name)
        lines = (self._index or self.index()).get(key) or ()
        if key in NOT_LISTS:
            return [v.strip() for v in lines]
        out: list[str] = []
        for line in lines:
            out.extend(split_list(line))
        return out

    def add(self, name: str, value: str) -> None:
        self._items.append((name, value))
        if self._keys is not None:
            key = header_key(name)
            self._keys.append(key)
            if self._index is not None:
                self._index.setdefault(key, []).append(value)

    def set(self, name: str, value: str) -> None:
        """Replace every field with this name by one, at the first one's place."""
        key = header_key(name)
        keys = self.keys()
        if key not in keys:
            self.add(name, value)
            return
        index = keys.index(key)
        self._items = [
            (name, value) if i == index else item
            for i, item in enumerate(self._items)
            if i <= index or keys[i] != key
        ]
        self._changed()

    def remove(self, name: str) -> None:
        key = header_key(name)
        keys = self.keys()
        self._items = [item for item, k in zip(self._items, keys, strict=True) if k != key]
        self._changed()

    def names(self) -> list[str]:
        return [n for n, _ in self._items]


def _key(name: str) -> str:
    return _KEYS.get(name) or header_key(name)
