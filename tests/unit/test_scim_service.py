"""``/scim/v2/`` of ``hrsync serve``, in process: who may push (the SCIM source's token, in
SCIM's Error schema when not; a client that keeps guessing is refused for a minute), what a
push keeps (exactly what was pushed, with an HR event per person, in one transaction before
the answer), Entra's and Okta's dialects, and how the pushed users read as HR records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hrsync.access.scim_tokens import make_token
from hrsync.clock import VirtualClock
from hrsync.config import load_settings
from hrsync.model import Status
from hrsync.service.app import create_service
from hrsync.sources.scim import ScimSource
from hrsync.store import Store
from hrsync.store import integrations as rows
from hrsync.store.scim import ScimStore
from tests.asgi import AsgiClient

NOW = 1_790_000_000.0
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
HRSYNC = "urn:ietf:params:scim:schemas:extension:hrsync:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class Scim:
    def __init__(
        self, folder: Path, *, source: dict[str, Any] | None = None, store_url: str = ""
    ) -> None:
        self.config = folder / "hrsync.toml"
        self.config.write_text(
            f'[store]\nurl = "{store_url}"\n' if store_url else "", encoding="utf-8"
        )
        self.clock = VirtualClock(NOW)
        self.url = load_settings(self.config).store.url
        store = Store(self.url, clock=self.clock)
        for name, kind in (("hr", "scim"), ("csv", "csv")):
            config = {"source": {"kind": kind} | (source or {})}
            rows.add(store, name=name, config=json.dumps(config), schedule="", now=NOW)
            rows.set_status(store, name, "enabled", now=NOW)
        store.close()
        self.token = make_token(self.url, "hr", clock=self.clock)
        self.client = AsgiClient(create_service(self.config, clock=self.clock))
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        if body is not None:
            kwargs["content"] = json.dumps(body)
        headers = {**self.headers, "Content-Type": "application/scim+json"}
        return self.client.request(method, f"/scim/v2{path}", headers=headers, **kwargs)

    def user(self, eid: str, user_name: str, **more: Any) -> str:
        body = {"schemas": [CORE, ENTERPRISE, HRSYNC], "externalId": eid, "userName": user_name}
        answer = self.call("POST", "/Users", body | more)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def events(self) -> list[tuple[str, str]]:
        store = Store(self.url, clock=self.clock, integration="hr")
        try:
            return [(e.employee_id, e.sender) for e in reversed(store.events())]
        finally:
            store.close()

    def read(self, **options: Any) -> Any:
        store = ScimStore(self.url, clock=self.clock)
        try:
            return ScimSource(store, "hr", clock=self.clock, **options).read()
        finally:
            store.close()


@pytest.fixture
def scim(tmp_path: Path) -> Iterator[Scim]:
    made = Scim(tmp_path)
    yield made
    made.client.close()


def test_no_token_a_wrong_one_or_another_sources_is_refused_in_scims_error_schema(
    scim: Scim, tmp_path: Path
) -> None:
    config = scim.client.get("/scim/v2/ServiceProviderConfig")  # RFC 7643 §5: no token
    assert config.status_code == 200 and config.json()["patch"]["supported"] is True
    for headers in ({}, {"Authorization": "Bearer hrsync_scim_made-up"}, {"Authorization": "x"}):
        refused = scim.client.get("/scim/v2/Users", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["schemas"] == [ERROR] and refused.json()["status"] == "401"
        assert "scim-token" in refused.json()["detail"]
    csv_token = make_token(scim.url, "csv", clock=scim.clock)  # not a SCIM source
    refused = scim.client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {csv_token}"})
    assert refused.status_code == 401


def test_a_client_that_keeps_guessing_is_refused_for_a_minute(scim: Scim) -> None:
    wrong = {"Authorization": "Bearer guess"}
    for _ in range(10):
        assert scim.client.get("/scim/v2/Users", headers=wrong).status_code == 401
    blocked = scim.client.get("/scim/v2/Users", headers=scim.headers)  # even the right token
    assert blocked.status_code == 429 and blocked.headers["retry-after"] == "60"
    assert blocked.json()["schemas"] == [ERROR]
    scim.clock.advance(61)
    assert scim.client.get("/scim/v2/Users", headers=scim.headers).status_code == 200


def test_a_push_is_kept_with_an_hr_event_and_get_returns_exactly_what_was_pushed(
    scim: Scim,
) -> None:
    pushed = {
        "schemas": [CORE, ENTERPRISE, HRSYNC],
        "externalId": "E1",
        "userName": "ada@example.com",
        "active": True,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": "ada@example.com", "type": "work", "primary": True}],
        "phoneNumbers": [{"value": "+44 20 7946 0000", "type": "mobile"}],
        ENTERPRISE: {"department": "Engineering", "division": "R&D", "employeeNumber": "1001"},
        HRSYNC: {
            "designation": "Director",
            "workLocation": "London",
            "customFields": [{"name": "blood_group", "value": "O+"}],
        },
    }
    created = scim.call("POST", "/Users", pushed)
    assert created.status_code == 201 and created.headers["location"].endswith(created.json()["id"])
    assert scim.events() == [("E1", "scim")]  # kept before the 201
    got = scim.call("GET", f"/Users/{created.json()['id']}").json()
    assert {k: v for k, v in got.items() if k not in ("id", "meta")} == pushed
    ada = scim.read().employees[0]
    assert (ada.employee_id, ada.email, ada.first_name, ada.department, ada.designation) == (
        "E1", "ada@example.com", "Ada", "Engineering", "Director"
    )  # fmt: skip
    assert (ada.mobile, ada.work_location) == ("+44 20 7946 0000", "London")
    assert ada.extra == {"division": "R&D", "blood_group": "O+"}
    # What no pushed user carries is left as Cliq has it, not blanked.
    assert {"date_of_birth", "seating_location", "gender"} <= ada.blocked
    assert "department" not in ada.blocked


def test_a_second_user_with_the_same_username_or_hr_id_is_a_uniqueness_conflict(
    scim: Scim,
) -> None:
    scim.user("E1", "ada@example.com")
    for eid, user_name in (("E2", "ADA@example.com"), ("E1", "other@example.com")):
        taken = scim.call("POST", "/Users", {"schemas": [CORE], "externalId": eid,
                                             "userName": user_name})  # fmt: skip
        assert taken.status_code == 409, taken.text
        assert taken.json()["scimType"] == "uniqueness" and taken.json()["schemas"] == [ERROR]
    assert scim.events() == [("E1", "scim")]  # a refused push queues nothing


def test_entras_and_oktas_dialects(scim: Scim) -> None:
    ada = scim.user("E1", "ada@example.com")
    bob = scim.user("E2", "bob@example.com")
    answers = [
        scim.call("PATCH", f"/Users/{bob}", {"schemas": [PATCH], "Operations": [
            {"op": "Replace", "path": "active", "value": "False"},  # a string
            {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": "E1"},  # a bare string
        ]}),
        scim.call("PATCH", f"/Users/{ada}", {"schemas": [PATCH], "Operations": [
            {"op": "replace", "value": {"name.givenName": "Augusta", "DisplayName": "Ada",
                                        f"{ENTERPRISE}:department": "Research"}},
        ]}),  # no path, dotted keys, an attribute named in another case
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [204, 204]  # PATCH answers 204 (documented)
    got = scim.call("GET", f"/Users/{bob}").json()
    assert got["active"] is False and got[ENTERPRISE]["manager"] == {"value": "E1"}
    by_name = scim.call("GET", "/Users", params={"filter": 'UserName eq "ADA@EXAMPLE.COM"'})
    found = by_name.json()["Resources"]
    assert [r["id"] for r in found] == [ada] and found[0]["name"]["givenName"] == "Augusta"
    title = {
        "schemas": [PATCH],
        "Operations": [{"op": "replace", "path": "title", "value": "Fellow"}],
    }
    asked = scim.call("PATCH", f"/Users/{ada}", title, params={"attributes": "title"})
    assert asked.status_code == 200 and asked.json()["title"] == "Fellow"
    employees = {e.employee_id: e for e in scim.read().employees}
    assert employees["E2"].status is Status.INACTIVE and employees["E2"].manager_id == "E1"
    assert employees["E1"].department == "Research" and employees["E1"].designation == "Fellow"
    cleared = scim.call("PATCH", f"/Users/{bob}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": ""}]})  # fmt: skip
    assert cleared.status_code == 204
    assert "manager" not in (scim.call("GET", f"/Users/{bob}").json().get(ENTERPRISE) or {})


def test_an_extension_attribute_named_after_a_dot_is_the_attribute(scim: Scim) -> None:
    """Microsoft's inbound provisioning collection: ``urn:…:enterprise:2.0:User.manager``."""
    ada = scim.user("E1", "ada@example.com")
    bob = scim.user("E2", "bob@example.com")
    operations = [
        {"op": "replace", "path": f"{ENTERPRISE}.manager", "value": ada},
        {"op": "replace", "path": f"{HRSYNC.upper()}.workLocation", "value": "Leeds"},
    ]
    answer = scim.call("PATCH", f"/Users/{bob}", {"schemas": [PATCH], "Operations": operations})
    assert answer.status_code == 204, answer.text
    got = scim.call("GET", f"/Users/{bob}").json()
    assert got[ENTERPRISE]["manager"] == {"value": ada}
    assert got[HRSYNC]["workLocation"] == "Leeds"


