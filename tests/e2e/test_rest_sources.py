"""Each preset over real HTTP, as an admin runs it: `hrsync emulator serve` plays the HR
system and Zoho in one process, `hrsync sync` runs as a command with the API's secret in
the environment. The first sync, joiners, movers, a leaver, a rehire, an email change; a
truncated answer, a revoked key and a throttled API."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w

from hrsync.cli.demo import grant_refresh_token
from tests.e2e.conftest import Serve, run_hrsync
from tests.hr_vendors import VENDORS, Person, Vendor, people

pytestmark = pytest.mark.e2e
NAMES = sorted(VENDORS)


class Admin:
    """One organisation's admin: hrsync.toml in a folder, secrets in the environment."""

    def __init__(self, folder: Path, base: str, vendor: Vendor) -> None:
        self.folder, self.base, self.vendor = folder, base, vendor
        self.http = httpx.Client(timeout=30)
        client_id, secret, refresh = grant_refresh_token(self.http, base)
        source = vendor.source(self.http, base)
        auth = source["rest"].pop("auth")
        config = {
            "source": source,
            "cliq": {"api_url": base, "accounts_url": base, "client_id": client_id,
                     "allow_http": True},
        }  # fmt: skip
        (folder / "hrsync.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
        self.env = os.environ | {
            "HRSYNC_CLIQ__CLIENT_SECRET": secret,
            "HRSYNC_CLIQ__REFRESH_TOKEN": refresh,
        }
        self.env |= {f"HRSYNC_SOURCE__REST__AUTH__{k.upper()}": v for k, v in auth.items()}

    def hrsync(self, *args: str, code: int = 0, env: dict[str, str] | None = None) -> str:
        done = run_hrsync(self.folder, env or self.env, *args)
        assert done.returncode == code, f"hrsync {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    def seed(self, persons: list[Person]) -> None:
        self.vendor.seed(self.http, self.base, persons)

    def users(self) -> dict[str, dict[str, Any]]:
        state = self.http.get(f"{self.base}/_emulator/state").json()
        return {u["employee_id"]: u for u in state["users"] if u.get("employee_id")}

    def matches(self, persons: list[Person]) -> None:
        users = self.users()
        for p in persons:
            user = users[p["employee_id"]]
            active = p["status"] == "active"
            assert (user["status"] != "inactive") == active, p["employee_id"]
            if active:
                assert user["email_id"] == p["email"]
                assert user["department"]["name"] == p["department"]
                assert user["designation"]["name"] == p["designation"]
                if p["manager_id"]:
                    assert user["reportingto"]["id"] == users[p["manager_id"]]["id"]


@pytest.fixture
def admin(serve: Serve, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    made: list[Admin] = []

    def start(name: str) -> Admin:
        made.append(Admin(tmp_path, serve("real"), VENDORS[name]))
        return made[-1]

    yield start
    for one in made:
        one.http.close()


@pytest.mark.parametrize("name", NAMES)
def test_the_preset_over_http_follows_hr(admin: Any, name: str) -> None:
    org: Admin = admin(name)
    persons = people(60)
    org.seed(persons)
    org.hrsync("config", "check")
    org.hrsync("sync")
    org.matches(persons)
    org.hrsync("plan", "--detailed-exitcode")  # 0: nothing left to do

    joiner = people(61)[-1]
    persons.append(joiner)
    for p in persons[30:33]:
        p["department"], p["designation"] = "Support", "Support Specialist"
    persons[40]["status"] = "inactive"
    persons[41]["email"] = "renamed.41@zylker.example"
    org.seed([joiner, *persons[30:33], persons[40], persons[41]])
    org.hrsync("sync")
    org.matches(persons)

    persons[40]["status"] = "active"  # the rehire
    org.seed([persons[40]])
    said = org.hrsync("plan")
    assert f"reactivate {persons[40]['email']}" in said
    org.hrsync("sync")
    org.matches(persons)
    ids = [u for u in org.users()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", NAMES)
def test_a_revoked_key_is_a_clear_error_and_changes_nothing(admin: Any, name: str) -> None:
    org: Admin = admin(name)
    org.seed(people(10))
    org.hrsync("sync")
    before = org.users()
    wrong = {k: "revoked" for k in org.env if k.startswith("HRSYNC_SOURCE__REST__AUTH__")}
    wrong.pop("HRSYNC_SOURCE__REST__AUTH__USERNAME", None)  # HiBob's service user id stays
    wrong.pop("HRSYNC_SOURCE__REST__AUTH__CLIENT_ID", None)
    said = org.hrsync("sync", code=1, env=org.env | wrong)
    assert "refused the credentials" in said or "gave no token" in said, said
    assert "revoked" not in said  # the secret itself is never printed
    assert org.users() == before


@pytest.mark.parametrize("name", NAMES)
def test_a_truncated_answer_deactivates_nobody(admin: Any, name: str) -> None:
    org: Admin = admin(name)
    org.seed(people(30))
    org.hrsync("sync")
    fault: dict[str, Any] = {"mode": "truncate"}
    if name == "hibob":
        fault["cut"] = "json"
    org.vendor.fault(org.http, org.base, **fault)
    (org.folder / "hrsync.db").unlink()  # a fresh store: this read is a full one
    said = org.hrsync("sync", code=1)
    assert "taken as failed" in said or "no records" in said, said
    assert all(u["status"] != "inactive" for u in org.users().values())


# HiBob's 429 names its window's end, up to a minute away: tests/api/test_rest_presets.py
# waits it out on a virtual clock.
@pytest.mark.parametrize("name", ["bamboohr", "personio"])
def test_a_throttled_api_is_waited_out_and_the_sync_goes_on(admin: Any, name: str) -> None:
    org: Admin = admin(name)
    persons = people(20)
    org.seed(persons)
    fault: dict[str, Any] = {"mode": "throttle", "count": 1}
    if name == "bamboohr":
        fault["retry_after"] = 1
    org.vendor.fault(org.http, org.base, **fault)
    org.hrsync("sync")
    org.matches(persons)
    stats = org.http.get(f"{org.base}/_emulator/stats").json()
    assert stats["lock_periods_total"] == 0  # Zoho's side never locked either


def _delivery(org: Admin, name: str, record_id: str, secret: str) -> tuple[dict[str, str], bytes]:
    """A webhook delivery naming one record, signed as the vendor signs it."""
    if name == "hibob":
        built = org.http.post(
            f"{org.base}/_emulator/hr/hibob/webhooks/deliver",
            json={"type": "employee.updated", "employeeIds": [record_id], "secret": secret},
        ).json()
        return dict(built["headers"]), built["body"].encode()
    if name == "bamboohr":
        body = json.dumps({"employees": [{"id": record_id, "action": "Updated"}]}).encode()
        stamp = str(int(time.time()))
        mac = hmac.new(secret.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
        headers = {"X-BambooHR-Signature": mac, "X-BambooHR-Timestamp": stamp}
        return headers | {"Content-Type": "application/json"}, body
    body = json.dumps({"event_name": "person.updated", "payload": {"id": int(record_id)}}).encode()
    return {"Authorization": secret, "Content-Type": "application/json"}, body


@pytest.mark.parametrize("name", NAMES)
def test_a_vendor_webhook_syncs_the_person_it_names(admin: Any, service: Any, name: str) -> None:
    org: Admin = admin(name)
    config = tomllib.loads((org.folder / "hrsync.toml").read_text(encoding="utf-8"))
    config["sync"] = {"schedule": ""}  # only HR events run it: the webhook, here
    (org.folder / "hrsync.toml").write_text(tomli_w.dumps(config), encoding="utf-8")
    secret = f"{name}-webhook-secret"
    org.env["HRSYNC_SOURCE__REST__WEBHOOK__SECRET"] = secret
    persons = people(12)
    org.seed(persons)
    org.hrsync("sync")
    org.matches(persons)
    _, url = service(org.env)

    mover = persons[7]
    mover["department"], mover["designation"] = "Support", "Support Specialist"
    org.seed([mover])
    headers, body = _delivery(org, name, mover["employee_id"], secret)
    answer = httpx.post(f"{url}/hooks/{name}/hrsync.toml", content=body, headers=headers)
    assert answer.status_code == 202, answer.text
    deadline = time.monotonic() + 30
    while org.users()[mover["employee_id"]]["department"]["name"] != "Support":
        assert time.monotonic() < deadline, "the webhook's person was not synced in 30 s"
        time.sleep(0.5)
    org.matches(persons)

    forged = dict(headers)
    for key in forged:
        if key.lower() in ("x-bamboohr-signature", "bob-signature", "authorization"):
            forged[key] = "0" * 16
    refused = httpx.post(f"{url}/hooks/{name}/hrsync.toml", content=body, headers=forged)
    assert refused.status_code == 401
