"""The column headers of HR systems' exports, and a ``[source.columns]`` mapping proposed
from the headers a file has (``hrsync sources suggest FILE``, and ``hrsync config check``
when columns are missing).

The table says, per canonical field and in order of preference, the headers the major HR
systems' exports and report builders use, with the systems they were seen in where known.
A header is matched after folding case and punctuation ("Employee #" is "employee number");
one that is not in the table but close to one that is ("Emial Address") is proposed as a
"did you mean", and the suggestion says so.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hrsync.model import CANONICAL_FIELDS
from hrsync.sources.records import STATUS_WORDS

# field -> ((header, systems it was seen in), ...), the most telling first.
KNOWN: dict[str, tuple[tuple[str, str], ...]] = {
    "employee_id": (
        ("Employee ID", "Zoho People, HiBob, Workday"),
        ("Employee Number", "Keka; as 'Employee #' in BambooHR"),
        ("Employee No", "greytHR"),
        ("Employee Code", "greytHR, Indian payrolls"),
        ("Emp ID", ""),
        ("EmpID", ""),
        ("Worker ID", "Workday"),
        ("Staff ID", ""),
        ("Personnel Number", "SAP"),
        ("ID", "Personio"),
    ),
    "email": (
        ("Work Email", "BambooHR, HiBob, Keka"),
        ("Email address", "Zoho People"),
        ("Email - Work", "Workday"),
        ("Primary Work Email", "Workday"),
        ("Work Email Address", ""),
        ("Official Email", "greytHR"),
        ("Company Email", ""),
        ("Email ID", "Zoho People (API)"),
        ("Email", "Personio, greytHR"),
        ("E-mail", ""),
    ),
    "first_name": (
        ("First Name", "BambooHR, Personio, HiBob, Keka, Zoho People"),
        ("Legal First Name", "Workday"),
        ("Legal Name - First Name", "Workday"),
        ("Given Name", ""),
    ),
    "last_name": (
        ("Last Name", "BambooHR, Personio, HiBob, Keka, Zoho People"),
        ("Legal Last Name", "Workday"),
        ("Legal Name - Last Name", "Workday"),
        ("Surname", "HiBob"),
        ("Family Name", ""),
    ),
    "nickname": (
        ("Nick Name", "Zoho People"),
        ("Preferred Name", "BambooHR, Personio, Workday"),
        ("Display Name", "HiBob, Keka"),
        ("Known As", ""),
    ),
    "gender": (("Gender", "all of them"), ("Sex", ""), ("Legal Gender", "")),
    "date_of_birth": (
        ("Date of Birth", "Personio, HiBob, Keka, greytHR, Zoho People, Workday"),
        ("Birth Date", "BambooHR"),
        ("DOB", ""),
        ("Birthday", ""),
    ),
    "mobile": (
        ("Mobile Phone", "BambooHR, HiBob, Keka"),
        ("Mobile Number", "greytHR"),
        ("Personal Mobile Number", "Zoho People"),
        ("Primary Work Mobile Phone", "Workday"),
        ("Phone - Mobile", "Workday"),
        ("Mobile", "Personio"),
        ("Cell Phone", ""),
    ),
    "work_phone": (
        ("Work Phone", "BambooHR, HiBob, Keka"),
        ("Work Phone Number", "Zoho People"),
        ("Primary Work Phone", "Workday"),
        ("Phone - Work", "Workday"),
        ("Office Phone", ""),
        ("Phone", "Personio"),
    ),
    "extension": (("Extension", "Zoho People"), ("Work Ext.", "BambooHR"), ("Ext", "")),
    "seating_location": (("Seating Location", "Zoho People"), ("Desk", ""), ("Seat", "")),
    "work_location": (
        ("Location", "BambooHR, Keka, greytHR, Zoho People, Workday"),
        ("Work Location", "Workday"),
        ("Office", "Personio"),
        ("Site", "HiBob"),
        ("Branch", "greytHR"),
    ),
    "department": (
        ("Department", "all of them"),
        ("Department Name", ""),
        ("Dept", ""),
        ("Supervisory Organization", "Workday"),
    ),
    "designation": (
        ("Designation", "greytHR, Zoho People"),
        ("Job Title", "BambooHR, HiBob, Keka"),
        ("Position", "Personio"),
        ("Business Title", "Workday"),
        ("Title", ""),
        ("Job Profile", "Workday"),
    ),
    "manager_id": (
        ("Manager Employee ID", "Workday reports"),
        ("Manager ID", ""),
        ("Reporting Manager Employee Number", "Keka"),
        ("Reporting Manager Employee ID", ""),
        ("Supervisor EID", "BambooHR"),
        ("Supervisor ID", "Personio"),
        ("Reporting Manager", "Zoho People, greytHR"),
        ("Reporting To", "Keka"),
        ("Reports To", "BambooHR, HiBob"),
        ("Supervisor", "Personio, BambooHR"),
        ("Manager", "Workday"),
        ("Line Manager", ""),
        ("Direct Manager", ""),
    ),
    "status": (
        ("Status", "BambooHR, Personio, greytHR"),
        ("Employee Status", "Zoho People, Keka"),
        ("Active Status", "Workday"),
        ("Worker Status", "Workday"),
        ("Lifecycle Status", "HiBob"),
        ("Employment Status", "HiBob, Keka (in BambooHR: the kind of contract)"),
    ),
    "hire_date": (
        ("Hire Date", "BambooHR, Personio, Workday"),
        ("Date of Joining", "Zoho People, greytHR"),
        ("Date Joined", "Keka"),
        ("Joining Date", ""),
        ("Start Date", "HiBob"),
        ("Original Hire Date", "Workday"),
        ("DOJ", ""),
    ),
    "exit_date": (
        ("Termination Date", "BambooHR, Personio, HiBob, Workday"),
        ("Date of Exit", "Zoho People"),
        ("Exit Date", "Keka"),
        ("Date of Leaving", "greytHR"),
        ("Leaving Date", ""),
        ("Last Working Day", "Keka, greytHR"),
        ("Relieving Date", ""),
    ),
}
# Manager columns that hold the manager's employee id; the others hold a name or an email.
MANAGER_IDS = frozenset(h for h, _ in KNOWN["manager_id"][:6])
# Headers that look like a field but are not one: said, never mapped.
NOT_A_FIELD = {
    "Personal Email": "a personal address: Cliq invites the work address",
    "Home Email": "a personal address: Cliq invites the work address",
    "Employee Name": "one column for the whole name: export First Name and Last Name apart",
    "Full Name": "one column for the whole name: export First Name and Last Name apart",
    "Name": "one column for the whole name: export First Name and Last Name apart",
}
NEAR = 0.8  # difflib's ratio for a "did you mean"
MANAGER_NOTE = (
    "manager_id needs the manager's employee id; {header!r} holds {what}. "
    "Export the manager's employee id instead (Manager Employee ID, Supervisor EID, "
    "Reporting Manager Employee Number…), or leave manager_id out"
)


def folded(header: str) -> str:
    """A header without case, spacing or punctuation: "Employee #" → "employeenumber"."""
    text = header.lower().replace("#", " number ").replace("_", " ")
    return re.sub(r"[^a-z0-9]", "", text)


def _folds() -> dict[str, tuple[str, int, str, str]]:
    """folded header -> (field, rank, header, systems); the canonical names rank first."""
    found: dict[str, tuple[str, int, str, str]] = {}
    for name, headers in KNOWN.items():
        for rank, (header, systems) in enumerate(headers):
            found.setdefault(folded(header), (name, rank, header, systems))
    for name in CANONICAL_FIELDS:
        found.setdefault(folded(name), (name, len(KNOWN[name]), name, "hrsync's own name"))
    return found


_BY_FOLD = _folds()


@dataclass
class Mapped:
    """One field the suggestion maps: the file's header, how it was recognised, and a note."""

    field: str
    header: str
    known_as: str  # the table's header it matched ("" when the canonical name itself)
    systems: str
    near: bool = False  # a "did you mean": the header is close to a known one, not one
    note: str = ""


