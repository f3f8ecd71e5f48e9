"""A fast path for the registrar's hottest parse: one well-formed Digest credentials.

``fast_credentials`` handles the shape every client sends (``Digest name="value",
name=token, ...``: known parameter names, each once, no quoted-pair escapes, commas
between parameters) with a few ``str.find`` calls, and returns None for anything else
so that the caller falls back to ``auth.parse_credentials``. For every value it accepts
it returns exactly what ``parse_credentials`` returns (the tests check this).
"""

from __future__ import annotations

from sipcheck.sip.wire.auth import CREDENTIAL_FIELDS, Credentials

# username* (RFC 8187 encoding) needs decoding: that shape takes the slow path.
_KNOWN = CREDENTIAL_FIELDS - {"username*"}
_REQUIRED = ("username", "realm", "nonce", "uri", "response")
_BLANK = " \t"


def fast_credentials(value: str, *, proxy: bool = False) -> Credentials | None:
    if "\\" in value or "\r" in value or "\n" in value:
        return None
    scheme, space, rest = value.strip(_BLANK).partition(" ")
    if not space or scheme.lower() != "digest":
        return None
    # Without escapes, splitting at '"' alternates: text outside quotes (even indexes)
    # and quoted values (odd indexes).
    parts = rest.split('"')
    last = len(parts) - 1
    if last % 2:
        return None  # an unterminated quoted string
    params: list[tuple[str, str]] = []
    found: dict[str, str] = {}

    def add(name: str, val: str) -> bool:
        low = name.lower()
        if low not in _KNOWN or low in found:
            return False
        params.append((name, val))
        found[low] = val
        return True

    for k in range(0, last + 1, 2):
        pieces = parts[k].split(",")
        # After a quoted value only blanks may come before the comma.
        if k and pieces[0].strip(_BLANK):
            return None
        for piece in pieces[1 if k else 0 : len(pieces) - 1 if k < last else len(pieces)]:
            name, eq, val = piece.partition("=")
            if not eq:
                if piece.strip(_BLANK):
                    return None
                continue  # an empty list element
            val = val.strip(_BLANK)
            if not val or " " in val or "\t" in val or not add(name.strip(_BLANK), val):
                return None
        if k < last:
            name, eq, tail = pieces[-1].partition("=")
            if not eq or tail.strip(_BLANK) or not add(name.strip(_BLANK), parts[k + 1]):
                return None
    for required in _REQUIRED:
        if required not in found:
            return None
    userhash = found.get("userhash")
    return Credentials(
        scheme=scheme,
        username=found["username"],
        realm=found["realm"],
        nonce=found["nonce"],
        uri=found["uri"],
        response=found["response"],
        algorithm=found.get("algorithm"),
        cnonce=found.get("cnonce"),
        opaque=found.get("opaque"),
        qop=found.get("qop"),
        nc=found.get("nc"),
        userhash=userhash is not None and userhash.strip().lower() == "true",
        params=tuple(params),
        proxy=proxy,
    )
