"""The admin page in a real browser (Debian's chromium, driven by Playwright) against
``hrsync serve`` and the emulator over real HTTP: set an organisation up from the page (a
connection authorised through Zoho's consent and the callback, an integration created and
enabled, its run watched), and run it (a held run approved, a person synced, sign out).
Every page passes an axe-core check with no serious violation and carries no secret; a
screenshot of each is kept (``HRSYNC_SCREENSHOTS=DIR`` keeps them there, as the README's
are made)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.cli.demo import sample_employees, write_csv
from tests.e2e.conftest import Serve
from tests.e2e.test_serve import set_up_integration, wait_for

pytestmark = pytest.mark.e2e
CHROMIUM = "/usr/bin/chromium"
PASSPHRASE = "correct horse battery staple"
# Flags for a closed network: no background connections, no first-run work, no sandbox as root.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def browser_page(tmp_path: Path) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768})
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def screenshots() -> Path | None:
    where = os.environ.get("HRSYNC_SCREENSHOTS", "")
    return Path(where) if where else None


class Visit:
    """What every page must pass, checked on each page the test sees."""

    def __init__(self, page: Any, secrets: list[str], shots: Path) -> None:
        self.page, self.secrets, self.shots = page, secrets, shots

    def check(self, name: str, *, shot: bool = True) -> None:
        from axe_playwright_python.sync_playwright import Axe

        html = self.page.content()
        for secret in self.secrets:
            assert secret not in html, f"a secret is in the {name} page"
        results = Axe().run(self.page)
        serious = [
            f"{v['id']}: {v['help']} ({len(v['nodes'])} elements)"
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert serious == [], f"{name}: {serious}"
        if shot:
            self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


def test_an_admin_signs_in_approves_a_held_run_and_signs_out(
    serve: Serve, tmp_path: Path, service: Any, browser_page: Any
) -> None:
    base = serve("real")
    env = set_up_integration(base, tmp_path, 30)

    def hrsync(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hrsync", *args],
            cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    assert hrsync("admin", "passphrase", stdin=f"{PASSPHRASE}\n{PASSPHRASE}\n").returncode == 0
    assert hrsync("sync", "--integration", "hr").returncode == 0
    write_csv(tmp_path / "employees.csv", sample_employees(30)[:15])  # 15 leavers: above 10
    held = hrsync("sync", "--integration", "hr")
    assert held.returncode == 3, held.stderr
    run_id = held.stderr.split("held (run ")[1].split(")")[0]

    _, url = service(env, "--proof-window", "2")  # the passphrase is asked again after 2 s
    shots = screenshots() or tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    client_secret = env["HRSYNC_CLIENT_SECRET"]
    page = browser_page
    visit = Visit(page, [client_secret, PASSPHRASE], shots)

    page.goto(f"{url}/runs")
    assert page.url == f"{url}/signin"  # no session: to the sign-in
    visit.check("signin")
    page.get_by_label("Admin passphrase").fill("not the passphrase")
    page.get_by_role("button", name="Sign in").click()
    assert "that is not the admin passphrase" in page.get_by_role("alert").inner_text()
    page.get_by_label("Admin passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")

    row = page.get_by_role("row", name="hr")
    assert "enabled" in row.inner_text() and f"run {run_id}" in row.inner_text()
    visit.check("integrations")

    page.get_by_role("link", name="Runs").click()
    assert page.get_by_role("row").filter(has_text="held").count() >= 1
    visit.check("runs")

    page.get_by_role("link", name=run_id, exact=True).click()
    assert "this run would deactivate 15 of 30 managed users" in page.content()
    # The people at stake are listed at once, not behind a disclosure.
    assert page.get_by_role("listitem").filter(has_text="Would deactivate").count() == 15
    assert "Approving deactivates these 15 people in Cliq now." in page.inner_text("main")
    visit.check("held-run")
    time.sleep(2.5)  # the passphrase given at sign-in is no longer fresh
    page.reload()
    approve = page.get_by_role("button", name="Approve and apply these 15 changes")
    page.get_by_label("Type 15").fill("14")
    assert approve.is_disabled()  # a wrong count: the button stays disabled, and the
    approve.evaluate("button => { button.disabled = false; }")  # service refuses it anyway
    page.get_by_label("Admin passphrase").fill(PASSPHRASE)
    approve.click()
    refused = page.get_by_role("status").inner_text()
    assert refused == "not approved: type 15, the number of changes at stake ('14' was typed)"
    page.get_by_label("Type 15").fill("15")
    page.get_by_label("Admin passphrase").fill("not the passphrase")
    approve.click()
    refused = page.get_by_role("status").inner_text()
    assert refused == "not approved: that is not the admin passphrase"
    page.get_by_label("Type 15").fill("15")
    page.get_by_label("Admin passphrase").fill(PASSPHRASE)
    approve.click()
    assert "approved" in page.get_by_role("status").inner_text()

    def applied() -> bool:
        page.reload()
        return "Approved by the admin page; applied by run" in page.inner_text("main")

    wait_for(applied, 60, "the approved plan was never applied")
    assert page.locator("h1 .badge").inner_text() == "approved"
    visit.check("approved-run", shot=False)
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    active = [u for u in users if u.get("employee_id") and u["status"] != "inactive"]
    assert len(active) == 15

    # HR moves Ines to Sales; the admin looks her up and syncs her now.
    rows = sample_employees(30)[:15]
    rows[1]["mobile"] = "+1 555 999999"
    write_csv(tmp_path / "employees.csv", rows)
    page.get_by_role("link", name="People").click()
    page.get_by_label("Name, email or employee id").fill("ines silva")
    page.get_by_role("button", name="Search").click()
    assert "1 people in hr's HR source match" in page.inner_text("main")
    visit.check("people")
    page.get_by_role("link", name="E00002").click()
    assert page.get_by_role("row", name="+1 555 999999").count() == 1  # what hrsync wants
    visit.check("person")
    # Cliq holds the answer to the update for 6 s: time to watch the run from the list.
    fault = {"mode": "timeout", "endpoint": "users.update", "count": 1, "delay": 6}
    httpx.post(f"{base}/_emulator/faults", json=[fault]).raise_for_status()
    page.get_by_role("button", name="Sync this person now").click()
    assert "E00002 is synced as soon as" in page.get_by_role("status").inner_text()
    person = page.url
    page.get_by_role("link", name="Integrations").click()
    live = page.locator("#progress")
    live.filter(has_text="Running hr: 0/1 changes").wait_for(timeout=20_000)
    assert "calls made" in live.inner_text() and "ETA" in live.inner_text()
    visit.check("progress")
    live.filter(has_text="No run in progress.").wait_for(timeout=30_000)  # updated in place
    page.goto(person)

    def updated() -> bool:
        page.reload()
        history = page.get_by_role("table", name="The changes hrsync made or tried")
        return "'+1 555 999999'\tconfirmed" in history.inner_text()

    wait_for(updated, 60, "the person was never synced")
    visit.check("person", shot=False)
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    ines = next(u for u in users if u.get("employee_id") == "E00002")
    assert ines["mobile"] == "+1 555 999999"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{url}/signin")
    page.goto(f"{url}/")
    assert page.url == f"{url}/signin"
    if screenshots() is None:
        shutil.rmtree(shots)


def test_an_admin_sets_up_a_connection_and_an_integration_from_the_page(
    serve: Serve, tmp_path: Path, service: Any, browser_page: Any
) -> None:
    base = serve("real")
    client = httpx.get(f"{base}/_emulator/clients").json()["clients"][0]
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-m", "hrsync", "admin", "passphrase"],
        cwd=tmp_path, env=env, input=f"{PASSPHRASE}\n{PASSPHRASE}\n", capture_output=True,
        text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    write_csv(tmp_path / "employees.csv", sample_employees(30))
    _, url = service(env)
    # Registered once in Zoho's API console: the page's own callback.
    httpx.post(
        f"{base}/_emulator/clients/redirect_uris",
        json={"client_id": client["client_id"], "redirect_uris": [f"{url}/oauth/callback"]},
    ).raise_for_status()
    shots = screenshots() or tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    visit = Visit(page, [client["client_secret"], PASSPHRASE], shots)

    page.goto(f"{url}/signin")
    page.get_by_label("Admin passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")

    page.get_by_role("link", name="Connections").click()
    assert f"{url}/oauth/callback" in page.inner_text("main")
    page.get_by_text("Add a Zoho connection").click()
    zoho = page.locator("details.card", has_text="Add a Zoho connection")
    zoho.get_by_label("Name", exact=True).fill("cliq")
    zoho.get_by_label("Client id").fill(client["client_id"])
    zoho.get_by_label("Client secret").fill(client["client_secret"])
    zoho.get_by_text("Other hosts").click()
    zoho.get_by_label("API URL").fill(base)
    zoho.get_by_label("Accounts URL").fill(base)
    zoho.get_by_label("Allow plain HTTP").check()
    zoho.get_by_role("button", name="Add", exact=True).click()
    assert "cliq added" in page.get_by_role("status").inner_text()

    page.get_by_role("link", name="Integrations").click()
    page.get_by_text("Create an integration").click()
    page.get_by_label("Name", exact=True).fill("hr")
    page.get_by_label("HR export").fill("employees.csv")
    page.get_by_label("Zoho Cliq connection").select_option("cliq")
    page.get_by_label("Schedule").fill("every 15 min")
    page.get_by_role("button", name="Create as a draft").click()
    created = page.get_by_role("status").inner_text()
    assert created.startswith("hr created as a draft; it waits for: connection cliq:")
    pending = page.get_by_role("row", name="hr").get_by_role("listitem").all_inner_texts()
    assert any("cliq" in p and "authoris" in p for p in pending), pending
    visit.check("integrations-draft", shot=False)

    page.get_by_role("link", name="Connections").click()
    page.get_by_role("button", name="Authorise cliq").click()  # Zoho's consent, then back
    page.wait_for_url(f"{url}/connections")
    assert page.get_by_role("status").inner_text() == "cliq authorised"
    page.get_by_role("button", name="Test cliq").click()
    assert "cliq: works" in page.get_by_role("status").inner_text()
    visit.check("connections")
    calls = httpx.get(f"{base}/_emulator/stats").json()["calls"]
    for _ in range(3):  # the list, shown again and again, spends none of Zoho's limits
        page.get_by_role("link", name="Integrations").click()
    assert httpx.get(f"{base}/_emulator/stats").json()["calls"] == calls
    row = page.get_by_role("row", name="hr")
    assert "draft" in row.inner_text() and "none" in row.inner_text()  # nothing pending now
    page.get_by_role("button", name="Enable hr").click()
    assert page.get_by_role("status").inner_text() == "hr: enabled"

    def ran() -> bool:
        page.reload()
        return "succeeded" in page.get_by_role("row", name="hr").inner_text()

    wait_for(ran, 90, "the enabled integration never ran")
    next_run = page.get_by_role("row", name="hr").get_by_role("cell").nth(4).inner_text()
    assert next_run.endswith("UTC")  # 15 minutes after the run began
    page.get_by_role("link", name="Configure hr").click()
    assert '[cliq]\nconnection = "cliq"' in page.get_by_label("The configuration").input_value()
    visit.check("configure")
    visit.check("integrations-after-run", shot=False)
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    assert len([u for u in users if u.get("employee_id")]) == 30


@pytest.mark.parametrize("width", [1366, 390])
def test_plan_now_and_run_now_then_the_held_run_approved_by_its_typed_count(
    serve: Serve, tmp_path: Path, service: Any, browser_page: Any, width: int
) -> None:
    base = serve("real")
    env = set_up_integration(base, tmp_path, 30)

    def hrsync(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hrsync", *args],
            cwd=tmp_path, env=env, input=stdin, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    assert hrsync("admin", "passphrase", stdin=f"{PASSPHRASE}\n{PASSPHRASE}\n").returncode == 0
    assert hrsync("sync", "--integration", "hr").returncode == 0
    write_csv(tmp_path / "employees.csv", sample_employees(30)[:15])  # 15 leavers: above 10
    _, url = service(env)
    shots = screenshots() or tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.set_viewport_size({"width": width, "height": 844 if width < 600 else 768})
    visit = Visit(page, [env["HRSYNC_CLIENT_SECRET"], PASSPHRASE], shots)
    page.goto(f"{url}/signin")
    page.get_by_label("Admin passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")

    page.get_by_role("button", name="Plan hr now").click()
    main = page.inner_text("main")
    assert "Plan of hr: what a run would do now" in main and "nothing was sent to Zoho" in main
    assert "A run now would be held by a safety guard" in main and "15 deactivate" in main
    assert page.get_by_role("cell").filter(has_text="Would deactivate").count() == 15
    visit.check(f"plan-{width}")

    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("button", name="Run hr now").click()
    page.wait_for_url(f"{url}/runs/*", timeout=30_000)  # from the queued page, once begun

    def held() -> bool:
        page.reload()
        return "Held by a safety guard: 15 changes at stake" in page.inner_text("main")

    wait_for(held, 60, "the run asked for was never held")
    assert page.get_by_role("listitem").filter(has_text="Would deactivate").count() == 15
    visit.check(f"held-run-{width}")
    approve = page.get_by_role("button", name="Approve and apply these 15 changes")
    page.get_by_label("Type 15").fill("16")
    assert approve.is_disabled()
    page.get_by_label("Type 15").fill("15")
    assert approve.is_enabled()
    approve.click()
    assert "approved" in page.get_by_role("status").inner_text()

    def applied() -> bool:
        page.reload()
        return "Approved by the admin page; applied by run" in page.inner_text("main")

    wait_for(applied, 60, "the approved plan was never applied")
    assert page.locator("h1 .badge").inner_text() == "approved"
    page.locator(".approved-by a").click()
    main = page.inner_text("main")
    assert "succeeded" in main and "Deactivated " in main and "Would" not in main
    visit.check(f"applying-run-{width}")
    users = httpx.get(f"{base}/_emulator/state").json()["users"]
    active = [u for u in users if u.get("employee_id") and u["status"] != "inactive"]
    assert len(active) == 15
    if screenshots() is None:
        shutil.rmtree(shots)
