"""Zoho People's employee form as the HR source: a full read, then incremental reads.

The first read pages through every record (200 per call). Later reads ask only for records
added or modified since then and merge them into the records kept from before. "Since" is
the later of the newest ``ModifiedTime`` seen and the start of the previous read less five
minutes (for a clock that differs from Zoho's), less one more minute (for a change committed
while that read was under way). A full read every ``full_every`` seconds also catches
deleted records.
Managers are resolved through ``Reporting_To.ID`` (a record id) or ``Reporting_To.MailID``,
never through the display text.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from hrsync.api.people import PeopleClient
from hrsync.clock import Clock
from hrsync.model import SourceSnapshot
from hrsync.sources.records import Bookmarks, LastRead, ParsedRow, RowParser, validate

log = logging.getLogger(__name__)
DATE_FORMAT = "%d-%b-%Y"  # 05-Jan-2015
OVERLAP_MS = 60_000
SKEW_MS = 300_000
# Canonical field → the employee form's field label.
FIELDS: dict[str, str] = {
    "employee_id": "EmployeeID",
    "email": "EmailID",
    "first_name": "FirstName",
    "last_name": "LastName",
    "nickname": "Nick_Name",
    "gender": "Gender",
    "date_of_birth": "Date_of_birth",
    "mobile": "Mobile",
    "work_phone": "Work_phone",
    "extension": "Extension",
    "seating_location": "Work_location",
    "work_location": "LocationName",
    "department": "Department",
    "designation": "Designation",
    "status": "Employeestatus",
    "hire_date": "Dateofjoining",
    "exit_date": "Dateofexit",
}
KEPT = (*FIELDS.values(), "Reporting_To.ID", "Reporting_To.MailID", "ModifiedTime")
# Where each kept field is in a kept record: a record is its values in ``KEPT``'s order, a
# list of texts (a fifth of the memory of a mapping at 100,000 people, and of the JSON).
AT = {label: i for i, label in enumerate(KEPT)}
FIELD_AT = tuple((name, AT[label]) for name, label in FIELDS.items())
# The bookmark of the last read's times; its records are kept in a bookmark of their own,
# saved only when a read changes them. An older bookmark (records as mappings, or inside
# the times' bookmark) means a full read.
READ_VERSION = 3
Record = list[str]


class PeopleSource:
    def __init__(
        self,
        client: PeopleClient,
        *,
        bookmarks: Bookmarks,
        clock: Clock,
        form: str = "employee",
        status_map: Mapping[str, str] | None = None,
        full_every: float = 86_400.0,
    ) -> None:
        self.client = client
        self.bookmarks = bookmarks
        self.clock = clock
        self.form = form
        self.parser = RowParser(status_map=status_map or {}, date_format=DATE_FORMAT)
        self.full_every = full_every
        self.last_read: LastRead | None = None

    @property
    def _key(self) -> str:
        return f"zoho_people:{self.form}"

    def describe(self) -> str:
        return f"Zoho People ({self.form} form)"

    def field_origin(self, name: str) -> str:
        if name == "manager_id":
            return "People fields 'Reporting_To.ID' / 'Reporting_To.MailID'"
        return f"People field {FIELDS.get(name, name)!r}"

    @property
    def _records_key(self) -> str:
        return f"{self._key}:records"

    def read(self) -> SourceSnapshot:
        """The records as People holds them now: in full, or those changed since the last
        read merged into the records kept from it. The records are saved again only when the
        read changed them; the read's times always."""
        saved = self._saved_read()
        now = self.clock.now()
        self.parser.today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        calls_before = self.client.http.calls["people"]
        records = self._saved_records() if saved else None
        if saved and records is not None and now - saved["full_at"] < self.full_every:
            started = int(saved.get("started_ms", 0)) - SKEW_MS
            since = max(0, max(int(saved["modified_ms"]), started) - OVERLAP_MS)
            # Compared as they come, a page at a time: a record read again unchanged is
            # dropped at once rather than held beside the kept one.
            changed: dict[str, Record] = {}
            count = 0
            for count, (rid, record) in enumerate(self._fetch(since), start=1):  # noqa: B007
                if records.get(rid) != record:
                    changed[rid] = record
            if changed:
                records.update(changed)
                self._save_records(records)
            kind, full_at = "incremental", saved["full_at"]
        else:
            records = dict(self._fetch(None))
            self._save_records(records)
            kind, full_at, count = "full", now, len(records)
        calls = self.client.http.calls["people"] - calls_before
        self.last_read = LastRead(kind, count, calls)
        log.info("%s read of %s: %d records in %d calls", kind, self.describe(), count, calls)
        at = AT["ModifiedTime"]
        newest = max((int(r[at] or 0) for r in records.values()), default=0)
        self.bookmarks.save_bookmark(
            self._key,
            {
                "version": READ_VERSION,
                "full_at": full_at,
                "started_ms": int(now * 1000),
                "modified_ms": newest,
            },
        )
        return self.snapshot(records)

    def _saved_read(self) -> dict[str, Any] | None:
        """The last read's times; None before the first read, or when an older hrsync kept
        them (with the records in the same bookmark): a full read follows."""
        saved = self.bookmarks.bookmark(self._key)
        if isinstance(saved, dict) and saved.get("version") == READ_VERSION:
            return saved
        return None

    def _saved_records(self) -> dict[str, Record] | None:
        saved = self.bookmarks.bookmark(self._records_key)
        if isinstance(saved, dict) and saved.get("fields") == list(KEPT):
            records: dict[str, Record] = saved["records"]
            return records
        return None  # kept by an older hrsync, or with other fields: read in full

    def _save_records(self, records: Mapping[str, Record]) -> None:
        self.bookmarks.save_bookmark(self._records_key, {"fields": KEPT, "records": records})

    def _fetch(self, since: int | None) -> Iterator[tuple[str, Record]]:
        for rid, record in self.client.iter_records(self.form, modified_after_ms=since):
            yield rid, [v if type(v) is str else _text(v) for v in map(record.get, KEPT)]

    def snapshot(self, records: Mapping[str, Record]) -> SourceSnapshot:
        """Records (id → values in ``KEPT``'s order) → employees, managers resolved by id
        or email."""
        eid, mail_at, ref_at, by_mail_at = (
            AT["EmployeeID"],
            AT["EmailID"],
            AT["Reporting_To.ID"],
            AT["Reporting_To.MailID"],
        )
        eid_of_record = {rid: r[eid] for rid, r in records.items()}
        eid_of_email = {r[mail_at].lower(): r[eid] for r in records.values()}
        rows: list[ParsedRow] = []
        outside: list[str] = []
        for rid, record in sorted(records.items(), key=lambda item: (len(item[0]), item[0])):
            row = {name: record[i] for name, i in FIELD_AT}
            ref, mail = record[ref_at], record[by_mail_at]
            manager = (
                eid_of_record.get(ref) or eid_of_email.get(mail.lower(), "")
                if (ref or mail)
                else ""
            )
            row["manager_id"] = manager
            parsed = self.parser.parse(f"record {rid}", row)
            if (ref or mail) and not manager and parsed.employee is not None:
                outside.append(f"{row['employee_id']} → {mail or ref}")
                # A manager outside the form is not "no manager": leave reporting-to alone.
                blocked = parsed.employee.blocked | {"manager_id"}
                parsed.employee = replace(parsed.employee, blocked=blocked)
            rows.append(parsed)
        snapshot = validate(rows)
        if not snapshot.complete:
            snapshot.notes.append(
                "some People records have no employee id, so nobody missing from the form "
                "is taken to have left in this run"
            )
        if outside:
            snapshot.notes.append(
                f"{len(outside)} people report to someone outside the employee form "
                f"(reporting-to left as Cliq has it): {', '.join(outside[:5])}"
                + (" …" if len(outside) > 5 else "")
            )
        return snapshot


def _text(value: Any) -> str:
    return "" if value is None else str(value)