def test_a_deleted_user_is_a_leaver_or_kept_as_configured(scim: Scim, tmp_path: Path) -> None:
    ada = scim.user("E1", "ada@example.com")
    scim.user("E2", "bob@example.com")
    assert scim.call("DELETE", f"/Users/{ada}").status_code == 204
    assert scim.call("GET", f"/Users/{ada}").status_code == 404
    listed = scim.call("GET", "/Users").json()
    assert listed["totalResults"] == 1
    leaver = next(e for e in scim.read().employees if e.employee_id == "E1")
    assert leaver.status is Status.INACTIVE
    kept = scim.read(on_delete="keep")
    assert "E1" in kept.held and "E1" not in {e.employee_id for e in kept.employees}
    # Pushed again (a rehire): the same person, with a new SCIM id.
    again = scim.user("E1", "ada@example.com", active=True)
    assert again != ada
    assert next(e for e in scim.read().employees if e.employee_id == "E1").status is Status.ACTIVE


def test_a_username_or_email_change_is_the_same_person(scim: Scim) -> None:
    ada = scim.user("E1", "ada@example.com",
                    emails=[{"value": "ada@example.com", "primary": True}])  # fmt: skip
    answer = scim.call("PATCH", f"/Users/{ada}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "userName", "value": "ada.king@example.com"},
        {"op": "replace", "path": 'emails[primary eq true].value',
         "value": "ada.king@example.com"}]})  # fmt: skip
    assert answer.status_code == 204, answer.text
    (ada_now,) = scim.read().employees
    assert (ada_now.employee_id, ada_now.email) == ("E1", "ada.king@example.com")


