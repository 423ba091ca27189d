"""Zoho People forms API: getRecords, insertRecord and updateRecord on the employee form, and
getRecords on the department and designation forms (the data lives in ``people_data``).

Answers come in People's envelope, HTTP 200 either way:
``{"response": {"result": [...], "message": ..., "uri": ..., "status": 0}}`` or, on error,
``{"response": {"errors": {"code": 7024, "message": "No records found"}, "message":
"Error occurred", "uri": ..., "status": 1}}``. A record is ``{record_id: [fields]}``; lookups
come as pairs (``Department`` + ``Department.ID``); ``Zoho_ID`` is a number above 2^53;
``ModifiedTime`` is epoch milliseconds as a string; dates look like ``05-Jan-2015``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import islice
from typing import Any

from hrsync.emulator.context import Ctx
from hrsync.emulator.core import EmuRequest, EmuResponse
from hrsync.emulator.people_data import FORMS, People, PeopleError

MAX_LIMIT = 200


def _answer(uri: str, result: Any, message: str) -> dict[str, Any]:
    return {"response": {"result": result, "message": message, "uri": uri, "status": 0}}


def _error(uri: str, error: PeopleError) -> dict[str, Any]:
    return {
        "response": {
            "errors": {"code": error.code, "message": error.message},
            "message": "Error occurred",
            "uri": uri,
            "status": 1,
        }
    }


def get_records(ctx: Ctx, req: EmuRequest, form_name: str) -> dict[str, Any]:
    uri = f"/api/forms/{form_name}/getRecords"
    try:
        records = _records(ctx.org.people, form_name, req.query)
        return _answer(uri, records, "Data fetched successfully")
    except PeopleError as error:
        return _error(uri, error)


def _records(people: People, form_name: str, query: dict[str, str]) -> list[dict[str, Any]]:
    if form_name.lower() not in FORMS:
        raise PeopleError(7011, f"Form name '{form_name}' is invalid")
    try:
        start = int(query.get("sIndex", "1"))
        limit = int(query.get("limit", str(MAX_LIMIT)))
    except ValueError:
        raise PeopleError(7034, "Invalid input value") from None
    if limit > MAX_LIMIT:
        raise PeopleError(7021, f"Maximum record limit {MAX_LIMIT} is exceeded")
    if start < 1 or limit < 1:
        raise PeopleError(7034, "Invalid input value")
    # In id order (ids are given in sequence), filtered and paged lazily: a page costs the
    # records before it, not a copy of the whole form.
    records: Iterable[tuple[int, dict[str, Any]]] = people.form(form_name).items()
    since = query.get("modifiedtime")
    if since:
        try:
            cutoff = int(since)
        except ValueError:
            raise PeopleError(7034, f"Invalid modifiedtime '{since}'") from None
        records = ((rid, r) for rid, r in records if int(r["ModifiedTime"]) > cutoff)
    column, value = query.get("searchColumn", ""), query.get("searchValue", "")
    if column or value:
        key = {"EMPLOYEEID": "EmployeeID", "EMPLOYEEMAILALIAS": "EmailID"}.get(column.upper())
        if key is None or not value or FORMS[form_name.lower()] != "employee":
            raise PeopleError(7042, f"Specified search value {value} is invalid")
        wanted = value.lower()
        records = ((rid, r) for rid, r in records if r.get(key, "").lower() == wanted)
    page = list(islice(records, start - 1, start - 1 + limit))
    if not page:
        raise PeopleError(7024, "No records found")
    return [{str(rid): [dict(record)]} for rid, record in page]


def insert_record(ctx: Ctx, req: EmuRequest, form_name: str) -> dict[str, Any]:
    uri = f"/api/forms/json/{form_name}/insertRecord"
    try:
        if not ctx.has_scope("ZOHOPEOPLE.forms.ALL", "ZOHOPEOPLE.forms.CREATE"):
            raise PeopleError(7038, "Permission denied to add records")
        values = _input_data(req, form_name)
        people = ctx.org.people
        eid = str(values.get("EmployeeID", "")).strip()
        if eid and people.by_employee_id(eid) is not None:
            raise PeopleError(7051, f"Value already exists for EmployeeID '{eid}'")
        record_id = people.upsert(values, ctx.now)
        people.resolve_managers()
    except PeopleError as error:
        return _error(uri, error)
    result = {"pkId": str(record_id), "message": "Successfully Added"}
    return _answer(uri, result, "Data added successfully")


def update_record(ctx: Ctx, req: EmuRequest, form_name: str) -> dict[str, Any]:
    uri = f"/api/forms/json/{form_name}/updateRecord"
    try:
        if not ctx.has_scope("ZOHOPEOPLE.forms.ALL", "ZOHOPEOPLE.forms.UPDATE"):
            raise PeopleError(7039, "Permission denied to edit records")
        values = _input_data(req, form_name)
        people = ctx.org.people
        raw = req.form().get("recordId", "")
        if not raw.isdigit() or int(raw) not in people.employees:
            raise PeopleError(7049, f"Missing record for the specified record Id {raw}")
        people.upsert(values, ctx.now, record_id=int(raw))
        people.resolve_managers()
    except PeopleError as error:
        return _error(uri, error)
    result = {"pkId": raw, "message": "Successfully Updated"}
    return _answer(uri, result, "Data updated successfully")


def _input_data(req: EmuRequest, form_name: str) -> dict[str, Any]:
    if FORMS.get(form_name.lower()) != "employee":
        raise PeopleError(7011, f"Form name '{form_name}' is invalid")
    raw = req.form().get("inputData", "")
    if not raw:
        raise PeopleError(7019, "Missing parameter inputData")
    try:
        values = json.loads(_relaxed(raw))
    except ValueError:
        raise PeopleError(7016, "Invalid input data") from None
    if not isinstance(values, dict):
        raise PeopleError(7016, "Invalid input data")
    return values


def _relaxed(raw: str) -> str:
    """People's documents write inputData as ``{EmployeeID:'1001'}``; make it JSON."""
    if raw.lstrip().startswith('{"'):
        return raw
    quoted = re.sub(r"'((?:[^'\\]|\\.)*)'", lambda m: json.dumps(m.group(1)), raw)
    return re.sub(r"([{,]\s*)([A-Za-z_][\w.]*)\s*:", r'\1"\2":', quoted)


def seed(people: People, records: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """``POST /_emulator/people/employees``: upsert by EmployeeID; errors per record."""
    done, failed = [], {}
    for index, values in enumerate(records):
        try:
            if not isinstance(values, dict):
                raise PeopleError(7016, "Invalid input data")
            people.upsert(values, now)
            done.append(str(values.get("EmployeeID")))
        except PeopleError as error:
            failed[str(index)] = {"code": error.code, "message": error.message}
    people.resolve_managers()
    return {"upserted": done, "failed": failed}


def state(people: People) -> dict[str, Any]:
    return {
        "employees": [{str(rid): r} for rid, r in sorted(people.employees.items())],
        "departments": [{str(rid): r} for rid, r in sorted(people.departments.items())],
        "designations": [{str(rid): r} for rid, r in sorted(people.designations.items())],
    }


def refused(path: str, scope: str) -> EmuResponse:
    """A People read without the forms scope: People's own "permission denied"."""
    uri = path.removeprefix("/people")
    error = PeopleError(7040, f"Permission denied to view records (scope {scope})")
    return EmuResponse(200, _error(uri, error))
