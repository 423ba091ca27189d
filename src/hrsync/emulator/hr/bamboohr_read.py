"""BambooHR's read endpoints besides the list: changed employees, the directory, one employee,
the custom report and the field list. Each takes a ``Call`` and answers JSON or XML as BambooHR
does for that endpoint."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from hrsync.emulator.core import EmuRequest, EmuResponse
from hrsync.emulator.hr import bamboohr_list as listing
from hrsync.emulator.hr.bamboohr_data import FIELDS, Company, iso, parse_time, sort_key
from hrsync.emulator.hr.bamboohr_wire import (
    BambooError,
    bad_request,
    child,
    element,
    employee_fields_xml,
    json_answer,
    parse_json_body,
    parse_xml_body,
    raw_answer,
    wants_json,
    xml_answer,
)

MOST_FIELDS = 400  # Get Employee and the custom report: "The maximum number of fields per request"
CHANGE_TYPES = ("inserted", "updated", "deleted", "all")
DIRECTORY_FIELDS = (
    "displayName", "firstName", "lastName", "preferredName", "jobTitle", "workPhone",
    "mobilePhone", "workEmail", "department", "location", "division", "workPhoneExtension",
    "supervisor",
)  # fmt: skip
REPORT_FORMATS = {  # format= value, and the exact Accept values that choose it
    "json": "application/json",
    "xml": "text/xml",
    "csv": "text/csv",
    "pdf": "application/pdf",
    "xls": "application/vnd.ms-excel",
}


@dataclass(frozen=True, slots=True)
class Call:
    """One authorised call: the request, the company, the time, what the emulator plays."""

    req: EmuRequest
    company: Company
    now: float
    variants: frozenset[str]
    base_url: str  # this endpoint's own URL, for the list's links
    own_employee: str | None = None  # the key's employee, for GET /employees/0
    truncate: str | None = None  # the "truncate" fault's style, when it fires

    def json_wanted(self) -> bool:
        return wants_json(
            self.req.headers, json_by_default="bamboohr-json-by-default" in self.variants
        )


def list_employees(call: Call) -> EmuResponse:
    """GET /api/v1/employees: JSON only (its document has no XML form)."""
    size = (
        listing.GENERIC_PAGES
        if "bamboohr-page-limit-100" in call.variants
        else listing.EMPLOYEE_PAGES
    )
    query = listing.parse(call.req.query_pairs, size)
    body = listing.answer(
        call.company, query, call.base_url, call.req.query_pairs, truncate=call.truncate
    )
    return json_answer(body)


def changed(call: Call) -> EmuResponse:
    """GET /api/v1/employees/changed?since=&type=: ids changed after ``since`` (to the second),
    as Inserted, Updated or Deleted, with the latest change time."""
    since_text = call.req.query.get("since", "")
    since = parse_time(since_text) if since_text else None
    kind = call.req.query.get("type", "all") or "all"
    if since is None:
        raise bad_request("The since parameter is missing or is not an ISO 8601 date-time.")
    if kind not in CHANGE_TYPES:
        raise bad_request("type must be inserted, updated, deleted or all.")
    if (
        kind == "all"
        and "type" not in call.req.query
        and "bamboohr-changed-omits-deleted" in call.variants
    ):
        kind = "live"  # inserted and updated only
    rows = _changes(call.company, int(since), kind)
    latest = max((when for _, _, when in rows), default=int(since))
    if call.json_wanted():
        employees = {i: {"id": i, "action": a, "lastChanged": iso(t)} for i, a, t in rows}
        return json_answer({"latest": iso(latest), "employees": employees})
    root = element("employees", latest=iso(latest))
    for emp_id, action, when in rows:
        child(root, "employee", id=emp_id, action=action, lastChanged=iso(when))
    return xml_answer(root)


def _changes(company: Company, since: int, kind: str) -> list[tuple[str, str, int]]:
    """(id, action, when) of each change strictly after ``since`` (whole seconds)."""
    rows: list[tuple[str, str, int]] = []
    for emp in sorted(company.employees.values(), key=sort_key):
        if int(emp.last_changed) > since:
            action = "Inserted" if int(emp.created_at) > since else "Updated"
            rows.append((emp.id, action, int(emp.last_changed)))
    rows += [(i, "Deleted", int(t)) for i, t in sorted(company.deleted.items()) if int(t) > since]
    wanted = {"all": None, "live": {"Inserted", "Updated"}}.get(kind, {kind.capitalize()})
    return [row for row in rows if wanted is None or row[1] in wanted]


def directory(call: Call) -> EmuResponse:
    """GET /api/v1/employees/directory: active employees only; 404 when there are none."""
    company = call.company
    active = [e for e in sorted(company.employees.values(), key=sort_key)
              if e.fields.get("status") == "Active"]  # fmt: skip
    if call.truncate:
        active = active[:-1]
    if not active:
        raise BambooError(404, "The directory is empty.")
    rows = [{name: company.classic(e, name) for name in DIRECTORY_FIELDS} for e in active]
    if call.json_wanted():
        fields = [_field_entry(company, name) for name in DIRECTORY_FIELDS]
        employees = [
            {"id": e.id, **row, "canUploadPhoto": 0} for e, row in zip(active, rows, strict=True)
        ]
        return json_answer({"fields": fields, "employees": employees})
    root = element("directory")
    fieldset = child(root, "fieldset")
    for name in DIRECTORY_FIELDS:
        child(fieldset, "field", company.describe(name)[1], id=name)
    listed = child(root, "employees")
    for emp, row in zip(active, rows, strict=True):
        listed.append(employee_fields_xml("employee", emp.id, row))
    return xml_answer(root)


def get_employee(call: Call, emp_id: str) -> EmuResponse:
    """GET /api/v1/employees/{id}?fields=: ``id`` and each field asked for that the account
    knows (others are left out); id 0 is the key's own employee."""
    company = call.company
    if emp_id == "0" and call.own_employee:
        emp_id = call.own_employee
    emp = company.employees.get(emp_id)
    if emp is None:
        raise BambooError(404, "The employee does not exist.")
    asked = _field_names(call.req.query.get("fields") or "firstName,lastName")
    if len(asked) > MOST_FIELDS:
        raise bad_request(f"At most {MOST_FIELDS} fields can be requested.")
    values = {name: company.classic(emp, name) for name in asked if company.knows(name)}
    if call.json_wanted():
        return json_answer({"id": emp.id, **values})
    return xml_answer(employee_fields_xml("employee", emp.id, values))