def test_lists_page_count_zero_and_filters(scim: Scim) -> None:
    for n in range(5):
        scim.user(f"E{n}", f"user{n}@example.com", active=n % 2 == 0)
    page = scim.call("GET", "/Users", params={"startIndex": "2", "count": "2"}).json()
    assert page["totalResults"] == 5 and page["startIndex"] == 2
    assert [r["userName"] for r in page["Resources"]] == ["user1@example.com", "user2@example.com"]
    counted = scim.call("GET", "/Users", params={"count": "0"}).json()
    assert counted["totalResults"] == 5 and counted["Resources"] == []
    active = scim.call("GET", "/Users", params={"filter": "active eq true",
                                               "attributes": "userName"}).json()  # fmt: skip
    assert active["totalResults"] == 3
    assert all(set(r) == {"schemas", "id", "userName"} for r in active["Resources"])


def test_pushes_to_an_integration_that_does_not_run_are_kept_and_queue_nothing(
    scim: Scim,
) -> None:
    store = Store(scim.url, clock=scim.clock)
    rows.set_status(store, "hr", "deactivated", now=NOW)
    store.close()
    scim.user("E1", "ada@example.com")
    assert scim.events() == []  # its first run, once activated, syncs everyone
    assert [e.employee_id for e in scim.read().employees] == ["E1"]


def test_nothing_pushed_yet_is_nothing_to_do(scim: Scim) -> None:
    snapshot = scim.read()
    assert snapshot.nothing_pushed and not snapshot.complete and snapshot.employees == []


