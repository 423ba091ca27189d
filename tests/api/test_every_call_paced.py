"""Every call to Zoho goes through the pacer and the store's shared call log, whatever starts
it: the sync, doctor, an integration's pending actions, a connection's test, or a call by
hand. Many admin commands within one minute trigger no lock period.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hrsync.access.connections import Connections
from hrsync.access.integrations import Integrations
from hrsync.access.vault import ENV_KEY, Vault, new_key
from hrsync.api.ratelimit import endpoint_of
from hrsync.cli.demo import sample_employees, write_csv
from hrsync.emulator.app import ROUTES
from hrsync.store import Store
from tests.api.test_integrations import connect_cliq
from tests.conftest import World

SRC = Path(__file__).resolve().parents[2] / "src" / "hrsync"
SCOPES = [
    "ZohoCliq.Users.ALL",
    "ZohoCliq.Departments.ALL",
    "ZohoCliq.Designations.ALL",
    "ZohoCliq.Teams.ALL",
]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.pattern.pattern}")
def test_every_path_is_paced_as_the_limit_it_counts_against(route: object) -> None:
    """The pacer's table agrees with Zoho's (as the emulator enforces it) on every path."""
    method, pattern, endpoint = route.method, route.pattern.pattern, route.endpoint  # type: ignore[attr-defined]
    template = pattern.removeprefix("^").removesuffix("\\Z").removesuffix("$").removesuffix("/?")
    path = re.sub(r"\(\[\^/\]\+\)", "1901318000000000005", template)
    assert endpoint_of(method, path) == endpoint, path


@pytest.fixture
def integrations(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Integrations]:
    monkeypatch.setenv(ENV_KEY, new_key())
    store = Store(world.settings.store.url, clock=world.clock)
    vault = Vault.open(tmp_path / "unused.key")
    yield Integrations(store, Connections(store, vault, world.http, world.clock))
    store.close()


def test_admin_commands_within_a_minute_trigger_no_lock_period(
    world: World, integrations: Integrations, tmp_path: Path
) -> None:
    export = tmp_path / "hr.csv"
    write_csv(export, sample_employees(10))
    connect_cliq(world, integrations.connections, SCOPES)
    config = {"source": {"path": str(export)}, "cliq": {"connection": "cliq"}}
    integrations.create("hr", config)
    for _ in range(6):  # an admin trying things: each reads Cliq's user fields
        integrations.show("hr")
        integrations.enable("hr")
        integrations.every()
        assert integrations.connections.test("cliq")[0]
    for _ in range(5):
        answer = integrations.connections.request("cliq", "GET", "/api/v2/userfields")
        assert answer.status_code == 200
    stats: dict[str, object] = world.stats()
    assert stats["lock_periods_triggered"] == {}
    calls: dict[str, int] = stats["calls"]  # type: ignore[assignment]
    assert calls["userfields"] >= 20  # more than one minute's worth: paced, not refused
    logged = integrations.store.call_log("http://127.0.0.1:9")
    since = 0.0
    assert len(logged.recent("userfields", since)[0]) == calls["userfields"]


# Modules that may send a request with an HTTP client: the paced chokepoint, the token
# endpoints (Zoho Accounts: a limit of their own, shared through the store), and the calls of
# a connection (paced by ``endpoint_of`` for Zoho's API; a custom service is not Zoho's).
ALLOWED = {
    "api/http.py",
    "api/auth.py",
    "access/connections.py",
    "access/tokens.py",
    "cli/demo.py",  # the demo's own consent on its local emulator
}
SENDS = {"request", "send", "get", "post", "put", "patch", "delete", "stream"}


def test_no_module_sends_a_request_except_through_the_paced_client() -> None:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        if where.startswith(("emulator/", "web/", "service/app.py")) or where in ALLOWED:
            continue  # the emulator serves; the page and the service answer requests
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
            if node.func.attr in SENDS and name in ("client", "_client", "httpx", "http_client"):
                found.append(f"{where}:{node.lineno}")
    assert found == []
