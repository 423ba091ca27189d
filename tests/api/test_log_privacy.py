"""Logs without personal data: above DEBUG, a run names people by employee id and says which
fields changed, never an email or a value; DEBUG has them, for an admin who asks."""

from __future__ import annotations

import logging

import httpx
import pytest

from hrsync.cli.demo import sample_employees
from tests.conftest import World


class RefusesOneInvite(httpx.BaseTransport):
    """Cliq refuses one invitation by email, as its add-users answer does."""

    def __init__(self, inner: httpx.BaseTransport, email: str) -> None:
        self.inner, self.email = inner, email

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        invite = request.method == "POST" and request.url.path == "/api/v2/users"
        if invite and self.email.encode() in request.content:
            body = {"data": {"success_users": [], "failed_users": {self.email: "blocked"}}}
            return httpx.Response(200, json=body)
        return self.inner.handle_request(request)


def personal(rows: list[dict[str, str]]) -> set[str]:
    return {r[k] for r in rows for k in ("email", "mobile", "last_name") if r[k]}


def run(world: World, transport: httpx.BaseTransport) -> None:
    app = world.app(transport=transport)
    try:
        app.engine.run_apply()
    finally:
        app.close()


def test_info_lines_name_employee_ids_and_fields_never_emails_or_values(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    rows = sample_employees(6)
    world.write(rows[:5])
    caplog.set_level(logging.INFO)
    run(world, world.transport)
    rows[2]["mobile"] = "+1 555 0123"
    world.write(rows)  # a mover's new mobile, and a joiner Cliq refuses
    run(world, RefusesOneInvite(world.transport, rows[5]["email"]))
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    leaked = [line for line in lines for value in personal(rows) if value in line]
    assert leaked == []
    assert "Updated employee E00003: mobile" in lines
    assert "Invited employee E00001" in lines
    assert any("user:E00006:invite failed" in line and "<email>" in line for line in lines)

    caplog.clear()
    caplog.set_level(logging.DEBUG)
    rows[2]["mobile"] = "+1 555 0456"
    world.write(rows)
    run(world, world.transport)
    said = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert "+1 555 0456" in said and rows[2]["email"] in said
