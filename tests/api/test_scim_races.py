"""SCIM pushes racing each other, kept in PostgreSQL (row locks, savepoints) and in SQLite
(writes that take the file's lock first): identity providers racing to create the same user
get one 201 and 409s, concurrent PATCHes of one user lose none, and a bulk upload's refused
record rolls back alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_scim_bulk_upload import BULK, record
from tests.unit.test_scim_service import CORE, ENTERPRISE, PATCH, Scim


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def scim(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Scim]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else ""
    made = Scim(tmp_path, store_url=url)
    yield made
    made.client.close()


def together(scim: Scim, calls: list[tuple[str, str, Any]]) -> list[Any]:
    """The calls sent at once, as concurrent clients send them."""
    client = scim.client._client
    headers = {**scim.headers, "Content-Type": "application/scim+json"}

    async def all_of() -> list[Any]:
        return list(
            await asyncio.gather(
                *(
                    client.request(method, f"/scim/v2{path}", headers=headers,
                                   content=json.dumps(body))
                    for method, path, body in calls
                )
            )
        )  # fmt: skip

    return scim.client._loop.run_until_complete(all_of())


def test_racing_creates_of_one_user_get_one_201_and_the_others_409(scim: Scim) -> None:
    body = {"schemas": [CORE], "externalId": "E1", "userName": "ada@example.com"}
    answers = together(scim, [("POST", "/Users", body)] * 6)
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409, 409]
    assert scim.events() == [("E1", "scim")]


def test_concurrent_patches_of_one_user_lose_none(scim: Scim) -> None:
    ada = scim.user("E1", "ada@example.com")
    calls = [
        ("PATCH", f"/Users/{ada}", {"schemas": [PATCH], "Operations": [
            {"op": "add", "path": "phoneNumbers", "value": [{"value": f"+1 555 000{n}",
                                                            "type": f"t{n}"}]}]})
        for n in range(5)
    ]  # fmt: skip
    assert [a.status_code for a in together(scim, calls)] == [204] * 5
    phones = scim.call("GET", f"/Users/{ada}").json()["phoneNumbers"]
    assert sorted(p["type"] for p in phones) == ["t0", "t1", "t2", "t3", "t4"]


def test_a_refused_bulk_record_rolls_back_alone(scim: Scim) -> None:
    scim.user("E1", "ada@example.com")
    body = {"schemas": [BULK], "Operations": [
        record("E2", active=True), record("E3", userName="ADA@example.com"), record("E4"),
    ]}  # fmt: skip
    answer = scim.client.post("/scim/v2/bulkUpload", headers=scim.headers,
                              content=json.dumps(body))  # fmt: skip
    assert [r["status"] for r in answer.json()["records"]] == ["stored", "refused", "stored"]
    assert [e for e, _ in scim.events()] == ["E1", "E2", "E4"]
    pushed = {"schemas": [CORE, ENTERPRISE], "externalId": "E2", "userName": "again@x.com"}
    assert scim.call("POST", "/Users", pushed).status_code == 409
