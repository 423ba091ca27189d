"""Steps and checks shared by the in-process and the end-to-end sync tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.access.connections import Connections
from hrsync.cli.demo import change_export, sample_employees
from hrsync.cli.main import main
from tests.conftest import BASE, World


class KillAfterWrites(httpx.BaseTransport):
    """The process dies (``dies`` is raised) when it is about to send write number
    ``writes + 1`` to Zoho: reads and token requests go through."""

    def __init__(
        self, inner: httpx.BaseTransport, writes: int, dies: type[BaseException] = KeyboardInterrupt
    ) -> None:
        self.inner, self.left, self.dies = inner, writes, dies

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET" and "/oauth/" not in request.url.path:
            self.left -= 1
            if self.left < 0:
                raise self.dies
        return self.inner.handle_request(request)


def converge(world: World, *, transport: httpx.BaseTransport | None = None) -> None:
    # Back to back, as separate processes: the store's call log paces them together.
    app = world.app(transport=transport)
    try:
        outcome = app.engine.run_apply()
        assert outcome.report is not None and outcome.report.failed == []
    finally:
        app.close()


def planned(world: World, *, transport: httpx.BaseTransport | None = None) -> list[str]:
    app = world.app(dry_run=True, transport=transport)
    try:
        plan, _, _ = app.engine.plan()
        return [c.describe(done=False) for c in plan.changes]
    finally:
        app.close()


def cliq_users(world: World) -> dict[str, dict[str, Any]]:
    users = world.state()["users"]
    assert isinstance(users, list)
    return {u["employee_id"]: u for u in users if u.get("employee_id")}


def assert_matches_export(world: World, rows: list[dict[str, str]]) -> None:
    users = cliq_users(world)
    by_id = {r["employee_id"]: r for r in rows}
    for eid, row in by_id.items():
        user = users[eid]
        active = row["status"] == "active"
        assert (user["status"] != "inactive") == active, eid
        if not active:
            continue
        assert user["email_id"] == row["email"]
        assert user["first_name"] == row["first_name"] and user["last_name"] == row["last_name"]
        assert user["mobile"] == row["mobile"] and user["phone"] == row["work_phone"]
        assert user["extension"] == row["extension"]
        assert user["work_location"] == row["seating_location"]
        assert user["department"]["name"] == row["department"]
        assert user["designation"]["name"] == row["designation"]
        manager = row["manager_id"]
        if manager:
            assert user["reportingto"]["id"] == users[manager]["id"], eid
        else:
            assert "reportingto" not in user
    for eid, user in users.items():
        if eid not in by_id:
            assert user["status"] == "inactive", f"{eid} left the feed but is {user['status']}"


def lifecycle(world: World, size: int) -> None:
    """Joiners, then movers, leavers, an email change and a rehire: each run converges."""
    rows = sample_employees(size)
    world.write(rows)
    converge(world)
    assert_matches_export(world, rows)
    assert planned(world) == []
    stats = world.stats()
    assert stats["lock_periods_total"] == 0
    calls = stats["calls"]
    assert isinstance(calls, dict) and calls["users.add"] <= size // 100 + 4  # batches + levels

    changed = change_export(rows)
    rows[500]["status"] = "Terminated"
    world.write(rows)
    assert len(planned(world)) == len(changed) + 1  # one change each, plus one more leaver
    converge(world)
    rows[500]["status"] = "active"  # the rehire
    world.write(rows)
    assert planned(world) == [f"Would reactivate {rows[500]['email']} (rehire)"]
    converge(world)
    for row in rows:
        row["status"] = "active" if row["status"] == "active" else "inactive"
    assert_matches_export(world, rows)
    assert planned(world) == []
    assert world.stats()["lock_periods_total"] == 0
    # no one was ever invited twice: one Cliq user per employee id
    ids = [u.get("employee_id") for u in world.state()["users"]]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids))


def emulated_connection(
    world: World, connections: Connections, name: str = "cliq", scopes: list[str] | None = None
) -> str:
    """A Cliq connection to the in-process emulator; returns its client secret."""
    cliq = world.settings.cliq
    secret = cliq.client_secret.get_secret_value()
    connections.add_zoho(
        name,
        "zoho_cliq",
        client_id=cliq.client_id,
        client_secret=secret,
        scopes=scopes,
        api_url=BASE,
        accounts_url=BASE,
        allow_http=True,
    )
    return secret


def authorise_at_emulator(world: World, connections: Connections, name: str = "cliq") -> None:
    """The consent round trip: the emulator agrees at once and redirects back with a code."""
    redirect = "http://127.0.0.1:8765/callback"
    consent = world.http.get(connections.authorize_url(name, redirect_uri=redirect, state="xyz"))
    back = httpx.URL(consent.headers["location"])
    assert back.params["state"] == "xyz"
    connections.authorise(name, code=back.params["code"], redirect_uri=redirect)


def run_main(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str, str]:
    """``hrsync --config CONFIG ARGS`` as its console script runs it, in this process:
    (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as ended:
        main(["--config", str(config), *args])
    out, err = capsys.readouterr()
    code = ended.value.code
    return (code if isinstance(code, int) else 1), out, err


def access_token(world: World) -> str:
    """An access token of the world's Cliq keys, as an admin holds one for calls by hand."""
    form = world.settings.cliq
    answer = world.http.post(
        f"{world.base}/oauth/v2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": form.client_id,
            "client_secret": form.client_secret.get_secret_value(),
            "refresh_token": form.refresh_token.get_secret_value(),
        },
    )
    token: str = answer.json()["access_token"]
    return token


class KeepsOldValue(httpx.BaseTransport):
    """A reading nobody has named: Cliq takes a user update, answers as if done, and keeps
    the old value of ``name`` (the update goes on to Cliq with ``new`` put back to ``old``,
    so its answer is Cliq's own, in whichever body shape the organisation takes)."""

    def __init__(self, inner: httpx.BaseTransport, name: str, new: str, old: str) -> None:
        self.inner, self.name, self.new, self.old = inner, name, new, old
        self.kept = 0  # updates whose new value was dropped

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.url.path.startswith("/api/v2/users/"):
            body = json.loads(request.content)
            entries = body.get("users", []) if isinstance(body, dict) else []
            for entry in [body, *entries]:
                if isinstance(entry, dict) and entry.get(self.name) == self.new:
                    entry[self.name] = self.old
                    self.kept += 1
            content = json.dumps(body).encode()
            headers = {k: v for k, v in request.headers.items() if k.lower() != "content-length"}
            request = httpx.Request("PUT", request.url, headers=headers, content=content)
        return self.inner.handle_request(request)


def queued_events(scheduler: Any, integration: str = "hr") -> list[str]:
    """The employee ids of every HR event the service's store holds for ``integration``, in
    the order they arrived (whatever became of them)."""
    from hrsync.clock import RealClock
    from hrsync.config import load_settings
    from hrsync.store import Store

    store = Store(
        load_settings(scheduler.config).store.url, clock=RealClock(), integration=integration
    )
    try:
        return [e.employee_id for e in reversed(store.events(limit=10_000))]
    finally:
        store.close()
