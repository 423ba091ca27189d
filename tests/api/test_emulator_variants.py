"""Each disputed reading the emulator plays, and how hrsync copes with it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from hrsync.cli.demo import sample_employees
from hrsync.cli.main import app as cli
from hrsync.emulator.variants import every
from hrsync.errors import BadRequest
from tests.conftest import BASE, World
from tests.support import access_token, cliq_users, converge, planned


def play(world: World, *variants: str) -> None:
    world.http.post(f"{BASE}/_emulator/variants", json={"variants": list(variants)})


def bearer(world: World) -> dict[str, str]:
    """An admin's own access token, for calls made by hand."""
    return {"Authorization": f"Zoho-oauthtoken {access_token(world)}"}


def test_the_table_names_each_variant_with_its_reading_and_source(world: World) -> None:
    answer = world.http.get(f"{BASE}/_emulator/variants").json()
    assert answer["variants"] == []
    assert [v["name"] for v in answer["known"]] == list(every())
    assert all(v["reading"] is None or v["reading"] > 0 for v in answer["known"])
    assert all(v["source"] and v["instead"] for v in answer["known"])
    refused = world.http.post(f"{BASE}/_emulator/variants", json={"variants": ["shouting"]})
    assert refused.status_code == 400
    assert refused.json()["code"] == "unknown_variant" and "shouting" in refused.json()["message"]


def test_serve_refuses_an_unknown_variant_and_names_the_known_ones() -> None:
    result = CliRunner().invoke(cli, ["emulator", "serve", "--variant", "update-wrapped,nope"])
    assert result.exit_code == 2
    assert "unknown emulator variant nope" in result.output and "throttle-400" in result.output


def test_update_bodies_each_reading_refuses_the_other(world: World) -> None:
    world.write(sample_employees(3))
    converge(world)
    user = cliq_users(world)["E00002"]
    url = f"{BASE}/api/v2/users/{user['id']}"
    auth = bearer(world)
    flat = {"mobile": "+1 1"}
    wrapped = {"users": [{"email_id": user["email_id"], "mobile": "+1 2"}]}
    assert world.http.put(url, json=flat, headers=auth).status_code == 200
    refused = world.http.put(url, json=wrapped, headers=auth)
    assert (refused.status_code, refused.json()) == (
        400,
        {"code": "extra_key_found", "message": "'users' is an extra key in the JSON Object."},
    )
    play(world, "update-wrapped")
    assert world.http.put(url, json=wrapped, headers=auth).status_code == 200
    refused = world.http.put(url, json=flat, headers=auth)
    assert refused.json()["message"] == "'mobile' is an extra key in the JSON Object."


def test_the_update_body_is_learnt_once_per_organisation_and_remembered(world: World) -> None:
    play(world, "update-wrapped")
    rows = sample_employees(30)
    world.write(rows)
    converge(world)
    for row in rows[10:13]:
        row["mobile"] = "+44 20 0000 " + row["employee_id"][-4:]
    world.write(rows)
    calls: Any = world.stats()["calls"]
    before = calls.get("users.update", 0)
    converge(world)
    calls = world.stats()["calls"]
    assert calls["users.update"] - before == 3 + 1  # one flat try, refused, then learnt
    rows[14]["mobile"] = "+44 20 0000 9999"
    world.write(rows)
    converge(world)  # a new process: the store remembers, no second try
    assert world.stats()["calls"]["users.update"] - before == 5  # type: ignore[index]
    assert cliq_users(world)["E00015"]["mobile"] == "+44 20 0000 9999"


def test_a_refusal_of_both_bodies_reports_what_is_wrong_with_the_fields(world: World) -> None:
    world.write(sample_employees(3))
    converge(world)
    app = world.app()
    app.store.save_bookmark("cliq:update_body", None)
    user = cliq_users(world)["E00002"]
    with pytest.raises(BadRequest, match="must be an option id"):
        app.engine.target.update_user(user["id"], {"gender": "nonsense"}, email=user["email_id"])
    assert app.store.bookmark("cliq:update_body") is None  # nothing learnt from it
    app.close()