@dataclass
class Suggestion:
    """A ``[source.columns]`` mapping for a file's headers, and what it could not map."""

    mapped: list[Mapped] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # the file's headers no field took
    missing: list[str] = field(default_factory=list)  # canonical fields no header gave
    notes: list[str] = field(default_factory=list)
    status_words: list[str] = field(default_factory=list)  # values the status column needs mapped

    @property
    def columns(self) -> dict[str, str]:
        """canonical field -> header, only where they differ (as [source.columns] wants)."""
        return {m.field: m.header for m in self.mapped if m.header != m.field}

    def toml(self) -> str:
        """The ``[source.columns]`` block, ready to paste, each line saying where it is from."""
        lines = ["[source.columns]"]
        for m in self.mapped:
            if m.header == m.field:
                continue
            line = f"{m.field} = {json.dumps(m.header, ensure_ascii=False)}"
            lines.append(f"{line:<40} # {_comment(m)}")
        if self.status_words:
            lines += ["", "[source.status_map]  # say what each word means, then uncomment it"]
            lines += [
                f'# {json.dumps(w, ensure_ascii=False)} = "active"  # or "inactive"'
                for w in self.status_words
            ]
        return "\n".join(lines) + "\n"

    def as_json(self) -> dict[str, object]:
        return {
            "columns": self.columns,
            "mapped": [vars(m) for m in self.mapped],
            "unmapped_headers": self.unmapped,
            "missing_fields": self.missing,
            "notes": self.notes,
            "status_words": self.status_words,
            "toml": self.toml(),
        }


