"""The admin page's runs against the in-process emulator: "Plan now" shows what a run would
do (future tense, guards that would hold), "Run now" queues a run under the integration's
lease and follows it to its page, where what happened reads in the past tense; a held run is
approved only by typing the number of its changes; a run's progress names the Zoho limit it
waits for; hrsync.toml's own integration is listed with the same actions."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.access.admin import set_passphrase
from hrsync.api.ratelimit import Pacer
from hrsync.cli.demo import sample_employees
from hrsync.clock import RealClock
from hrsync.config import load_settings
from hrsync.service.app import create_service
from hrsync.service.progress import LiveProgress
from hrsync.store import Store
from hrsync.wiring import build
from tests.api.conftest import Hrsync
from tests.asgi import AsgiClient
from tests.conftest import World
from tests.support import converge

PASSPHRASE = "correct horse battery staple"


class Page:
    def __init__(self, world: World, config: Path) -> None:
        self.world, self.config = world, config
        self.url = load_settings(config).store.url
        store = Store(self.url, clock=world.clock)
        set_passphrase(store, PASSPHRASE)
        store.close()
        self.app = create_service(config, clock=world.clock)
        self.browser = AsgiClient(self.app)
        self.scheduler = self.app.state.scheduler

    def csrf(self, path: str = "/") -> str:
        page = self.browser.get(path)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def sign_in(self) -> str:
        token = self.csrf("/signin")
        self.browser.post("/signin", data={"passphrase": PASSPHRASE, "csrf": token})
        return self.csrf("/")

    def note(self, answer: httpx.Response) -> str:
        assert answer.status_code == 303, answer.text
        page = self.browser.get(answer.headers["location"]).text
        found = re.search(r'<p class="status" role="status">(.*?)</p>', page, re.S)
        assert found, page
        return html.unescape(found.group(1))


@pytest.fixture
def page(
    world: World, hrsync: Hrsync, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Page]:
    """The admin page on hrsync.toml (the ``hrsync`` fixture's, pointing at the world's
    emulator); its reads and the scheduler's runs go to the emulator in process."""

    def wired(settings: Any, **kwargs: Any) -> Any:
        kwargs.pop("transport", None), kwargs.pop("clock", None)
        return build(settings, clock=world.clock, client=world.http, pacer_margin=0, **kwargs)

    monkeypatch.setattr("hrsync.web.site.build", wired)
    monkeypatch.setattr("hrsync.service.scheduler.build", wired)
    made = Page(world, tmp_path / "hrsync.toml")
    yield made
    made.browser.close()


