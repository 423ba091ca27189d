"""The emulator's Personio (``/personio/v1``) answers as Personio documents it: the token
flow, paging, ``attributes[]``, ``updated_since``, throttling, faults, each variant, and answers
that validate against the schemas of Personio's own documents (docs/readings/personio.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml

from hrsync.clock import VirtualClock
from hrsync.emulator.app import Emulator
from hrsync.emulator.hr.personio import VARIANTS
from hrsync.emulator.transport import mock_transport

BASE = "http://127.0.0.1:9"
API = f"{BASE}/personio/v1"
CONTROL = f"{BASE}/_emulator/hr/personio"
DOCS = Path(__file__).resolve().parents[3] / "shared" / "external" / "hr-apis" / "personio"


class Personio:
    """An in-process emulator, its virtual clock, and a client's view of its Personio."""

    def __init__(self, *variants: str) -> None:
        self.clock = VirtualClock()
        self.emulator = Emulator(self.clock, variants=variants)
        self.http = httpx.Client(transport=mock_transport(self.emulator))
        self.token = ""

    def control(self, method: str, name: str, **kwargs: Any) -> Any:
        answer = self.http.request(method, f"{CONTROL}/{name}", **kwargs)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def credential(self) -> dict[str, Any]:
        found: dict[str, Any] = self.control("GET", "credentials")["credentials"][0]
        return found

    def seed(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.control("POST", "employees", json=records)["employees"]
        return found

    def authenticate(self) -> str:
        credential = self.credential()
        body = {k: credential[k] for k in ("client_id", "client_secret")}
        answer = self.http.post(f"{API}/auth", json=body)
        assert answer.status_code == 200, answer.text
        self.token = answer.json()["data"]["token"]
        return self.token

    def get(self, path: str, *, token: str | None = None, **params: Any) -> httpx.Response:
        bearer = token if token is not None else (self.token or self.authenticate())
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return self.http.get(f"{API}{path}", params=params, headers=headers)

    def stats(self) -> dict[str, Any]:
        found: dict[str, Any] = self.http.get(f"{BASE}/_emulator/stats").json()["hr"]["personio"]
        return found


@pytest.fixture
def personio() -> Iterator[Personio]:
    world = Personio()
    yield world
    assert world.emulator.unexpected_errors == 0


def people(count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": n,
            "first_name": f"First{n}",
            "last_name": f"Last{n}",
            "email": f"person{n}@example.com",
            "status": "active",
            "department": "Engineering" if n % 2 else "Sales",
            "office": "Munich",
            "hire_date": "2020-03-01",
            "supervisor": 1 if n > 1 else None,
        }
        for n in range(1, count + 1)
    ]


def values(answer: httpx.Response, key: str = "id") -> list[Any]:
    return [e["attributes"][key]["value"] for e in answer.json()["data"]]


def error(answer: httpx.Response) -> tuple[int, dict[str, Any]]:
    return answer.status_code, answer.json()


# --- authentication ----------------------------------------------------------------------------


def test_auth_takes_json_or_form_and_answers_a_stable_token(personio: Personio) -> None:
    credential = personio.credential()
    body = {k: credential[k] for k in ("client_id", "client_secret")}
    first = personio.http.post(f"{API}/auth", json=body)
    again = personio.http.post(f"{API}/auth", data=body)
    assert first.status_code == again.status_code == 200
    data = first.json()["data"]
    assert first.json()["success"] is True
    assert data["token"].startswith("papi-") and data["expires_in"] == 86400
    assert data["scope"] == "employees:read"
    assert again.json()["data"]["token"] == data["token"]  # the same for 24 hours
    personio.clock.advance(86400)
    assert personio.http.post(f"{API}/auth", json=body).json()["data"]["token"] != data["token"]


def test_wrong_missing_or_query_string_credentials_are_refused(personio: Personio) -> None:
    credential = personio.credential()
    wrong = {"client_id": credential["client_id"], "client_secret": "nope"}
    refused = {
        "success": False,
        "error": {"code": 403, "message": "Provided authorization is not valid"},
    }
    assert error(personio.http.post(f"{API}/auth", json=wrong)) == (403, refused)
    assert error(personio.http.post(f"{API}/auth", json={})) == (403, refused)
    in_query = {k: credential[k] for k in ("client_id", "client_secret")}
    assert personio.http.post(f"{API}/auth", params=in_query).status_code == 403