def suggest_columns(headers: Sequence[str], rows: Sequence[Mapping[str, str]] = ()) -> Suggestion:
    """A mapping of ``headers`` to the canonical fields; ``rows`` (a sample of the file) let
    it say whether a manager column holds employee ids and which status words need mapping."""
    best: dict[str, tuple[int, Mapped]] = {}
    result = Suggestion()
    for header in (h for h in headers if h.strip()):
        found = _recognised(header)
        if found is None:
            result.unmapped.append(header)
            if header in NOT_A_FIELD or folded(header) in _NOT_A_FIELD_FOLDS:
                result.notes.append(f"{header!r} is not mapped: {_not_a_field(header)}")
            continue
        rank, mapped = found
        held = best.get(mapped.field)
        if held is None or rank < held[0]:
            if held is not None:
                result.unmapped.append(held[1].header)
            best[mapped.field] = (rank, mapped)
        else:
            result.unmapped.append(header)
    result.mapped = [best[f][1] for f in CANONICAL_FIELDS if f in best]
    result.missing = [f for f in CANONICAL_FIELDS if f not in best]
    result.unmapped.sort(key=list(headers).index)
    _check_values(result, rows)
    return result


def _recognised(header: str) -> tuple[int, Mapped] | None:
    """The field ``header`` is, with its rank (lower wins), or None."""
    fold = folded(header)
    if not fold or fold in _NOT_A_FIELD_FOLDS:
        return None
    if header in CANONICAL_FIELDS:  # hrsync's own name: first, and needs no mapping
        return -1, Mapped(header, header, "", "hrsync's own name")
    exact = _BY_FOLD.get(fold)
    if exact is not None:
        name, rank, known, systems = exact
        return rank, Mapped(name, header, known, systems)
    close = difflib.get_close_matches(fold, list(_BY_FOLD), n=1, cutoff=NEAR)
    if not close:
        return None
    name, rank, known, systems = _BY_FOLD[close[0]]
    note = f"did you mean {known!r}? {header!r} is not a header hrsync knows"
    return 1000 + rank, Mapped(name, header, known, systems, near=True, note=note)


def _check_values(result: Suggestion, rows: Sequence[Mapping[str, str]]) -> None:
    by_field = {m.field: m for m in result.mapped}
    manager = by_field.get("manager_id")
    if manager is not None and manager.known_as not in MANAGER_IDS:
        _check_manager(manager, by_field.get("employee_id"), rows)
        result.notes.append(f"manager_id: {manager.note}")
    status = by_field.get("status")
    if status is not None:
        seen = {row.get(status.header, "").strip() for row in rows}
        result.status_words = sorted(
            w for w in seen if w and w.lower() not in STATUS_WORDS and not w.isdigit()
        )
        if result.status_words:
            words = ", ".join(map(repr, result.status_words))
            verb = "means" if len(result.status_words) == 1 else "mean"
            result.notes.append(
                f"status: {words} in {status.header!r} {verb} nothing to hrsync yet: say "
                "whether active or inactive under [source.status_map]"
            )


def _check_manager(
    manager: Mapped, employee_id: Mapped | None, rows: Sequence[Mapping[str, str]]
) -> None:
    """Whether the manager column holds employee ids, names or emails (from the rows)."""
    values = [row.get(manager.header, "").strip() for row in rows]
    values = [v for v in values if v]
    ids = {row.get(employee_id.header, "").strip() for row in rows} if employee_id else set()
    if values and ids and all(v in ids for v in values):
        manager.note = f"{manager.header!r} holds employee ids in this file: it can be used"
        return
    what = "a name or an email in most exports"
    if values:
        kind = "emails" if all("@" in v for v in values) else "names" if ids else "values"
        what = f"{kind}, not employee ids, in this file (e.g. {values[0]!r})"
    manager.note = MANAGER_NOTE.format(header=manager.header, what=what)


_NOT_A_FIELD_FOLDS = {folded(h): h for h in NOT_A_FIELD}


def _not_a_field(header: str) -> str:
    return NOT_A_FIELD.get(header) or NOT_A_FIELD[_NOT_A_FIELD_FOLDS[folded(header)]]


def _comment(m: Mapped) -> str:
    if m.near:
        return m.note
    seen = f"as in {m.systems}" if m.systems else "a common header"
    if m.field == "manager_id" and m.known_as not in MANAGER_IDS:
        return "check: " + m.note.split(";")[0]
    return seen
