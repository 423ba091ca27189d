"""Users an identity provider or HR script pushed over SCIM (``service/scim``), read back
from hrsync's store as HR records: the same checks, guards and plan as an export's.

Where each canonical field comes from:

- ``employee_id``: the HR id the user was first pushed with (externalId, else the enterprise
  employeeNumber, else userName);
- ``email``: the primary email, else the work one, else the first, else a userName that is
  an address; ``first_name``/``last_name``: ``name.givenName``/``name.familyName``;
  ``nickname``: ``nickName``; ``mobile``/``work_phone``: ``phoneNumbers`` of type mobile/work;
- ``department``: the enterprise ``department``; ``manager_id``: the enterprise ``manager``,
  whose ``value`` is the manager's SCIM id or HR id;
- ``designation``: hrsync's ``designation``, else ``title``; ``work_location``,
  ``seating_location``, ``extension``, ``gender``, ``date_of_birth``, ``hire_date``,
  ``exit_date``: hrsync's extension;
- ``status``: ``active``; a deleted user is a leaver (``[source] on_delete = "deactivate"``)
  or left as Cliq has them (``"keep"``);
- other HR fields, for ``[custom_fields]`` and ``[scope]``: hrsync's ``customFields`` by
  name, and the enterprise ``division``, ``costCenter`` (``cost_center``) and ``organization``.

A canonical field that no pushed user carries is left as Cliq has it (as an export's missing
column is); one that some users carry is blank for those who lack it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hrsync.clock import Clock
from hrsync.model import CANONICAL_FIELDS, SourceSnapshot
from hrsync.sources.records import ParsedRow, RowParser, validate
from hrsync.store.scim import Row as RowMapping
from hrsync.store.scim import ScimStore

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HRSYNC = "urn:ietf:params:scim:schemas:extension:hrsync:2.0:User"
FROM_HRSYNC = {
    "work_location": "workLocation",
    "seating_location": "seatingLocation",
    "extension": "extension",
    "gender": "gender",
    "date_of_birth": "dateOfBirth",
    "hire_date": "hireDate",
    "exit_date": "exitDate",
}
FROM_ENTERPRISE = {
    "division": "division",
    "cost_center": "costCenter",
    "organization": "organization",
}
GROUP_FIELD = "group:"  # + a pushed group's displayName: "member" for its members
MADE = {"queued": "waiting for its run", "done": "applied", "held": "held", "failed": "failed"}
KEPT = 'deleted in the identity provider (kept as Cliq has them: [source] on_delete = "keep")'


class ScimSource:
    def __init__(
        self, store: ScimStore, integration: str, *, clock: Clock, on_delete: str = "deactivate"
    ) -> None:
        self.store, self.integration, self.clock, self.on_delete = (
            store,
            integration,
            clock,
            on_delete,
        )
        self.parser = RowParser(status_map={})
        # Users as a dry-run bulk upload would leave them (instead of what is kept).
        self.overlay: list[Any] | None = None

    def describe(self) -> str:
        return "SCIM pushes"

    def field_origin(self, name: str) -> str:
        if name in FROM_HRSYNC:
            return f"SCIM {HRSYNC}:{FROM_HRSYNC[name]}"
        return {
            "employee_id": "SCIM externalId (else employeeNumber, else userName)",
            "email": "SCIM emails (primary, else work)",
            "first_name": "SCIM name.givenName",
            "last_name": "SCIM name.familyName",
            "nickname": "SCIM nickName",
            "mobile": 'SCIM phoneNumbers[type eq "mobile"]',
            "work_phone": 'SCIM phoneNumbers[type eq "work"]',
            "department": f"SCIM {ENTERPRISE}:department",
            "manager_id": f"SCIM {ENTERPRISE}:manager",
            "designation": f"SCIM {HRSYNC}:designation (else title)",
            "status": "SCIM active",
        }.get(name, f'SCIM {HRSYNC}:customFields[name eq "{name}"]')

    def last_push(self, employee_id: str) -> str:
        """The last push that changed ``employee_id``, and what hrsync made of it."""
        row = self.store.last_push(self.integration, employee_id)
        if row is None or not row["last_push"]:
            return ""
        push = json.loads(row["last_push"])
        when = dt.datetime.fromtimestamp(float(push["at"]), dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        changed = ", ".join(push.get("changed") or []) or "nothing"
        said = f"{push.get('how') or 'a push'} at {when} UTC changed {changed}"
        event = (
            self.store.events_of([push["event"]]).get(push["event"]) if push.get("event") else None
        )
        if event is None:
            return said
        made = MADE.get(event["state"], event["state"])
        if event["state"] == "queued" and event["attempts"]:
            made = f"failed {event['attempts']} times, tried again"
        run = f" by run {event['run_id']}" if event["run_id"] else ""
        reason = f": {event['reason']}" if event["reason"] else ""
        return f"{said}; hrsync: {made}{run}{reason}"

    def read(self) -> SourceSnapshot:
        self.parser.today = dt.datetime.fromtimestamp(self.clock.now(), dt.UTC).date()
        rows = self.store.users(self.integration) if self.overlay is None else self.overlay
        if not rows:
            return SourceSnapshot(
                employees=[],
                complete=False,
                nothing_pushed=True,
                notes=["nobody has been pushed over SCIM yet: nothing to do"],
            )
        records = [(row, _fields(json.loads(row["body"]))) for row in rows]
        in_groups = self.store.group_members(self.integration)
        for row, fields in records:
            for group in in_groups.get(row["id"], []):
                fields.setdefault(f"{GROUP_FIELD}{group}", "member")
        hr_of = _manager_keys(rows)
        carried = {name for _, fields in records for name, value in fields.items() if value}
        absent = frozenset(CANONICAL_FIELDS) - carried - {"employee_id", "status"}
        if any("manager" in fields for _, fields in records):
            absent -= {"manager_id"}
        parsed: list[ParsedRow] = []
        outside: list[str] = []
        kept: list[tuple[str, str]] = []
        for row, fields in records:
            where = f"SCIM user {row['id']}"
            fields["employee_id"] = row["hr_id"]
            if row["deleted_at"] is not None:
                if self.on_delete == "keep":
                    kept.append((row["hr_id"], f"{where}, {KEPT}"))
                    continue
                fields["status"] = "inactive"
            manager = fields.pop("manager", "")
            fields["manager_id"] = hr_of.get(manager, "") if manager else ""
            one = self.parser.parse(where, fields, absent=absent)
            if manager and not fields["manager_id"] and one.employee is not None:
                outside.append(f"{row['hr_id']} → {manager}")
                blocked = one.employee.blocked | {"manager_id"}
                one.employee = replace(one.employee, blocked=blocked)
            parsed.append(one)
        snapshot = validate(parsed)
        for hr_id, why in kept:
            snapshot.hold(hr_id, why)
        if outside:
            snapshot.notes.append(
                f"{len(outside)} people's manager is no user pushed here (reporting-to left as "
                f"Cliq has it): {', '.join(outside[:5])}" + (" …" if len(outside) > 5 else "")
            )
        omitted = self.store.without_active_since(self.integration, self.clock.now() - 3600)
        if omitted:
            snapshot.notes.append(
                f"{omitted} records of the past hour's bulk uploads came without 'active': "
                "each of those people's status was left as it was"
            )
        groups = self.store.groups(self.integration)
        if groups:
            snapshot.notes.append(
                f"{groups} SCIM groups were pushed: they become Cliq teams or Connect groups "
                f'only through [rules] on the HR field "{GROUP_FIELD}NAME" (e.g. when = '
                f'{{ "{GROUP_FIELD}Sales" = "member" }}); otherwise they are ignored'
            )
        return snapshot


def _fields(body: Mapping[str, Any]) -> dict[str, str]:
    """The canonical fields (and other HR fields) a pushed user carries, as text."""
    enterprise = _object(body.get(ENTERPRISE))
    ours = _object(body.get(HRSYNC))
    name = _object(body.get("name"))
    fields = {
        "email": _email(body),
        "first_name": _text(name.get("givenName")),
        "last_name": _text(name.get("familyName")),
        "nickname": _text(body.get("nickName")),
        "mobile": _typed(body.get("phoneNumbers"), "mobile"),
        "work_phone": _typed(body.get("phoneNumbers"), "work"),
        "department": _text(enterprise.get("department")),
        "designation": _text(ours.get("designation")) or _text(body.get("title")),
        "status": "inactive" if body.get("active") is False else "active",
    }
    for canonical, attribute in FROM_HRSYNC.items():
        fields[canonical] = _text(ours.get(attribute))
    manager = _object(enterprise.get("manager"))
    if "manager" in enterprise:
        fields["manager_id"] = ""
        fields["manager"] = _text(manager.get("value"))
    for extra, attribute in FROM_ENTERPRISE.items():
        if value := _text(enterprise.get(attribute)):
            fields[extra] = value
    for entry in ours.get("customFields") or []:
        entry = _object(entry)
        if (key := _text(entry.get("name"))) and key not in fields:
            fields[key] = _text(entry.get("value"))
    return fields


def _manager_keys(rows: list[RowMapping]) -> dict[str, str]:
    """What a manager's ``value`` may be (their SCIM id, HR id, externalId or employee
    number) → their HR id; the SCIM id wins, then the HR id."""
    keys: dict[str, str] = {}
    for column in ("employee_number", "external_id", "hr_id", "id"):
        for row in rows:
            if row[column] and row["hr_id"]:
                keys[str(row[column])] = row["hr_id"]
    return keys


def _email(body: Mapping[str, Any]) -> str:
    emails = [_object(e) for e in body.get("emails") or [] if isinstance(e, dict)]
    ranked = sorted(
        (e for e in emails if _text(e.get("value"))),
        key=lambda e: (e.get("primary") is not True, _text(e.get("type")).lower() != "work"),
    )
    if ranked:
        return _text(ranked[0].get("value"))
    user_name = _text(body.get("userName"))
    return user_name if "@" in user_name else ""


def _typed(values: Any, kind: str) -> str:
    for value in values or []:
        value = _object(value)
        if _text(value.get("type")).lower() == kind and _text(value.get("value")):
            return _text(value.get("value"))
    return ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else "" if value is None else str(value)
