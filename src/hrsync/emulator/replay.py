"""Which recorded answers of Zoho the emulator does not give (``hrsync emulator replay``).

The exchanges of a ``--record`` file are sent again, in order, to an in-process emulator —
the writes too, so its organisation fills as the recorded one did. A recorded id is mapped
to the emulator's id for the same object (learnt from answers that line up, by email or name
where a list has them), or else to any object of the same kind. Each answer's shape — its key
paths with their JSON types, list items merged — is compared with the recorded one.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from hrsync.clock import VirtualClock
from hrsync.emulator import scopes
from hrsync.emulator.accounts import Grant
from hrsync.emulator.app import ROUTES, Emulator
from hrsync.emulator.core import EmuRequest

API_PREFIXES = ("/api/", "/people/", "/pulse/")
TOKEN = "1000.replay"
# Enough virtual time between two calls that no per-minute limit is ever reached.
PAUSE = 61.0
# Keys whose values name one object; lists of them are aligned by these before by position.
NATURAL_KEYS = ("email_id", "email", "EmailID", "emailId", "unique_name", "name")
Shape = dict[str, set[str]]


@dataclass
class Difference:
    """One recorded exchange whose answer the emulator gives otherwise."""

    line: int
    route: str  # "GET /api/v2/teams"
    status: tuple[int, int] | None = None  # (recorded, emulator) when they differ
    missing: list[str] = field(default_factory=list)  # what Zoho gave and the emulator lacks
    types: list[str] = field(default_factory=list)  # "teams[].team_id: number vs string"
    extra: list[str] = field(default_factory=list)  # what the emulator gives beyond the record


@dataclass
class Replay:
    """What a replay found: compared exchanges, skipped ones (with why) and differences."""

    compared: int = 0
    skipped: list[tuple[int, str, str]] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)


def read_exchanges(lines: Iterable[str]) -> list[dict[str, Any]]:
    """The exchanges of a recording, one JSON object a line; blank lines are skipped."""
    return [json.loads(line) for line in lines if line.strip()]


def replay(exchanges: Iterable[dict[str, Any]], *, variants: Iterable[str] = ()) -> Replay:
    """Send every recorded exchange to an emulator whose organisation has one of everything
    (so ids have stand-ins and every field a value) and compare the answers' shapes."""
    emulator = Emulator(VirtualClock(), variants=variants)
    _grant_token(emulator)
    _seed(emulator)
    exchanges = list(exchanges)
    custom = _custom_fields(exchanges) | {uf.unique_name for uf in emulator.org.userfields.values()}
    session = _Session(emulator)
    result = Replay()
    for number, exchange in enumerate(exchanges, 1):
        route = f"{exchange['method']} {route_pattern(exchange['method'], exchange['path'])}"
        why = _unreplayable(exchange)
        request = None if why else session.translate(exchange)
        if request is None:
            result.skipped.append((number, route, why or "no object of that kind to stand in"))
            continue
        assert isinstance(emulator.clock, VirtualClock)
        emulator.clock.advance(PAUSE)
        answer = emulator.handle(request)
        session.learn(exchange.get("response"), answer.body)
        if _state_refusal(exchange, answer.status, answer.body):
            code = answer.body.get("code") if isinstance(answer.body, dict) else None
            why = f"the organisations differ here (the emulator answered {answer.status}"
            result.skipped.append((number, route, why + (f", {code})" if code else ")")))
            continue
        result.compared += 1
        difference = compare(number, route, exchange, answer.status, answer.body, custom)
        if difference is not None:
            result.differences.append(difference)
    return result


