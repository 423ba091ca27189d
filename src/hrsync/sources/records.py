"""Raw HR rows → validated ``Employee`` records, with one clear error per bad record.

A broken record never means "this person left". A record broken where it decides who the
person is or whether they work here (employee id, email, status, hire or exit date, the
shape of the row itself) holds the person: Cliq keeps everything it has for them until the
record is fixed. A broken field on its own (an impossible birth date, a manager who is not
in the feed, a designation longer than Cliq takes) blocks only that field.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from hrsync.errors import ConfigError
from hrsync.model import CANONICAL_FIELDS, NOTHING, Employee, RecordError, SourceSnapshot, Status

# A practical address check: one @, a dot-separated domain of letters, digits and hyphens,
# no spaces or quotes. Cliq invites by email, so anything else can only fail at Zoho.
EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
MAX_EMAIL = 254
_Fail = Callable[[str, str], None]  # (field, message): record a broken field
# Status words of common HR systems; a source's own map is added on top.
STATUS_WORDS: dict[str, Status] = {
    word: Status.ACTIVE
    for word in (
        "active",
        "activo",
        "employed",
        "current",
        "on leave",
        "leave of absence",
        "probation",
        "notice period",
        "1",
        "true",
        "yes",
    )
} | {
    word: Status.INACTIVE
    for word in (
        "inactive",
        "terminated",
        "terminated for cause",
        "voluntarily terminated",
        "resigned",
        "retired",
        "deceased",
        "exited",
        "absconded",
        "relieved",
        "separated",
        "left",
        "former",
        "disabled",
        "0",
        "false",
        "no",
    )
}
DATE_FIELDS = ("date_of_birth", "hire_date", "exit_date")
# Fields that decide who someone is and whether they work here: broken, they hold the person.
LIFECYCLE = frozenset({"employee_id", "email", "status", "hire_date", "exit_date"})
# Cliq refuses longer designation names (Zoho's designations API: 30 characters at most).
MAX_LENGTH = {"designation": 30}
EARLIEST_BIRTH = dt.date(1900, 1, 1)
CANONICAL_SET = frozenset(CANONICAL_FIELDS)
# The fields an ``Employee`` takes as text, as they are: all but the dates and the status.
TEXT_FIELDS = tuple(k for k in CANONICAL_FIELDS if k not in DATE_FIELDS and k != "status")


class Bookmarks(Protocol):
    """Where a source that reads an API keeps its read's times and records (the store)."""

    def bookmark(self, name: str) -> Any: ...

    def save_bookmark(self, name: str, value: Any) -> None: ...


@dataclass
class LastRead:
    """What a source's last read of an API was: full or incremental, its records, its calls."""

    kind: str  # full | incremental
    records_read: int
    calls: int


@dataclass(slots=True)
class ParsedRow:
    """One record after parsing: the employee (None when the record is broken as a whole),
    the id it names (possibly ""), and what was wrong with it."""

    where: str
    employee_id: str
    employee: Employee | None
    errors: list[RecordError] = field(default_factory=list)

    @classmethod
    def broken(cls, where: str, employee_id: str, message: str, fld: str = "") -> ParsedRow:
        return cls(where, employee_id, None, [RecordError(where, message, employee_id, fld)])


