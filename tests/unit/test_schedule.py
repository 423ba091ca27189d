"""Schedules: the forms an admin writes, what is refused and why, and when runs are due, on a
virtual clock across clock changes, weekends and cron expressions."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hrsync.errors import ConfigError
from hrsync.schedule import Interval, WallClock, next_run_shown, parse_schedule

BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")


def at(text: str, zone: dt.tzinfo = BERLIN) -> float:
    """An instant given as the wall clock of ``zone`` reads it ("2026-03-29 03:30")."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def wall(schedule: WallClock, instant: float) -> str:
    return dt.datetime.fromtimestamp(instant, schedule.zone).strftime("%a %Y-%m-%d %H:%M %Z")


def calendar(text: str) -> WallClock:
    schedule = parse_schedule(text)
    assert isinstance(schedule, WallClock)
    return schedule


def runs(schedule: WallClock, start: float, end: float) -> list[str]:
    """The runs a scheduler checking every five minutes from ``start`` to ``end`` would
    begin (every moment in these tests falls on a check)."""
    made: list[str] = []
    last = start
    for check in range(int((end - start) // 300) + 1):
        now = start + 300 * check
        if schedule.due(last, now):
            made.append(wall(schedule, now))
            last = now
    return made


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("every 15 min", 900), ("every 2 hours", 7200), ("every day", 86400), ("Every 5 mins", 300)],
)
def test_intervals_read_as_before(text: str, seconds: float) -> None:
    assert parse_schedule(text) == Interval(text, seconds)


def test_an_interval_is_due_its_length_after_the_last_start_and_at_once_before_any() -> None:
    schedule = parse_schedule("every 15 min")
    assert schedule is not None
    assert schedule.due(None, 1000.0)
    assert not schedule.due(1000.0, 1899.0) and schedule.due(1000.0, 1900.0)
    assert schedule.next_run(1000.0, 1200.0) == 1900.0


