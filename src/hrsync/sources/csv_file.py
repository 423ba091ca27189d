"""CSV and XLSX exports of any HRMS, with a column mapping to the canonical fields."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from pathlib import Path

from hrsync.errors import SourceError
from hrsync.model import CANONICAL_FIELDS, SourceSnapshot
from hrsync.sources.records import RowParser, validate

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
        rows = self._rows()
        return validate((where, self.parser.parse(where, row)) for where, row in rows)

    def _rows(self) -> Iterator[tuple[str, dict[str, str]]]:
        headers, records = self._open()
        header_of = {name: self.columns.get(name, name) for name in CANONICAL_FIELDS}
        missing = [
            f"{n} (column {header_of[n]!r})" for n in REQUIRED if header_of[n] not in headers
        ]
        if missing:
            raise SourceError(
                f"{self.path}: missing required column(s) {', '.join(missing)}; "
                f"found {', '.join(headers)}"
            )
        for number, record in records:
            row = {name: record.get(header, "") for name, header in header_of.items()}
            mapped = set(header_of.values())
            row.update({h: v for h, v in record.items() if h not in mapped and h})
            yield f"row {number}", row

    def _open(self) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
        if not self.path.exists():
            raise SourceError(f"{self.path}: no such file")
        if self.path.suffix.lower() in (".xlsx", ".xlsm"):
            return _xlsx(self.path)
        try:
            text = self.path.read_text(encoding=self.encoding)
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"{self.path}: cannot read: {exc}") from exc
        reader = csv.DictReader(text.splitlines(), delimiter=self.delimiter)
        headers = [h.strip() for h in reader.fieldnames or []]
        # Row numbers as a spreadsheet shows them: the header is row 1.
        records = (
            (n, {(k or "").strip(): v or "" for k, v in r.items()})
            for n, r in enumerate(reader, start=2)
        )
        return headers, records


def _xlsx(path: Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(path, read_only=True, data_only=True).active
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise SourceError(f"{path}: cannot read the workbook: {exc}") from exc
    rows = sheet.iter_rows(values_only=True)
    headers = [str(h or "").strip() for h in next(rows, ())]

    def records() -> Iterator[tuple[int, dict[str, str]]]:
        for n, values in enumerate(rows, start=2):
            yield n, {h: _cell(v) for h, v in zip(headers, values, strict=False) if h}

    return headers, records()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and callable(value.date):
        return str(value.date())
    return str(value)
