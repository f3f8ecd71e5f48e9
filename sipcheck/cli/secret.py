"""A password that does not show itself: repr, str and format print ``***``."""

from __future__ import annotations


class Secret:
    """Holds a password; only ``reveal()`` gives it back (for the digest core)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        import hmac  # not at import time: `sipcheck --help` stays light

        return isinstance(other, Secret) and hmac.compare_digest(
            other._value.encode("utf-8", "surrogateescape"),
            self._value.encode("utf-8", "surrogateescape"),
        )

    def __hash__(self) -> int:
        return hash(self._value)
