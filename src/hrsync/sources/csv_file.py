"""CSV and XLSX exports of any HRMS, with a column mapping to the canonical fields."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hrsync.errors import SourceError
from hrsync.model import CANONICAL_FIELDS, SourceSnapshot
from hrsync.sources.records import ParsedRow, RowParser, validate

REQUIRED = ("employee_id", "email")


class CsvSource:
    """Reads an HR export; ``columns`` maps canonical names to the file's own headers."""

    def __init__(
        self,
        path: Path,
        *,
        columns: Mapping[str, str] | None = None,
        status_map: Mapping[str, str] | None = None,
        date_format: str = "",
        delimiter: str = ",",
        encoding: str = "utf-8-sig",
    ) -> None:
        self.path = path
        self.columns = dict(columns or {})
        unknown = set(self.columns) - set(CANONICAL_FIELDS)
        if unknown:
            raise SourceError(
                f"[source.columns] names unknown fields: {', '.join(sorted(unknown))}"
                f"; known fields are {', '.join(CANONICAL_FIELDS)}"
            )
        self.parser = RowParser(status_map=status_map or {}, date_format=date_format)
        self.delimiter = delimiter
        self.encoding = encoding

    def describe(self) -> str:
        return str(self.path)

    def field_origin(self, name: str) -> str:
        return f"column {self.columns.get(name, name)!r}"

    def read(self) -> SourceSnapshot:
        headers, records = self._open()
        header_of = self._header_of(headers)
        present, unmapped = self.header_columns(headers)
        absent = frozenset(CANONICAL_FIELDS) - present
        snapshot = validate(self._parsed(headers, records, header_of, absent))
        snapshot.columns = present
        snapshot.unmapped = unmapped
        if not snapshot.complete:
            snapshot.notes.append(
                f"{self.path}: some rows could not be told apart (no employee id, or rows a "
                "stray quote swallowed), so nobody missing from this export is taken to "
                "have left in this run"
            )
        return snapshot

    def peek(self, limit: int = 500) -> tuple[list[str], list[dict[str, str]]]:
        """The file's headers and its first ``limit`` rows by header, as they are (for a
        suggested mapping, and for the checks that need only the header)."""
        headers, records = self._open()
        return headers, [r.values for r, _ in zip(records, range(limit), strict=False)]

    def header_columns(self, headers: list[str]) -> tuple[frozenset[str], tuple[str, ...]]:
        """The canonical fields ``headers`` carry (under their mapped header), and the fields
        [source.columns] maps to a header the file lacks: what ``read`` reports as the
        snapshot's ``columns`` and ``unmapped``."""
        header_of = {name: self.columns.get(name, name) for name in CANONICAL_FIELDS}
        present = frozenset(n for n, h in header_of.items() if h in headers)
        return present, tuple(sorted(n for n in self.columns if n not in present))

    def _header_of(self, headers: list[str]) -> dict[str, str]:
        header_of = {name: self.columns.get(name, name) for name in CANONICAL_FIELDS}
        twice = sorted({h for h in headers if h and headers.count(h) > 1} & set(header_of.values()))
        if twice:
            raise SourceError(
                f"{self.path}: column(s) {', '.join(map(repr, twice))} appear more than once in "
                "the header; hrsync cannot tell which to read. Fix the export"
            )
        missing = [
            f"{n} (column {header_of[n]!r})" for n in REQUIRED if header_of[n] not in headers
        ]
        if missing:
            raise SourceError(
                f"{self.path}: missing required column(s) {', '.join(missing)}; "
                f"found {', '.join(headers)}"
            )
        return header_of

    def _parsed(
        self,
        headers: list[str],
        records: Iterator[_Record],
        header_of: Mapping[str, str],
        absent: frozenset[str],
    ) -> Iterator[ParsedRow]:
        mapped = set(header_of.values())
        id_at = headers.index(header_of["employee_id"])
        for record in records:
            row = {name: record.values.get(header, "") for name, header in header_of.items()}
            problem = record.problem(len(headers), row)
            if problem:
                # The id is trustworthy only if the row reaches past its column.
                complete_id = record.width > id_at + 1 and not record.spans
                eid = row["employee_id"].strip() if complete_id else ""
                yield ParsedRow.broken(record.where, eid, problem)
                continue
            row.update({h: v for h, v in record.values.items() if h not in mapped and h})
            yield self.parser.parse(record.where, row, absent=absent)

    def _open(self) -> tuple[list[str], Iterator[_Record]]:
        if not self.path.exists():
            raise SourceError(f"{self.path}: no such file")
        if self.path.suffix.lower() in (".xlsx", ".xlsm"):
            return _xlsx(self.path)
        try:
            text = self.path.read_text(encoding=self.encoding)
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"{self.path}: cannot read: {exc}") from exc
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        headers = [h.strip() for h in next(reader, [])]
        return headers, _csv_records(reader, headers, self.path)


@dataclass(frozen=True, slots=True)
class _Record:
    """One record of an export: where it is, its cells by header, and its shape."""

    first_line: int
    last_line: int
    values: dict[str, str]
    width: int  # cells in the record
    check_shape: bool = True

    @property
    def where(self) -> str:
        if self.spans:
            return f"row {self.first_line} (lines {self.first_line}–{self.last_line})"
        return f"row {self.first_line}"

    @property
    def spans(self) -> bool:
        return self.last_line > self.first_line

    def problem(self, columns: int, row: Mapping[str, str]) -> str:
        """Why this record's shape cannot be trusted, or ""."""
        if not self.check_shape:
            return ""
        broken = [name for name, value in row.items() if "\n" in value or "\r" in value]
        if self.spans and broken:
            return (
                f"runs over several lines (field '{broken[0]}'): a stray quote (\") swallowed "
                "the rows after it; fix the export"
            )
        if self.width < columns:
            return (
                f"has {self.width} of the header's {columns} columns: cut off, or a stray "
                "quote? fix the export"
            )
        if self.width > columns:
            return (
                f"has {self.width} columns, the header {columns}: a stray delimiter or quote? "
                "fix the export"
            )
        return ""


def _csv_records(reader: Any, headers: list[str], path: Path) -> Iterator[_Record]:
    # Row numbers as a spreadsheet shows them: the header is row 1.
    last = reader.line_num
    while True:
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            raise SourceError(f"{path}: line {reader.line_num}: {exc}; fix the export") from exc
        if cells is None:
            return
        first, last = last + 1, reader.line_num
        if not cells or all(not c.strip() for c in cells):
            continue  # a blank line
        values = {h: v for h, v in zip(headers, cells, strict=False) if h}
        yield _Record(first, last, values, len(cells))


def _xlsx(path: Path) -> tuple[list[str], Iterator[_Record]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise SourceError(f"{path}: cannot read the workbook: {exc}") from exc
    try:  # read it all now: a read-only workbook holds its file open until closed
        rows = list(book.active.iter_rows(values_only=True))
    finally:
        book.close()
    headers = [str(h or "").strip() for h in (rows[0] if rows else ())]
    records = []
    for n, values in enumerate(rows[1:], start=2):
        cells = {h: _cell(v) for h, v in zip(headers, values, strict=False) if h}
        if any(v.strip() for v in cells.values()):
            records.append(_Record(n, n, cells, len(values), check_shape=False))
    return headers, iter(records)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and callable(value.date):
        return str(value.date())
    return str(value)