def test_probe_settles_the_body_with_a_harmless_write(world: World) -> None:
    world.write(sample_employees(3))
    converge(world)
    before = cliq_users(world)["E00002"]
    for variants, shape in (((), "flat"), (("update-wrapped",), "wrapped")):
        play(world, *variants)
        app = world.app()
        assert app.engine.target.probe_update_body(before["id"]) == shape
        assert app.store.bookmark("cliq:update_body") == shape
        app.close()
    assert cliq_users(world)["E00002"] == before


def test_throttling_as_http_400_is_waited_out_like_429(world: World) -> None:
    play(world, "throttle-400")
    rows = sample_employees(40)
    world.write(rows)
    auth = bearer(world)
    answers = [world.http.get(f"{BASE}/api/v2/userfields", headers=auth) for _ in range(11)]
    assert answers[-1].status_code == 400
    assert answers[-1].json()["code"] == "request_limit_exceeded"
    app = world.app()  # its first listing of fields meets the lock, waits it out, goes on
    try:
        app.engine.run_apply()
        assert dict(app.http.pacer.throttled) == {"userfields": 1}  # counted for /metrics
    finally:
        app.close()
    converge(world)
    assert world.stats()["throttled"] == {"userfields": 2}
    assert len(cliq_users(world)) == 40 and planned(world) == []


def test_a_listing_without_status_is_settled_by_status_listings(world: World) -> None:
    rows = sample_employees(20)
    world.write(rows)
    converge(world)
    play(world, "users-no-status")
    auth = bearer(world)
    listed = world.http.get(f"{BASE}/api/v2/users", params={"fields": "all"}, headers=auth)
    assert all("status" not in u for u in listed.json()["data"])
    rows[5]["status"] = "inactive"
    world.write(rows)
    converge(world)
    rows[5]["status"] = "active"
    world.write(rows)
    assert f"Would reactivate {rows[5]['email']} (rehire)" in planned(world)
    converge(world)
    assert cliq_users(world)[rows[5]["employee_id"]]["status"] == "active"
    assert planned(world) == []


def test_drop_down_options_are_asked_of_the_field_when_the_listing_leaves_them_out(
    world: World,
) -> None:
    auth = bearer(world)
    fields = world.http.get(f"{BASE}/api/v2/userfields", headers=auth).json()["list"]
    gender = next(f for f in fields if f["unique_name"] == "gender")
    assert "options" not in gender
    one = world.http.get(f"{BASE}/api/v2/userfields/{gender['id']}", headers=auth).json()
    assert [o["name"] for o in one["data"]["options"]][:2] == ["Male", "Female"]
    play(world, "options-listed")
    fields = world.http.get(f"{BASE}/api/v2/userfields", headers=auth).json()["list"]
    assert next(f for f in fields if f["unique_name"] == "gender")["options"]
    rows = sample_employees(4)
    for row in rows:
        row["gender"] = "Female"
    world.write(rows)
    play(world)
    converge(world)
    female = next(o["id"] for o in one["data"]["options"] if o["name"] == "Female")
    assert {u["gender"] for u in cliq_users(world).values()} == {female}


def test_teams_wrapped_answers_under_data_with_paging(world: World) -> None:
    play(world, "teams-wrapped")
    auth = bearer(world)
    made = world.http.post(f"{BASE}/api/v2/teams", json={"name": "Ops"}, headers=auth).json()
    team_id = made["data"]["team_id"]
    listed = world.http.get(f"{BASE}/api/v2/teams", headers=auth).json()
    assert "teams" not in listed and listed["data"][0]["team_id"] == team_id
    members = world.http.get(f"{BASE}/api/v2/teams/{team_id}/members", headers=auth).json()
    assert "members" not in members and members["data"][0]["id"]
    assert world.http.get(f"{BASE}/api/v2/teams/{team_id}", headers=auth).json()["data"]