def test_explain_says_the_last_push_that_changed_someone_and_what_became_of_it(
    scim: Scim,
) -> None:
    ada = scim.user("E1", "ada@example.com")
    scim.clock.advance(60)
    scim.call("PATCH", f"/Users/{ada}", {"schemas": [PATCH], "Operations": [
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Research"}]})  # fmt: skip
    store = ScimStore(scim.url, clock=scim.clock)
    source = ScimSource(store, "hr", clock=scim.clock)
    said = source.last_push("E1")
    assert said.startswith("PATCH at 2026-09-21 14:14:20 UTC changed department; hrsync: waiting")
    events = Store(scim.url, clock=scim.clock, integration="hr")
    last = max(e.id for e in events.events())
    events.settle_events({last: ("done", "")}, run_id=7)
    events.close()
    assert source.last_push("E1").endswith("hrsync: applied by run 7")
    assert source.last_push("E404") == ""
    store.close()


def test_metrics_count_scim_calls_by_integration_method_and_status(scim: Scim) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    scim.user("E1", "ada@example.com")
    scim.call("POST", "/Users", {"schemas": [CORE], "externalId": "E1", "userName": "x@y.z"})
    scim.client.get("/scim/v2/Users")  # no token
    counted = {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(scim.client.get("/metrics").text)
        for s in family.samples
        if s.name == "hrsync_scim_requests_total"
    }
    assert counted == {
        (("integration", "hr"), ("method", "POST"), ("status", "201")): 1.0,
        (("integration", "hr"), ("method", "POST"), ("status", "409")): 1.0,
        (("integration", ""), ("method", "GET"), ("status", "401")): 1.0,
    }


def test_group_members_are_added_and_removed_as_entra_and_okta_send_them(scim: Scim) -> None:
    ada, bob = scim.user("E1", "ada@example.com"), scim.user("E2", "bob@example.com")
    group = "urn:ietf:params:scim:schemas:core:2.0:Group"
    made = scim.call("POST", "/Groups", {"schemas": [group], "displayName": "Sales"})
    gid = made.json()["id"]
    for operations in (
        [{"op": "Add", "path": "members", "value": [{"value": ada}, {"value": bob}]}],
        [{"op": "Remove", "path": "members", "value": [{"value": ada}]}],  # Entra
        [{"op": "remove", "path": f'members[value eq "{bob}"]'}],  # Okta
        [{"op": "add", "path": "members", "value": ada}],  # a bare id
    ):
        answer = scim.call(
            "PATCH", f"/Groups/{gid}", {"schemas": [PATCH], "Operations": operations}
        )
        assert answer.status_code == 204, answer.text
    members = scim.call("GET", f"/Groups/{gid}").json()["members"]
    assert [m["value"] for m in members] == [ada]
    assert {e.employee_id: e.extra for e in scim.read().employees} == {
        "E1": {"group:Sales": "member"}, "E2": {}
    }  # fmt: skip


def test_a_patch_naming_no_known_attribute_is_refused_not_answered_204(scim: Scim) -> None:
    ada = scim.user("E1", "ada@example.com")
    for operations in (
        [{"op": "replace", "path": "adreses", "value": "x"}],
        [{"op": "Add", "path": f"{ENTERPRISE}:mgr", "value": "E2"}],
        [{"op": "replace", "value": {"name.givenName": "Augusta", "costCentre": "42"}}],
        [{"op": "replace", "value": {ENTERPRISE: {"department": "R", "dept": "R"}}}],
    ):
        answer = scim.call("PATCH", f"/Users/{ada}", {"schemas": [PATCH], "Operations": operations})
        assert answer.status_code == 400, operations
        assert answer.json()["scimType"] == "invalidPath"
        assert "nothing was changed" in answer.json()["detail"]
    got = scim.call("GET", f"/Users/{ada}").json()
    assert "name" not in got and ENTERPRISE not in got  # not half-applied either
    assert scim.events() == [("E1", "scim")]
    whole = {"op": "add", "path": ENTERPRISE, "value": {"department": "Research"}}
    extension = scim.call("PATCH", f"/Users/{ada}", {"schemas": [PATCH], "Operations": [whole]})
    assert extension.status_code == 204  # a whole extension is a path too


def test_a_pushed_password_is_never_kept(scim: Scim) -> None:
    ada = scim.user("E1", "ada@example.com", password="Tr0ub4dor&3")
    scim.call("PATCH", f"/Users/{ada}", {"schemas": [PATCH], "Operations": [
        {"op": "replace", "path": "password", "value": "correct horse"}]})  # fmt: skip
    store = ScimStore(scim.url, clock=scim.clock)
    (kept,) = store.users("hr")
    store.close()
    assert "Tr0ub4dor" not in kept["body"] and "correct horse" not in kept["body"]
    assert "password" not in scim.call("GET", f"/Users/{ada}").json()
