"""The emulator's BambooHR, in process on a virtual clock: paging, fields, changed-since,
authentication, throttling, faults and variants, and answers checked against BambooHR's own
OpenAPI document (docs/readings/bamboohr.md says where each behaviour comes from)."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.clock import VirtualClock
from hrsync.emulator.app import Emulator
from hrsync.emulator.transport import mock_transport

HOST = "http://127.0.0.1:9"
API = f"{HOST}/bamboohr/acme/api/v1"
CONTROL = f"{HOST}/_emulator/hr/bamboohr"
JSON = {"Accept": "application/json"}
DOCUMENT = Path(__file__).resolve().parents[3] / "shared/external/hr-apis/bamboohr/public.yaml"


def basic(key: str, password: str = "x") -> httpx.BasicAuth:
    return httpx.BasicAuth(key, password)


@dataclass
class Bamboo:
    """An emulator with one company (acme), a full-access key, and helpers."""

    emu: Emulator
    clock: VirtualClock
    http: httpx.Client

    def seed(self, *records: dict[str, Any]) -> list[str]:
        answer = self.http.post(f"{CONTROL}/employees", json=list(records))
        assert answer.status_code == 200, answer.text
        ids: list[str] = answer.json()["ids"]
        return ids

    def control(self, method: str, name: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, f"{CONTROL}/{name}", json=body)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("auth", basic("k1"))
        return self.http.get(f"{API}{path}", **kwargs)

    def play(self, *variants: str) -> None:
        answer = self.http.post(f"{HOST}/_emulator/variants", json={"variants": list(variants)})
        assert answer.status_code == 200, answer.text


def person(n: int, **more: Any) -> dict[str, Any]:
    return {
        "employeeNumber": f"E{n:03}",
        "firstName": f"First{n}",
        "lastName": f"Last{n}",
        "workEmail": f"p{n}@acme.example",
        "department": "Sales" if n % 2 else "Engineering",
        "jobTitle": "Engineer",
        "status": "Active",
        "hireDate": "2024-01-15",
        **more,
    }


@pytest.fixture
def bamboo() -> Iterator[Bamboo]:
    clock = VirtualClock()
    emu = Emulator(clock)
    with httpx.Client(transport=mock_transport(emu)) as http:
        world = Bamboo(emu, clock, http)
        assert world.control("POST", "keys", {"key": "k1", "company": "acme"}).status_code == 200
        yield world


def every_page(bamboo: Bamboo, url: str) -> list[dict[str, Any]]:
    pages = []
    while url:
        answer = bamboo.http.get(url, auth=basic("k1"))
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        url = answer.json()["_links"].get("next", {}).get("href", "")
        assert len(pages) < 50
    return pages


def test_the_list_pages_to_the_end_by_its_cursors(bamboo: Bamboo) -> None:
    bamboo.seed(*(person(n) for n in range(1, 8)))
    pages = every_page(bamboo, f"{API}/employees?page%5Blimit%5D=3")
    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    assert [e["employeeId"] for p in pages for e in p["data"]] == [str(n) for n in range(1, 8)]
    assert {p["meta"]["total"] for p in pages} == {7}
    assert pages[0]["meta"]["page"]["prevCursor"] is None
    assert pages[-1]["meta"]["page"]["nextCursor"] is None
    cursor = pages[0]["meta"]["page"]["nextCursor"]
    assert base64.b64decode(cursor) == b'{"cursor": "after-3"}'  # as the document's example
    back = bamboo.get("/employees", params={"page[before]": pages[1]["meta"]["page"]["prevCursor"]})
    assert [e["employeeId"] for e in back.json()["data"]] == ["1", "2", "3"]
    first = pages[0]["data"][0]
    assert first == {
        "employeeId": "1",
        "firstName": "First1",
        "lastName": "Last1",
        "preferredName": None,
        "photoUrl": None,
        "jobTitleName": "Engineer",
        "status": "Active",
        "_restrictedFields": [],
    }


def test_the_list_adds_the_fields_asked_and_ignores_unknown_ones(bamboo: Bamboo) -> None:
    boss, _ = bamboo.seed(person(1), person(2, supervisorEId="1", customShirtSize="M"))
    fields = "workEmail,departmentName,departmentId,reportsToId,reportsToName,birthDate,nope"
    data = bamboo.get("/employees", params={"fields": fields}).json()["data"]
    assert data[1]["workEmail"] == "p2@acme.example"
    assert data[1]["departmentName"] == "Engineering" and data[1]["departmentId"] == "2"
    assert (data[1]["reportsToId"], data[1]["reportsToName"]) == (boss, "Last1, First1")
    assert data[1]["birthDate"] is None  # the list writes an empty date as null
    assert "nope" not in data[1] and "customShirtSize" not in data[1]


def test_the_list_filters_by_ids_and_status(bamboo: Bamboo) -> None:
    bamboo.seed(*(person(n) for n in range(1, 6)), person(6, status="Inactive"))
    repeated = [("filter[ids][]", "2"), ("filter[ids][]", "6")]
    assert [e["employeeId"] for e in bamboo.get("/employees", params=repeated).json()["data"]] == [
        "2",
        "6",
    ]
    comma = bamboo.get("/employees", params={"filter[ids]": "3,4"}).json()
    assert [e["employeeId"] for e in comma["data"]] == ["3", "4"] and comma["meta"]["total"] == 2
    inactive = bamboo.get("/employees", params={"filter[status]": "inactive"}).json()["data"]
    assert [e["employeeId"] for e in inactive] == ["6"]
    refused = bamboo.get("/employees", params={"filter[status]": "gone"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "BadRequest")
    assert bamboo.get("/employees", params={"filter[ids]": "a"}).status_code == 400


def test_the_page_size_is_bounded_as_the_document_says(bamboo: Bamboo) -> None:
    bamboo.seed(*(person(n) for n in range(1, 4)))
    for limit in ("0", "2501", "x"):
        refused = bamboo.get("/employees", params={"page[limit]": limit})
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "BadRequest"
    assert bamboo.get("/employees", params={"page[limit]": "2500"}).status_code == 200
    assert bamboo.get("/employees").json()["meta"]["page"]["limit"] == 250
    bamboo.play("bamboohr-page-limit-100")
    assert bamboo.get("/employees", params={"page[limit]": "101"}).status_code == 400
    assert bamboo.get("/employees").json()["meta"]["page"]["limit"] == 50


def test_a_stale_or_foreign_cursor_is_a_bad_page(bamboo: Bamboo) -> None:
    bamboo.seed(*(person(n) for n in range(1, 6)))
    first = bamboo.get("/employees", params={"page[limit]": "2"}).json()
    after = first["meta"]["page"]["nextCursor"]
    second = bamboo.get("/employees", params={"page[limit]": "2", "page[after]": after}).json()
    before = second["meta"]["page"]["prevCursor"]
    for params in ({"page[after]": "not-a-cursor"}, {"page[after]": before}):
        refused = bamboo.get("/employees", params=params)
        assert (refused.status_code, refused.json()["error"]["code"]) == (400, "BadPage")
    bamboo.control("DELETE", "employees/2")  # the cursor's boundary employee
    refused = bamboo.get("/employees", params={"page[after]": after})
    assert refused.json()["error"]["code"] == "BadPage"


def changed(bamboo: Bamboo, since: str, **params: str) -> dict[str, Any]:
    answer = bamboo.get("/employees/changed", params={"since": since, **params}, headers=JSON)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_changed_since_lists_inserted_updated_and_deleted_ids(bamboo: Bamboo) -> None:
    bamboo.seed(person(1), person(2), person(3))  # 2026-01-01T00:00:00
    bamboo.clock.advance(60)
    bamboo.seed({"id": "1", "jobTitle": "Lead"}, person(4))
    bamboo.control("DELETE", "employees/3")
    answer = changed(bamboo, "2026-01-01T00:00:00Z")
    assert answer["latest"] == "2026-01-01T00:01:00+00:00"
    assert answer["employees"] == {
        "1": {"id": "1", "action": "Updated", "lastChanged": "2026-01-01T00:01:00+00:00"},
        "4": {"id": "4", "action": "Inserted", "lastChanged": "2026-01-01T00:01:00+00:00"},
        "3": {"id": "3", "action": "Deleted", "lastChanged": "2026-01-01T00:01:00+00:00"},
    }
    assert set(changed(bamboo, "2025-12-31T23:59:59+0000")["employees"]) == {"1", "2", "4", "3"}
    only = changed(bamboo, "2026-01-01T00:00:00+00:00", type="deleted")["employees"]
    assert list(only) == ["3"]
    # "since" is exclusive, to the second: the latest time given back lists nothing more
    assert changed(bamboo, answer["latest"]) == {"latest": answer["latest"], "employees": {}}
    for since in ("", "yesterday"):
        assert bamboo.get("/employees/changed", params={"since": since}).status_code == 400
    bad_type = bamboo.get("/employees/changed", params={"since": answer["latest"], "type": "x"})
    assert bad_type.status_code == 400


def test_changed_answers_xml_unless_json_is_asked(bamboo: Bamboo) -> None:
    bamboo.seed(person(1))
    answer = bamboo.get("/employees/changed", params={"since": "2025-01-01T00:00:00Z"})
    assert answer.headers["content-type"] == "application/xml"
    root = ET.fromstring(answer.content)
    assert root.tag == "employees" and root.get("latest") == "2026-01-01T00:00:00+00:00"
    assert [(e.get("id"), e.get("action")) for e in root] == [("1", "Inserted")]


def test_variant_changed_omits_deleted_unless_asked(bamboo: Bamboo) -> None:
    bamboo.seed(person(1), person(2))
    bamboo.clock.advance(5)
    bamboo.control("DELETE", "employees/2")
    bamboo.play("bamboohr-changed-omits-deleted")
    assert list(changed(bamboo, "2025-01-01T00:00:00Z")["employees"]) == ["1"]
    assert list(changed(bamboo, "2025-01-01T00:00:00Z", type="deleted")["employees"]) == ["2"]


def test_a_key_is_the_basic_user_name_and_needs_access(bamboo: Bamboo) -> None:
    bamboo.seed(person(1))
    assert bamboo.get("/employees/1", auth=basic("k1", "anything")).status_code == 200
    assert bamboo.http.get(f"{API}/employees/1").status_code == 401
    wrong = bamboo.get("/employees/1", auth=basic("nope"))
    assert wrong.status_code == 401 and wrong.headers["x-bamboohr-error-message"]
    bamboo.control("POST", "keys", {"key": "k2", "company": "other"})
    assert bamboo.get("/employees/1", auth=basic("k2")).status_code == 401
    bamboo.control("POST", "keys", {"key": "k3", "company": "acme", "access": "none"})
    assert bamboo.get("/employees/1", auth=basic("k3")).status_code == 403
    bamboo.control("DELETE", "keys/k1")
    assert bamboo.get("/employees/1").status_code == 401
    assert bamboo.http.get(f"{HOST}/_emulator/stats").json()["hr"]["bamboohr"]["refused"] == {
        "401": 4,
        "403": 1,
    }


def test_calls_over_the_rolling_minute_get_429_with_retry_after(bamboo: Bamboo) -> None:
    bamboo.seed(person(1))
    assert bamboo.control("POST", "limits", {"per_minute": 3}).json() == {"per_minute": 3}
    for _ in range(3):
        assert bamboo.get("/employees/1").status_code == 200
        bamboo.clock.advance(10)
    throttled = bamboo.get("/employees/1")
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "30"
    bamboo.clock.advance(30)
    assert bamboo.get("/employees/1").status_code == 200
    bamboo.play("bamboohr-throttle-503")
    throttled = bamboo.get("/employees/1")
    assert throttled.status_code == 503 and int(throttled.headers["retry-after"]) >= 1


def test_faults_truncate_fail_throttle_and_slow_the_next_calls(bamboo: Bamboo) -> None:
    bamboo.seed(*(person(n) for n in range(1, 6)))
    bamboo.control("POST", "faults", {"mode": "truncate", "endpoint": "employees.list"})
    short = bamboo.get("/employees", params={"page[limit]": "3"}).json()
    assert len(short["data"]) == 2 and short["meta"]["total"] == 5
    rest = every_page(bamboo, short["_links"]["next"]["href"])
    assert [e["employeeId"] for p in rest for e in p["data"]] == ["4", "5"]  # 3 is lost
    bamboo.control("POST", "faults", {"mode": "truncate", "style": "end"})
    ended = bamboo.get("/employees", params={"page[limit]": "3"}).json()
    assert len(ended["data"]) == 3 and ended["meta"]["page"]["nextCursor"] is None
    assert "next" not in ended["_links"] and ended["meta"]["total"] == 5
    bamboo.control("POST", "faults", [{"mode": "error_500"}])
    assert bamboo.get("/employees/1").status_code == 500
    assert bamboo.get("/employees/1").status_code == 200
    bamboo.control("POST", "faults", {"mode": "throttle", "count": 2, "retry_after": 7})
    for _ in range(2):
        answer = bamboo.get("/employees/1")
        assert (answer.status_code, answer.headers["retry-after"]) == (429, "7")
    assert bamboo.get("/employees/1").status_code == 200
    bamboo.control("POST", "faults", {"mode": "slow", "delay": 5})
    with pytest.raises(httpx.ReadTimeout):
        bamboo.get("/employees/1")
    stats = bamboo.http.get(f"{HOST}/_emulator/stats").json()["hr"]["bamboohr"]
    assert stats["faults_injected"] == {"truncate": 2, "error_500": 1, "throttle": 2, "slow": 1}
    assert bamboo.control("POST", "faults", {"mode": "flood"}).status_code == 400


def test_get_employee_answers_the_fields_asked_in_classic_form(bamboo: Bamboo) -> None:
    boss, worker = bamboo.seed(
        person(1, employeeNumber="100"),
        person(2, supervisorEId="1", customShirtSize="M", mobilePhone="+1 555"),
    )
    bamboo.control("POST", "keys", {"key": "mine", "company": "acme", "employee_id": worker})
    fields = "firstName,terminationDate,dateOfBirth,supervisorEId,supervisorId,supervisor,"
    fields += "customShirtSize,status,jobTitleName,mobilePhone,unknownField"
    answer = bamboo.get(f"/employees/{worker}", params={"fields": fields}, headers=JSON).json()
    assert answer == {
        "id": worker,
        "firstName": "First2",
        "terminationDate": "0000-00-00",
        "dateOfBirth": "0000-00-00",
        "supervisorEId": boss,
        "supervisorId": "100",  # the manager's employee number
        "supervisor": "Last1, First1",
        "customShirtSize": "M",
        "status": "Active",
        "jobTitleName": "Engineer",
        "mobilePhone": "+1 555",
    }
    own = bamboo.get("/employees/0", auth=basic("mine"), headers=JSON).json()
    assert own == {"id": worker, "firstName": "First2", "lastName": "Last2"}
    xml = ET.fromstring(bamboo.get(f"/employees/{boss}").content)
    assert xml.tag == "employee" and [(f.get("id"), f.text) for f in xml] == [
        ("firstName", "First1"),
        ("lastName", "Last1"),
    ]
    assert bamboo.get("/employees/99").status_code == 404
    many = ",".join(f"f{n}" for n in range(401))
    assert bamboo.get(f"/employees/{boss}", params={"fields": many}).status_code == 400


def test_the_directory_lists_active_employees_only(bamboo: Bamboo) -> None:
    assert bamboo.get("/employees/directory").status_code == 404  # empty
    bamboo.seed(person(1), person(2, status="Inactive"))
    answer = bamboo.get("/employees/directory", headers=JSON).json()
    assert [e["id"] for e in answer["employees"]] == ["1"]
    assert answer["employees"][0]["displayName"] == "First1 Last1"
    assert {f["id"] for f in answer["fields"]} >= {"workEmail", "department", "supervisor"}
    xml = ET.fromstring(bamboo.get("/employees/directory").content)
    assert xml.tag == "directory" and [e.get("id") for e in xml.iter("employee")] == ["1"]


def report(bamboo: Bamboo, body: Any, **kwargs: Any) -> httpx.Response:
    kwargs.setdefault("params", {"format": "json"})
    return bamboo.http.post(f"{API}/reports/custom", json=body, auth=basic("k1"), **kwargs)


def test_the_custom_report_has_every_employee_with_the_fields_chosen(bamboo: Bamboo) -> None:
    bamboo.seed(person(1), person(2, status="Inactive", terminationDate="2025-06-30"))
    fields = ["firstName", "status", "terminationDate", "nope"]
    answer = report(bamboo, {"title": "Sync", "fields": fields}).json()
    assert answer["title"] == "Sync" and [f["id"] for f in answer["fields"]] == fields[:3]
    assert answer["employees"] == [
        {"id": "1", "firstName": "First1", "status": "Active", "terminationDate": "0000-00-00"},
        {"id": "2", "firstName": "First2", "status": "Inactive", "terminationDate": "2025-06-30"},
    ]
    chosen = report(bamboo, {"fields": ["firstName"], "filters": {"employeeIds": [2]}}).json()
    assert [e["id"] for e in chosen["employees"]] == ["2"]
    no_format = report(bamboo, {"fields": ["firstName"]}, params={}, headers={"Accept": "*/*"})
    assert no_format.status_code == 404
    by_accept = report(bamboo, {"fields": ["firstName"]}, params={}, headers=JSON)
    assert by_accept.status_code == 200
    as_text = bamboo.http.post(
        f"{API}/reports/custom?format=json",
        content=b'{"fields": ["firstName"]}',
        headers={"Content-Type": "application/json; charset=UTF-8"},
        auth=basic("k1"),
    )
    assert as_text.status_code == 400  # not exactly application/json: read as XML
    xml_body = b'<report><fields><field id="lastName"/></fields></report>'
    as_xml = bamboo.http.post(
        f"{API}/reports/custom?format=csv", content=xml_body, auth=basic("k1")
    )
    assert as_xml.text.splitlines() == ["id,Last Name", "1,Last1", "2,Last2"]


def test_meta_fields_lists_custom_fields_with_their_alias(bamboo: Bamboo) -> None:
    bamboo.seed(person(1, customShirtSize="L"))
    fields = bamboo.get("/meta/fields", headers=JSON).json()
    by_alias = {f["alias"]: f for f in fields}
    assert by_alias["customShirtSize"]["id"] == 4000 and by_alias["firstName"]["type"] == "text"
    by_id = bamboo.get("/employees/1", params={"fields": "4000"}, headers=JSON).json()
    assert by_id == {"id": "1", "4000": "L"}
    assert ET.fromstring(bamboo.get("/meta/fields").content).tag == "fields"


def test_the_gateway_form_reaches_the_same_endpoints(bamboo: Bamboo) -> None:
    bamboo.seed(person(1))
    url = f"{HOST}/bamboohr/api/gateway.php/acme/v1/employees/1"
    answer = bamboo.http.get(url, auth=basic("k1"), headers=JSON)
    assert answer.json() == {"id": "1", "firstName": "First1", "lastName": "Last1"}
    assert bamboo.http.get(f"{HOST}/bamboohr/acme/api/v2/x", auth=basic("k1")).status_code == 404
    wrong_method = bamboo.http.delete(f"{API}/employees/directory", auth=basic("k1"))
    assert wrong_method.status_code == 405


def test_variant_json_by_default(bamboo: Bamboo) -> None:
    bamboo.seed(person(1))
    bamboo.play("bamboohr-json-by-default")
    assert bamboo.get("/employees/1").json()["id"] == "1"
    xml = bamboo.get("/employees/1", headers={"Accept": "application/xml"})
    assert ET.fromstring(xml.content).tag == "employee"


def test_variant_list_oauth_only_leaves_the_key_the_older_endpoints(bamboo: Bamboo) -> None:
    bamboo.seed(person(1))
    bamboo.play("bamboohr-list-oauth-only")
    assert bamboo.get("/employees").status_code == 401
    assert report(bamboo, {"fields": ["firstName"]}).status_code == 200


def test_state_shows_companies_keys_and_deletions(bamboo: Bamboo) -> None:
    bamboo.seed(person(1), person(2))
    bamboo.control("DELETE", "employees/2")
    state = bamboo.http.get(f"{HOST}/_emulator/state").json()["hr"]["bamboohr"]
    acme = state["companies"]["acme"]
    assert [e["id"] for e in acme["employees"]] == ["1"] and list(acme["deleted"]) == ["2"]
    assert state["keys"][0]["key"] == "k1" and state["per_minute"] == 100
    assert bamboo.control("GET", "employees").json()["employees"][0]["firstName"] == "First1"
    assert bamboo.control("DELETE", "employees/9").status_code == 404


# --- answers against BambooHR's OpenAPI document ---------------------------------------


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    if not DOCUMENT.is_file():
        pytest.skip(f"BambooHR's OpenAPI document is not at {DOCUMENT}")
    import yaml

    loaded: dict[str, Any] = yaml.safe_load(DOCUMENT.read_text())
    return loaded


def response_schema(doc: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    content = doc["paths"][path][method]["responses"][status]["content"]
    schema: dict[str, Any] = content["application/json"]["schema"]
    return schema


def validate(doc: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """``instance`` against ``schema``, its ``$ref``s resolved inside the document."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    rooted = Resource({**doc, "x": schema}, DRAFT202012)  # "#/components/..." resolve in it
    registry: Registry[Any] = Registry().with_resource("urn:bamboohr", rooted)
    validator = jsonschema.Draft202012Validator({"$ref": "urn:bamboohr#/x"}, registry=registry)
    validator.validate(instance)


