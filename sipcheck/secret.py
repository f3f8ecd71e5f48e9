"""A password (or HA1) that does not show itself, wherever it came from: the
command line's sources, the accounts file, a prompt."""

from __future__ import annotations

from typing import NoReturn

MASK = "***"


class Secret:
    """A password. ``repr``, ``str`` and ``format`` show ``***``; ``reveal`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        import hmac  # not at import time: `sipcheck --help` stays light

        return hmac.compare_digest(
            self._value.encode("utf-8", "surrogateescape"),
            other._value.encode("utf-8", "surrogateescape"),
        )

    def __hash__(self) -> int:
        return hash((Secret, len(self._value)))

    # Immutable: copies (dataclasses.asdict, copy.deepcopy) are the object itself, and
    # the password never goes into a pickle.
    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret is not pickled")
