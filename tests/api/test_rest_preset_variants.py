"""Each preset converges under every disputed reading of its HR system's API that the
emulator plays (docs/readings/<vendor>.md): the first sync, movers, a leaver, a joiner."""

from __future__ import annotations

import pytest

from hrsync.emulator.hr import variants as hr_variants
from tests.api.test_rest_presets import matches, on
from tests.conftest import World
from tests.hr_vendors import VENDORS, people
from tests.support import converge, planned

CASES = [(v.name.split("-", 1)[0], v.name) for v in hr_variants()]


@pytest.mark.parametrize(("name", "variant"), CASES, ids=[v for _, v in CASES])
def test_the_preset_converges_under_the_reading(world: World, name: str, variant: str) -> None:
    answer = world.http.post(f"{world.base}/_emulator/variants", json={"variants": [variant]})
    assert answer.status_code == 200, answer.text
    vendor = VENDORS[name]
    on(world, vendor)
    persons = people(130)  # more than a page of Personio's and BambooHR's lists
    vendor.seed(world.http, world.base, persons)
    converge(world)
    matches(world, persons)

    world.clock.advance(900)
    for p in persons[40:43]:
        p["department"], p["designation"] = "Support", "Support Specialist"
    persons[60]["status"] = "inactive"
    joiner = people(131)[-1]
    persons.append(joiner)
    vendor.seed(world.http, world.base, [*persons[40:43], persons[60], joiner])
    converge(world)
    matches(world, persons)
    assert planned(world) == []
