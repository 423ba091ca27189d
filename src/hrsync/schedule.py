"""Schedules as an admin writes them: an integration's, and hrsync.toml's own
``[sync] schedule``. One line says when, and in which time zone:

    every 15 min | every 2 hours | every day     an interval, counted from the last run's start
    every day at 02:00 [ZONE]                    each day at that time of day
    weekdays at 07:30 [ZONE]                     Monday to Friday
    every monday at 06:00 [ZONE]                 chosen days ("every mon, thu at 06:00")
    cron: 0 2 * * 1-5 [ZONE]                     a five-field cron expression (or the five
                                                 fields alone), read by croniter

ZONE is an IANA time zone name (``Asia/Kolkata``, ``Europe/Berlin``); without one, UTC. The
zone lives in the schedule's own text so that the file, ``integrations create --schedule``,
the admin page's form and the store all keep one string that says it all.

Times of day are wall-clock times in the zone. A time the clock skips (the hour lost in
spring) runs as if the clock had not moved yet: 02:30 on Europe/Berlin's last Sunday of March
runs at 03:30 CEST; a time the clock passes twice (autumn) runs once, the first time.

A run is due when the last run began before the latest scheduled moment that has come (an
integration that never ran is due at once, whatever its schedule). Nothing here sleeps or
reads a clock: the scheduler asks with the time it has.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

from hrsync.errors import ConfigError

INTERVAL = re.compile(r"^every\s+(?:(\d+)\s*)?(min|mins|minutes?|h|hours?|days?)$", re.IGNORECASE)
UNITS = {"min": 60, "h": 3600, "hour": 3600, "day": 86400}
AT = re.compile(
    r"^(?:(?P<daily>every\s+day|daily)|(?P<weekdays>(?:every\s+)?weekdays?)"
    r"|every\s+(?P<days>[a-z]+(?:\s*(?:,|and)\s*[a-z]+)*))\s+at\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})$",
    re.IGNORECASE,
)
ZONE_NAME = re.compile(r"^[A-Za-z][\w+-]*(?:/[\w+-]+)+$")  # Area/Place, not a cron field
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NUMBERS = {n: i for i, day in enumerate(DAYS, start=1) for n in (day, day[:3])}  # cron's
SHORTEST = 300.0  # Zoho's limits need at least 5 minutes between runs
MARGIN = dt.timedelta(hours=3)  # more than any zone's yearly shift of its clocks
LOOKS = 2000  # moments looked at for one answer: a 5-minute cron over a day and a half
ACCEPTED = (
    "'every 15 min', 'every 2 hours', 'every day', 'every day at 02:00', "
    "'weekdays at 07:30', 'every monday at 06:00' or 'cron: 0 2 * * 1-5', each of the last "
    "four optionally followed by a time zone such as Asia/Kolkata (UTC otherwise)"
)


class Schedule(Protocol):
    """When an integration runs."""

    @property
    def text(self) -> str:
        """The schedule as written."""
        ...

    def due(self, last: float | None, now: float, *, minute: float = 60.0) -> bool:
        """Whether a run that last began at ``last`` (None: never) is due at ``now``."""
        ...

    def next_run(self, last: float | None, now: float) -> float:
        """When the next run is due: ``now`` or earlier when it is due already."""
        ...

    def shown(self, at: float) -> str:
        """``at`` as this schedule's clock reads it, with its zone."""
        ...


@dataclass(frozen=True)
class Interval:
    """``every N min|hours|day``: N units after the last run began."""

    text: str
    seconds: float

    def due(self, last: float | None, now: float, *, minute: float = 60.0) -> bool:
        # ``minute``: seconds a schedule's minute lasts, shorter only in tests.
        return last is None or last + self.seconds * minute / 60 <= now

    def next_run(self, last: float | None, now: float) -> float:
        return now if last is None else last + self.seconds

    def shown(self, at: float) -> str:
        return _shown(at, ZoneInfo("UTC"))