def test_every_call_needs_the_bearer_token_and_gets_it_back(personio: Personio) -> None:
    personio.seed(people(2))
    assert error(personio.get("/company/employees", token="")) == (
        401,
        {"success": False, "error": {"code": 401, "message": "Authorization is not provided"}},
    )
    assert personio.get("/company/employees", token="papi-unknown").status_code == 403
    answer = personio.get("/company/employees")
    assert answer.status_code == 200
    assert answer.headers["authorization"] == f"Bearer {personio.token}"
    assert personio.get("/company/employees").status_code == 200  # stable: used again


def test_a_token_expires_after_a_day_or_at_the_expire_fault(personio: Personio) -> None:
    token = personio.authenticate()
    personio.clock.advance(86399)
    assert personio.get("/company/employees").status_code == 200
    personio.clock.advance(1)
    assert personio.get("/company/employees").status_code == 403
    token = personio.authenticate()
    personio.control("POST", "faults", json={"mode": "expire_tokens"})
    assert personio.get("/company/employees", token=token).status_code == 403
    assert personio.authenticate() != token


def test_a_revoked_credential_or_one_without_the_scope_is_refused(personio: Personio) -> None:
    body = {"client_id": "papi-second", "client_secret": "s3", "scopes": ["absences:read"]}
    personio.control("POST", "credentials", json=body)
    answer = personio.http.post(
        f"{API}/auth", json={"client_id": "papi-second", "client_secret": "s3"}
    )
    token = answer.json()["data"]["token"]
    assert answer.json()["data"]["scope"] == "absences:read"
    assert personio.get("/company/employees", token=token).status_code == 403
    personio.control("POST", "credentials", json={"client_id": "papi-second", "revoke": True})
    assert personio.get("/company/employees", token=token).status_code == 403


# --- employees -----------------------------------------------------------------------------------


def test_paging_by_record_offset_reaches_the_end(personio: Personio) -> None:
    personio.seed(people(7))
    seen: list[int] = []
    offset = 0
    while True:
        page = personio.get("/company/employees", limit=3, offset=offset).json()
        seen += [e["attributes"]["id"]["value"] for e in page["data"]]
        assert page["metadata"] == {
            "total_elements": 7,
            "current_page": offset // 3,
            "total_pages": 3,
        }
        assert (page["offset"], page["limit"]) == (offset, 3)
        if page["metadata"]["current_page"] >= page["metadata"]["total_pages"] - 1:
            break
        offset += 3
    assert seen == list(range(1, 8))
    assert personio.get("/company/employees", offset=2, limit=2).json()["offset"] == 2
    assert values(personio.get("/company/employees", offset=2, limit=2)) == [3, 4]
    assert personio.get("/company/employees", offset=9).json()["data"] == []


def test_limit_defaults_to_50_and_at_most_100(personio: Personio) -> None:
    personio.seed(people(60))
    assert len(personio.get("/company/employees").json()["data"]) == 50
    assert error(personio.get("/company/employees", limit=101)) == (
        400,
        {
            "success": False,
            "error": {"code": 400, "message": "The limit must be between 1 and 100."},
        },
    )
    assert personio.get("/company/employees", limit=0).status_code == 400
    assert personio.get("/company/employees", limit="ten").status_code == 400
    assert personio.get("/company/employees", offset=-1).status_code == 400


