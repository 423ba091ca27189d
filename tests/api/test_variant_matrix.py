"""The whole lifecycle under every disputed reading of Zoho's API the emulator can play.

Joiners, movers, leavers, a rehire and an email change, with teams, a role with configs,
custom date and drop-down fields and Connect groups: under the default and under each variant
(``emulator/variants.py``), every run converges, the next plan is empty and no lock period is
ever triggered. ``make test`` runs each variant alone and all of them together; ``make soak``
(``HRSYNC_VARIANT_MATRIX=all``) runs every pair as well.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
from typing import Any

import pytest

from hrsync.cli.demo import change_export, sample_employees
from hrsync.config import ConnectServiceConfig, GroupRule, RoleConfig, RulesConfig
from hrsync.emulator.connect_data import SCOPE_ID
from hrsync.emulator.variants import VARIANTS
from tests.conftest import World
from tests.support import cliq_users, converge, planned

GENDERS = ["Female", "Male", "Non-binary", "Not disclosed"]
REPLY_WINDOW = {
    "module": "direct_message",
    "configs": [{"name": "profile_based_restricted_reply_time_frame", "value": 345600000}],
}


def _matrix() -> list[tuple[str, ...]]:
    names = sorted(VARIANTS)
    chosen = [(), *((n,) for n in names), tuple(names)]
    if os.environ.get("HRSYNC_VARIANT_MATRIX") == "all":
        chosen += list(itertools.combinations(names, 2))
    return chosen


def play(world: World, variants: tuple[str, ...]) -> None:
    answer = world.http.post(f"{world.base}/_emulator/variants", json={"variants": list(variants)})
    assert answer.json() == {"variants": sorted(variants)}


def export(size: int) -> list[dict[str, str]]:
    rows = sample_employees(size)
    for n, row in enumerate(rows):
        row["gender"] = GENDERS[n % len(GENDERS)]
        row["date_of_birth"] = f"19{70 + n % 30}-0{1 + n % 9}-1{n % 9}"
    return rows


def configure(world: World) -> None:
    cliq = world.settings.cliq
    world.settings.connect = ConnectServiceConfig(
        **cliq.model_dump(exclude={"network_id"}), network_id=SCOPE_ID
    )
    world.settings.rules = RulesConfig(
        teams_per=["department"],
        connect_groups_per=["department"],
        roles=[GroupRule(name="Reply Window", when={"designation": "Account Executive"})],
    )
    world.settings.roles = [
        RoleConfig(name="Reply Window", clone_of="Members", permissions=[REPLY_WINDOW])
    ]


def epoch_ms(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp() * 1000)


def assert_in_step(world: World, rows: list[dict[str, str]], *, people_managed: bool) -> None:
    state: Any = world.state()
    users = cliq_users(world)
    admin = state["admin_id"]
    gender = next(f for f in state["userfields"] if f["unique_name"] == "gender")
    option = {o["name"]: o["id"] for o in gender["options"]}
    roles = {r["id"]: r["name"] for r in state["roles"]}
    by_department: dict[str, set[str]] = {}
    live = [r for r in rows if r["status"] == "active"]
    for row in rows:
        user = users[row["employee_id"]]
        assert (user["status"] != "inactive") == (row["status"] == "active"), row["employee_id"]
    for row in live:
        user = users[row["employee_id"]]
        assert user["email_id"] == row["email"] and user["mobile"] == row["mobile"]
        if people_managed:  # People owns them: Cliq keeps its own, hrsync does not fight
            assert user["department"]["name"] == "Zylker"
        else:
            assert user["department"]["name"] == row["department"]
            assert user["designation"]["name"] == row["designation"]
        if row["manager_id"]:
            assert user["reportingto"]["id"] == users[row["manager_id"]]["id"]
        assert user["date_of_birth"] == epoch_ms(row["date_of_birth"])
        assert user["gender"] == option[row["gender"]]
        wanted = "Reply Window" if row["designation"] == "Account Executive" else "Members"
        assert roles[user["role_id"]] == wanted, row["employee_id"]
        by_department.setdefault(row["department"], set()).add(user["id"])
    # Leavers keep their memberships (a deactivation is undone by a rehire): not counted.
    left = {u["id"] for u in state["users"] if u["status"] == "inactive"} | {admin}
    teams = {t["name"]: set(t["members"]) - left for t in state["teams"]}
    assert {k: v for k, v in teams.items() if v} == by_department
    emails = {u["id"]: u["email_id"] for u in state["users"]}
    gone = {emails[z] for z in left}
    groups = {g["name"]: set(g["members"]) - gone for g in state["connect"]["groups"]}
    assert {k: v for k, v in groups.items() if v} == {
        name: {emails[z] for z in zuids} for name, zuids in by_department.items()
    }
    ids = [u.get("employee_id") for u in state["users"] if u.get("employee_id")]
    assert len(ids) == len(set(ids))  # nobody was invited twice
    assert planned(world) == []
    assert world.stats()["lock_periods_total"] == 0


@pytest.mark.parametrize("variants", _matrix(), ids=lambda v: "+".join(v) or "default")
def test_the_lifecycle_converges_under_every_reading(
    world: World, variants: tuple[str, ...]
) -> None:
    run_lifecycle(world, variants)


def run_lifecycle(world: World, variants: tuple[str, ...]) -> None:
    """Joiners, then movers, leavers, an email change and one gone, then a rehire."""
    play(world, variants)
    configure(world)
    people_managed = "people-managed" in variants
    rows = export(140)
    world.write(rows)
    converge(world)
    assert_in_step(world, rows, people_managed=people_managed)

    change_export(rows)  # movers, a new manager, leavers, an email change, one gone
    world.write(rows)
    converge(world)
    gone = {r["employee_id"] for r in export(140)} - {r["employee_id"] for r in rows}
    assert all(cliq_users(world)[g]["status"] == "inactive" for g in gone)
    rows[61]["status"] = "active"  # a rehire
    world.write(rows)
    converge(world)
    for row in rows:
        row["status"] = "active" if row["status"] == "active" else "inactive"
    assert_in_step(world, rows, people_managed=people_managed)
    app = world.app()
    learnt = app.store.bookmark("cliq:update_body")
    app.close()
    assert learnt == ("wrapped" if "update-wrapped" in variants else "flat")
