"""Fewer passes of Python's cycle collector while a run builds its large, long-lived state.

A run holds a few objects per person for its whole length (records, employees, desired
users, Cliq users, changes). With CPython's default thresholds (700, 10, 10) the collector
walks all of them again every few hundred thousand allocations, a cost that grows faster than
the organisation: at 50,000 people, 11 of the 60 CPU seconds of a plan, an apply and two more
plans (3 s with these thresholds). During a
run the young generations are collected less often and the oldest one almost never; cycles
that die young are still found, and the thresholds are put back when the run ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

RUN_THRESHOLDS = (20_000, 10, 100)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Collect cycles less often inside the block (a plan or an apply)."""
    before = gc.get_threshold()
    gc.set_threshold(*(max(now, run) for now, run in zip(before, RUN_THRESHOLDS, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*before)
