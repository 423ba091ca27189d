"""A corpus of broken inputs, each run through the CLI against an organisation that is
already in step: the message names what is wrong, the exit code says what happened, and
Cliq changes only where a valid record says it should.

Every case starts from the same 60-person export, synced. A case breaks the export (or the
configuration, or People's records), runs `hrsync sync`, and compares Cliq before and after.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from hrsync.cli import syncing
from hrsync.cli.demo import sample_employees
from hrsync.cli.main import main
from hrsync.model import CANONICAL_FIELDS
from hrsync.wiring import build
from tests.conftest import BASE, World

OK, ERRORS, HELD = 0, 1, 3  # exit codes: done; done but records were skipped or failed; held
Rows = list[dict[str, str]]


@dataclass(frozen=True)
class Case:
    """One broken input: how to break it, what hrsync must say, and what may change."""

    name: str
    expect: str  # a piece of what hrsync prints
    code: int
    rows: Callable[[Rows], Rows | str | bytes] | None = None  # the export, broken
    config: str = ""  # TOML appended to (or, with a leading "!", replacing) the config
    changed: frozenset[str] = frozenset()  # employee ids whose Cliq user may change
    xlsx: bool = False
    args: tuple[str, ...] = ()
    people: list[dict[str, Any]] = field(default_factory=list)  # People records to seed

    def __str__(self) -> str:
        return self.name


def at(index: int, **values: str) -> Callable[[Rows], Rows]:
    def broken(rows: Rows) -> Rows:
        rows[index].update(values)
        return rows

    return broken


def without_rows(column: str) -> Callable[[Rows], Rows]:
    def dropped(rows: Rows) -> Rows:
        for row in rows:
            row.pop(column)
        return rows

    return dropped


def text_of(rows: Rows) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CANONICAL_FIELDS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def raw(edit: Callable[[str], str]) -> Callable[[Rows], str]:
    return lambda rows: edit(text_of(rows))


def without(column: str) -> Callable[[Rows], str]:
    def dropped(rows: Rows) -> str:
        for row in rows:
            row.pop(column)
        out = io.StringIO()
        names = [c for c in CANONICAL_FIELDS if c != column]
        writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()

    return dropped


def last_line_cut(keep: int) -> Callable[[Rows], str]:
    def cut(rows: Rows) -> str:
        text = text_of(rows).rstrip("\n")
        return text[: len(text) - len(text.splitlines()[-1]) + keep]

    return cut


def swallowing_quote(rows: Rows) -> str:
    lines = text_of(rows).splitlines()
    lines[20] += '"'  # opens the exit date; the next row's first quote closes it
    return "\n".join(lines) + "\n"


def both(*edits: Callable[[Rows], Rows]) -> Callable[[Rows], Rows]:
    def applied(rows: Rows) -> Rows:
        for edit in edits:
            rows = edit(rows)
        return rows

    return applied


def duplicate_of(source: int, target: int, **values: str) -> Callable[[Rows], Rows]:
    def copied(rows: Rows) -> Rows:
        rows.insert(target, dict(rows[source], **values))
        return rows

    return copied


def all_rows(**values: str) -> Callable[[Rows], Rows]:
    def broken(rows: Rows) -> Rows:
        for row in rows:
            row.update(values)
        return rows

    return broken


E = [f"E{n:05d}" for n in range(1, 61)]  # employee ids of the 60 rows, in order
CTRL = "control character"

CSV_CASES = [
    # Lifecycle fields: the person is held, never deactivated.
    Case(
        "hire date day first", "'31/12/2020' is not a date", ERRORS, at(45, hire_date="31/12/2020")
    ),
    Case(
        "hire date 30 February",
        "'2020-02-30' is not a date",
        ERRORS,
        at(45, hire_date="2020-02-30"),
    ),
    Case(
        "hire date trailing junk",
        "'2020-01-015' is not a date",
        ERRORS,
        at(45, hire_date="2020-01-015"),
    ),
    Case("exit date a word", "'yesterday' is not a date", ERRORS, at(45, exit_date="yesterday")),
    Case(
        "exit date month 13", "'2021-13-01' is not a date", ERRORS, at(45, exit_date="2021-13-01")
    ),
    Case(
        "terminated with a broken exit date",
        "'31.12.2020' is not a date",
        ERRORS,
        at(45, status="Terminated", exit_date="31.12.2020"),
    ),
    Case("no email", "no email address", ERRORS, at(45, email="")),
    Case("email without @", "is not an email address", ERRORS, at(45, email="ann.example.com")),
    Case("email with two @", "is not an email address", ERRORS, at(45, email="ann@@x.example")),
    Case(
        "email with a space", "is not an email address", ERRORS, at(45, email="ann lee@x.example")
    ),
    Case("email without a domain dot", "is not an email address", ERRORS, at(45, email="ann@x")),
    Case(
        "two emails in one cell",
        "is not an email address",
        ERRORS,
        at(45, email="a@x.example; b@x.example"),
    ),
    Case(
        "email too long", "is not an email address", ERRORS, at(45, email="a" * 250 + "@x.example")
    ),
    Case("email with a control character", CTRL, ERRORS, at(45, email="ann\x00@x.example")),
    Case("no employee id", "no employee id", ERRORS, at(45, employee_id="")),
    Case("employee id with a control character", CTRL, ERRORS, at(45, employee_id="E00046\x01")),
    Case("unknown status word", "unknown status 'Sabbatical'", ERRORS, at(45, status="Sabbatical")),
    Case("status one letter", "unknown status 'T'", ERRORS, at(45, status="T")),
    Case("status with a control character", CTRL, ERRORS, at(45, status="active\x1b")),
    Case(
        "duplicate employee id",
        "duplicate employee id",
        ERRORS,
        duplicate_of(45, 50, email="other@zylker.example"),
    ),
    Case(
        "two people share an email",
        "is shared by",
        ERRORS,
        at(45, email=sample_employees(60)[50]["email"]),
    ),
    Case(
        "a manager's row is broken",
        "is not an email address",
        ERRORS,
        at(7, email="broken-manager"),
    ),
    Case(
        "a director's hire date is broken", "is not a date", ERRORS, at(1, hire_date="01/02/2019")
    ),
    # One field broken: only that field is left alone.
    Case("unknown manager", "unknown manager 'E99999'", ERRORS, at(45, manager_id="E99999")),
    Case("manager is themselves", "reports to themselves", ERRORS, at(45, manager_id=E[45])),
    Case(
        "reporting cycle",
        "reporting cycle",
        ERRORS,
        both(at(40, manager_id=E[41]), at(41, manager_id=E[40])),
    ),
    Case(
        "birth date in 1850",
        "not a possible date of birth",
        ERRORS,
        at(45, date_of_birth="1850-01-01"),
    ),
    Case(
        "birth date in the future",
        "not a possible date of birth",
        ERRORS,
        at(45, date_of_birth="2099-01-01"),
    ),
    Case(
        "birth date day first",
        "'31-02-1990' is not a date",
        ERRORS,
        at(45, date_of_birth="31-02-1990"),
    ),
    Case("NUL in a first name", CTRL + " U+0000", ERRORS, at(45, first_name="An\x00n")),
    Case("bell in a last name", CTRL + " U+0007", ERRORS, at(45, last_name="Lee\x07")),
    Case("escape in a department", CTRL + " U+001B", ERRORS, at(45, department="Sales\x1b[0m")),
    Case("line separator in a nickname", CTRL + " U+2028", ERRORS, at(45, nickname="An\u2028n")),
    Case("form feed in a mobile number", CTRL + " U+000C", ERRORS, at(45, mobile="+1\x0c555")),
    Case(
        "designation over 30 characters",
        "longer than the 30 characters",
        ERRORS,
        at(45, designation="Principal Staff Software Engineer II"),
    ),
    # The shape of the file.
    Case("last row cut off mid-row", "cut off, or a stray quote?", ERRORS, last_line_cut(25)),
    Case("last row cut inside the id", "cut off, or a stray quote?", ERRORS, last_line_cut(3)),
    Case(
        "a stray delimiter",
        "a stray delimiter or quote?",
        ERRORS,
        raw(lambda t: t.replace("\nE00046,", "\nE00046,,", 1)),
    ),
    Case("a stray quote swallows rows", "stray quote", ERRORS, swallowing_quote),
    Case("a column lost: manager_id", "no column for manager_id", HELD, without("manager_id")),
    Case("a column lost: department", "no column for department", HELD, without("department")),
    Case("a column lost: status", "no column for status", HELD, without("status")),
    Case("a column lost: last_name", "no column for last_name", HELD, without("last_name")),
    Case(
        "a column appears twice",
        "appear more than once",
        ERRORS,
        raw(lambda t: t.replace("first_name,", "email,", 1)),
    ),
    Case(
        "required column renamed",
        "missing required column",
        ERRORS,
        raw(lambda t: t.replace("employee_id,", "EmployeeID,", 1)),
    ),
    Case(
        "semicolons, not commas",
        "missing required column",
        ERRORS,
        raw(lambda t: t.replace(",", ";")),
    ),
    Case("header only", "yielded no valid employee", ERRORS, raw(lambda t: t.splitlines()[0])),
    Case("an empty file", "missing required column", ERRORS, raw(lambda t: "")),
    Case(
        "latin-1 bytes",
        "cannot read",
        ERRORS,
        lambda rows: text_of(at(45, first_name="Zoë")(rows)).encode("latin-1"),
    ),
    Case("UTF-16", "cannot read", ERRORS, lambda rows: text_of(rows).encode("utf-16")),
    Case("every email broken", "yielded no valid employee", ERRORS, all_rows(email="nobody")),
    Case(
        "every date in another format",
        "yielded no valid employee",
        ERRORS,
        all_rows(hire_date="01/01/2020"),
    ),
    # Odd but valid: nothing to say, nothing changes.
    Case(
        "blank lines and CRLF",
        "0 changes applied",
        OK,
        raw(lambda t: t.replace("\n", "\r\n").replace("\r\nE00030", "\r\n\r\n,,,\r\nE00030")),
    ),
    Case("a byte order mark", "0 changes applied", OK, raw(lambda t: "\ufeff" + t)),
    # A broken row beside a valid leaver: the leaver leaves, nobody else changes.
    Case(
        "broken row beside a real leaver",
        "'31/12/2020' is not a date",
        ERRORS,
        both(at(45, hire_date="31/12/2020"), at(50, status="Terminated")),
        changed=frozenset({E[50]}),
    ),
]
XLSX_CASES = [
    Case(
        "xlsx: hire date as text",
        "'31/12/2020' is not a date",
        ERRORS,
        at(45, hire_date="31/12/2020"),
        xlsx=True,
    ),
    Case("xlsx: invalid email", "is not an email address", ERRORS, at(45, email="n/a"), xlsx=True),
    Case(
        "xlsx: a column lost",
        "no column for manager_id",
        HELD,
        without_rows("manager_id"),
        xlsx=True,
    ),
    Case("xlsx: unknown manager", "unknown manager", ERRORS, at(45, manager_id="X1"), xlsx=True),
    Case(
        "xlsx: duplicate id",
        "duplicate employee id",
        ERRORS,
        duplicate_of(45, 50, email="x@zylker.example"),
        xlsx=True,
    ),
    Case(
        "xlsx: not a workbook",
        "cannot read the workbook",
        ERRORS,
        lambda rows: b"PK\x03\x04 not really a zip",
        xlsx=True,
    ),
]
CONFIG_CASES = [
    Case(
        "config: a misspelt safety key",
        "did you mean safety.max_deactivation_share?",
        ERRORS,
        config="[safety]\nmax_deactivation_shares = 0.9\n",
    ),
    Case(
        "config: drift ignores a field hrsync does not write",
        "did you mean 'mobile'?",
        ERRORS,
        config='[drift]\nignore = ["mobil"]\n',
    ),
    Case(
        "config: a lifecycle lead over a year",
        "less than or equal to 365",
        ERRORS,
        config="[lifecycle]\ninvite_days_before = 400\n",
    ),
    Case("config: TOML syntax", "hrsync.toml", ERRORS, config="[source\n"),
    Case(
        "config: status word meaning neither",
        "should be 'active' or 'inactive'",
        ERRORS,
        config='[source.status_map]\n"On Sabbatical" = "maybe"\n',
    ),
    Case(
        "config: columns name an unknown field",
        "names unknown fields",
        ERRORS,
        config='[source.columns]\nemployee_number = "EmpNo"\n',
    ),
    Case(
        "config: mapped column missing from the export",
        "no column for nickname",
        HELD,
        config='[source.columns]\nnickname = "Preferred Name"\n',
    ),
    Case(
        "config: date format that fits no date",
        "yielded no valid employee",
        ERRORS,
        config='[source]\ndate_format = "%d/%m/%Y"\n',
    ),
]
PEOPLE_CASES = [
    # People itself refuses a missing, malformed or shared email and malformed dates in its
    # forms, and a manager outside the form is the shared payload's test; what People holds:
    Case(
        "people: unknown status",
        "unknown status 'Gone fishing'",
        ERRORS,
        people=[{"EmployeeID": "P0003", "Employeestatus": "Gone fishing"}],
    ),
    Case(
        "people: a control character in a name",
        CTRL,
        ERRORS,
        people=[{"EmployeeID": "P0003", "FirstName": "Zo\x07e"}],
    ),
    Case(
        "people: a designation over 30 characters",
        "longer than the 30",
        ERRORS,
        people=[{"EmployeeID": "P0003", "Designation": "Senior Principal Engineering Lead"}],
    ),
    Case(
        "people: a real leaver beside a broken record",
        "unknown status",
        ERRORS,
        people=[
            {"EmployeeID": "P0003", "Employeestatus": "??"},
            {"EmployeeID": "P0005", "Employeestatus": "Resigned"},
        ],
        changed=frozenset({"P0005"}),
    ),
]


class Org:
    """An organisation in step with a 60-person export, and `hrsync` run against it."""

    def __init__(self, world: World, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
        self.world = world
        self.capsys = capsys
        self.config = world.csv.parent / "hrsync.toml"
        self.rows = sample_employees(60)
        cliq = world.settings.cliq
        self.base_config = (
            f'[store]\nurl = "{world.settings.store.url}"\n'
            f'[source]\npath = "{world.csv}"\n'
            f'[cliq]\napi_url = "{BASE}"\naccounts_url = "{BASE}"\n'
            f'client_id = "{cliq.client_id}"\n'
            f'client_secret = "{cliq.client_secret.get_secret_value()}"\n'
            f'refresh_token = "{cliq.refresh_token.get_secret_value()}"\nallow_http = true\n'
        )
        monkeypatch.setattr(
            syncing, "build", partial(build, client=world.http, clock=world.clock, pacer_margin=0)
        )

    def write_config(self, extra: str = "") -> None:
        # Later tables of the same name would be a TOML error: merge [source] keys instead.
        text = self.base_config
        if extra.startswith("[source]\n"):
            text = text.replace("[source]\n", extra, 1)
        else:
            text += extra
        self.config.write_text(text, encoding="utf-8")

    def hrsync(self, *args: str) -> tuple[int, str]:
        self.capsys.readouterr()
        argv = sys.argv
        sys.argv = ["hrsync", "--config", str(self.config), *args]
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        finally:
            sys.argv = argv
        out, err = self.capsys.readouterr()
        return code, " ".join((out + err).split())  # one line: the console wraps

    def cliq(self) -> dict[str, str]:
        users = self.world.state()["users"]
        assert isinstance(users, list)
        return {u.get("employee_id") or u["email_id"]: repr(sorted(u.items())) for u in users}


@pytest.fixture
def org(world: World, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Iterator[Org]:
    org = Org(world, monkeypatch, capsys)
    org.write_config()
    write(world.csv, org.rows)
    code, out = org.hrsync("sync")
    assert code == OK, out
    assert org.hrsync("plan", "--detailed-exitcode")[0] == OK
    yield org


def write(path: Path, content: Rows | str | bytes, *, xlsx: bool = False) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif xlsx:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sample = set(sample_employees(1)[0])  # what the CSV had beyond these is empty
        headers = [c for c in CANONICAL_FIELDS if c in content[0] or c not in sample]
        sheet.append(headers)
        for row in content:
            sheet.append([row.get(h, "") for h in headers])
        book.save(path)
    else:
        path.write_text(text_of(content), encoding="utf-8")


@pytest.mark.parametrize("case", CSV_CASES + XLSX_CASES + CONFIG_CASES, ids=str)
def test_a_broken_export_or_config_changes_nobody_wrongly(org: Org, case: Case) -> None:
    before = org.cliq()
    if case.config:
        org.write_config(case.config)
    path = org.world.csv
    if case.xlsx:
        path = path.with_suffix(".xlsx")
        org.base_config = org.base_config.replace(str(org.world.csv), str(path))
        org.write_config(case.config)
    rows = [dict(r) for r in org.rows]
    write(path, case.rows(rows) if case.rows else rows, xlsx=case.xlsx)
    code, out = org.hrsync("sync", *case.args)
    assert case.expect in out, out
    assert code == case.code, out
    after = org.cliq()
    changed = {eid for eid in before.keys() | after.keys() if before.get(eid) != after.get(eid)}
    assert changed == set(case.changed), out


@pytest.fixture
def people_org(world: World, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> Iterator[Org]:
    from tests.api.test_people_source import people_records, seed

    org = Org(world, monkeypatch, capsys)
    org.base_config = org.base_config.replace(
        f'path = "{world.csv}"', 'kind = "zoho_people"'
    ) + org.base_config[org.base_config.index("[cliq]") :].replace("[cliq]", "[people]")
    org.write_config()
    records = people_records(30)
    for record in records:
        record["Gender"] = "Female"  # an option Cliq's Gender field has
    seed(world, records)
    code, out = org.hrsync("sync")
    assert code == OK, out
    yield org


@pytest.mark.parametrize("case", PEOPLE_CASES, ids=str)
def test_a_broken_people_record_changes_nobody_wrongly(people_org: Org, case: Case) -> None:
    from tests.api.test_people_source import seed

    before = people_org.cliq()
    people_org.world.clock.advance(600)
    seed(people_org.world, case.people)
    people_org.world.clock.advance(600)
    code, out = people_org.hrsync("sync")
    assert case.expect in out, out
    assert code == case.code, out
    after = people_org.cliq()
    changed = {eid for eid in before.keys() | after.keys() if before.get(eid) != after.get(eid)}
    assert changed == set(case.changed), out
