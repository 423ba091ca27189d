"""Zoho People as the HR source: Zoho's own payload format, paging, incremental reads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from hrsync.access.tokens import ConfigTokenSource
from hrsync.api.auth import TokenAuth
from hrsync.api.http import ZohoHttp
from hrsync.api.people import PeopleClient, PeopleError
from hrsync.api.ratelimit import Pacer
from hrsync.cli.demo import grant_refresh_token
from hrsync.clock import VirtualClock
from hrsync.config import PeopleServiceConfig, SourceConfig
from hrsync.model import Status
from hrsync.sources.zoho_people import PeopleSource
from hrsync.store import Store
from tests.conftest import BASE, SHARED, World
from tests.support import cliq_users, converge, planned

MOCK = SHARED / "external" / "zoho-people" / "baton-zoho-people.employeesMock.json"


def people_http(
    client: httpx.Client,
    clock: VirtualClock,
    store: Store,
    credentials: tuple[str, str, str] = ("1", "s", "r"),
) -> ZohoHttp:
    client_id, secret, refresh = credentials
    tokens = ConfigTokenSource(
        store,
        client,
        accounts_url=BASE,
        client_id=client_id,
        client_secret=SecretStr(secret),
        refresh_token=SecretStr(refresh),
        clock=clock,
    )
    auth = TokenAuth(tokens)
    return ZohoHttp(client, base_url=BASE, auth=auth, pacer=Pacer(clock, margin=0), clock=clock)


def test_zohos_own_getrecords_payload_parses_exactly(tmp_path: Path) -> None:
    if not MOCK.exists():
        pytest.skip(f"the shared People payload is not at {MOCK}")
    body = MOCK.read_bytes()
    asked: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/v2/token":
            return httpx.Response(200, json={"access_token": "a", "expires_in": 3600})
        asked.append(dict(request.url.params))
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    clock = VirtualClock()
    store = Store(f"sqlite:///{tmp_path / 'hrsync.db'}", clock=clock)
    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        source = PeopleSource(
            PeopleClient(people_http(client, clock, store)), bookmarks=store, clock=clock
        )
        snapshot = source.read()
    store.close()
    assert asked == [{"sIndex": "1", "limit": "200"}]  # two records: one page is all
    assert snapshot.errors == []
    chris, mike = sorted(snapshot.employees, key=lambda e: e.employee_id, reverse=True)
    assert (chris.employee_id, chris.email) == ("S20", "christopherbrown@zylker.com")
    assert (chris.first_name, chris.last_name, chris.nickname) == ("Christopher", "Brown", "Chris")
    assert (chris.gender, chris.date_of_birth) == ("Others", dt.date(1987, 2, 2))
    assert (chris.mobile, chris.work_phone, chris.extension) == (
        "239-222-4633",
        "727-555-5656",
        "5",
    )
    assert (chris.seating_location, chris.work_location) == ("FL_ADMIN_4", "")
    assert (chris.department, chris.designation) == ("Management", "Administration")
    assert chris.status is Status.ACTIVE and chris.hire_date == dt.date(2015, 1, 5)
    assert chris.exit_date is None
    assert (mike.employee_id, mike.nickname, mike.hire_date) == ("S19", "Mike", dt.date(2004, 1, 3))
    # Both report to "adminUser", who is not in the employee form: synced without a manager,
    # and said so with the manager's address (never resolved through the display text).
    assert chris.manager_id == mike.manager_id == ""
    assert "admin@example.com" in snapshot.notes[0]
    raw = json.loads(body)["response"]["result"][0]
    assert isinstance(raw["100000000000"][0]["Zoho_ID"], int)


def credentials(world: World) -> tuple[str, str, str]:
    cliq = world.settings.cliq
    secret, refresh = cliq.client_secret, cliq.refresh_token
    return cliq.client_id, secret.get_secret_value(), refresh.get_secret_value()


def seed(world: World, records: list[dict[str, str]]) -> None:
    answer = world.http.post(f"{BASE}/_emulator/people/employees", json=records).json()
    assert answer["failed"] == {}


def people_records(size: int) -> list[dict[str, str]]:
    names = ["Zoë", "Łukasz", "Ngọc", "Søren", "Анна", "李娜", "José", "Aoife"]
    rows = []
    for n in range(1, size + 1):
        rows.append(
            {
                "EmployeeID": f"P{n:04d}",
                "EmailID": f"person{n}@zylker.example",
                "FirstName": names[n % len(names)],
                "LastName": f"Tester{n}",
                "Department": ["Engineering", "Sales", "Support"][n % 3],
                "Designation": "Engineer" if n > 1 else "Chief Executive",
                "Reporting_To.MailID": "" if n == 1 else "person1@zylker.example",
                "Date_of_birth": f"{1 + n % 28:02d}-Mar-1990",
                "Gender": ["Female", "Male", "Non-binary"][n % 3] if n != 7 else "Others",
                "LocationName": ["Chennai", "Austin"][n % 2],
                "Employeestatus": "Active",
            }
        )
    return rows


def test_full_read_pages_then_incremental_reads_only_the_changes(world: World) -> None:
    seed(world, people_records(450))
    world.clock.advance(3600)
    store = Store(world.settings.store.url, clock=world.clock)
    http = people_http(world.http, world.clock, store, credentials(world))
    source = PeopleSource(PeopleClient(http), bookmarks=store, clock=world.clock)

    first = source.read()
    assert source.last_read is not None and source.last_read.kind == "full"
    assert source.last_read.calls == 3 and len(first.employees) == 450  # 200 + 200 + 50
    names = {e.employee_id: e.first_name for e in first.employees}
    assert (names["P0004"], names["P0005"], names["P0003"]) == ("Анна", "李娜", "Søren")
    assert all(e.manager_id == "P0001" for e in first.employees if e.employee_id != "P0001")

    world.clock.advance(3600)
    changes = [{"EmployeeID": f"P{n:04d}", "Department": "Finance"} for n in range(10, 30)]
    changes[0]["Employeestatus"] = "Resigned"
    seed(world, changes)
    world.clock.advance(120)
    second = source.read()
    assert source.last_read.kind == "incremental"
    assert (source.last_read.records_read, source.last_read.calls) == (20, 1)
    by_id = {e.employee_id: e for e in second.employees}
    assert len(by_id) == 450 and by_id["P0011"].department == "Finance"
    assert by_id["P0010"].status is Status.INACTIVE
    store.close()


def test_people_errors_are_named_with_their_code(world: World) -> None:
    token = world.http.post(
        f"{BASE}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": world.settings.cliq.client_id,
            "client_secret": world.settings.cliq.client_secret.get_secret_value(),
            "refresh_token": world.settings.cliq.refresh_token.get_secret_value(),
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    url = f"{BASE}/people/api/forms/{{}}/getRecords"
    bad_form = world.http.get(url.format("nosuchform"), headers=headers).json()["response"]
    assert bad_form["errors"] == {"code": 7011, "message": "Form name 'nosuchform' is invalid"}
    too_many = world.http.get(url.format("employee"), params={"limit": 201}, headers=headers)
    assert too_many.json()["response"]["errors"]["code"] == 7021
    empty = world.http.get(url.format("employee"), headers=headers).json()["response"]
    assert empty["errors"] == {"code": 7024, "message": "No records found"}
    store = Store(world.settings.store.url, clock=world.clock)
    http = people_http(world.http, world.clock, store, credentials(world))
    with pytest.raises(PeopleError, match="7011"):
        list(PeopleClient(http).iter_records("x"))
    store.close()


def test_people_to_cliq_converges_and_follows_an_incremental_change(world: World) -> None:
    seed(world, people_records(250))
    cliq = world.settings.cliq
    world.settings.source = SourceConfig(kind="zoho_people")
    world.settings.people = PeopleServiceConfig(
        api_url=BASE,
        accounts_url=BASE,
        client_id=cliq.client_id,
        client_secret=cliq.client_secret,
        refresh_token=cliq.refresh_token,
        allow_http=True,
    )
    app = world.app()
    outcome = app.engine.run_apply()
    app.close()
    # Cliq's Gender field has no "Others" option: that value waits, the rest of P0007 syncs
    assert [str(e) for e in outcome.plan.errors] == [
        "person7@zylker.example (employee P0007): field 'Gender': 'Others' is not an option "
        "of Cliq field 'Gender' (Male, Female, Non-binary, Not disclosed)"
    ]
    users = cliq_users(world)
    assert len(users) == 250
    ceo, someone = users["P0001"], users["P0042"]
    fields = {f["unique_name"]: f for f in world.state()["userfields"]}  # type: ignore[union-attr]
    female = next(o["id"] for o in fields["gender"]["options"] if o["name"] == "Female")
    assert someone["date_of_birth"] == 637459200000  # 15-Mar-1990, midnight UTC, in ms
    assert (someone["gender"], someone["office_location"]) == (female, "Chennai")
    assert "gender" not in users["P0007"] and users["P0007"]["office_location"] == "Austin"
    assert (someone["first_name"], someone["department"]["name"]) == ("Ngọc", "Engineering")
    assert someone["reportingto"]["id"] == ceo["id"] and "reportingto" not in ceo
    assert planned(world) == []

    world.clock.advance(600)
    seed(world, [{"EmployeeID": "P0042", "Designation": "Staff Engineer"}])
    world.clock.advance(600)
    assert planned(world) == [
        "Would create designation 'Staff Engineer'",
        "Would update person42@zylker.example: designation 'Engineer' → 'Staff Engineer'",
    ]
    converge(world)
    assert cliq_users(world)["P0042"]["designation"]["name"] == "Staff Engineer"
    assert world.stats()["lock_periods_total"] == 0


def test_people_records_change_through_insert_and_update_record(world: World) -> None:
    def token(scope: str) -> dict[str, str]:
        client_id, secret, refresh = grant_refresh_token(world.http, BASE, scope=scope)
        access = world.http.post(
            f"{BASE}/oauth/v2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": client_id,
                "client_secret": secret,
                "refresh_token": refresh,
            },
        ).json()["access_token"]
        return {"Authorization": f"Zoho-oauthtoken {access}"}

    form = f"{BASE}/people/api/forms/json/employee"
    writer = token("ZOHOPEOPLE.forms.ALL")
    added = world.http.post(
        f"{form}/insertRecord",
        data={"inputData": "{EmployeeID:'N1',EmailID:'new@zylker.example',FirstName:'Nia'}"},
        headers=writer,
    ).json()["response"]
    assert added["status"] == 0 and added["result"]["message"] == "Successfully Added"
    record_id = added["result"]["pkId"]
    world.clock.advance(5)
    updated = world.http.post(
        f"{form}/updateRecord",
        data={"inputData": '{"Department": "Research"}', "recordId": record_id},
        headers=writer,
    ).json()["response"]
    assert updated["result"] == {"pkId": record_id, "message": "Successfully Updated"}
    state: Any = world.state()
    (record,) = [r[record_id] for r in state["people"]["employees"]]
    assert record["Department"] == "Research" and record["Department.ID"]
    assert int(record["ModifiedTime"]) > int(record["CreatedTime"])

    duplicate = world.http.post(
        f"{form}/insertRecord",
        data={"inputData": "{EmployeeID:'N1',EmailID:'other@zylker.example'}"},
        headers=writer,
    ).json()["response"]
    assert (duplicate["status"], duplicate["errors"]["code"]) == (1, 7051)
    unknown = world.http.post(
        f"{form}/insertRecord",
        data={"inputData": "{EmployeeID:'N2',EmailID:'n2@zylker.example',Shoe_size:'9'}"},
        headers=writer,
    ).json()["response"]
    assert unknown["errors"] == {"code": 7013, "message": "Field name 'Shoe_size' is invalid"}
    missing = world.http.post(
        f"{form}/insertRecord", data={"inputData": "{FirstName:'X'}"}, headers=writer
    ).json()["response"]
    assert missing["errors"]["code"] == 7052
    reader = token("ZOHOPEOPLE.forms.READ")
    refused = world.http.post(
        f"{form}/insertRecord",
        data={"inputData": "{EmployeeID:'N3',EmailID:'n3@zylker.example'}"},
        headers=reader,
    ).json()["response"]
    assert refused["errors"] == {"code": 7038, "message": "Permission denied to add records"}
