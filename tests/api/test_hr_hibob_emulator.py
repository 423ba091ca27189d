"""The emulator's HiBob (Bob) API, in process: reads as Bob documents them, service users,
rate limits, faults, signed webhook deliveries, each variant, and answers that validate
against HiBob's own OpenAPI document (docs/readings/hibob.md)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from hrsync.clock import VirtualClock
from hrsync.emulator.app import Emulator
from hrsync.emulator.hr.hibob import VARIANTS
from hrsync.emulator.transport import mock_transport

API = "/hibob/v1"
CONTROL = "/_emulator/hr/hibob"
DOCUMENT = Path(__file__).resolve().parents[3] / "shared/external/hr-apis/hibob/openapi.yaml"


class Bob:
    """An in-process emulator and a client holding the ready-made service user."""

    def __init__(self, *variants: str) -> None:
        self.clock = VirtualClock()
        self.emulator = Emulator(self.clock, variants=variants)
        self.http = httpx.Client(transport=mock_transport(self.emulator), base_url="http://emu")
        user = self.control("GET", "service-users")["serviceUsers"][0]
        self.auth = (user["id"], user["token"])

    def control(self, method: str, name: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, f"{CONTROL}/{name}", **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def search(self, body: dict[str, Any], **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("auth", self.auth)
        return self.http.post(f"{API}/people/search", json=body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("auth", self.auth)
        return self.http.get(f"{API}{path}", **kwargs)

    def seed(self) -> dict[str, str]:
        """A CTO, an engineer reporting to her, and a leaver: their IDs by first name."""
        cto = {
            "email": "ann@example.com",
            "firstName": "Ann",
            "surname": "Lee",
            "work": {
                "department": "Engineering",
                "title": "CTO",
                "site": "London",
                "startDate": "2024-01-02",
                "employeeIdInCompany": 1,
            },
            "about": {"hobbies": ["Chess"]},
        }
        [ann] = self.control("POST", "employees", json=[cto])["employees"]
        engineer = {
            "root": {"email": "bo@example.com", "firstName": "Bo", "surname": "Ray"},
            "work": {"department": "Engineering", "title": "Engineer", "reportsTo": ann},
            "payroll_custom": {"costCenter": "CC-7"},
        }
        leaver = {
            "email": "cy@example.com",
            "firstName": "Cy",
            "surname": "Old",
            "work": {"department": "Sales", "site": "Paris"},
            "internal": {"status": "Inactive", "terminationDate": "2025-12-31"},
        }
        bo, cy = self.control("POST", "employees", json=[engineer, leaver])["employees"]
        return {"Ann": ann, "Bo": bo, "Cy": cy}


@pytest.fixture
def bob() -> Iterator[Bob]:
    world = Bob()
    yield world
    world.http.close()


FIELDS = [
    "root.id",
    "root.email",
    "root.firstName",
    "root.surname",
    "root.displayName",
    "work.department",
    "work.title",
    "work.site",
    "work.reportsTo",
    "work.startDate",
    "work.employeeIdInCompany",
    "internal.status",
    "internal.terminationDate",
    "payroll_custom.costCenter",
]


def by_email(answer: httpx.Response) -> dict[str, dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    return {e["email"]: e for e in answer.json()["employees"]}


def items(bob: Bob, list_name: str) -> dict[str, str]:
    """A named list's items, name by ID (as text)."""
    answer = bob.get(f"/company/named-lists/{list_name}").json()
    return {str(i["id"]): i["name"] for i in answer["items"]}