def meta_fields(call: Call) -> EmuResponse:
    """GET /api/v1/meta/fields: every field of the account, custom ones with their alias."""
    company = call.company
    names = [*company_field_names(company)]
    entries = [_meta_entry(company, name) for name in names]
    if call.json_wanted():
        return json_answer(entries)
    root = element("fields")
    for entry in entries:
        child(
            root,
            "field",
            entry["name"],
            id=str(entry["id"]),
            type=entry["type"],
            alias=entry.get("alias"),
        )
    return xml_answer(root)


def company_field_names(company: Company) -> list[str]:
    return [*FIELDS, *company.custom_fields]


def _meta_entry(company: Company, name: str) -> dict[str, Any]:
    kind, label = company.describe(name)
    field_id = FIELDS[name][0] if name in FIELDS else company.custom_fields[name]
    return {"id": field_id, "name": label, "type": kind, "alias": name}


def _field_entry(company: Company, name: str) -> dict[str, str]:
    kind, label = company.describe(name)
    return {"id": name, "type": kind, "name": label}


def _field_names(text: str) -> list[str]:
    return list(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))


def custom_report(call: Call) -> EmuResponse:
    """POST /api/v1/reports/custom?format=: the chosen fields of every employee, active or
    not. JSON only with ``Content-Type: application/json`` exactly; else a ``<report>``."""
    kind = _report_format(call.req)
    title, fields, ids, changed_since = _report_request(call.req)
    if len(fields) > MOST_FIELDS:
        raise bad_request(f"At most {MOST_FIELDS} fields can be requested.")
    company = call.company
    known = [f for f in fields if company.knows(f)]
    chosen = [e for e in sorted(company.employees.values(), key=sort_key)
              if (ids is None or e.id in ids)
              and (changed_since is None or e.last_changed >= changed_since)]  # fmt: skip
    if call.truncate:
        chosen = chosen[:-1]
    rows = [(e.id, {f: company.classic(e, f) or "" for f in known}) for e in chosen]
    return _report_answer(kind, title, [_field_entry(company, f) for f in known], rows)


