"""Schedules as an admin writes them (``every 15 min``, ``every 2 hours``, ``every day``):
an integration's, and hrsync.toml's own ``[sync] schedule``."""

from __future__ import annotations

import re

from hrsync.errors import ConfigError

SCHEDULE = re.compile(r"^every\s+(?:(\d+)\s*)?(min|mins|minutes?|h|hours?|days?)$", re.IGNORECASE)
UNITS = {"min": 60, "h": 3600, "hour": 3600, "day": 86400}


def schedule_seconds(text: str) -> float | None:
    """``every 15 min`` / ``every 2 hours`` / ``every day`` → seconds; "" → None (by hand)."""
    if not text.strip():
        return None
    found = SCHEDULE.match(text.strip())
    if not found:
        raise ConfigError(
            f"schedule {text!r}: write it as 'every 15 min', 'every 2 hours' or 'every day' "
            "(or leave it empty to run by hand)"
        )
    count = int(found.group(1) or 1)
    unit = found.group(2).lower()
    key = "min" if unit.startswith("min") else "h" if unit.startswith("h") else "day"
    seconds = count * UNITS[key]
    if seconds < 300:
        raise ConfigError(f"schedule {text!r}: at least every 5 min (Zoho's limits need it)")
    return float(seconds)