def test_a_search_answers_the_fields_asked_nested_and_by_slash_path(bob: Bob) -> None:
    ids = bob.seed()
    found = by_email(bob.search({"fields": FIELDS}))
    assert set(found) == {"ann@example.com", "bo@example.com"}  # the leaver is inactive
    bo = found["bo@example.com"]
    assert bo["id"] == ids["Bo"] and bo["/root/id"] == {"value": ids["Bo"]}
    assert bo["displayName"] == "Bo Ray"
    departments = items(bob, "department")
    assert departments[bo["work"]["department"]] == "Engineering"  # an item ID, resolvable
    assert bo["/work/department"] == {"value": bo["work"]["department"]}
    assert items(bob, "title")[bo["work"]["title"]] == "Engineer"
    manager = bo["work"]["reportsTo"]
    assert manager == {
        "id": ids["Ann"],
        "email": "ann@example.com",
        "firstName": "Ann",
        "surname": "Lee",
        "displayName": "Ann Lee",
    }
    assert bo["payroll_custom"] == {"costCenter": "CC-7"}  # a custom category
    assert "site" not in bo["work"] and bo["/work/site"] == {"value": None}  # empty: null
    assert found["ann@example.com"]["work"]["startDate"] == "2024-01-02"
    assert found["ann@example.com"]["internal"] == {"status": "Active"}


def test_human_readable_replace_and_append(bob: Bob) -> None:
    bob.seed()
    fields = ["root.email", "work.department", "work.startDate", "about.hobbies"]
    replaced = by_email(bob.search({"fields": fields, "humanReadable": "REPLACE"}))
    ann = replaced["ann@example.com"]
    assert ann["work"] == {"department": "Engineering", "startDate": "02/01/2024"}
    assert ann["/work/department"] == {"value": "Engineering"}
    assert ann["about"] == {"hobbies": ["Chess"]} and "humanReadable" not in ann
    appended = by_email(bob.search({"fields": fields, "humanReadable": "APPEND"}))
    ann = appended["ann@example.com"]
    assert ann["work"]["department"].isdigit() and ann["work"]["startDate"] == "2024-01-02"
    assert ann["humanReadable"]["work"] == {"department": "Engineering", "startDate": "02/01/2024"}
    assert ann["humanReadable"]["email"] == "ann@example.com"
    # Another text is "not sent": the document's own example sends "humanReadable".
    plain = by_email(bob.search({"fields": fields, "humanReadable": "humanReadable"}))
    assert plain["ann@example.com"]["work"]["department"].isdigit()


def test_show_inactive_and_the_one_filter(bob: Bob) -> None:
    ids = bob.seed()
    everyone = by_email(bob.search({"fields": ["root.email"], "showInactive": True}))
    assert set(everyone) == {"ann@example.com", "bo@example.com", "cy@example.com"}
    by_id = {"fieldPath": "root.id", "operator": "equals", "values": [ids["Cy"], ids["Bo"]]}
    assert set(by_email(bob.search({"fields": ["root.email"], "filters": [by_id]}))) == {
        "bo@example.com"
    }
    by_mail = {"fieldPath": "root.email", "operator": "equals", "values": ["ANN@example.com"]}
    assert set(by_email(bob.search({"fields": ["root.email"], "filters": [by_mail]}))) == {
        "ann@example.com"
    }
    for bad in (
        {"filters": [by_id, by_mail]},
        {"filters": [{**by_id, "operator": "contains"}]},
        {"filters": [{**by_id, "fieldPath": "work.site"}]},
        {"filters": [{**by_id, "values": []}]},
        {"showInactive": "yes"},
        {"fields": "root.id"},
        {"fields": None},
        {"filters": None},
        {"humanReadable": None},
        {"fields": [f"custom.f{n}" for n in range(401)]},
    ):
        refused = bob.search(bad)
        assert refused.status_code == 400 and set(refused.json()) == {"error", "key"}
    assert bob.http.post(f"{API}/people/search", content=b"{", auth=bob.auth).status_code == 400


def test_without_fields_a_read_answers_the_basic_fields_and_categories(bob: Bob) -> None:
    bob.seed()
    ann = by_email(bob.search({}))["ann@example.com"]
    assert {"id", "email", "firstName", "surname", "displayName", "companyId"} <= set(ann)
    assert "department" in ann["work"] and "hobbies" in ann["about"]
    assert "internal" not in ann  # not a basic category


