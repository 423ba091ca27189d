"""An HR system's REST API as the HR source: a full read, then incremental reads where the
API can say what changed, and a full read at least every ``full_read_days`` all the same
(an incremental read never learns who was deleted).

Only the fields the configuration maps are kept, as text, in hrsync's store (one bookmark,
saved when a read changes it); the answers themselves are dropped page by page. A read
that fails anywhere, or ends early, raises ``SourceError``: a failed snapshot, never "these
people left". A mapped field found in no record is reported as a lost column (held, as an
export's lost column is); one a record leaves out is unknown for that person and left as
Cliq has it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from hrsync.api.rest import RestClient
from hrsync.clock import Clock
from hrsync.errors import SourceError
from hrsync.model import CANONICAL_FIELDS, SourceSnapshot
from hrsync.sources.records import (
    DATE_FIELDS,
    LIFECYCLE,
    Bookmarks,
    LastRead,
    ParsedRow,
    RowParser,
    validate,
)
from hrsync.sources.rest.paths import MISSING, compile_first, text_of
from hrsync.sources.rest.spec import RestSpec

log = logging.getLogger(__name__)
READ_VERSION = 1
ABSENT = "\x00"  # a field the record leaves out (kept records are lists of texts)
REQUIRED = frozenset({"employee_id", "email"})  # never "left alone": broken when absent
ISO_MOMENT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]\d")
ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
Record = list[str]


class RestSource:
    def __init__(
        self,
        client: RestClient,
        spec: RestSpec,
        *,
        bookmarks: Bookmarks,
        clock: Clock,
        status_map: Mapping[str, str] | None = None,
        date_format: str = "",
        key: str = "rest",
    ) -> None:
        self.client = client
        self.spec = spec
        self.bookmarks = bookmarks
        self.clock = clock
        # Dates reach the parser as ISO 8601: the API's own format is read here (_value).
        self.parser = RowParser(status_map=status_map or {})
        self.date_format = spec.date_format or date_format
        self.key = key
        self.names = tuple(spec.fields)
        self._getters = [compile_first(spec.fields[n]) for n in self.names]
        self._values = {
            name: {word.strip().lower(): meaning for word, meaning in words.items()}
            for name, words in spec.values.items()
        }
        self.last_read: LastRead | None = None

    def describe(self) -> str:
        return f"{self.spec.title or 'REST API'} ({self.client._fill(self.spec.base_url)})"

    def field_origin(self, name: str) -> str:
        found = self.spec.fields.get(name)
        path = found if isinstance(found, str) or found is None else " or ".join(found)
        title = self.spec.title or "the HR API"
        return f"{title} field {path!r}" if path else f"HR field {name!r}"

    @property
    def _records_key(self) -> str:
        return f"{self.key}:records"

    # --- reading --------------------------------------------------------------------------
    def read(self) -> SourceSnapshot:
        """The records as the HR system holds them now: in full, or those changed since the
        last read merged into the records kept from it."""
        now = self.clock.now()
        self.parser.today = dt.datetime.fromtimestamp(now, dt.UTC).date()
        calls_before = self.client.calls
        saved = self._saved_read()
        records = self._saved_records() if saved else None
        full_every = self.spec.full_read_days * 86_400
        if (
            self.spec.since is not None
            and saved is not None
            and records is not None
            and now - saved["full_at"] < full_every
        ):
            since = saved["started"] - self.spec.since.overlap_seconds
            changed: dict[str, Record] = {}
            count = 0
            for count, (rid, record) in enumerate(  # noqa: B007
                self._kept(self.client.changed_since(since)), start=1
            ):
                if records.get(rid) != record:
                    changed[rid] = record
            if changed:
                records.update(changed)
                self._save_records(records)
            kind, full_at = "incremental", saved["full_at"]
        else:
            records = dict(self._kept(self.client.records()))
            self._check_count(len(records))
            self._save_records(records)
            kind, full_at, count = "full", now, len(records)
        calls = self.client.calls - calls_before
        self.last_read = LastRead(kind, count, calls)
        log.info("%s read of %s: %d records in %d calls", kind, self.describe(), count, calls)
        self.bookmarks.save_bookmark(
            self.key,
            {"version": READ_VERSION, "full_at": full_at, "started": now, "shape": self._shape()},
        )
        return self.snapshot(records)

    def _check_count(self, found: int) -> None:
        """A full read that found fewer records than the API declares it holds failed."""
        declared = self.client.declared_count()
        if declared is not None and found < declared:
            title = self.spec.title or "the HR API"
            raise SourceError(
                f"{title}: the read found {found} records where the API counts {declared}; "
                "it is taken as failed (nobody is taken to have left)"
            )

    def _kept(self, answers: Iterable[tuple[str, Any]]) -> Iterator[tuple[str, Record]]:
        """Each record as the texts of its mapped fields (``ABSENT`` where it has none)."""
        for rid, record in answers:
            values = [get(record) for get in self._getters]
            yield rid, [ABSENT if v is MISSING else text_of(v) for v in values]

    def _shape(self) -> list[Any]:
        """What the kept records depend on: another mapping means a full read."""
        return [
            [[k, v] for k, v in sorted(self.spec.fields.items())],
            self.spec.records,
            self.spec.id,
        ]

    def _saved_read(self) -> dict[str, Any] | None:
        saved = self.bookmarks.bookmark(self.key)
        current = isinstance(saved, dict) and saved.get("version") == READ_VERSION
        return saved if current and saved.get("shape") == self._shape() else None

    def _saved_records(self) -> dict[str, Record] | None:
        saved = self.bookmarks.bookmark(self._records_key)
        if isinstance(saved, dict) and saved.get("fields") == list(self.names):
            records: dict[str, Record] = saved["records"]
            return records
        return None

    def _save_records(self, records: Mapping[str, Record]) -> None:
        self.bookmarks.save_bookmark(
            self._records_key, {"fields": list(self.names), "records": dict(records)}
        )

    # --- records → employees --------------------------------------------------------------
    def snapshot(self, records: Mapping[str, Record]) -> SourceSnapshot:
        names = self.names
        at = {name: i for i, name in enumerate(names)}
        present = frozenset(n for n in names if any(r[at[n]] != ABSENT for r in records.values()))
        canonical = frozenset(CANONICAL_FIELDS)
        manager_at = at.get("manager_id")
        eid_of_ref = self._manager_index(records, at)
        rows: list[ParsedRow] = []
        outside: list[str] = []
        for rid, record in sorted(records.items(), key=lambda item: (len(item[0]), item[0])):
            row: dict[str, str] = {}
            left_out: set[str] = set()
            blank = self.spec.left_out == "blank"
            for name, value in zip(names, record, strict=True):
                if value == ABSENT:
                    if not blank:
                        left_out.add(name)
                    continue
                row[name] = self._value(name, value)
            ref = "" if manager_at is None else record[manager_at]
            ref = "" if ref == ABSENT else ref.strip()
            manager = eid_of_ref.get(ref.lower(), "") if ref else ""
            if manager_at is not None:
                row["manager_id"] = manager
            absent = ((canonical - present) | (left_out & canonical)) - REQUIRED
            unknown = sorted(left_out & present & LIFECYCLE)
            if unknown:  # whether they work here is not known: left exactly as Cliq has them
                eid = row.get("employee_id", "")
                message = f"the answer leaves out {', '.join(unknown)} for this person"
                rows.append(ParsedRow.broken(f"record {rid}", eid, message, unknown[0]))
                continue
            parsed = self.parser.parse(f"record {rid}", row, absent=absent)
            if ref and not manager and parsed.employee is not None:
                outside.append(f"{row.get('employee_id', rid)} → {ref}")
                blocked = parsed.employee.blocked | {"manager_id"}
                parsed.employee = replace(parsed.employee, blocked=blocked)
            rows.append(parsed)
        snapshot = validate(rows)
        snapshot.columns = present & canonical
        # A field no record has: for an API that leaves empty fields out, perhaps nobody has
        # a value (left alone now; held only once a read that had it loses it, as the
        # engine compares with the last read's fields); otherwise a lost column, held.
        lost = (set(names) - present) & canonical if records else set()
        snapshot.unmapped = () if self.spec.left_out == "blank" else tuple(sorted(lost))
        title = self.spec.title or "the HR API"
        if not snapshot.complete:
            snapshot.notes.append(
                f"some {title} records have no employee id, so nobody missing from the read "
                "is taken to have left in this run"
            )
        if outside:
            snapshot.notes.append(
                f"{len(outside)} people report to someone {title} did not list (reporting-to "
                f"left as Cliq has it): {', '.join(outside[:5])}"
                + (" …" if len(outside) > 5 else "")
            )
        return snapshot

    def _manager_index(
        self, records: Mapping[str, Record], at: Mapping[str, int]
    ) -> dict[str, str]:
        """The manager field's value (lower-cased) → the manager's employee id."""
        eid_at = at.get("employee_id")
        if eid_at is None:
            return {}
        ref = self.spec.manager_ref
        if ref == "record_id":
            pairs = ((rid, r[eid_at]) for rid, r in records.items())
        elif ref == "email" and "email" in at:
            pairs = ((r[at["email"]], r[eid_at]) for r in records.values())
        else:
            pairs = ((r[eid_at], r[eid_at]) for r in records.values())
        return {k.strip().lower(): v for k, v in pairs if k and k != ABSENT and v != ABSENT}

    def _value(self, name: str, value: str) -> str:
        words = self._values.get(name)
        if words:
            value = words.get(value.strip().lower(), value)
        if name in DATE_FIELDS and value:
            if moment := ISO_MOMENT.match(value):
                return moment.group(1)
            if self.date_format and not ISO_DAY.match(value):
                try:
                    return dt.datetime.strptime(value.strip(), self.date_format).date().isoformat()
                except ValueError:
                    return value  # the parser names it as no date
        return value


def employee_ids(bookmarks: Bookmarks, key: str, record_ids: Iterable[str]) -> dict[str, str]:
    """The employee ids of the records ``record_ids`` names (the HR system's own ids, as a
    webhook names them), as the last read kept them; a record not read yet is left out."""
    saved = bookmarks.bookmark(f"{key}:records")
    if not isinstance(saved, dict) or "employee_id" not in (saved.get("fields") or []):
        return {}
    at = list(saved["fields"]).index("employee_id")
    records: dict[str, Record] = saved.get("records") or {}
    found = {rid: records[rid][at] for rid in record_ids if rid in records}
    return {rid: eid for rid, eid in found.items() if eid and eid != ABSENT}


def source_key(preset: str) -> str:
    """The store's name for a rest source's bookmarks (its read, its kept records)."""
    return f"rest:{preset or 'custom'}"
