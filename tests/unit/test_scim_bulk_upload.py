"""Entra-style bulk uploads, in process: the records a script sends are kept (or refused
alone, keeping none of their writes), matched by externalId, employeeNumber or userName; an
omitted ``active`` changes nobody's status; whole populations make the people they lack
leavers; pushed groups reach teams only through rules; and a burst of leavers pushed one
run at a time is held like one large run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hrsync.errors import SafetyHold
from hrsync.model import Status
from hrsync.store import Store
from hrsync.store.scim import ScimStore
from hrsync.sync.plan import DeactivateUser, Plan
from hrsync.sync.safety import Thresholds, check_deactivations
from tests.unit.test_scim_service import CORE, ENTERPRISE, Scim

BULK = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"


def record(eid: str, **more: Any) -> dict[str, Any]:
    data = {"schemas": [CORE, ENTERPRISE], "externalId": eid, "userName": f"{eid}@example.com"}
    return {"method": "POST", "bulkId": "1", "path": "/Users", "data": data | more}


def upload(scim: Scim, *records: dict[str, Any], query: str = "") -> Any:
    body = {"schemas": [BULK], "Operations": list(records)}
    return scim.client.post(
        f"/scim/v2/bulkUpload{query}", headers=scim.headers, content=json.dumps(body)
    )


@pytest.fixture
def whole(tmp_path: Path) -> Iterator[Scim]:
    made = Scim(tmp_path, source={"uploads": "whole"})
    yield made
    made.client.close()


@pytest.fixture
def scim(tmp_path: Path) -> Iterator[Scim]:
    made = Scim(tmp_path)
    yield made
    made.client.close()


def test_a_refused_record_keeps_none_of_its_writes_and_the_others_are_kept(scim: Scim) -> None:
    answer = upload(
        scim,
        record("E1", active=True),
        record("E2", userName="E1@EXAMPLE.COM"),  # E1's userName: a uniqueness conflict
        record("E3", active="maybe"),  # not a boolean
        {"method": "POST", "path": "/Groups", "data": {}},
        record("E4"),
    )
    assert answer.status_code == 202
    said = answer.json()
    assert [r["status"] for r in said["records"]] == [
        "stored", "refused", "refused", "refused", "stored"
    ]  # fmt: skip
    assert said["records"][1]["reason"] == (
        "userName 'E1@EXAMPLE.COM' is the user with externalId 'E1' (HR id E1), not 'E2'"
    )
    assert "active" in said["records"][2]["reason"]
    assert scim.events() == [("E1", "scim"), ("E4", "scim")]  # nothing of the refused ones
    assert {e.employee_id for e in scim.read().employees} == {"E1", "E4"}
    assert scim.client.post("/v1.0/servicePrincipals/a/synchronization/jobs/b/bulkUpload",
                            content="{}").status_code == 401  # fmt: skip


def test_records_update_by_external_id_then_employee_number_and_omitted_active_is_unchanged(
    scim: Scim,
) -> None:
    upload(scim, record("E1", active=False))
    pushed = {"schemas": [CORE, ENTERPRISE], "userName": "kim@example.com", "active": True,
              ENTERPRISE: {"employeeNumber": "1002"}}  # fmt: skip
    assert scim.call("POST", "/Users", pushed).status_code == 201  # HR id: its number
    # Later: E1 without active; Kim's record with an externalId, found by her number.
    moved = upload(
        scim,
        record("E1", **{ENTERPRISE: {"department": "Research"}}),
        record("X9", userName="renamed@example.com", **{ENTERPRISE: {"employeeNumber": "1002"}}),
    )
    records = moved.json()["records"]
    assert [(r["action"], r["person"]) for r in records] == [
        ("updated", "E1"), ("updated", "1002")
    ]  # fmt: skip
    assert moved.json()["withoutActive"] == 2
    people = {e.employee_id: e for e in scim.read().employees}
    assert people["E1"].status is Status.INACTIVE  # omitted: still inactive, as it was
    assert people["E1"].department == "Research"
    assert people["1002"].status is Status.ACTIVE
    assert people["1002"].email == "renamed@example.com"
    assert len(people) == 2
    again = upload(scim, record("E1", **{ENTERPRISE: {"department": "Research"}}))
    assert again.json()["records"][0]["action"] == "unchanged"
    assert scim.read().notes[0].startswith("3 records of the past hour's bulk uploads came")


def test_a_whole_population_upload_makes_the_people_it_lacks_leavers(whole: Scim) -> None:
    upload(whole, record("E1", active=True), record("E2", active=True), record("E3", active=True))
    lacking = upload(whole, record("E1"), record("E3"))
    assert lacking.json()["absent"] == ["E2"]
    people = {e.employee_id: e.status for e in whole.read().employees}
    assert people == {"E1": Status.ACTIVE, "E2": Status.INACTIVE, "E3": Status.ACTIVE}
    # A set of uploads: nobody is absent until the last one, and then only whom none named.
    first = upload(whole, record("E1"), query="?upload_set=monday")
    assert first.json()["absent"] == []
    last = upload(whole, record("E2", active=True), query="?upload_set=monday&last=true")
    assert last.json()["absent"] == ["E3"]
    people = {e.employee_id: e.status for e in whole.read().employees}
    assert people == {"E1": Status.ACTIVE, "E2": Status.ACTIVE, "E3": Status.INACTIVE}
    # A refused record is not "absent": its person is still in HR, only unreadable.
    refused = upload(whole, record("E1"), record("E2", active="maybe"))
    assert refused.json()["refused"] == 1 and refused.json()["absent"] == []


def test_the_location_says_what_became_of_each_record(scim: Scim) -> None:
    taken = upload(scim, record("E1", active=True), {"method": "PATCH"})
    location = taken.headers["location"].removeprefix("https://hrsync.test")
    assert location == f"/scim/v2/bulkUpload/{taken.json()['id']}"
    store = Store(scim.url, clock=scim.clock, integration="hr")
    event = taken.json()["records"][0]["event"]
    store.settle_events({event: ("held", "run 9 is held: too many leavers")}, run_id=9)
    store.close()
    shown = scim.client.get(location, headers=scim.headers).json()["records"]
    assert shown[0]["state"] == "held" and shown[0]["run"] == 9
    assert shown[1]["status"] == "refused"
    assert scim.client.get(location).status_code == 401
    assert scim.client.get("/scim/v2/bulkUpload/999", headers=scim.headers).status_code == 404


def test_pushed_groups_reach_rules_only_as_an_hr_field(scim: Scim) -> None:
    ada = scim.user("E1", "ada@example.com")
    made = scim.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "Sales EMEA",
                                         "members": [{"value": ada}]})  # fmt: skip
    assert made.status_code == 201, made.text
    snapshot = scim.read()
    assert snapshot.employees[0].extra == {"group:Sales EMEA": "member"}
    assert any("1 SCIM groups were pushed" in n for n in snapshot.notes)


def test_leavers_pushed_one_run_at_a_time_add_up_to_the_guard() -> None:
    plan = Plan(managed_users=100)
    plan.changes = [DeactivateUser(f"E{n}", f"e{n}@x", "left") for n in range(3)]
    check_deactivations(plan, Thresholds(), confirmed=None, recent=7)  # 10: at the limit
    with pytest.raises(SafetyHold, match="after 8 in the past hour,"):
        check_deactivations(plan, Thresholds(), confirmed=None, recent=8)
    check_deactivations(plan, Thresholds(), confirmed=3, recent=8)  # the admin said 3


def test_the_store_counts_the_deactivations_sent_since_an_approval(tmp_path: Path) -> None:
    from hrsync.clock import VirtualClock

    clock = VirtualClock(1_790_000_000.0)
    store = Store(f"sqlite:///{tmp_path / 's.db'}", clock=clock, integration="hr")

    def run(deactivations: int, summary: dict[str, Any] | None = None) -> None:
        run_id = store.start_run("apply")
        changes = [DeactivateUser(f"E{run_id}-{n}", "x@y", "left") for n in range(deactivations)]
        store.journal_intend(run_id, [(c.key, c.kind, "", c.encoded()) for c in changes])
        store.journal_mark(run_id, [c.key for c in changes], "confirmed")
        store.finish_run(run_id, "succeeded", summary or {})
        clock.advance(60)

    run(3)
    run(4)
    assert store.recent_deactivations(since=clock.now() - 3600) == 7
    run(5, {"approves": 1})  # an admin approved: the burst before it is settled
    assert store.recent_deactivations(since=clock.now() - 3600) == 5
    clock.advance(3600)
    assert store.recent_deactivations(since=clock.now() - 3600) == 0
    ScimStore.on(store).close()
    store.close()