def test_one_employee_by_id_or_email(bob: Bob) -> None:
    ids = bob.seed()
    posted = bob.http.post(
        f"{API}/people/bo@example.com", json={"fields": ["root.id", "work.title"]}, auth=bob.auth
    )
    assert posted.status_code == 200 and posted.json()["id"] == ids["Bo"]
    query = [("fields", "root.email"), ("fields", "work.title"), ("humanReadable", "true")]
    got = bob.get(f"/people/{ids['Bo']}", params=query).json()
    assert got["email"] == "bo@example.com" and got["work"] == {"title": "Engineer"}
    assert bob.get("/people/nobody@example.com").status_code == 404
    assert bob.get(f"/people/{ids['Bo']}", params={"humanReadable": "yes"}).status_code == 400
    deleted = bob.http.delete(f"{API}/people/{ids['Bo']}", auth=bob.auth)
    assert deleted.status_code == 405 and deleted.headers["allow"] == "GET, POST"
    options = bob.http.options(f"{API}/people/search", auth=bob.auth)
    assert options.status_code == 405 and options.headers["allow"] == "POST"


def test_fields_metadata_and_named_lists_resolve_list_ids(bob: Bob) -> None:
    bob.seed()
    fields = {f["id"]: f for f in bob.get("/company/people/fields").json()}
    assert fields["work.department"]["typeData"] == {"listId": "department"}
    assert fields["work.department"]["type"] == "list"
    assert fields["payroll_custom.costCenter"]["category"] == "payroll_custom"
    lists = {named["name"] for named in bob.get("/company/named-lists").json()}
    assert {"department", "site", "title"} <= lists
    assert set(items(bob, "site").values()) == {"London", "Paris"}
    missing = bob.get("/company/named-lists/nope")
    assert missing.status_code == 404 and missing.content == b""


def test_credentials_are_checked(bob: Bob) -> None:
    user_id, token = bob.auth
    for auth in ((user_id, "wrong"), ("nobody", token)):
        refused = bob.search({}, auth=auth)
        assert refused.status_code == 401 and refused.json()["key"] == "unauthorized"
    assert bob.http.post(f"{API}/people/search", json={}).status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    assert bob.http.post(f"{API}/people/search", json={}, headers=bearer).status_code == 401
    bob.control("DELETE", f"service-users/{user_id}")
    assert bob.search({}).status_code == 401


def test_a_service_user_sees_only_the_categories_it_may_view(bob: Bob) -> None:
    bob.seed()
    bob.control(
        "POST", "service-users", json={"id": "SU-2", "token": "t2", "permissions": ["root"]}
    )
    found = by_email(bob.search({"fields": FIELDS}, auth=("SU-2", "t2")))
    assert "work" not in found["bo@example.com"] and "/work/title" not in found["bo@example.com"]
    assert found["bo@example.com"]["firstName"] == "Bo"


def test_the_documented_limit_throttles_the_51st_search_in_a_minute(bob: Bob) -> None:
    for _ in range(50):
        assert bob.search({}).status_code == 200
    throttled = bob.search({})
    assert throttled.status_code == 429 and throttled.json()["key"] == "rate_limit_exceeded"
    assert throttled.headers["x-ratelimit-remaining"] == "0"
    assert int(throttled.headers["x-ratelimit-reset"]) == int(bob.clock.now()) + 60
    assert bob.get("/company/people/fields").status_code == 200  # another endpoint's minute
    bob.clock.advance(60)
    assert bob.search({}).status_code == 200
    bob.control("POST", "limits", json={"people.search": 1})
    bob.clock.advance(60)
    assert [bob.search({}).status_code for _ in range(2)] == [200, 429]
    stats = bob.http.get("/_emulator/stats").json()["hr"]["hibob"]
    assert stats["throttled"] == {"people.search": 2}


def test_faults_throttle_fail_and_truncate(bob: Bob) -> None:
    bob.seed()
    bob.control("POST", "faults", json={"mode": "throttle", "count": 2})
    assert [bob.search({}).status_code for _ in range(3)] == [429, 429, 200]
    bob.control("POST", "faults", json={"mode": "error_500", "endpoint": "fields"})
    assert bob.search({}).status_code == 200
    failed = bob.get("/company/people/fields")
    assert failed.status_code == 500 and set(failed.json()) == {"error", "key"}
    bob.control("POST", "faults", json={"mode": "truncate"})
    assert bob.get("/company/named-lists").status_code == 200  # searches only
    cut = bob.search({"showInactive": True})
    assert cut.status_code == 200
    with pytest.raises(ValueError):
        json.loads(cut.content)
    bob.control("POST", "faults", json={"mode": "truncate", "cut": "employees"})
    assert len(bob.search({"showInactive": True}).json()["employees"]) == 1  # of 3
    assert len(bob.search({"showInactive": True}).json()["employees"]) == 3
    bad = bob.http.post(f"{CONTROL}/faults", json={"mode": "explode"})
    assert bad.status_code == 400


