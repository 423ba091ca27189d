"""Custom-field values at the top level or under ``custom_attributes`` (a public connector
lists that key), a drop-down as its option id, its name or ``{id, name}``: hrsync compares
them all as the option id it writes, so a run converges with no false drift."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.readings import bearer, export, play
from tests.conftest import BASE, World
from tests.support import cliq_users, converge, planned


def _field(world: World, unique_name: str) -> dict[str, Any]:
    fields: Any = world.state()["userfields"]
    found: dict[str, Any] = next(f for f in fields if f["unique_name"] == unique_name)
    return found


def test_custom_values_come_nested_and_drop_downs_in_three_forms(world: World) -> None:
    rows = export(3)
    world.write(rows)
    converge(world)
    zuid = cliq_users(world)["E00002"]["id"]
    gender = _field(world, "gender")
    option = next(o for o in gender["options"] if o["name"] == rows[1]["gender"])
    auth = bearer(world)

    def answers() -> tuple[dict[str, Any], dict[str, Any]]:
        one = world.http.get(f"{BASE}/api/v2/users/{zuid}", headers=auth).json()["data"]
        listed = world.http.get(f"{BASE}/api/v2/users", params={"fields": "all"}, headers=auth)
        return one, next(u for u in listed.json()["data"] if u["id"] == zuid)

    for user in answers():
        assert user["gender"] == option["id"] and isinstance(user["date_of_birth"], int)
        assert "custom_attributes" not in user
    play(world, "custom-attributes-nested")
    for user in answers():
        assert "gender" not in user and "office_location" not in user
        assert user["custom_attributes"]["gender"] == option["id"]
        assert user["custom_attributes"]["office_location"] == rows[1]["work_location"]
    play(world, "dropdown-as-name")
    assert all(u["gender"] == option["name"] for u in answers())
    play(world, "dropdown-as-object")
    assert all(u["gender"] == option for u in answers())
    play(world, "custom-attributes-nested", "dropdown-as-object")
    assert all(u["custom_attributes"]["gender"] == option for u in answers())
    assert cliq_users(world)["E00002"]["gender"] == option["id"]  # the state shows the stored id


@pytest.mark.parametrize(
    "variants",
    [
        ("custom-attributes-nested",),
        ("dropdown-as-name",),
        ("dropdown-as-object",),
        ("custom-attributes-nested", "dropdown-as-name"),
        ("custom-attributes-nested", "dropdown-as-object"),
    ],
    ids="+".join,
)
def test_custom_values_in_any_form_converge_without_false_drift(
    world: World, variants: tuple[str, ...]
) -> None:
    """Before: nearly everyone was planned again at every run and at every full read, each
    change labelled as drift (changed in Cliq by hand)."""
    play(world, *variants)
    rows = export(60)
    world.write(rows)
    converge(world)
    assert planned(world) == []
    app = world.app(dry_run=True)
    try:
        plan, _, inventory = app.engine.plan(full_read="a daily full read")
    finally:
        app.close()
    assert inventory.full_read
    assert [c.describe(done=False) for c in plan.changes] == [] and plan.drift == []
    assert not any("drift" in note for note in plan.notes)
    assert rows[7]["gender"] == "Not disclosed"
    rows[7]["gender"] = "Male"
    world.write(rows)
    assert planned(world) == [f"Would update {rows[7]['email']}: gender 'Not disclosed' → 'Male'"]
    converge(world)
    gender = _field(world, "gender")
    wanted = next(o["id"] for o in gender["options"] if o["name"] == rows[7]["gender"])
    assert cliq_users(world)[rows[7]["employee_id"]]["gender"] == wanted
    assert planned(world) == []