def test_the_attribute_envelope_and_nested_objects(personio: Personio) -> None:
    personio.seed(people(2))
    personio.seed(
        [
            {
                "id": 2,
                "team": "Platform",
                "cost_centers": ["CC-1", "CC-2"],
                "gender": "diverse",
                "employment_type": "external",
                "dynamic_180883": "1990-05-06",
                "termination_date": "2026-06-30",
            }
        ]
    )
    person = personio.get("/company/employees/2").json()["data"]
    assert person["type"] == "Employee"
    attributes = person["attributes"]
    assert attributes["first_name"] == {
        "label": "First name",
        "value": "First2",
        "type": "standard",
        "universal_id": "first_name",
    }
    assert attributes["id"]["value"] == 2 and attributes["id"]["type"] == "integer"
    boss = attributes["supervisor"]["value"]
    assert boss["type"] == "Employee"
    assert {k: v["value"] for k, v in boss["attributes"].items()} == {
        "id": 1,
        "first_name": "First1",
        "last_name": "Last1",
        "email": "person1@example.com",
    }
    assert attributes["department"]["value"]["type"] == "Department"
    assert attributes["department"]["value"]["attributes"]["name"] == "Sales"
    assert isinstance(attributes["department"]["value"]["attributes"]["id"], int)
    assert attributes["office"]["value"]["type"] == "Office"
    assert attributes["team"]["value"]["attributes"]["name"] == "Platform"
    centers = attributes["cost_centers"]["value"]
    assert [c["type"] for c in centers] == ["CostCenter", "CostCenter"]
    assert [c["attributes"]["percentage"] for c in centers] == [50, 50]
    assert attributes["hire_date"]["value"] == "2020-03-01T00:00:00+01:00"
    assert attributes["termination_date"]["value"] == "2026-06-30T00:00:00+02:00"
    assert attributes["dynamic_180883"] == {
        "label": "Birthday",
        "value": "1990-05-06",
        "type": "date",
        "universal_id": "date_of_birth",
    }
    assert attributes["dynamic_24407"]["universal_id"] is None
    assert attributes["supervisor"]["value"] is not None
    assert (
        personio.get("/company/employees/1").json()["data"]["attributes"]["supervisor"]["value"]
        is None
    )
    assert dt.datetime.fromisoformat(attributes["last_modified_at"]["value"]).utcoffset()


def test_one_employee_not_found_answers_the_documents_404(personio: Personio) -> None:
    assert error(personio.get("/company/employees/999")) == (
        404,
        {"success": False, "error": {"code": 404, "message": "Es ist ein Problem aufgetreten "}},
    )
    assert personio.get("/company/employees/abc").status_code == 404


def test_status_words_and_control_checks(personio: Personio) -> None:
    for status in ("active", "inactive", "onboarding", "leave"):
        personio.seed([{"id": 5, "status": status}])
        assert values(personio.get("/company/employees"), "status") == [status]
    for bad in (
        {"id": 6, "status": "terminated"},
        {"id": 6, "nickname": "x"},
        {"id": 6, "supervisor": 404},
        {"id": 6, "hire_date": "01.02.2020"},
    ):
        assert personio.http.post(f"{CONTROL}/employees", json=[bad]).status_code == 400
    assert personio.http.delete(f"{CONTROL}/employees/5").status_code == 200
    assert personio.control("GET", "employees")["employees"] == []
    assert personio.http.delete(f"{CONTROL}/employees/5").status_code == 404


def test_email_finds_one_employee_still_as_a_list(personio: Personio) -> None:
    personio.seed(people(3))
    answer = personio.get("/company/employees", email="PERSON2@example.com")
    assert values(answer) == [2]
    assert answer.json()["metadata"]["total_elements"] == 1
    assert personio.get("/company/employees", email="nobody@example.com").json()["data"] == []


def test_attributes_project_the_answer_and_id_always_comes(personio: Personio) -> None:
    personio.seed(people(2))
    answer = personio.http.get(
        f"{API}/company/employees",
        params=[
            ("attributes[]", "first_name"),
            ("attributes[]", "email"),
            ("attributes[]", "no_such_thing"),
        ],
        headers={"Authorization": f"Bearer {personio.authenticate()}"},
    )
    assert [list(e["attributes"]) for e in answer.json()["data"]] == [
        ["id", "first_name", "email"]
    ] * 2


def test_a_credential_reads_only_its_whitelisted_attributes(personio: Personio) -> None:
    personio.seed(people(1))
    body = {"client_id": "papi-narrow", "client_secret": "s", "attributes": ["email"]}
    personio.control("POST", "credentials", json=body)
    token = personio.http.post(
        f"{API}/auth", json={"client_id": "papi-narrow", "client_secret": "s"}
    ).json()["data"]["token"]
    answer = personio.get("/company/employees", token=token)
    assert list(answer.json()["data"][0]["attributes"]) == ["id", "email"]
    listed = personio.get("/company/employees/attributes", token=token).json()["data"]
    assert [a["key"] for a in listed] == ["email"]