def _report_format(req: EmuRequest) -> str:
    given = req.query.get("format")
    if given is not None:
        if given.lower() not in REPORT_FORMATS:
            raise BambooError(404, "Report format not found.")
        return given.lower()
    accept = req.headers.get("accept", "")
    for name, media in REPORT_FORMATS.items():
        if accept == media:
            return name
    raise BambooError(404, "Report format not found.")


def _report_request(req: EmuRequest) -> tuple[str, list[str], set[str] | None, float | None]:
    """(title, field ids, employee ids or None, changed-since or None) from JSON or XML."""
    if req.headers.get("content-type", "") == "application/json":
        return _report_from_json(parse_json_body(req.body))
    return _report_from_xml(parse_xml_body(req.body))


def _report_from_json(body: Any) -> tuple[str, list[str], set[str] | None, float | None]:
    if not isinstance(body, dict) or not isinstance(body.get("fields"), list):
        raise bad_request("The report needs a list of fields.")
    filters = body.get("filters") if isinstance(body.get("filters"), dict) else {}
    assert isinstance(filters, dict)
    raw_ids = filters.get("employeeIds")
    ids = {str(i) for i in raw_ids} if isinstance(raw_ids, list) else None
    since = None
    last = filters.get("lastChanged")
    if isinstance(last, dict) and isinstance(last.get("value"), str):
        since = parse_time(last["value"])
        if since is None:
            raise bad_request("lastChanged must be an ISO 8601 date-time.")
    return str(body.get("title") or "Report"), [str(f) for f in body["fields"]], ids, since


def _report_from_xml(root: ET.Element) -> tuple[str, list[str], set[str] | None, float | None]:
    if root.tag != "report" or root.find("fields") is None:
        raise bad_request("Malformed XML")
    fields = [f.get("id", "") for f in root.iterfind("fields/field")]
    found_ids = [e.text or "" for e in root.iterfind("filters/employeeIds/employeeId")]
    ids = {i.strip() for i in found_ids} if root.find("filters/employeeIds") is not None else None
    since = None
    last = root.find("filters/lastChanged")
    if last is not None and last.text:
        since = parse_time(last.text)
        if since is None:
            raise bad_request("lastChanged must be an ISO 8601 date-time.")
    return root.findtext("title") or "Report", [f for f in fields if f], ids, since


def _report_answer(
    kind: str, title: str, fields: list[dict[str, str]], rows: list[tuple[str, dict[str, str]]]
) -> EmuResponse:
    if kind == "json":
        employees = [{"id": emp_id, **values} for emp_id, values in rows]
        return json_answer({"title": title, "fields": fields, "employees": employees})
    if kind == "xml":
        root = element("report")
        child(root, "title", title)
        listed = child(root, "fields")
        for f in fields:
            child(listed, "field", f["name"], id=f["id"], type=f["type"])
        employees_node = child(root, "employees")
        for emp_id, values in rows:
            employees_node.append(employee_fields_xml("employee", emp_id, dict(values)))
        return xml_answer(root, REPORT_FORMATS["xml"])
    if kind == "pdf":  # the emulator's stand-in: a report file, not a laid-out one
        return raw_answer(b"%PDF-1.4\n% hrsync emulator report\n%%EOF\n", REPORT_FORMATS["pdf"])
    return raw_answer(_csv(fields, rows), REPORT_FORMATS[kind])  # csv; xls as the same table


def _csv(fields: list[dict[str, str]], rows: list[tuple[str, dict[str, str]]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", *(f["name"] for f in fields)])
    for emp_id, values in rows:
        writer.writerow([emp_id, *(values[f["id"]] for f in fields)])
    return out.getvalue().encode()