def text_of(answer: httpx.Response) -> str:
    """A page's words, tags left out."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", answer.text)))


def test_plan_now_shows_what_a_run_would_do_and_run_now_runs_it_under_its_lease(
    page: Page, world: World
) -> None:
    world.write(sample_employees(5))
    token = page.sign_in()
    listed = page.browser.get("/").text
    assert ">hrsync.toml</th>" in listed  # hrsync.toml's own, with the stored ones' actions
    assert 'aria-label="Run hrsync.toml now"' in listed
    assert 'aria-label="Plan hrsync.toml now"' in listed

    planned = page.browser.post("/integrations/default/plan", data={"csrf": token})
    assert planned.status_code == 200, planned.text
    said = text_of(planned)
    assert "Plan of hrsync.toml: what a run would do now" in said
    assert "nothing was sent to Zoho" in said and "5 invite" in said
    assert "Would invite " in said and "Invited" not in said
    assert "would be held" not in said
    assert not [c for c in world.state()["users"] if c.get("employee_id")]  # type: ignore[union-attr]

    asked = page.browser.post("/integrations/default/run", data={"csrf": token})
    assert asked.status_code == 303
    waiting = asked.headers["location"]
    assert waiting.startswith("/integrations/default/queued?after=")
    queued = page.browser.get(waiting)
    assert queued.status_code == 200 and "A run of hrsync.toml is queued" in text_of(queued)
    assert page.scheduler.requested == ["default"]

    # Another worker runs hrsync.toml's integration now: the run waits for its lease.
    other = Store(page.url, clock=RealClock()).leases(owner="elsewhere:1", seconds=60)
    assert other.claim("default")
    page.scheduler.run_queued()
    assert page.scheduler.requested == ["default"]
    assert page.browser.get(waiting).status_code == 200  # not begun yet
    other.release("default")
    page.scheduler.run_queued()
    assert page.scheduler.requested == []

    begun = page.browser.get(waiting)
    assert begun.status_code == 303 and begun.headers["location"].startswith("/runs/")
    run = text_of(page.browser.get(begun.headers["location"]))
    assert "apply of hrsync.toml, succeeded" in run
    assert "Invited " in run and "Would invite" not in run


def test_plan_now_says_which_guard_would_hold_the_run(page: Page, world: World) -> None:
    rows = sample_employees(30)
    world.write(rows)
    converge(world)
    world.write(rows[:15])  # 15 leavers: above the limit of 10
    token = page.sign_in()
    said = text_of(page.browser.post("/integrations/default/plan", data={"csrf": token}))
    assert "A run now would be held by a safety guard" in said
    assert "this run would deactivate 15 of 30 managed users" in said
    assert "--confirm-deactivations" not in said
    assert "15 deactivate" in said and "Would deactivate " in said


def test_changes_read_in_their_states_words_also_in_runs_kept_by_older_versions(
    page: Page,
) -> None:
    store = Store(page.url, clock=page.world.clock, integration="default")
    run = store.start_run("apply")
    store.journal_intend(
        run,
        [
            ("user:E1:link", "link", "Would adopt existing Cliq user a@x.com for employee E1 "
             "(same email)", "{}"),
            ("user:E2:update", "update", "Would update b@x.com: mobile (none) → '+1 555'", "{}"),
            ("team:sales", "create_team", "Would create team 'Sales'", "{}"),
            ("user:E3:invite", "invite", "Would invite c@x.com (employee E3)", "{}"),
        ],
    )  # fmt: skip
    store.journal_mark(run, ["user:E1:link", "user:E2:update"], "confirmed")
    store.journal_mark(run, ["team:sales"], "failed", error="Cliq said no")
    store.journal_mark(run, ["user:E3:invite"], "skipped", error="left to Zoho People")
    store.finish_run(run, "partial", {"counts": {"link": 1, "update": 1, "create_team": 1}})
    store.close()
    page.sign_in()
    said = text_of(page.browser.get(f"/runs/{run}"))
    assert "Adopted existing Cliq user a@x.com for employee E1 (same email) link confirmed" in said
    assert "Updated b@x.com: mobile (none) → '+1 555' update confirmed" in said
    assert "Creating team 'Sales' failed create_team failed Cliq said no" in said
    assert "Not done: invite c@x.com (employee E3) invite skipped" in said
    assert "Would" not in said
    rows = page.browser.get(f"/runs/{run}/changes.csv").text
    assert "Created" not in rows and "Creating team 'Sales' failed" in rows


def test_a_held_run_lists_its_stakes_first_and_reads_approved_with_the_applying_run(
    page: Page,
) -> None:
    store = Store(page.url, clock=page.world.clock, integration="default")
    held = store.start_run("apply")
    stakes = [f"Would deactivate e{n}@x.com (not in the HR export)" for n in range(16)]
    hold = (
        "this run would deactivate 16 of 30 managed users; run again with "
        "--confirm-deactivations 16"
    )
    summary = {
        "hold": hold,
        "counts": {"deactivate": 16},
        "fingerprint": "f" * 16,
        "stakes": stakes,
    }
    store.finish_run(held, "held", summary)
    store.close()
    page.sign_in()
    shown = page.browser.get(f"/runs/{held}").text
    first = shown.index("Would deactivate e0@x.com")
    assert first < shown.index('name="count"')  # the people at stake come before the button
    assert "<details" not in shown and "0 of 0" not in shown and "<table" not in shown
    said = text_of(page.browser.get(f"/runs/{held}"))
    assert "Held by a safety guard: 16 changes at stake" in said
    assert "Approving deactivates these 16 people in Cliq now." in said
    assert "--confirm" not in said and "Type 16, the number of changes at stake" in said

    # An approved run, once applied, names the run that applied it.
    store = Store(page.url, clock=page.world.clock, integration="default")
    applying = store.start_run("apply")
    store.finish_run(applying, "succeeded", {"approves": held})
    store.annotate_run(
        held, {"approved_by": applying, "approver": "the admin page"}, status="approved"
    )
    store.close()
    answer = page.browser.get(f"/runs/{held}")
    assert f'<a href="/runs/{applying}">run {applying}</a>' in answer.text
    said = text_of(answer)
    assert "approved" in said and f"Approved by the admin page; applied by run {applying}" in said
    assert 'name="count"' not in answer.text


def test_progress_names_the_zoho_limit_a_run_waits_for(page: Page, world: World) -> None:
    page.sign_in()
    app = world.app()
    try:
        live = LiveProgress("default", app.services, world.clock)
        pacer: Pacer = app.services[0].pacer
        pacer.waiting = ("users.update", 1_790_000_527.4)
        page.scheduler.progress = live
        store = Store(page.url, clock=world.clock, integration="default")
        run = store.start_run("apply")
        store.close()
        answer = page.browser.get("/progress", params={"integration": "default"}).json()
        assert answer["waiting"] == {
            "endpoint": "users.update",
            "until": 1_790_000_527.4,
            "said": "waiting for Zoho's limit on users.update until 14:22:07 UTC",
        }
        assert page.browser.get("/progress", params={"integration": "hr"}).json() == {
            "running": False
        }
        said = text_of(page.browser.get(f"/runs/{run}"))
        assert "reading HR and Zoho" in said
        assert "waiting for Zoho's limit on users.update until 14:22:07 UTC" in said
    finally:
        page.scheduler.progress = None
        app.close()


def test_the_pacer_says_what_it_waits_for_while_it_waits() -> None:
    seen: list[tuple[str, float] | None] = []

    class Clock:
        t = 1000.0

        def now(self) -> float:
            return self.t

        def sleep(self, seconds: float) -> None:
            seen.append(pacer.waiting)
            self.t += seconds

    pacer = Pacer(Clock(), margin=0)  # type: ignore[arg-type]
    for _ in range(21):
        pacer.wait("users.update")
        pacer.record("users.update")
    assert seen == [("users.update", 1060.0)] and pacer.waiting is None


def test_the_create_form_refuses_a_cliq_connection_as_the_people_source(page: Page) -> None:
    token = page.sign_in()
    connection = {"csrf": token, "name": "cliq", "service": "zoho_cliq",
                  "client_id": "1000.ABC", "client_secret": "a client secret of the org",
                  "allow_http": "true", "accounts_url": "http://127.0.0.1:9",
                  "api_url": "http://127.0.0.1:9"}  # fmt: skip
    assert page.browser.post("/connections", data=connection).status_code == 303
    listed = page.browser.get("/").text
    people = listed.split('id="source_connection"')[1].split("</select>")[0]
    assert "cliq" not in people  # only Zoho People connections are offered
    assert 'id="scope"' in listed and "department=Sales" not in listed  # no scope suggested
    form = {"csrf": token, "name": "hr", "source_connection": "cliq", "target": "cliq"}
    said = page.note(page.browser.post("/integrations", data=form))
    assert said.startswith("hr not created: cliq is a Zoho Cliq connection, not Zoho People's")
