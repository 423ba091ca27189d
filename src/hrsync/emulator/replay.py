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
    """Send every recorded exchange to a fresh emulator and compare the answers' shapes."""
    emulator = Emulator(VirtualClock(), variants=variants)
    _grant_token(emulator)
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
        result.compared += 1
        difference = compare(number, route, exchange, answer.status, answer.body)
        if difference is not None:
            result.differences.append(difference)
    return result


def compare(
    line: int, route: str, exchange: dict[str, Any], status: int, body: Any
) -> Difference | None:
    """How the emulator's answer differs from the recorded one, or None."""
    if exchange["status"] != status:
        return Difference(line, route, status=(exchange["status"], status))
    recorded, emulated = shape(exchange.get("response")), shape(body)
    found = Difference(
        line,
        route,
        missing=_lacking(recorded, emulated),
        types=_type_changes(recorded, emulated),
        extra=_lacking(emulated, recorded),
    )
    return found if found.missing or found.types or found.extra else None


def shape(body: Any) -> Shape:
    """Key paths (``teams[].team_id``) and the JSON types seen at each; list items merged,
    keys that are data (emails, numbers) written ``*``."""
    found: Shape = defaultdict(set)

    def walk(value: Any, path: str) -> None:
        found[path or "(body)"].add(json_type(value))
        if isinstance(value, dict):
            for key, item in value.items():
                name = "*" if "@" in key or key.isdigit() else key
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
    return pattern.removeprefix("^").removesuffix("/?$").replace("([^/]+)", "{id}")


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
        if zoho and emulator and zoho != emulator:
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
