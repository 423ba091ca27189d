"""Canonical records: what every source produces and every target consumes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

# The canonical fields, in the order they appear in a CSV header and in reports.
CANONICAL_FIELDS: tuple[str, ...] = (
    "employee_id",
    "email",
    "first_name",
    "last_name",
    "nickname",
    "gender",
    "date_of_birth",
    "mobile",
    "work_phone",
    "extension",
    "seating_location",
    "work_location",
    "department",
    "designation",
    "manager_id",
    "status",
    "hire_date",
    "exit_date",
)


class Status(StrEnum):
    """Employment status after mapping the HR system's own words."""

    ACTIVE = "active"
    INACTIVE = "inactive"


# How a person outside an integration's ``[scope]`` is held: another integration's, or
# nobody's; left exactly as Cliq has them (``SourceSnapshot.held`` says why per person).
OUTSIDE_SCOPE = "outside [scope]"

# Shared by everyone with nothing in a set: each ``frozenset()`` is a new 216-byte object,
# and a run holds several per person.
NOTHING: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Employee:
    """One person as the HR system describes them; ``employee_id`` is the identity key."""

    employee_id: str
    email: str
    first_name: str = ""
    last_name: str = ""
    nickname: str = ""
    gender: str = ""
    date_of_birth: dt.date | None = None
    mobile: str = ""
    work_phone: str = ""
    extension: str = ""
    seating_location: str = ""
    work_location: str = ""
    department: str = ""
    designation: str = ""
    manager_id: str = ""
    status: Status = Status.ACTIVE
    hire_date: dt.date | None = None
    exit_date: dt.date | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    # Canonical fields whose value in this record is broken (an impossible birth date, a
    # manager who is not in the feed): hrsync leaves what Cliq holds for them alone.
    blocked: frozenset[str] = NOTHING

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def display_name(self) -> str:
        return self.nickname or self.full_name

    def is_active_on(self, today: dt.date) -> bool:
        """Active in HR and not past an exit date."""
        if self.status is not Status.ACTIVE:
            return False
        return self.exit_date is None or self.exit_date > today


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record the source could not turn into an ``Employee``, with where it came from."""

    where: str  # "row 17" or "record 4560000001"
    message: str
    employee_id: str = ""
    field: str = ""

    def __str__(self) -> str:
        who = f" (employee {self.employee_id})" if self.employee_id else ""
        what = f" field '{self.field}':" if self.field else ""
        return f"{self.where}{who}:{what} {self.message}"


@dataclass(frozen=True, slots=True)
class ScopeCount:
    """One ``[scope]`` rule and how many people of a read it put outside."""

    rule: str  # include | exclude
    field: str
    values: tuple[str, ...]
    people: int = 0

    def describe(self) -> str:
        """``not in department = Sales, Support`` / ``excluded by employment_type = …``."""
        shown = f"{self.field} = {', '.join(self.values)}"
        return f"not in {shown}" if self.rule == "include" else f"excluded by {shown}"


@dataclass(slots=True)
class ScopeOutcome:
    """What an integration's ``[scope]`` made of one read of its source."""

    on_leave: str = "keep"  # keep | deactivate: what becomes of a managed person outside
    inside: int = 0
    # Employee id -> why, of the people known to be outside (the fields that put them there
    # were read); those whose scope fields could not be read are only held, and counted.
    outside: dict[str, str] = field(default_factory=dict)
    counts: list[ScopeCount] = field(default_factory=list)  # per rule, in the rules' order
    unreadable: int = 0

    def describe(self) -> str:
        """``12 people not in department = Sales; 3 excluded by …`` ("" when nobody is out)."""
        said = [f"{c.people} people {c.describe()}" for c in self.counts if c.people]
        if self.unreadable:
            said.append(f"{self.unreadable} people whose scope fields could not be read (held)")
        return "; ".join(said)


@dataclass(slots=True)
class SourceSnapshot:
    """Everything one read of a source produced: good records and per-record errors."""

    employees: list[Employee]
    errors: list[RecordError] = field(default_factory=list)
    total_records: int = 0
    notes: list[str] = field(default_factory=list)  # worth saying, not wrong
    origins: dict[str, str] = field(default_factory=dict)  # employee id -> "row 4" / "record …"
    # Employee id -> where its broken record is. A broken record never means "this person
    # left": the person is left exactly as Cliq has them until the record is fixed.
    held: dict[str, str] = field(default_factory=dict)
    # False when a record could not be told apart (no employee id, rows a stray quote
    # swallowed): absence from the feed then proves nothing, so nobody is "gone".
    complete: bool = True
    # Canonical fields the source carried (CSV headers present); None when not column-based.
    columns: frozenset[str] | None = None
    # Canonical fields the configuration maps to a column the export lacks.
    unmapped: tuple[str, ...] = ()
    # A source pushed to (SCIM) that nobody has pushed to yet: nothing to do, not an empty
    # feed (and, being incomplete, nobody is taken to have left).
    nothing_pushed: bool = False
    scope: ScopeOutcome | None = None  # None: the integration has no [scope] (everyone)

    def hold(self, employee_id: str, where: str) -> None:
        """Leave ``employee_id`` as Cliq has them; ``where`` names the broken record."""
        if employee_id:
            known = self.held.get(employee_id)
            self.held[employee_id] = f"{known}, {where}" if known else where
        else:
            self.complete = False