@dataclass(frozen=True)
class WallClock:
    """Moments given by a cron expression over the wall clock of a time zone."""

    text: str
    cron: str
    zone: ZoneInfo

    def due(self, last: float | None, now: float, *, minute: float = 60.0) -> bool:
        if last is None:
            return True
        latest = self.latest(now)
        return latest is not None and last < latest

    def next_run(self, last: float | None, now: float) -> float:
        if self.due(last, now):
            latest = self.latest(now)
            return now if latest is None else latest
        return self.following(now)

    def shown(self, at: float) -> str:
        return _shown(at, self.zone)

    def latest(self, now: float) -> float | None:
        """The latest scheduled moment at or before ``now``."""
        moments = croniter(self.cron, self._wall(now) + MARGIN)
        best: float | None = None
        for _ in range(LOOKS):
            wall = moments.get_prev(dt.datetime)
            at = self._instant(wall)
            if at <= now and (best is None or at > best):
                best = at
            # Earlier times of day can map to later instants only within a clock change.
            if best is not None and wall < self._wall(best) - MARGIN:
                break
        return best

    def following(self, after: float) -> float:
        """The first scheduled moment after ``after``."""
        moments = croniter(self.cron, self._wall(after) - MARGIN)
        best: float | None = None
        for _ in range(LOOKS):
            wall = moments.get_next(dt.datetime)
            at = self._instant(wall)
            if at > after and (best is None or at < best):
                best = at
            if best is not None and wall > self._wall(best) + MARGIN:
                break
        assert best is not None  # parse_schedule refuses expressions that never come round
        return best

    def _wall(self, at: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(at, self.zone).replace(tzinfo=None)

    def _instant(self, wall: dt.datetime) -> float:
        # fold=0: a skipped time runs as if the clock had not moved; a repeated one, once.
        return wall.replace(tzinfo=self.zone).timestamp()


def parse_schedule(text: str) -> Schedule | None:
    """The schedule ``text`` says; None for "" (run by hand); ConfigError naming the text
    and what is accepted otherwise."""
    text = " ".join(text.split())
    if not text:
        return None
    interval = INTERVAL.match(text)
    if interval:
        return _interval(text, interval)
    words, zone = _zone_split(text)
    cron = _cron_of(words)
    if cron is None:
        raise ConfigError(
            f"schedule {text!r}: write it as {ACCEPTED} (or leave it empty to run by hand)"
        )
    schedule = WallClock(text, cron, zone)
    _check_spacing(schedule)
    return schedule


def next_run_shown(text: str, last: float | None, now: float) -> str:
    """When ``text``'s next run is due, with the zone: "2026-03-30 02:00 CEST (Europe/Berlin)",
    "at the next check" when due already, "by hand" when there is no schedule."""
    schedule = parse_schedule(text)
    if schedule is None:
        return "by hand"
    at = schedule.next_run(last, now)
    return "at the next check" if at <= now else schedule.shown(at)


def _interval(text: str, found: re.Match[str]) -> Interval:
    count = int(found.group(1) or 1)
    unit = found.group(2).lower()
    key = "min" if unit.startswith("min") else "h" if unit.startswith("h") else "day"
    seconds = count * UNITS[key]
    if seconds < SHORTEST:
        raise ConfigError(f"schedule {text!r}: at least every 5 min (Zoho's limits need it)")
    return Interval(text, float(seconds))


def _zone_split(text: str) -> tuple[str, ZoneInfo]:
    """The schedule's words, and the zone named at its end (UTC when none is)."""
    head, _, last = text.rpartition(" ")
    if head and (ZONE_NAME.match(last) or last.upper() in ("UTC", "GMT")):
        try:
            return head, ZoneInfo("UTC" if last.upper() in ("UTC", "GMT") else last)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"schedule {text!r}: no time zone named {last!r}; write an IANA name such as "
                "Europe/Berlin or Asia/Kolkata (or none, for UTC)"
            ) from None
    return text, ZoneInfo("UTC")


def _cron_of(words: str) -> str | None:
    """The cron expression ``words`` mean, or None when they are none of the forms."""
    found = AT.match(words)
    if found is not None:
        return _cron_at(words, found)
    fields = re.sub(r"^cron\s*:?\s*", "", words, flags=re.IGNORECASE)
    if fields != words or len(words.split()) == 5:
        return _checked_cron(words, fields)
    return None


def _cron_at(words: str, found: re.Match[str]) -> str:
    hour, minute = int(found["hour"]), int(found["minute"])
    if hour > 23 or minute > 59:
        raise ConfigError(
            f"schedule {words!r}: {found['hour']}:{found['minute']} is no time of day"
        )
    if found["daily"]:
        days = "*"
    elif found["weekdays"]:
        days = "1-5"
    else:
        days = _day_numbers(words, found["days"])
    return f"{minute} {hour} * * {days}"


def _checked_cron(words: str, fields: str) -> str:
    if len(fields.split()) != 5 or not croniter.is_valid(fields):
        raise ConfigError(
            f"schedule {words!r}: not a cron expression of five fields (minute hour "
            "day-of-month month day-of-week), e.g. 'cron: 0 2 * * 1-5'"
        )
    return fields


def _day_numbers(words: str, days: str) -> str:
    numbers = []
    for day in re.split(r"\s*(?:,|\band\b)\s*", days.lower()):
        number = DAY_NUMBERS.get(day.removesuffix("s")) or DAY_NUMBERS.get(day)
        if number is None:
            raise ConfigError(
                f"schedule {words!r}: {day!r} is not a day of the week; write e.g. "
                f"'every monday at 06:00' (or {ACCEPTED})"
            )
        numbers.append(str(number))
    return ",".join(sorted(set(numbers)))


def _check_spacing(schedule: WallClock) -> None:
    """Refuse an expression that never comes round, or comes round faster than Zoho allows."""
    start = dt.datetime(2026, 1, 1)
    try:
        moments = croniter(schedule.cron, start)
        walls = [moments.get_next(dt.datetime) for _ in range(50)]
    except CroniterError:
        raise ConfigError(f"schedule {schedule.text!r}: that moment never comes") from None
    gaps = [(b - a).total_seconds() for a, b in pairwise(walls)]
    if min(gaps) < SHORTEST:
        raise ConfigError(
            f"schedule {schedule.text!r}: at least 5 min between runs (Zoho's limits need it)"
        )


def _shown(at: float, zone: ZoneInfo) -> str:
    local = dt.datetime.fromtimestamp(at, zone)
    named = f" ({zone.key})" if zone.key not in ("UTC", local.strftime("%Z")) else ""
    return local.strftime("%Y-%m-%d %H:%M %Z") + named
