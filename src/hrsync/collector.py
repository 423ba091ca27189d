"""Fewer passes of Python's cycle collector while a run builds its large, long-lived state.

A run holds a few objects per person for its whole length (records, employees, desired
users, Cliq users, changes). Each pass of the collector walks the objects allocated since the
last one, and every few passes all those before: with CPython's default thresholds (700, 10,
10) that cost grew faster than the organisation (at 50,000 people, 11 of the 60 CPU seconds of
a plan, an apply and two more plans). Little of what a run leaves behind is in a cycle (an
answer's body is let go of once read, the ledger of an apply once it ends), so during a run
the collector waits for a million new objects between passes, about one pass per plan at
100,000 people, and the oldest generation is almost never walked. Cycles are still found,
and the thresholds are put back when the run ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

RUN_THRESHOLDS = (1_000_000, 10, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cycles less often inside the block (a plan or an apply)."""
    before = gc.get_threshold()
    gc.set_threshold(*(max(now, run) for now, run in zip(before, RUN_THRESHOLDS, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*before)
