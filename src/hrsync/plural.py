"""Counts in words: "1 user", "2 users", "1 person", "3 people"."""

from __future__ import annotations

IRREGULAR = {"person": "people", "person's": "people's", "was": "were", "is": "are"}


def counted(count: int, noun: str, plural: str = "") -> str:
    """``count`` and ``noun``, the noun plural unless the count is one (``1,234 users``)."""
    return f"{count:,} {noun if count == 1 else plural or plural_of(noun)}"


def plural_of(noun: str) -> str:
    """The plural of a noun hrsync counts (an English regular plural, or a known exception)."""
    words = noun.split(" ")
    last = words[-1]
    if last in IRREGULAR:
        words[-1] = IRREGULAR[last]
    elif last.endswith(("s", "x", "ch", "sh")):
        words[-1] = last + "es"
    elif last.endswith("y") and last[-2:-1] not in tuple("aeiou"):
        words[-1] = last[:-1] + "ies"
    else:
        words[-1] = last + "s"
    return " ".join(words)