def test_answers_validate_against_the_document(bamboo: Bamboo, document: dict[str, Any]) -> None:
    bamboo.seed(person(1), person(2, supervisorEId="1", customShirtSize="S"))
    bamboo.clock.advance(1)
    bamboo.control("DELETE", "employees/1")
    bamboo.seed(person(3, status="Inactive"))
    fields = "workEmail,hireDate,departmentId,reportsToId,birthDate"
    listed = bamboo.get("/employees", params={"fields": fields, "page[limit]": "1"}).json()
    validate(document, response_schema(document, "/api/v1/employees", "get", "200"), listed)
    bad = bamboo.get("/employees", params={"page[after]": "x"}).json()
    validate(document, response_schema(document, "/api/v1/employees", "get", "400"), bad)
    since = changed(bamboo, "2025-01-01T00:00:00Z")
    validate(document, response_schema(document, "/api/v1/employees/changed", "get", "200"), since)
    one = bamboo.get("/employees/2", params={"fields": "firstName,status,hireDate"}, headers=JSON)
    validate(
        document, response_schema(document, "/api/v1/employees/{id}", "get", "200"), one.json()
    )
    directory = bamboo.get("/employees/directory", headers=JSON).json()
    path = "/api/v1/employees/directory"
    validate(document, response_schema(document, path, "get", "200"), directory)
    custom = report(bamboo, {"fields": ["firstName", "supervisorEId", "hireDate"]}).json()
    validate(document, response_schema(document, "/api/v1/reports/custom", "post", "200"), custom)
    meta = bamboo.get("/meta/fields", headers=JSON).json()
    validate(document, response_schema(document, "/api/v1/meta/fields", "get", "200"), meta)
