"""A stream of SCIM creations survives ``hrsync serve`` being SIGKILLed in its middle: four
identity-provider clients push 30 users each; Cliq holds back its answer to the first
invitation (made by the run for the first pushes), and the service is killed meanwhile, the
stream still going, then started again on the same folder and store; each client sends again
what failed with a connection error (a 409 for its userName then means the first try had been
kept). Every user answered 201 (or 409 on a retry) is in the store and listed by ``GET
/Users``, and reaches the Cliq emulator exactly once, with every HR event done."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from hrsync.access.ownership import TOML
from tests.e2e.conftest import Serve
from tests.e2e.test_scim import CORE, ENTERPRISE, scim_service
from tests.e2e.test_serve import wait_for

pytestmark = pytest.mark.e2e

CLIENTS = 4
USERS_EACH = 30  # 120 people: two invitation calls at most per run, within Zoho's minute
# Seconds between two users of a client: the stream (15 s) outlasts the first run, which
# gathers the pushes for at most 6 debounces (6 s).
PACE = 0.5
HELD = 5.0  # seconds Cliq holds its answer to the first invitation
DEPARTMENTS = ("Engineering", "Sales", "Finance")
RETRY_FOR = 60.0  # seconds a client keeps sending a user again while the service is away
# The killed service's lease on the integration runs out this soon (the least allowed): the
# one started again resumes its runs after it, not after the default minute.
LEASE = ("--lease", "3")


def user(client: int, n: int) -> dict[str, Any]:
    email = f"p{client}-{n}@example.com"
    return {
        "schemas": [CORE, ENTERPRISE],
        "externalId": f"K{client}{n:03d}",
        "userName": email,
        "active": True,
        "name": {"givenName": f"Pat{client}", "familyName": f"Push{n}"},
        "emails": [{"primary": True, "type": "work", "value": email}],
        ENTERPRISE: {"department": DEPARTMENTS[n % len(DEPARTMENTS)]},
    }


@dataclass
class Stream:
    """Where the clients send (the service's URL changes with its restart) and what they
    were answered."""

    url: str
    headers: dict[str, str]
    stored: dict[str, str] = field(default_factory=dict)  # externalId → 201 | 409 on retry
    refused: list[str] = field(default_factory=list)  # anything else: the test fails
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, client: int) -> None:
        with httpx.Client(headers=self.headers, timeout=30) as http:
            for n in range(USERS_EACH):
                self._one(http, user(client, n))
                time.sleep(PACE)

    def _one(self, http: httpx.Client, body: dict[str, Any]) -> None:
        retried, deadline = False, time.monotonic() + RETRY_FOR
        while True:
            try:
                answer = http.post(f"{self.url}/scim/v2/Users", json=body)
            except httpx.TransportError:
                with self.lock:
                    self.connection_errors += 1
                if time.monotonic() > deadline:
                    raise
                retried = True
                time.sleep(0.2)
                continue
            with self.lock:
                if answer.status_code == 201 or (answer.status_code == 409 and retried):
                    self.stored[body["externalId"]] = str(answer.status_code)
                else:
                    self.refused.append(f"{body['externalId']}: {answer.status_code} {answer.text}")
            return

    def answered(self) -> int:
        with self.lock:
            return len(self.stored) + len(self.refused)


def in_store(folder: Path, query: str) -> list[Any]:
    engine = create_engine(f"sqlite:///{folder / 'hrsync.db'}")
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(query), {"integration": TOML}))
    finally:
        engine.dispose()


def cliq_users(base: str) -> list[dict[str, Any]]:
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    return [u for u in users if u.get("employee_id")]


def test_a_stream_of_scim_creations_survives_a_sigkill(
    serve: Serve, tmp_path: Path, service: Any
) -> None:
    began = time.monotonic()
    started: list[tuple[subprocess.Popen[str], dict[str, str]]] = []

    def start(env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[str], str]:
        process, url = service(env, *extra, *LEASE)
        started.append((process, env))
        return process, url

    base, url, scim = scim_service(serve, tmp_path, start)
    scim.close()
    held = {"mode": "timeout", "endpoint": "users.add", "count": 1, "delay": HELD}
    httpx.post(f"{base}/_emulator/faults", json=[held]).raise_for_status()
    stream = Stream(url, dict(scim.headers))
    clients = [threading.Thread(target=stream.push, args=(c,)) for c in range(CLIENTS)]
    for client in clients:
        client.start()
    # The first invitation is made, its answer held back: the run waits for it.
    wait_for(lambda: cliq_users(base), 30, "the first run never invited anyone")
    process, env = started[0]
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = stream.answered()
    _, stream.url = service(env, *LEASE)  # the same folder, store and hrsync.toml
    for client in clients:
        client.join(RETRY_FOR + 30)
        assert not client.is_alive(), "a client never finished"

    assert not stream.refused, stream.refused
    assert stream.connection_errors > 0  # the kill caught the stream
    assert killed_at < CLIENTS * USERS_EACH  # in its middle
    stored = set(stream.stored)
    assert len(stored) == CLIENTS * USERS_EACH  # each user answered 201, or 409 on a retry

    # In the store, and listed by the service that was started again.
    kept = in_store(tmp_path, "SELECT hr_id FROM scim_resources WHERE integration = "
                    ":integration AND resource_type = 'User' AND deleted_at IS NULL")  # fmt: skip
    assert sorted(row[0] for row in kept) == sorted(stored)
    listed = httpx.get(
        f"{stream.url}/scim/v2/Users", params={"count": 1000}, headers=stream.headers
    ).json()
    assert listed["totalResults"] == len(stored)
    assert {u["externalId"] for u in listed["Resources"]} == stored

    # In Cliq exactly once; every HR event done.
    def synced() -> bool:
        ids = {u["employee_id"] for u in cliq_users(base)}
        events = in_store(tmp_path, "SELECT state FROM hr_events WHERE integration = :integration")
        return ids >= stored and all(state == "done" for (state,) in events)

    wait_for(synced, 120, "the pushed people did not all reach Cliq, or an event is not done")
    users = cliq_users(base)
    ids = [u["employee_id"] for u in users]
    emails = [u["email_id"].lower() for u in users]
    assert len(ids) == len(set(ids)) and set(ids) == stored  # everyone, nobody twice
    assert len(emails) == len(set(emails))  # nobody invited twice
    by_id = {u["employee_id"]: u for u in users}
    for client in range(CLIENTS):
        for n in range(USERS_EACH):
            department = by_id[f"K{client}{n:03d}"].get("department", {}).get("name")
            assert department == DEPARTMENTS[n % len(DEPARTMENTS)]
    calls = httpx.get(f"{base}/_emulator/stats").json()["calls"]
    answered_409 = sum(1 for status in stream.stored.values() if status == "409")
    print(
        f"\nkilled after {killed_at} answers; {stream.connection_errors} connection errors, "
        f"{answered_409} retries answered 409; calls {calls}; "
        f"{time.monotonic() - began:.1f} s in all"
    )
