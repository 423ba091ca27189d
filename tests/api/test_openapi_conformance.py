"""The emulator answers every operation of Zoho's Cliq OpenAPI documents in their shapes.

Each documented operation is called once, with a request body that itself validates against
the document's request schema; the answer must validate against the documented response
schema, with one tightening: an object may carry only documented keys, so the emulator
cannot invent fields that real Cliq does not send. "204 No response" operations must answer
HTTP 204 with no body. The test fails if a documented operation has no call here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from tests.conftest import BASE, SHARED, World
from tests.support import access_token

SPECS = SHARED / "external" / "zoho-cliq" / "openapi"
EMPTY_ANSWERS = {"no-response", "empty-response"}


def _schemas(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"]
    return found


def _users_gaps(doc: dict[str, Any]) -> None:
    schemas = _schemas(doc)
    full = schemas["retrieve-user-response"]["properties"]["data"]["properties"]
    # phone is a writable profile field and a layout field; answers carry it once set
    full["phone"] = {"type": "string"}
    # with fields=all each listed user is the get-user object; the listing shows the brief one
    item = schemas["UserListResponse"]["properties"]["data"]["items"]["properties"]
    item.update(copy.deepcopy(full))


def _roles_gaps(doc: dict[str, Any]) -> None:
    # the permissions example shows one module; every module has its shape, some with configs
    answer = _schemas(doc)["RolePermissionResponse"]
    module = copy.deepcopy(answer["properties"]["group_audio_call"])
    module["properties"]["actions"]["additionalProperties"] = {"type": "string"}
    # configs as AdminRoleStandardPermissions.json shows them: [{name, label, type, value}]
    module["properties"]["configs"] = {"type": "array", "items": {"type": "object"}}
    answer["additionalProperties"] = module


def _userfields_gaps(doc: dict[str, Any]) -> None:
    # drop-down options with their ids, as the create-field answer documents them
    schemas = _schemas(doc)
    options = schemas["UserfieldCreateResponse"]["properties"]["data"]["properties"]["options"]
    schemas["UserfieldListResponse"]["properties"]["list"]["items"]["properties"]["options"] = (
        options
    )
    schemas["Retrieve-Userfield"]["properties"]["data"]["properties"]["options"] = options


# Where the documents contradict themselves or show less than they describe, the reading here.
GAPS = {"users": _users_gaps, "roles": _roles_gaps, "userfields": _userfields_gaps}
# The permissions update names the role-update body as its request; the body it documents
# (UpdatePermissionRequest, shown as its answer) is the one sent.
REQUEST_SCHEMAS = {
    ("roles", "PUT", "/profiles/{PROFILE_ID}/permissions"): {
        "$ref": "#/components/schemas/UpdatePermissionRequest"
    }
}


@dataclass
class Spec:
    name: str
    doc: dict[str, Any]
    registry: Registry[Any] = field(init=False)

    def __post_init__(self) -> None:
        strict = copy.deepcopy(self.doc)
        if self.name in GAPS:
            GAPS[self.name](strict)
        _no_extra_keys(strict)
        self.registry = Registry().with_resource(
            "urn:spec", Resource.from_contents(strict, default_specification=DRAFT4)
        )

    def operation(self, method: str, template: str) -> dict[str, Any]:
        op: dict[str, Any] = self.doc["paths"][template][method.lower()]
        return op

    def validator(self, schema: dict[str, Any]) -> Draft4Validator:
        ref = {"$ref": "urn:spec" + schema["$ref"]} if "$ref" in schema else schema
        return Draft4Validator(ref, registry=self.registry)


def _no_extra_keys(node: Any) -> Any:
    """Every object schema that lists its properties allows only those."""
    if isinstance(node, dict):
        for value in node.values():
            _no_extra_keys(value)
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
    elif isinstance(node, list):
        for value in node:
            _no_extra_keys(value)
    return node


def load_specs() -> dict[str, Spec]:
    return {
        p.stem: Spec(p.stem, yaml.safe_load(p.read_text())) for p in sorted(SPECS.glob("*.yml"))
    }


@dataclass
class Caller:
    world: World
    token: str
    specs: dict[str, Spec]
    covered: set[tuple[str, str, str]] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)

    def __call__(
        self,
        spec: str,
        method: str,
        template: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
    ) -> Any:
        doc = self.specs[spec]
        op = doc.operation(method, template)
        self.covered.add((spec, method, template))
        where = f"{spec}: {method} {template}"
        content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        request_schema = REQUEST_SCHEMAS.get((spec, method, template), content.get("schema"))
        if body is not None and request_schema is not None:
            for error in doc.validator(request_schema).iter_errors(body):
                self.failures.append(f"{where}: our request breaks the document: {error.message}")
        answer = self.world.http.request(
            method,
            f"{BASE}/api/v2{path}",
            json=body,
            params=query,
            headers={"Authorization": f"Zoho-oauthtoken {self.token}"},
        )
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        if schema.get("$ref", "").rsplit("/", 1)[-1] in EMPTY_ANSWERS:
            if answer.status_code != 204 or answer.content:
                self.failures.append(f"{where}: expected 204 and no body, got {answer.status_code}")
            return None
        if answer.status_code != 200:
            self.failures.append(f"{where}: HTTP {answer.status_code} {answer.text[:200]}")
            return {}
        data = answer.json()
        for error in doc.validator(schema).iter_errors(data):
            place = "/".join(str(p) for p in error.absolute_path)
            self.failures.append(f"{where}: at '{place}': {error.message[:300]}")
        return data


@pytest.fixture
def call(world: World) -> Iterator[Caller]:
    if not SPECS.is_dir():
        pytest.skip(f"Zoho's Cliq OpenAPI documents are not at {SPECS}")
    yield Caller(world, access_token(world), load_specs())


def exercise_users(call: Caller) -> dict[str, str]:
    added = call(
        "users",
        "POST",
        "/users",
        "/users",
        body={
            "users": [
                {
                    "email_id": "amy@zylker.example",
                    "first_name": "Amy",
                    "last_name": "Smith",
                    "mobile": "9876543210",
                    "work_location": "Chennai Office",
                    "extension": "4021",
                    "employee_id": "EMP1234",
                },
                {"email_id": "ben@zylker.example", "first_name": "Ben", "last_name": "Ray"},
            ]
        },
    )
    assert added["data"]["success_users"] == ["amy@zylker.example", "ben@zylker.example"]
    listing = call("users", "GET", "/users", "/users", query={"fields": "all", "limit": "10"})
    ids = {u["email_id"]: u["id"] for u in listing["data"]}
    call("users", "GET", "/users", "/users", query={"status": "pending", "search": "amy"})
    amy, ben = ids["amy@zylker.example"], ids["ben@zylker.example"]
    call("users", "GET", "/users/{USER_ID}", f"/users/{amy}", query={"fields": "all"})
    # The document's update body is the reading the variant update-wrapped plays; by default
    # the emulator takes a flat object, as the stronger evidence says (READINGS #8).
    play = f"{BASE}/_emulator/variants"
    call.world.http.post(play, json={"variants": ["update-wrapped"]}).raise_for_status()
    call(
        "users",
        "PUT",
        "/users/{USER_ID}",
        f"/users/{amy}",
        body={"users": [{"email_id": "amy@zylker.example", "reporting_to_zuid": ben}]},
    )
    call.world.http.post(play, json={"variants": []}).raise_for_status()
    call("users", "GET", "/users/{USER_ID}/teams", f"/users/{amy}/teams")
    call("users", "GET", "/users/layout", "/users/layout", query={"unique_name": "quick_view"})
    return {"amy": amy, "ben": ben, "admin": str(call.world.state()["admin_id"])}


def exercise_departments(call: Caller, ids: dict[str, str]) -> None:
    base = call("departments", "GET", "/departments", "/departments")["data"][0]["id"]
    made = call(
        "departments",
        "POST",
        "/departments",
        "/departments",
        body={"name": "Zylker Support", "lead_zuid": ids["admin"], "parent_department_id": base},
    )
    dept = made["data"]["id"]
    one = "/departments/{DEPARTMENT_ID}"
    members = one + "/members"
    call("departments", "GET", one, f"/departments/{dept}")
    call(
        "departments",
        "PUT",
        one,
        f"/departments/{dept}",
        body={"name": "Zylker Care", "lead_zuid": ids["admin"], "parent_department_id": base},
    )
    call(
        "departments",
        "POST",
        members,
        f"/departments/{dept}/members",
        body={"user_ids": [ids["amy"]]},
    )
    call("departments", "GET", members, f"/departments/{dept}/members")
    call(
        "departments",
        "DELETE",
        members,
        f"/departments/{dept}/members",
        body={"user_ids": [ids["amy"]]},
    )
    call("departments", "DELETE", one, f"/departments/{dept}")


def exercise_designations(call: Caller, ids: dict[str, str]) -> None:
    made = call(
        "designations",
        "POST",
        "/designations",
        "/designations",
        body={"name": "Marketing Executive"},
    )
    desig = made["data"]["id"]
    one = "/designations/{DESIGNATION_ID}"
    members = one + "/members"
    call("designations", "GET", "/designations", "/designations", query={"limit": "10"})
    call("designations", "GET", one, f"/designations/{desig}")
    call("designations", "PUT", one, f"/designations/{desig}", body={"name": "Leaders"})
    call(
        "designations",
        "POST",
        members,
        f"/designations/{desig}/members",
        body={"user_ids": [ids["amy"]]},
    )
    call("designations", "GET", members, f"/designations/{desig}/members", query={"limit": "10"})
    call(
        "designations",
        "DELETE",
        members,
        f"/designations/{desig}/members",
        body={"user_ids": [ids["amy"]]},
    )
    call("designations", "DELETE", one, f"/designations/{desig}")


def exercise_roles(call: Caller, ids: dict[str, str]) -> None:
    roles = call("roles", "GET", "/profiles", "/profiles")["data"]
    members = next(r["id"] for r in roles if r["name"] == "Members")
    made = call(
        "roles",
        "POST",
        "/profiles",
        "/profiles",
        body={"name": "Marketing", "profile_type": "Members", "clone_id": members},
    )
    role = made["data"]["id"]
    one = "/profiles/{PROFILE_ID}"
    call("roles", "GET", one, f"/profiles/{role}")
    call(
        "roles",
        "PUT",
        one,
        f"/profiles/{role}",
        body={"name": "Product Marketing", "description": "Marketing team"},
    )
    before = call("roles", "GET", one + "/permissions", f"/profiles/{role}/permissions")
    assert before["organisation_member"]["actions"]["attachments"] == "enabled"
    change = {
        "list": [
            {"module": "organisation_member", "action": "attachments", "status": "disabled"},
            {
                "module": "direct_message",
                "configs": [
                    {"name": "profile_based_restricted_reply_time_frame", "value": 345600000}
                ],
            },
        ]
    }
    call("roles", "PUT", one + "/permissions", f"/profiles/{role}/permissions", body=change)
    after = call("roles", "GET", one + "/permissions", f"/profiles/{role}/permissions")
    assert after["organisation_member"]["actions"]["attachments"] == "disabled"
    call(
        "roles", "POST", one + "/users", f"/profiles/{role}/users", body={"user_ids": [ids["amy"]]}
    )
    call("roles", "GET", one + "/users", f"/profiles/{role}/users")
    call(
        "roles",
        "DELETE",
        one + "/users",
        f"/profiles/{role}/users",
        body={"user_ids": [ids["amy"]]},
    )
    call("roles", "DELETE", one, f"/profiles/{role}")


def exercise_userfields(call: Caller) -> None:
    made = call(
        "userfields",
        "POST",
        "/userfields",
        "/userfields",
        body={
            "name": "Vaccinated",
            "type": "drop_down",
            "options": ["Yes", "No", "Prefer not to say"],
        },
    )
    field_id = made["data"]["id"]
    one = "/userfields/{FIELD_ID}"
    call("userfields", "GET", "/userfields", "/userfields")
    fetched = call("userfields", "GET", one, f"/userfields/{field_id}")
    options = fetched.get("data", {}).get("options", [])
    call(
        "userfields",
        "PUT",
        one,
        f"/userfields/{field_id}",
        body={
            "name": "Vaccinated?",
            "options": [{"id": o["id"], "name": o["name"] + "!"} for o in options],
        },
    )
    call("userfields", "DELETE", one, f"/userfields/{field_id}")


def exercise_statuses(call: Caller, ids: dict[str, str]) -> None:
    made = call(
        "usersstatus",
        "POST",
        "/statuses",
        "/statuses",
        body={"code": "busy", "message": "In a meeting"},
    )
    status = made["data"]["id"]
    call("usersstatus", "GET", "/statuses", "/statuses")
    later = int(call.world.clock.now() * 1000) + 3_600_000
    call(
        "usersstatus",
        "PUT",
        "/statuses/ephemeral",
        "/statuses/ephemeral",
        body={"code": "busy", "message": "Flying", "expiry": later},
    )
    call("usersstatus", "GET", "/statuses/current", "/statuses/current")
    call("usersstatus", "DELETE", "/statuses/ephemeral", "/statuses/ephemeral")
    call("usersstatus", "PUT", "/statuses/{STATUS_ID}/set", f"/statuses/{status}/set")
    call(
        "usersstatus",
        "GET",
        "/users/{USER_ID}",
        f"/users/{ids['amy']}",
        query={"fields": "chat_status"},
    )
    call("usersstatus", "DELETE", "/statuses/{STATUS_ID}", f"/statuses/{status}")


def test_every_documented_operation_answers_in_the_documented_shape(call: Caller) -> None:
    ids = exercise_users(call)
    exercise_departments(call, ids)
    exercise_designations(call, ids)
    exercise_roles(call, ids)
    exercise_userfields(call)
    exercise_statuses(call, ids)
    documented = {
        (name, method.upper(), template)
        for name, spec in call.specs.items()
        for template, ops in spec.doc["paths"].items()
        for method in ops
    }
    assert documented - call.covered == set(), "documented operations with no call here"
    assert call.failures == [], "\n".join(call.failures)