@pytest.mark.parametrize(
    ("text", "cron", "zone"),
    [
        ("every day at 02:00", "0 2 * * *", "UTC"),
        ("daily at 2:00", "0 2 * * *", "UTC"),
        ("weekdays at 07:30 Asia/Kolkata", "30 7 * * 1-5", "Asia/Kolkata"),
        ("every weekday at 07:30", "30 7 * * 1-5", "UTC"),
        ("every monday at 06:00", "0 6 * * 1", "UTC"),
        ("every Mon, Thu at 06:00 Europe/Berlin", "0 6 * * 1,4", "Europe/Berlin"),
        ("every sunday and friday at 23:45", "45 23 * * 5,7", "UTC"),
        ("cron: 0 2 * * 1-5", "0 2 * * 1-5", "UTC"),
        ("cron 0 2 * * mon-fri Europe/Berlin", "0 2 * * mon-fri", "Europe/Berlin"),
        ("0 2 * * 1-5", "0 2 * * 1-5", "UTC"),
        ("cron: 0 2 * * */2 UTC", "0 2 * * */2", "UTC"),
        ("  every   day at 02:00  ", "0 2 * * *", "UTC"),
    ],
)
def test_times_of_day_and_cron_expressions_with_their_zone(text: str, cron: str, zone: str) -> None:
    schedule = calendar(text)
    assert (schedule.cron, schedule.zone.key) == (cron, zone)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("every 2 min", "at least every 5 min"),
        ("every day at 25:00", "25:00 is no time of day"),
        ("every funday at 02:00", "'funday' is not a day of the week"),
        ("every day at 02:00 Mars/Olympus", "no time zone named 'Mars/Olympus'"),
        ("cron: * * * * *", "at least 5 min between runs"),
        ("cron: 0-4 2 * * *", "at least 5 min between runs"),
        ("cron: 0 0 30 2 *", "that moment never comes"),
        ("cron: 0 2 * *", "not a cron expression of five fields"),
        ("cron: 0 0 2 * * 1-5", "not a cron expression of five fields"),
        ("at noon", "write it as 'every 15 min'"),
        ("every 15 min Europe/Berlin", "write it as 'every 15 min'"),
    ],
)
def test_a_refusal_names_the_schedule_and_what_is_accepted(text: str, why: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_schedule(text)
    message = str(refused.value)
    assert message.startswith(f"schedule {' '.join(text.split())!r}: ") and why in message
    if "write it as" in message:
        assert "'every day at 02:00'" in message and "'cron: 0 2 * * 1-5'" in message
        assert "Asia/Kolkata" in message and "empty to run by hand" in message


def test_empty_runs_by_hand() -> None:
    assert parse_schedule("") is None and parse_schedule("   ") is None
    assert next_run_shown("", None, 0.0) == "by hand"


def test_every_day_at_two_runs_once_a_day_at_two_in_its_zone() -> None:
    schedule = calendar("every day at 02:00 Asia/Kolkata")
    made = runs(schedule, at("2026-06-01 12:00", KOLKATA), at("2026-06-04 12:00", KOLKATA))
    assert made == [
        "Tue 2026-06-02 02:00 IST",
        "Wed 2026-06-03 02:00 IST",
        "Thu 2026-06-04 02:00 IST",
    ]


def test_due_when_the_last_run_began_before_the_latest_moment() -> None:
    schedule = calendar("every day at 02:00")
    now = at("2026-06-03 09:00", dt.UTC)
    assert schedule.due(None, now)  # never ran: at once
    assert schedule.due(at("2026-06-03 01:59", dt.UTC), now)
    assert not schedule.due(at("2026-06-03 02:00", dt.UTC), now)
    # A missed moment (the service was down at 02:00) is made up at the next check, once.
    assert schedule.due(at("2026-06-01 02:00", dt.UTC), now)


def test_weekdays_skip_the_weekend() -> None:
    schedule = calendar("weekdays at 07:30 Europe/Berlin")
    made = runs(schedule, at("2026-06-05 12:00"), at("2026-06-09 12:00"))  # Fri noon to Tue
    assert made == ["Mon 2026-06-08 07:30 CEST", "Tue 2026-06-09 07:30 CEST"]
    after_friday = schedule.next_run(at("2026-06-05 07:30"), at("2026-06-06 10:00"))
    assert wall(schedule, after_friday) == "Mon 2026-06-08 07:30 CEST"


def test_one_day_of_the_week() -> None:
    schedule = calendar("every monday at 06:00")
    made = runs(schedule, at("2026-06-01 07:00", dt.UTC), at("2026-06-16 00:00", dt.UTC))
    assert made == ["Mon 2026-06-08 06:00 UTC", "Mon 2026-06-15 06:00 UTC"]


def test_a_cron_expression_runs_at_each_of_its_moments() -> None:
    schedule = calendar("cron: 0 2,14 * * 1-5 Europe/Berlin")
    made = runs(schedule, at("2026-06-05 12:00"), at("2026-06-08 15:00"))
    assert made == [
        "Fri 2026-06-05 14:00 CEST",
        "Mon 2026-06-08 02:00 CEST",
        "Mon 2026-06-08 14:00 CEST",
    ]


def test_spring_forward_a_skipped_time_runs_once_an_hour_later_by_the_wall_clock() -> None:
    # Europe/Berlin, Sunday 29 March 2026: 02:00 CET becomes 03:00 CEST; 02:30 never shows.
    schedule = calendar("every day at 02:30 Europe/Berlin")
    made = runs(schedule, at("2026-03-28 12:00"), at("2026-03-30 12:00"))
    assert made == ["Sun 2026-03-29 03:30 CEST", "Mon 2026-03-30 02:30 CEST"]
    two = calendar("every day at 02:00 Europe/Berlin")
    assert runs(two, at("2026-03-28 12:00"), at("2026-03-29 12:00")) == [
        "Sun 2026-03-29 03:00 CEST"
    ]


def test_fall_back_a_time_seen_twice_runs_once() -> None:
    # Sunday 25 October 2026: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    schedule = calendar("every day at 02:30 Europe/Berlin")
    made = runs(schedule, at("2026-10-24 12:00"), at("2026-10-26 12:00"))
    assert made == ["Sun 2026-10-25 02:30 CEST", "Mon 2026-10-26 02:30 CET"]


def test_a_cron_every_half_hour_across_both_clock_changes() -> None:
    schedule = calendar("cron: */30 * * * * Europe/Berlin")
    spring = runs(schedule, at("2026-03-29 01:00"), at("2026-03-29 04:00"))
    assert spring == [
        "Sun 2026-03-29 01:30 CET",
        "Sun 2026-03-29 03:00 CEST",  # 02:00, and 03:00 itself: one run
        "Sun 2026-03-29 03:30 CEST",  # 02:30, and 03:30 itself
        "Sun 2026-03-29 04:00 CEST",
    ]
    autumn = runs(schedule, at("2026-10-25 01:00"), at("2026-10-25 03:30"))
    assert autumn == [
        "Sun 2026-10-25 01:30 CEST",
        "Sun 2026-10-25 02:00 CEST",
        "Sun 2026-10-25 02:30 CEST",
        "Sun 2026-10-25 03:00 CET",  # the repeated hour (02:00–03:00 CET) runs nothing more
        "Sun 2026-10-25 03:30 CET",
    ]


def test_the_next_run_is_shown_with_its_zone() -> None:
    last = at("2026-03-28 02:30")
    now = at("2026-03-28 12:00")
    assert next_run_shown("every day at 02:30 Europe/Berlin", last, now) == (
        "2026-03-29 03:30 CEST (Europe/Berlin)"
    )
    kolkata = at("2026-06-01 12:00", KOLKATA)
    assert next_run_shown("weekdays at 07:30 Asia/Kolkata", kolkata, kolkata) == (
        "2026-06-02 07:30 IST (Asia/Kolkata)"
    )
    assert next_run_shown("cron: 0 2 * * 1-5", kolkata, kolkata) == "2026-06-02 02:00 UTC"
    assert next_run_shown("every 15 min", 0.0, 60.0) == "1970-01-01 00:15 UTC"
    assert next_run_shown("every day at 02:00", None, kolkata) == "at the next check"