def compare(
    line: int,
    route: str,
    exchange: dict[str, Any],
    status: int,
    body: Any,
    custom: set[str] | frozenset[str] = frozenset(),
) -> Difference | None:
    """How the emulator's answer differs from the recorded one, or None. Keys that are custom
    fields (each organisation has its own) compare as one ``{custom field}``; of what the
    emulator gives beyond the record, only top-level keys (a wrapper) count."""
    if exchange["status"] != status:
        return Difference(line, route, status=(exchange["status"], status))
    recorded = shape(exchange.get("response"), custom)
    emulated = shape(body, custom)
    found = Difference(
        line,
        route,
        missing=[p for p in _lacking(recorded, emulated) if p not in PAGED],
        types=_type_changes(recorded, emulated),
        extra=[p for p in _lacking(emulated, recorded) if "." not in p and "[" not in p],
    )
    return found if found.missing or found.types or found.extra else None


def shape(body: Any, custom: set[str] | frozenset[str] = frozenset()) -> Shape:
    """Key paths (``teams[].team_id``) and the JSON types seen at each; list items merged,
    keys that are data (emails, numbers) written ``*``, custom fields ``{custom field}``."""
    found: Shape = defaultdict(set)

    def walk(value: Any, path: str) -> None:
        found[path or "(body)"].add(json_type(value))
        if isinstance(value, dict):
            for key, item in value.items():
                name = "*" if "@" in key or key.isdigit() else key
                name = "{custom field}" if key in custom else name
                walk(item, f"{path}.{name}" if path else name)
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{path}[]")

    walk(body, "")
    return found


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def route_pattern(method: str, path: str) -> str:
    """The emulator's route for a path (``/api/v2/teams/{id}``), else the path with its
    numeric segments written ``{id}``."""
    for route in ROUTES:
        if route.method == method and route.pattern.match(path.rstrip("/") or "/"):
            return _template(route.pattern.pattern)
    return re.sub(r"/\d+(?=/|$)", "/{id}", path)


def _template(pattern: str) -> str:
    return pattern.removeprefix("^").removesuffix(r"/?\Z").replace("([^/]+)", "{id}")


def _lacking(have: Shape, other: Shape) -> list[str]:
    """Paths of ``have`` that ``other`` lacks, topmost only; an empty list on the other side
    tells nothing about its items."""
    lacking = []
    for path in have:
        if path in other or _parent(path) not in other:
            continue
        if path.endswith("[]"):
            continue  # the other list was empty
        lacking.append(path)
    return sorted(lacking)


def _parent(path: str) -> str:
    if path.endswith("[]"):
        return path[:-2] or "(body)"
    head, dot, _ = path.rpartition(".")
    return head if dot else "(body)"


def _type_changes(recorded: Shape, emulated: Shape) -> list[str]:
    changes = []
    for path in sorted(recorded.keys() & emulated.keys()):
        zoho, emulator = recorded[path] - {"null"}, emulated[path] - {"null"}
        if zoho and emulator and zoho - emulator:  # a type Zoho gave that the emulator never does
            changes.append(f"{path}: {', '.join(sorted(zoho))} vs {', '.join(sorted(emulator))}")
    return changes


def _unreplayable(exchange: dict[str, Any]) -> str:
    if not exchange["path"].startswith(API_PREFIXES):
        return "not an API call (Accounts)"
    answer = exchange.get("response")
    code = answer.get("code") if isinstance(answer, dict) else None
    if exchange["status"] == 429 or code == "request_limit_exceeded":
        return "a throttled answer"
    if exchange["status"] >= 500:
        return "a server error"
    return ""


PAGED = {"next_token"}  # there only while more pages follow: a matter of how much is listed
# Refusals that say the request itself is not what the emulator takes; any other refusal of
# a request Zoho took is about what the two organisations hold (an id, a name).
SHAPE_REFUSALS = {"extra_key_found", "input_data_missing", "invalid_field_value"}


def _state_refusal(exchange: dict[str, Any], status: int, body: Any) -> bool:
    if exchange["status"] >= 400 or status < 400:
        return False
    if not any(
        r.method == exchange["method"] and r.pattern.match(exchange["path"]) for r in ROUTES
    ):
        return False  # the emulator has no such route: a difference
    code = body.get("code") if isinstance(body, dict) else None
    return code not in SHAPE_REFUSALS and status != 405


