"""Zoho Connect groups per department and designation, as Zoho One's People→Connect
integration promises, kept in step as people move."""

from __future__ import annotations

from typing import Any

import pytest

from hrsync.cli.demo import sample_employees
from hrsync.config import ConnectServiceConfig, RulesConfig
from hrsync.emulator.connect_data import SCOPE_ID
from hrsync.errors import ConfigError
from tests.conftest import BASE, World
from tests.support import converge, planned


def connect_groups(world: World) -> dict[str, set[str]]:
    state: Any = world.state()
    admin = next(u["email_id"] for u in state["users"] if u["id"] == state["admin_id"])
    return {g["name"]: set(g["members"]) - {admin} for g in state["connect"]["groups"]}


def use_connect(world: World) -> None:
    cliq = world.settings.cliq
    world.settings.connect = ConnectServiceConfig(
        api_url=BASE,
        accounts_url=BASE,
        client_id=cliq.client_id,
        client_secret=cliq.client_secret,
        refresh_token=cliq.refresh_token,
        allow_http=True,
        network_id=SCOPE_ID,
    )
    world.settings.rules = RulesConfig(
        connect_groups_per=["department", "designation"],
        connect_group_names={"designation": "{value}s"},
    )


def test_a_connect_group_per_department_and_designation(world: World) -> None:
    use_connect(world)
    rows = sample_employees(180)
    world.write(rows)
    converge(world)
    found = connect_groups(world)
    for row in rows:
        assert row["email"] in found[row["department"]]
        assert row["email"] in found[row["designation"] + "s"]
    assert sum(len(m) for m in found.values()) == 2 * len(rows)
    assert planned(world) == []

    mover = rows[120]
    old = mover["department"]
    mover["department"] = "Finance" if old != "Finance" else "Sales"
    world.write(rows)
    assert sorted(planned(world)) == sorted(
        [
            f"Would update {mover['email']}: department {old!r} → {mover['department']!r}",
            f"Would add 1 person ({mover['employee_id']}) to Connect group {mover['department']!r}",
            f"Would remove {mover['email']} from Connect group {old!r}",
        ]
    )
    converge(world)
    found = connect_groups(world)
    assert mover["email"] in found[mover["department"]] and mover["email"] not in found[old]
    assert planned(world) == []
    assert world.stats()["lock_periods_total"] == 0


def test_connect_rules_without_a_network_are_refused_clearly(world: World) -> None:
    world.settings.rules = RulesConfig(connect_groups_per=["department"])
    with pytest.raises(ConfigError, match=r"\[connect\] has no network_id"):
        world.app()