class RowParser:
    """Turns mappings of canonical field → text into employees."""

    def __init__(
        self,
        *,
        status_map: Mapping[str, str],
        date_format: str = "",
        today: dt.date | None = None,
    ) -> None:
        self.status_words = dict(STATUS_WORDS)
        for word, meaning in status_map.items():
            if meaning not in tuple(Status):
                raise ConfigError(
                    f"[source.status_map] {word!r} = {meaning!r}: a status word means "
                    '"active" or "inactive"'
                )
            self.status_words[word.strip().lower()] = Status(meaning)
        self.date_format = date_format
        self.today = today or dt.date.today()
        # Text → day, for the texts read so far: a feed repeats the same dates many times.
        self._days: dict[str, dt.date] = {}

    def parse(
        self, where: str, row: Mapping[str, str], *, absent: frozenset[str] = NOTHING
    ) -> ParsedRow:
        """``absent``: canonical fields the source does not carry; they are left alone."""
        values = {k: (row.get(k) or "").strip() for k in CANONICAL_FIELDS}
        eid = values["employee_id"]
        errors: list[RecordError] = []
        bad: set[str] = set()

        def fail(name: str, message: str) -> None:
            errors.append(RecordError(where, message, eid, name))
            bad.add(name)

        if not eid:
            fail("employee_id", "no employee id")
        # One search of all the values at once; field by field only when something is found.
        if UNPRINTABLE.search("".join(values.values())):
            for name, value in values.items():
                if name not in bad and (char := _unprintable(value)):
                    fail(name, f"contains the control character {char}; fix the export")
        for name, limit in MAX_LENGTH.items():
            if name not in bad and len(values[name]) > limit:
                fail(name, f"{values[name]!r} is longer than the {limit} characters Cliq takes")
        self._check_email(values["email"], bad, fail)
        dates = {name: self._checked_date(name, values[name], bad, fail) for name in DATE_FIELDS}
        status = self.status_words.get((values["status"] or "active").lower())
        if status is None and "status" not in bad:
            fail(
                "status",
                f"unknown status {values['status']!r}; map it in [source.status_map] "
                "(an unknown word is not taken to mean the person left)",
            )
        if bad & LIFECYCLE:
            # An id that is itself broken names nobody for sure: the feed is then incomplete.
            return ParsedRow(where, "" if "employee_id" in bad else eid, None, errors)
        extra = (
            {k: v for k, v in row.items() if k not in CANONICAL_SET and v}
            if row.keys() - CANONICAL_SET
            else {}
        )
        text = {k: "" if k in bad else values[k] for k in TEXT_FIELDS}
        blocked = frozenset(bad) | (absent - LIFECYCLE - {"nickname"}) if bad or absent else NOTHING
        employee = Employee(
            **text,  # type: ignore[arg-type]
            status=status or Status.ACTIVE,
            **dates,  # type: ignore[arg-type]
            extra=extra,
            blocked=blocked,
        )
        return ParsedRow(where, eid, employee, errors)

    def _check_email(self, email: str, bad: set[str], fail: _Fail) -> None:
        if "email" in bad:
            return
        if not email:
            fail("email", "no email address")
        elif len(email) > MAX_EMAIL or not EMAIL.match(email):
            fail("email", f"{email!r} is not an email address")

    def _checked_date(self, name: str, raw: str, bad: set[str], fail: _Fail) -> dt.date | None:
        if name in bad:
            return None
        try:
            day = self._date(raw)
        except ValueError:
            shown = f" ({self.date_format})" if self.date_format else " (YYYY-MM-DD)"
            fail(name, f"{raw!r} is not a date{shown}")
            return None
        if (
            name == "date_of_birth"
            and day is not None
            and not (EARLIEST_BIRTH <= day <= self.today)
        ):
            fail(name, f"{raw!r} is not a possible date of birth")
            return None
        return day

    def _date(self, raw: str) -> dt.date | None:
        """The day ``raw`` names (None when empty); raises ValueError when it names none."""
        if not raw:
            return None
        day = self._days.get(raw)
        if day is None:
            day = self._days[raw] = self._parsed_date(raw)
        return day

    def _parsed_date(self, raw: str) -> dt.date:
        if self.date_format:
            return dt.datetime.strptime(raw, self.date_format).date()
        if len(raw) == 10:
            return dt.date.fromisoformat(raw)
        return dt.datetime.fromisoformat(raw).date()  # a timestamp: its day counts


# Unicode's control characters (category Cc) and the line and paragraph separators.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _unprintable(value: str) -> str:
    """The first control or line-separator character in ``value``, shown as U+XXXX."""
    found = UNPRINTABLE.search(value)
    return f"U+{ord(found.group()):04X}" if found else ""