def _custom_fields(exchanges: Iterable[dict[str, Any]]) -> set[str]:
    """The unique names of the recorded organisation's custom fields (from its listings)."""
    names: set[str] = set()
    for exchange in exchanges:
        answer = exchange.get("response")
        if exchange["path"].startswith("/api/v2/userfields") and isinstance(answer, dict):
            items = answer.get("list") or answer.get("data") or []
            for item in items if isinstance(items, list) else [items]:
                if isinstance(item, dict) and isinstance(item.get("unique_name"), str):
                    names.add(item["unique_name"])
    return names


def _seed(emulator: Emulator) -> None:
    """One of everything: a department, a designation, two users with every field (custom
    ones too), one reporting to the other, a team, a People record: so every recorded id
    has a stand-in and no key is missing only because a value is empty."""
    org = emulator.org

    def call(method: str, path: str, body: Any = None) -> Any:
        headers = {"authorization": f"Zoho-oauthtoken {TOKEN}", "content-type": "application/json"}
        data = json.dumps(body).encode() if body is not None else b""
        assert isinstance(emulator.clock, VirtualClock)
        emulator.clock.advance(PAUSE)
        return emulator.handle(EmuRequest(method, path, {}, headers, data)).body

    base = org.default_department().id
    department = call(
        "POST",
        "/api/v2/departments",
        {"name": "Stand-in", "lead_zuid": org.admin_id, "parent_department_id": base},
    )
    designation = call("POST", "/api/v2/designations", {"name": "Stand-in"})
    custom: dict[str, Any] = {}
    for uf in org.userfields.values():
        if uf.type == "date_picker":
            custom[uf.unique_name] = 631152000000
        elif uf.type == "drop_down" and uf.options:
            custom[uf.unique_name] = uf.options[0]["id"]
        elif uf.type not in ("drop_down", "number"):
            custom[uf.unique_name] = "stand-in"
    everything = {
        "first_name": "Stand",
        "last_name": "In",
        "display_name": "Stand In",
        "phone": "+1 000",
        "mobile": "+1 000",
        "work_location": "Desk 1",
        "extension": "100",
        "employee_id": "S1",
        **custom,
    }
    if isinstance(department, dict) and isinstance(designation, dict):
        everything["department_id"] = department.get("data", {}).get("id", "")
        everything["designation_id"] = designation.get("data", {}).get("id", "")
    users = [
        {**everything, "email_id": f"stand.in{n}@replay.invalid", "employee_id": f"S{n}"}
        for n in (1, 2)
    ]
    call("POST", "/api/v2/users", {"users": users})
    call("POST", "/_emulator/users/accept")
    first, second = (org.user_by_email(u["email_id"]) for u in users)
    if first is not None and second is not None:
        second.reporting_to = first.id
        call("POST", "/api/v2/teams", {"name": "Stand-in", "user_ids": [first.id, second.id]})
    record = {
        "EmployeeID": "S1",
        "EmailID": "stand.in1@replay.invalid",
        "FirstName": "Stand",
        "LastName": "In",
        "Department": "Stand-in",
        "Designation": "Stand-in",
        "Employeestatus": "Active",
        "Dateofjoining": "01-Jan-2020",
    }
    call("POST", "/_emulator/people/employees", [record])


def _grant_token(emulator: Emulator) -> None:
    """A token with every scope, that does not expire, for the replay's requests."""
    held = [f"ZohoCliq.{m}.ALL" for m in scopes.CLIQ_MODULES.values()]
    held += [*scopes.CONNECT.values(), "ZOHOPEOPLE.forms.ALL"]
    accounts = emulator.accounts
    accounts.access_tokens[TOKEN] = Grant(
        TOKEN, accounts.client.client_id, tuple(held), accounts.admin_id
    )


