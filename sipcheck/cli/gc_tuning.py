"""Fewer garbage collections while a command makes many short-lived objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

GC_THRESHOLD = 10_000  # allocations between young collections (Python's default: 700)


@contextmanager
def fewer_collections(threshold: int = GC_THRESHOLD) -> Iterator[None]:
    """Run the young-generation collection every ``threshold`` allocations, not every
    700: a registrar answering requests, or a capture read message by message, frees
    nearly everything it allocates, and the collector would otherwise run every few
    dozen messages and walk the whole heap every few seconds. Restored on exit."""
    thresholds = gc.get_threshold()
    gc.set_threshold(threshold, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