def test_the_attributes_listing_and_its_custom_alias(personio: Personio) -> None:
    personio.control(
        "POST",
        "custom-attributes",
        json=[
            {
                "key": "dynamic_77",
                "label": "Languages",
                "type": "tags",
                "options": ["English", "German"],
            }
        ],
    )
    listed = personio.get("/company/employees/attributes").json()
    assert listed["success"] is True
    by_key = {a["key"]: a for a in listed["data"]}
    assert by_key["dynamic_77"] == {
        "key": "dynamic_77",
        "label": "Languages",
        "type": "tags",
        "universal_id": None,
        "options": ["English", "German"],
    }
    assert by_key["first_name"]["options"] == []
    assert personio.get("/company/employees/custom-attributes").json() == listed


# --- updated_since -------------------------------------------------------------------------------


def test_updated_since_selects_the_changed_and_ignores_paging(personio: Personio) -> None:
    personio.seed(people(5))
    personio.clock.advance(3600)
    since = dt.datetime.fromtimestamp(personio.clock.now(), dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
    personio.clock.advance(60)
    personio.seed([{"id": 2, "position": "CTO"}, {"id": 4, "last_name": "Renamed"}])
    personio.seed([{"id": 5, "last_name": "Last5"}])  # the same value: not an update
    # limit and offset are ignored with updated_since, however wrong (the paged variant reads them)
    answer = personio.get("/company/employees", updated_since=since + "Z", limit=0, offset="x")
    assert values(answer) == [2, 4]
    assert answer.json()["metadata"] == {"total_elements": 2, "current_page": 0, "total_pages": 1}
    only = personio.get("/company/employees", updated_since=since + "Z", email="person2@x.com")
    assert values(only) == [2, 4]  # email is ignored with updated_since too
    with_attrs = personio.http.get(
        f"{API}/company/employees",
        params=[("updated_since", since + "+00:00"), ("attributes[]", "last_name")],
        headers={"Authorization": f"Bearer {personio.token}"},
    )
    assert values(with_attrs) == [4]
    assert list(with_attrs.json()["data"][0]["attributes"]) == ["id", "last_name"]


def test_updated_since_reads_local_time_and_plain_dates(personio: Personio) -> None:
    personio.seed(people(1))  # 2026-01-01T01:00:00+01:00
    assert values(personio.get("/company/employees", updated_since="2026-01-01T00:59:59")) == [1]
    assert values(personio.get("/company/employees", updated_since="2026-01-01T01:00:00")) == []
    assert values(personio.get("/company/employees", updated_since="2025-12-31")) == [1]
    for bad in ("yesterday", "2026-13-01", "1767225600", "2026-01-01 00:00:00"):
        refused = personio.get("/company/employees", updated_since=bad)
        assert refused.status_code == 400 and refused.json()["success"] is False


# --- throttling and faults -----------------------------------------------------------------------


def test_the_list_allows_15_a_second_and_300_a_minute(personio: Personio) -> None:
    personio.seed(people(1))
    personio.authenticate()
    answers = [personio.get("/company/employees").status_code for _ in range(16)]
    assert answers == [200] * 15 + [429]
    throttled = personio.get("/company/employees")
    assert error(throttled) == (
        429,
        {"success": False, "error": {"code": 429, "message": "Too Many Requests"}},
    )
    assert "retry-after" not in throttled.headers
    for _ in range(19):
        personio.clock.advance(1.0)
        assert [personio.get("/company/employees").status_code for _ in range(15)] == [200] * 15
    assert personio.get("/company/employees").status_code == 429  # 300 in the minute
    assert personio.stats()["throttled"] == {"employees.burst": 2, "employees": 1}


def test_auth_allows_60_a_minute_then_cools_down(personio: Personio) -> None:
    credential = personio.credential()
    body = {k: credential[k] for k in ("client_id", "client_secret")}
    assert all(personio.http.post(f"{API}/auth", json=body).status_code == 200 for _ in range(60))
    assert personio.http.post(f"{API}/auth", json=body).status_code == 429
    personio.clock.advance(59)
    assert personio.http.post(f"{API}/auth", json=body).status_code == 429
    personio.clock.advance(2)
    assert personio.http.post(f"{API}/auth", json=body).status_code == 200


def test_limits_are_set_by_control_call(personio: Personio) -> None:
    personio.seed(people(1))
    limits = personio.control(
        "POST", "limits", json={"employees_per_second": None, "employees_per_minute": 2}
    )["limits"]
    assert limits["employees_per_minute"] == 2 and limits["employees_per_second"] is None
    assert [personio.get("/company/employees").status_code for _ in range(3)] == [200, 200, 429]
    for wrong in ({"per_hour": 1}, {"auth_cooldown": None}, {"auth_per_minute": "60"}):
        assert personio.http.post(f"{CONTROL}/limits", json=wrong).status_code == 400
    state = personio.http.get(f"{BASE}/_emulator/state").json()["hr"]["personio"]
    assert state["limits"]["employees_per_minute"] == 2
    assert "client_secret" not in state["credentials"][0] and len(state["employees"]) == 1


def test_faults_throttle_fail_and_truncate_the_next_calls(personio: Personio) -> None:
    personio.seed(people(6))
    personio.authenticate()
    personio.control("POST", "faults", json={"mode": "throttle", "count": 2})
    assert [personio.get("/company/employees").status_code for _ in range(3)] == [429, 429, 200]
    personio.control("POST", "faults", json={"mode": "error_500", "endpoint": "employees.get"})
    assert personio.get("/company/employees").status_code == 200
    assert error(personio.get("/company/employees/1")) == (
        500,
        {"success": False, "error": {"code": 500, "message": "Internal Server Error"}},
    )
    personio.control("POST", "faults", json={"mode": "truncate"})
    short = personio.get("/company/employees", limit=4).json()
    assert len(short["data"]) == 2 and short["metadata"]["total_elements"] == 6
    assert len(personio.get("/company/employees", limit=4).json()["data"]) == 4
    assert personio.stats()["faults_injected"] == {"throttle": 2, "error_500": 1, "truncate": 1}
    assert personio.http.post(f"{CONTROL}/faults", json={"mode": "explode"}).status_code == 400


def test_partner_and_app_headers_are_counted(personio: Personio) -> None:
    headers = {
        "Authorization": f"Bearer {personio.authenticate()}",
        "X-Personio-Partner-ID": "ACME",
        "X-Personio-App-ID": "HRSYNC",
    }
    assert personio.http.get(f"{API}/company/employees", headers=headers).status_code == 200
    assert personio.stats()["apps"] == {"ACME/HRSYNC": 1}


def test_unknown_paths_and_methods(personio: Personio) -> None:
    assert personio.get("/company/absences").status_code == 404
    answer = personio.http.post(f"{API}/company/employees/attributes")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert answer.json()["success"] is False


# --- variants ------------------------------------------------------------------------------------


def test_the_variants_are_named_for_personio_and_described() -> None:
    assert len(VARIANTS) == 7
    for variant in VARIANTS:
        assert variant.name.startswith("personio-") and variant.reading is None
        assert variant.default and variant.instead and variant.source


def test_rotating_tokens_serve_one_call_each() -> None:
    world = Personio("personio-rotating-token")
    world.seed(people(1))
    first = world.authenticate()
    assert not first.startswith("papi-") and world.authenticate() != first
    answer = world.get("/company/employees", token=first)
    following = answer.headers["authorization"].removeprefix("Bearer ")
    assert answer.status_code == 200 and following != first
    assert world.get("/company/employees", token=first).status_code == 403  # used up
    missing = world.get("/company/employees/404", token=following)
    assert missing.status_code == 404 and "authorization" not in missing.headers
    assert world.get("/company/employees", token=following).status_code == 403


def test_offset_as_a_page_number() -> None:
    world = Personio("personio-offset-page")
    world.seed(people(5))
    pages = {n: world.get("/company/employees", limit=2, offset=n).json() for n in (0, 1, 2, 3)}
    assert [values_of(pages[n]) for n in (0, 1, 2, 3)] == [[1, 2], [1, 2], [3, 4], [5]]
    assert [pages[n]["metadata"]["current_page"] for n in (0, 1, 2, 3)] == [1, 1, 2, 3]
    assert pages[3]["metadata"]["total_pages"] == 3


def values_of(page: dict[str, Any]) -> list[int]:
    return [e["attributes"]["id"]["value"] for e in page["data"]]


def test_updated_since_paged() -> None:
    world = Personio("personio-updated-since-paged")
    world.seed(people(5))
    answer = world.get("/company/employees", updated_since="2025-01-01", limit=2, offset=2)
    assert values(answer) == [3, 4]
    assert answer.json()["metadata"] == {"total_elements": 5, "current_page": 1, "total_pages": 3}


def test_limit_capped() -> None:
    world = Personio("personio-limit-capped")
    world.seed(people(120))
    answer = world.get("/company/employees", limit=500).json()
    assert answer["limit"] == 100 and len(answer["data"]) == 100


def test_bad_token_401() -> None:
    world = Personio("personio-bad-token-401")
    assert error(world.get("/company/employees", token="papi-x")) == (
        401,
        {
            "success": False,
            "error": {"code": 401, "message": "Provided authorization is not valid"},
        },
    )


def test_supervisor_id_only() -> None:
    world = Personio("personio-supervisor-id-only")
    world.seed(people(2))
    boss = world.get("/company/employees/2").json()["data"]["attributes"]["supervisor"]["value"]
    assert list(boss["attributes"]) == ["id"] and boss["attributes"]["id"]["value"] == 1


def test_ratelimit_headers() -> None:
    world = Personio("personio-ratelimit-headers")
    world.control("POST", "limits", json={"employees_per_second": None, "employees_per_minute": 1})
    assert world.get("/company/employees").status_code == 200
    world.clock.advance(20)
    throttled = world.get("/company/employees")
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "40"
    assert throttled.headers["x-ratelimit-limit"] == "1"
    assert throttled.headers["x-ratelimit-remaining"] == "0"


# --- the answers against Personio's documents ----------------------------------------------------


def document(name: str) -> dict[str, Any]:
    if not DOCS.is_dir():
        pytest.skip(f"Personio's API documents are not at {DOCS}")
    loaded: dict[str, Any] = yaml.safe_load((DOCS / name).read_text(encoding="utf-8"))
    return loaded


def validator(doc: dict[str, Any], schema: str) -> jsonschema.Draft202012Validator:
    """A validator of ``#/components/schemas/<schema>`` with the document's ``$ref``s."""
    root = {"$ref": f"#/components/schemas/{schema}", "components": doc["components"]}
    return jsonschema.Draft202012Validator(root)


def test_answers_validate_against_the_documents_schemas(personio: Personio) -> None:
    data = document("personio-personnel-data-api-oa3.yaml")
    auth = document("personio-auth-api.yaml")
    credential = personio.credential()
    answer = personio.http.post(
        f"{API}/auth", json={k: credential[k] for k in ("client_id", "client_secret")}
    )
    validator(auth, "AuthenticationTokenResponse").validate(answer.json())
    # Everyone with every relationship set: the document types each one's value as an object
    # and says nothing of an unset one (the emulator answers null: readings, "Relationships").
    full = [
        {
            **p,
            "supervisor": 2 if p["id"] == 1 else 1,
            "team": "T",
            "subcompany": "S",
            "cost_centers": ["CC"],
        }
        for p in people(3)
    ]
    personio.seed(full)
    one = personio.get("/company/employees/1").json()
    validator(data, "EmployeeResponse").validate(one)
    # EmployeesResponse is allOf Response (data: an object) and data: an array, which no
    # answer can be; its own example has an array: Response's data type is read as "array".
    data["components"]["schemas"]["Response"]["properties"]["data"] = {"type": "array"}
    listing = personio.get("/company/employees", limit=2).json()
    validator(data, "EmployeesResponse").validate(listing)
    for refused in (
        personio.get("/company/employees", token=""),
        personio.get("/company/employees", token="papi-x"),
        personio.get("/company/employees", limit=1000),
    ):
        validator(data, "ErrorResponse").validate(refused.json())
    validator(data, "Employee404ErrorResponse").validate(
        personio.get("/company/employees/999").json()
    )


def test_the_list_example_of_the_document_has_the_emulators_keys(personio: Personio) -> None:
    """Every attribute of the document's list example is one the emulator can answer, with
    the same label and type (salary, holiday calendar and the like excepted: not served)."""
    data = document("personio-personnel-data-api-oa3.yaml")
    get = data["paths"]["/company/employees"]["get"]
    example = get["responses"]["200"]["content"]["application/json"]["examples"]["response"]
    documented = example["value"]["data"][0]["attributes"]
    personio.seed(people(1))
    served = personio.get("/company/employees").json()["data"][0]["attributes"]
    not_served = {
        "fix_salary",
        "fix_salary_interval",
        "hourly_salary",
        "vacation_day_balance",
        "holiday_calendar",
        "absence_entitlement",
        "work_schedule",
        "profile_picture",
    }
    for key, attribute in documented.items():
        if key in not_served or key.startswith("dynamic_"):
            continue
        assert key in served, key
        assert (served[key]["label"], served[key]["type"]) == (
            attribute["label"],
            attribute["type"],
        ), key