class _Session:
    """The recorded ids and the emulator's ids for the same objects."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.ids: dict[str, str] = {}

    def translate(self, exchange: dict[str, Any]) -> EmuRequest | None:
        """The recorded request with the emulator's ids, or None if one has no stand-in."""
        path = self._path(exchange["method"], exchange["path"])
        if path is None:
            return None
        query = {k: self._value(v) for k, v in (exchange.get("query") or {}).items()}
        if "next_token" in query and query["next_token"] not in self.ids.values():
            del query["next_token"]  # a cursor of the recorded organisation: start over
        if "scopeID" in query:
            query["scopeID"] = self.emulator.org.connect.scope_id
        headers = {"authorization": f"Zoho-oauthtoken {TOKEN}"}
        body = b""
        if "body" in exchange:
            body = json.dumps(self._value(exchange["body"])).encode()
            headers["content-type"] = "application/json"
        elif "form" in exchange:
            body = urlencode(self._value(exchange["form"])).encode()
            headers["content-type"] = "application/x-www-form-urlencoded"
        return EmuRequest(exchange["method"], path, query, headers, body)

    def learn(self, recorded: Any, emulated: Any) -> None:
        """Pair the ids of a recorded answer with those of the emulator's same answer."""
        if isinstance(recorded, dict) and isinstance(emulated, dict):
            for key in recorded.keys() & emulated.keys():
                mine, theirs = recorded[key], emulated[key]
                if _names_an_object(key) and _scalar(mine) and _scalar(theirs):
                    self.ids.setdefault(str(mine), str(theirs))
                else:
                    self.learn(mine, theirs)
        elif isinstance(recorded, list) and isinstance(emulated, list):
            for mine, theirs in _pairs(recorded, emulated):
                self.learn(mine, theirs)

    def _path(self, method: str, path: str) -> str | None:
        template = route_pattern(method, path).split("/")
        parts = path.split("/")
        if len(template) != len(parts):
            return path
        for i, part in enumerate(template):
            if part == "{id}":
                stand_in = self._stand_in(template[i - 1], parts[i])
                if stand_in is None:
                    return None
                parts[i] = stand_in
        return "/".join(parts)

    def _stand_in(self, kind: str, recorded: str) -> str | None:
        objects = self._objects(kind)
        if objects is None:
            return recorded  # not an object id (a People form name)
        if recorded in self.ids:
            return self.ids[recorded]
        if recorded in objects:
            return recorded
        return objects[-1] if objects else None

    def _objects(self, kind: str) -> list[str] | None:
        org = self.emulator.org
        found: dict[str, Iterable[Any]] = {
            "users": org.users.values(),
            "members": org.users.values(),
            "teams": org.teams.values(),
            "departments": org.departments.values(),
            "designations": org.designations.values(),
            "profiles": org.roles.values(),
            "userfields": org.userfields.values(),
        }
        if kind not in found:
            return None
        return [str(o.id) for o in found[kind]]

    def _value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(v) for v in value]
        if _scalar(value) and str(value) in self.ids:
            mapped = self.ids[str(value)]
            return int(mapped) if isinstance(value, int) and mapped.isdigit() else mapped
        return value


def _names_an_object(key: str) -> bool:
    if "mail" in key.lower():
        return False
    return key in ("id", "zuid", "next_token") or key.endswith(("_id", "Id", "ID"))


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def _pairs(recorded: list[Any], emulated: list[Any]) -> list[tuple[Any, Any]]:
    """Items of two lists that stand for the same object: by email or name, else by place."""
    for key in NATURAL_KEYS:
        if all(isinstance(i, dict) and key in i for i in [*recorded, *emulated]):
            theirs = {str(i[key]).lower(): i for i in emulated}
            return [(i, theirs[k]) for i in recorded if (k := str(i[key]).lower()) in theirs]
    return list(zip(recorded, emulated, strict=False))
