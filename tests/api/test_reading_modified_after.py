"""GET /api/v2/users?modified_after= as a date-time (the users document) or only in epoch
milliseconds (a public connector sends digits on purpose): hrsync learns which once."""

from __future__ import annotations

from hrsync.targets.cliq.learnt import MODIFIED_AFTER
from tests.api.readings import Answers, bearer, export, play
from tests.conftest import BASE, World
from tests.support import cliq_users, converge, planned


def test_modified_after_takes_one_form_in_each_reading(world: World) -> None:
    auth = bearer(world)
    url = f"{BASE}/api/v2/users"
    iso = {"fields": "all", "modified_after": "2000-01-01T00:00:00Z"}
    digits = {"fields": "all", "modified_after": "946684800000"}
    assert world.http.get(url, params=iso, headers=auth).status_code == 200
    refused = world.http.get(url, params=digits, headers=auth)
    assert refused.status_code == 400 and refused.json()["code"]
    assert "modified_after" in refused.json()["message"]
    play(world, "modified-after-epoch-ms")
    listed = world.http.get(url, params=digits, headers=auth)
    assert listed.status_code == 200 and listed.json()["data"]
    refused = world.http.get(url, params=iso, headers=auth)
    assert refused.status_code == 400 and refused.json()["code"]
    assert "modified_after" in refused.json()["message"]
    assert "epoch milliseconds" in refused.json()["message"]


def test_modified_after_in_epoch_ms_is_learnt_once_and_remembered(world: World) -> None:
    """Before: the first apply after a plan failed with 400, and every incremental read."""
    play(world, "modified-after-epoch-ms")
    rows = export(30)
    world.write(rows)
    calls = Answers(world.transport)
    assert len(planned(world, transport=calls)) > 30
    converge(world, transport=calls)  # the invitation round reads joiners back since a time
    assert cliq_users(world).keys() == {r["employee_id"] for r in rows}
    rows[4]["extension"] = "4444"
    world.write(rows)
    converge(world, transport=calls)  # an incremental read
    assert cliq_users(world)[rows[4]["employee_id"]]["extension"] == "4444"
    assert planned(world, transport=calls) == []
    assert calls.refused_modified_after() == 1  # one try in the documented form, then learnt
    app = world.app()
    assert app.store.bookmark(MODIFIED_AFTER) == "epoch_ms"
    app.close()


def test_the_documented_modified_after_is_remembered_as_iso(world: World) -> None:
    rows = export(10)
    world.write(rows)
    calls = Answers(world.transport)
    converge(world, transport=calls)
    converge(world, transport=calls)
    assert calls.refused_modified_after() == 0
    app = world.app()
    assert app.store.bookmark(MODIFIED_AFTER) == "iso"
    app.close()


def test_a_remembered_form_the_organisation_no_longer_takes_is_learnt_again(world: World) -> None:
    rows = export(10)
    world.write(rows)
    converge(world)
    converge(world)
    play(world, "modified-after-epoch-ms")
    calls = Answers(world.transport)
    rows[2]["extension"] = "2222"
    world.write(rows)
    converge(world, transport=calls)
    converge(world, transport=calls)
    assert calls.refused_modified_after() == 1
    assert cliq_users(world)[rows[2]["employee_id"]]["extension"] == "2222"
