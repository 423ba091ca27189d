"""docs/hr-apis.md's worked example of an HR API without a preset, taken from the page as it
is and read against an API answering as the page describes: what the page teaches works."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any

import httpx

from hrsync.clock import VirtualClock
from hrsync.config import Settings
from hrsync.model import Status
from hrsync.store import Store
from hrsync.wiring import rest_source

PAGE = Path(__file__).resolve().parents[2] / "docs" / "hr-apis.md"


def example() -> dict[str, Any]:
    text = PAGE.read_text(encoding="utf-8")
    after = text.split("This is its configuration:", 1)[1]
    block = re.search(r"```toml\n(.*?)```", after, re.S)
    assert block is not None, "the worked example's configuration is not on the page"
    return tomllib.loads(block.group(1))


def record(n: int, **over: Any) -> dict[str, Any]:
    return {
        "id": f"e-{n}",
        "code": f"ACM-{n:04d}",
        "email": f"person{n}@acme.example",
        "name": {"first": f"P{n}", "last": "Rao"},
        "jobTitle": "Engineer",
        "department": {"title": "Platform"},
        "reportsTo": {"id": "e-1"} if n > 1 else None,
        "state": "Working",
        "joined": "2021-04-01",
        "left": None,
        "employmentType": "Permanent",
        **over,
    }


def test_the_worked_example_reads_the_api_it_describes(tmp_path: Path) -> None:
    people = [record(n) for n in range(1, 251)]
    people[7] = record(8, state="Relieved", left="2026-01-01")
    asked: list[dict[str, str]] = []

    def api(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer sekrit"
        params = dict(request.url.params)
        asked.append(params)
        page, size = int(params["page"]), int(params["pageSize"])
        chosen = people
        if "modifiedSince" in params:
            chosen = people[:3]
        items = chosen[(page - 1) * size : page * size]
        return httpx.Response(200, json={"data": items, "totalRecords": len(chosen)})

    config = example()
    config["source"]["rest"]["auth"]["token"] = "sekrit"  # HRSYNC_SOURCE__REST__AUTH__TOKEN
    config["store"] = {"url": f"sqlite:///{tmp_path / 'hrsync.db'}"}
    settings = Settings(**config)
    clock = VirtualClock()
    store = Store(settings.store.url, clock=clock)
    with httpx.Client(transport=httpx.MockTransport(api)) as client:
        source = rest_source(settings, store, client, clock, 0)
        snapshot = source.read()
        assert [a["page"] for a in asked] == ["1", "2", "3"]
        assert not snapshot.errors
        asha = next(e for e in snapshot.employees if e.employee_id == "ACM-0017")
        found = (asha.first_name, asha.department, asha.manager_id)
        assert found == ("P17", "Platform", "ACM-0001")
        assert asha.hire_date == dt.date(2021, 4, 1)
        assert asha.extra["employment_type"] == "Permanent"
        left = next(e for e in snapshot.employees if e.employee_id == "ACM-0008")
        assert left.status is Status.INACTIVE
        clock.advance(3600)
        source.read()
        assert "modifiedSince" in asked[-1]
    store.close()