def test_a_webhook_delivery_is_signed_with_the_secret(bob: Bob) -> None:
    ids = bob.seed()
    secret = bob.control("GET", "webhooks")["secret"]
    body = {"type": "employee.updated", "employeeIds": [ids["Bo"]], "fieldIds": ["work.title"]}
    made = bob.control("POST", "webhooks/deliver", json=body)
    expected = hmac.new(secret.encode(), made["body"].encode(), hashlib.sha512).digest()
    assert made["headers"]["Bob-Signature"] == base64.b64encode(expected).decode()
    assert made["headers"]["Content-Type"] == "application/json"
    event = json.loads(made["body"])
    assert event == {
        "companyId": event["companyId"],
        "type": "employee.updated",
        "triggeredBy": "system",
        "triggeredAt": "2026-01-01T00:00:00.000000",
        "version": "v2",
        "data": {"employeeId": ids["Bo"], "fieldUpdates": [{"fieldId": "work.title"}]},
    }
    several = {"type": "employee.created", "employeeIds": [ids["Ann"], ids["Bo"]], "secret": "s"}
    made = bob.control("POST", "webhooks/deliver", json=several)
    assert [json.loads(d["body"])["data"] for d in made["deliveries"]] == [
        {"employeeId": ids["Ann"]},
        {"employeeId": ids["Bo"]},
    ]
    signed = hmac.new(b"s", made["body"].encode(), hashlib.sha512).digest()
    assert made["headers"]["Bob-Signature"] == base64.b64encode(signed).decode()


def test_the_control_api_upserts_deletes_and_shows_employees(bob: Bob) -> None:
    ids = bob.seed()
    bob.clock.advance(30)
    moved = {"id": ids["Bo"], "work": {"department": "Platform"}}
    assert bob.control("POST", "employees", json=[moved])["employees"] == [ids["Bo"]]
    shown = {e["root"]["id"]: e for e in bob.control("GET", "employees")["employees"]}
    assert shown[ids["Bo"]]["work"]["department"] == "Platform"
    assert shown[ids["Bo"]]["work"]["title"] == "Engineer"  # the rest is kept
    assert shown[ids["Bo"]]["modified"] == bob.clock.now()
    bob.control("DELETE", f"employees/{ids['Cy']}")
    assert ids["Cy"] not in {e["root"]["id"] for e in bob.control("GET", "employees")["employees"]}
    refused = bob.http.post(f"{CONTROL}/employees", json=[{"email": "x@example.com"}])
    assert refused.status_code == 400
    state = bob.http.get("/_emulator/state").json()["hr"]["hibob"]
    assert len(state["employees"]) == 2


# The variants, each alone


def test_nested_only_and_slash_only() -> None:
    nested, slash = Bob("hibob-nested-only"), Bob("hibob-slash-only")
    for world in (nested, slash):
        world.seed()
    ann = nested.search({"fields": ["root.id", "work.title"]}).json()["employees"][0]
    assert set(ann) == {"id", "work"}
    ann = slash.search({"fields": ["root.id", "work.title"]}).json()["employees"][0]
    assert set(ann) == {"/root/id", "/work/title"}


def test_list_names_and_textual_item_ids() -> None:
    names, textual = Bob("hibob-list-names"), Bob("hibob-list-ids-textual")
    for world in (names, textual):
        world.seed()
    ann = names.search({"fields": ["work.department", "work.startDate"]}).json()["employees"][0]
    assert ann["work"] == {"department": "Engineering", "startDate": "2024-01-02"}
    departments = textual.get("/company/named-lists/department").json()["items"]
    assert all(isinstance(i["id"], str) for i in departments)