def test_role_ids_as_numbers_are_kept_as_text(world: World) -> None:
    play(world, "ids-numeric")
    raw = world.http.get(f"{BASE}/api/v2/profiles", headers=bearer(world)).json()
    assert all(isinstance(r["id"], int) for r in raw["data"])
    app = world.app()
    roles = app.engine.target.client.roles()
    app.close()
    assert all(isinstance(r.id, str) and r.id == str(int(r.id)) for r in roles)


def test_someone_invited_by_hand_meanwhile_is_adopted_when_cliq_says_already_available(
    world: World,
) -> None:
    play(world, "add-already-available")
    rows = sample_employees(12)
    world.write(rows)
    app = world.app()
    listed = app.engine.target.inventory

    def then_an_admin_invites_one(**how: Any) -> Any:
        inventory = listed(**how)
        body = {"users": [{"email_id": rows[9]["email"], "first_name": "By hand"}]}
        app.http.call("POST", "/api/v2/users", endpoint="users.add", json=body)
        return inventory

    app.engine.target.inventory = then_an_admin_invites_one  # type: ignore[method-assign]
    outcome = app.engine.run_apply()
    app.close()
    assert outcome.report is not None and outcome.report.failed == []
    users = [u for u in world.state()["users"] if u["email_id"] == rows[9]["email"]]  # type: ignore[union-attr]
    assert len(users) == 1
    converge(world)
    assert cliq_users(world)[rows[9]["employee_id"]]["first_name"] == rows[9]["first_name"]
    assert planned(world) == []


def test_an_invitation_the_answer_does_not_mention_is_looked_up_not_dropped(
    world: World,
) -> None:
    rows = sample_employees(5)
    world.write(rows)

    class ForgetsOne(httpx.BaseTransport):
        """Cliq invites everyone but leaves the last email out of its answer."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            answer = world.transport.handle_request(request)
            if request.method != "POST" or request.url.path != "/api/v2/users":
                return answer
            answer.read()
            body = answer.json()
            body["data"]["success_users"] = body["data"]["success_users"][:-1]
            return httpx.Response(200, json=body)

    app = world.app(transport=ForgetsOne())
    outcome = app.engine.run_apply()
    app.close()
    assert outcome.report is not None and outcome.report.failed == []
    assert len(outcome.report.done) == 5 + outcome.plan.counts().get("create_department", 0) + (
        outcome.plan.counts().get("create_designation", 0)
    )
    assert planned(world) == []


def test_modified_after_with_and_without_new_invitations(world: World) -> None:
    world.write(sample_employees(3))
    converge(world)
    auth = bearer(world)
    query = {"fields": "all", "modified_after": "2000-01-01T00:00:00Z", "status": "pending"}
    listed = world.http.get(f"{BASE}/api/v2/users", params=query, headers=auth).json()["data"]
    assert len(listed) == 3  # just invited: counted as changed by default
    play(world, "modified-excludes-new")
    listed = world.http.get(f"{BASE}/api/v2/users", params=query, headers=auth).json()["data"]
    assert listed == []


def test_roles_still_reach_joiners_when_new_invitations_are_not_modified(world: World) -> None:
    from hrsync.config import GroupRule, RulesConfig

    play(world, "modified-excludes-new")
    world.settings.rules = RulesConfig(
        roles=[GroupRule(name="Admin", when={"designation": "Engineer"})]
    )
    rows = sample_employees(300)
    world.write(rows)
    converge(world)
    state: Any = world.state()
    names = {r["id"]: r["name"] for r in state["roles"]}
    admins = {u.get("employee_id", "") for u in state["users"] if names[u["role_id"]] == "Admin"}
    assert admins - {""} == {r["employee_id"] for r in rows if r["designation"] == "Engineer"}
    assert planned(world) == []