def validate(rows: Iterable[ParsedRow]) -> SourceSnapshot:
    """Keep the good records; hold the people whose records are broken or duplicated; block
    reporting-to where the manager is unknown, the person themselves, or in a cycle."""
    snapshot = SourceSnapshot(employees=[])
    by_id: dict[str, list[ParsedRow]] = {}
    for row in rows:
        snapshot.total_records += 1
        snapshot.errors.extend(row.errors)
        if row.employee is None:
            snapshot.hold(row.employee_id, row.where)
        if row.employee_id:
            by_id.setdefault(row.employee_id, []).append(row)
        elif row.employee is None:
            snapshot.complete = False
    good = _unique(by_id, snapshot)
    good = _one_person_per_email(good, snapshot)
    known = {row.employee_id for row in good} | set(snapshot.held)
    managers = {row.employee_id: _employee(row).manager_id for row in good}
    for row in good:
        employee = _manager_checked(row, known, managers, snapshot)
        snapshot.employees.append(employee)
        snapshot.origins[employee.employee_id] = row.where
    if snapshot.held:
        shown = ", ".join(f"{eid} ({where})" for eid, where in list(snapshot.held.items())[:5])
        more = " …" if len(snapshot.held) > 5 else ""
        snapshot.notes.append(
            f"{len(snapshot.held)} people with broken HR records are left as Cliq has them "
            f"until the records are fixed: {shown}{more}"
        )
    return snapshot


def _employee(row: ParsedRow) -> Employee:
    assert row.employee is not None
    return row.employee


def _unique(by_id: Mapping[str, list[ParsedRow]], snapshot: SourceSnapshot) -> list[ParsedRow]:
    """Rows whose employee id appears once; a repeated id wins in no row."""
    good: list[ParsedRow] = []
    for eid, rows in by_id.items():
        if len(rows) == 1:
            if rows[0].employee is not None:
                good.append(rows[0])
            continue
        places = ", ".join(r.where for r in rows)
        for row in rows:
            snapshot.errors.append(
                RecordError(
                    row.where,
                    f"duplicate employee id (rows {places}); neither is used",
                    eid,
                    "employee_id",
                )
            )
            snapshot.hold(eid, row.where)
    return good


def _one_person_per_email(rows: list[ParsedRow], snapshot: SourceSnapshot) -> list[ParsedRow]:
    """Two current employees with one email: neither is changed (Cliq knows people by it)."""
    by_email: dict[str, list[ParsedRow]] = {}
    for row in rows:
        employee = _employee(row)
        if employee.is_active_on(dt.date.max - dt.timedelta(1)):
            by_email.setdefault(employee.email.lower(), []).append(row)
    clashing: set[str] = set()
    for email, sharing in by_email.items():
        if len(sharing) < 2:
            continue
        places = ", ".join(f"{r.where} (employee {r.employee_id})" for r in sharing)
        for row in sharing:
            snapshot.errors.append(
                RecordError(
                    row.where,
                    f"email {email} is shared by {places}; neither is changed",
                    row.employee_id,
                    "email",
                )
            )
            snapshot.hold(row.employee_id, row.where)
            clashing.add(row.employee_id)
    return [row for row in rows if row.employee_id not in clashing]


def _manager_checked(
    row: ParsedRow,
    known: set[str],
    managers: Mapping[str, str],
    snapshot: SourceSnapshot,
) -> Employee:
    employee = _employee(row)
    manager = employee.manager_id
    if not manager or "manager_id" in employee.blocked:
        return employee
    if manager == employee.employee_id:
        problem = "reports to themselves"
    elif manager not in known:
        problem = f"unknown manager {manager!r}"
    elif _in_cycle(employee.employee_id, managers):
        problem = "reporting cycle: " + " → ".join(_chain(employee.employee_id, managers))
    else:
        return employee
    snapshot.errors.append(
        RecordError(
            row.where,
            f"{problem}; reporting-to is left as Cliq has it",
            employee.employee_id,
            "manager_id",
        )
    )
    return replace(employee, manager_id="", blocked=employee.blocked | {"manager_id"})


def _chain(start: str, managers: Mapping[str, str]) -> list[str]:
    chain, current = [start], managers.get(start, "")
    while current and current not in chain:
        chain.append(current)
        current = managers.get(current, "")
    return [*chain, current] if current else chain


def _in_cycle(start: str, managers: Mapping[str, str]) -> bool:
    seen: set[str] = set()
    current = start
    while current:
        if current in seen:
            return start in seen and current == start
        seen.add(current)
        current = managers.get(current, "")
    return False