def test_single_wrapped_forbidden_403_and_hex_signature() -> None:
    wrapped = Bob("hibob-single-wrapped")
    ids = wrapped.seed()
    one = wrapped.get(f"/people/{ids['Ann']}", params={"fields": "root.id"}).json()
    assert one == {"employees": [{"id": ids["Ann"], "/root/id": {"value": ids["Ann"]}}]}
    strict = Bob("hibob-forbidden-403")
    strict.seed()
    strict.control(
        "POST", "service-users", json={"id": "SU", "token": "t", "permissions": ["root"]}
    )
    refused = strict.search({"fields": ["root.id", "work.title"]}, auth=("SU", "t"))
    assert refused.status_code == 403 and "work.title" in refused.json()["error"]
    assert strict.search({"fields": ["root.id"]}, auth=("SU", "t")).status_code == 200
    hexed = Bob("hibob-signature-hex")
    ids = hexed.seed()
    made = hexed.control("POST", "webhooks/deliver", json={"employeeIds": [ids["Ann"]]})
    secret = made["secret"].encode()
    digest = hmac.new(secret, made["body"].encode(), hashlib.sha512).hexdigest()
    assert made["headers"]["Bob-Signature"] == digest


def test_every_variant_is_named_for_hibob_and_sourced() -> None:
    assert len(VARIANTS) == 7
    for variant in VARIANTS:
        assert variant.name.startswith("hibob-") and variant.reading is None
        assert variant.default and variant.instead and variant.source


# Answers against HiBob's own document


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    if not DOCUMENT.is_file():
        pytest.skip(f"HiBob's OpenAPI document is not at {DOCUMENT}")
    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def conforms(document: dict[str, Any], path: str, method: str, answer: httpx.Response) -> None:
    """The answer validates against the schema the document gives its status (or default)."""
    responses = document["paths"][path][method]["responses"]
    declared = responses.get(str(answer.status_code)) or responses["default"]
    content = declared.get("content") or {}
    if "application/json" not in content:
        assert answer.content == b"", "the document declares no body"
        return
    resource = Resource.from_contents(document, default_specification=DRAFT7)
    registry: Registry[Any] = Registry().with_resource("urn:hibob", resource)
    schema = content["application/json"]["schema"]
    pointer = {"$ref": "urn:hibob" + schema["$ref"]} if "$ref" in schema else schema
    Draft7Validator(pointer, registry=registry).validate(answer.json())


@pytest.mark.parametrize(
    "variants", [(), ("hibob-nested-only",), ("hibob-slash-only",), ("hibob-single-wrapped",)]
)
def test_answers_validate_against_the_document(
    document: dict[str, Any], variants: tuple[str, ...]
) -> None:
    bob = Bob(*variants)
    ids = bob.seed()
    for mode in (None, "APPEND", "REPLACE"):
        body = {"fields": [*FIELDS, "about.hobbies"], "showInactive": True}
        body |= {"humanReadable": mode} if mode else {}
        conforms(document, "/people/search", "post", bob.search(body))
    conforms(document, "/people/search", "post", bob.search({}))
    one = bob.http.post(f"{API}/people/{ids['Bo']}", json={"fields": FIELDS}, auth=bob.auth)
    conforms(document, "/people/{identifier}", "post", one)
    conforms(document, "/people/{identifier}", "get", bob.get(f"/people/{ids['Ann']}"))
    conforms(document, "/people/{identifier}", "get", bob.get("/people/nobody"))
    conforms(document, "/company/people/fields", "get", bob.get("/company/people/fields"))
    conforms(document, "/company/named-lists", "get", bob.get("/company/named-lists"))
    named = bob.get("/company/named-lists/department")
    conforms(document, "/company/named-lists/{listName}", "get", named)
    conforms(document, "/company/named-lists/{listName}", "get", bob.get("/company/named-lists/x"))
    conforms(document, "/people/search", "post", bob.search({"filters": "x"}))
    conforms(document, "/people/search", "post", bob.search({}, auth=("x", "y")))
