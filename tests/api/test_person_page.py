"""A person's page on the admin page, in process against the emulator: HR's value and Cliq's
value now for each field, whether they agree, the last sync, every integration's history,
the page titled by the person's name, a column the export lacks told apart from a value HR
has broken, and Cliq out of reach said on a page that still shows HR's side."""

from __future__ import annotations

import csv
import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.access.admin import set_passphrase
from hrsync.cli.demo import sample_employees
from hrsync.service.app import create_service
from hrsync.store import Store
from hrsync.wiring import build
from tests.asgi import AsgiClient
from tests.conftest import World
from tests.support import converge

PASSPHRASE = "correct horse battery staple"


class Admin:
    """A signed-in browser on ``hrsync serve``'s page, hrsync.toml pointing at the world."""

    def __init__(self, world: World, config: Path) -> None:
        self.world = world
        self.app = create_service(config, clock=world.clock)
        self.browser = AsgiClient(self.app)
        token = self.csrf("/signin")
        signed = self.browser.post("/signin", data={"passphrase": PASSPHRASE, "csrf": token})
        assert signed.status_code == 303

    def csrf(self, path: str) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.browser.get(path).text)
        assert found
        return found.group(1)

    def text(self, path: str) -> str:
        page = self.browser.get(path)
        assert page.status_code == 200, page.text
        return html.unescape(page.text)


def field_row(page: str, name: str) -> str:
    """The text of the fields table's row for ``name`` (tags out, spaces squeezed)."""
    table = page.split('class="stack fields"')[1].split("</table>")[0]
    for row in table.split("<tr")[2:]:
        if re.search(rf"<th scope=\"row\">{re.escape(name)}[ <]", row):
            return " ".join(re.sub(r"<[^>]+>", " ", row).split())
    raise AssertionError(f"no row for {name}")


@pytest.fixture
def admin(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Admin]:
    world.write(sample_employees(12))
    converge(world)
    cliq = world.settings.cliq
    config = tmp_path / "hrsync.toml"
    config.write_text(
        f'[store]\nurl = "{world.settings.store.url}"\n'
        f'[source]\npath = "{world.csv}"\n'
        f'[cliq]\napi_url = "{cliq.api_url}"\naccounts_url = "{cliq.accounts_url}"\n'
        f'client_id = "{cliq.client_id}"\n'
        f'client_secret = "{cliq.client_secret.get_secret_value()}"\n'
        f'refresh_token = "{cliq.refresh_token.get_secret_value()}"\nallow_http = true\n',
        encoding="utf-8",
    )
    store = Store(world.settings.store.url, clock=world.clock)
    set_passphrase(store, PASSPHRASE)
    store.close()

    def wired(settings: Any, **options: Any) -> Any:
        options.pop("client", None)  # the emulator's client, not one on the network
        return build(settings, clock=world.clock, client=world.http, pacer_margin=0, **options)

    monkeypatch.setattr("hrsync.web.site.build", wired)
    made = Admin(world, config)
    yield made
    made.browser.close()


def test_a_persons_page_shows_hr_against_cliq_now_field_by_field(
    admin: Admin, world: World
) -> None:
    rows = sample_employees(12)
    rows[1]["mobile"] = "+1 555 999999"  # HR moved on; Cliq has not yet
    world.write(rows)
    page = admin.text("/people/default/E00002")
    name = f"{rows[1]['first_name']} {rows[1]['last_name']}"
    assert f"<title>{name} · hrsync</title>" in page
    assert f"<h1>{name}</h1>" in page and rows[1]["email"] in page.split("<h1>")[1][:400]

    mobile = field_row(page, "mobile")
    assert "+1 555 999999 +1 555 010002" in mobile and "differ" in mobile
    assert '<span class="mark differ" aria-hidden="true">' in page  # a mark, and words
    phone = field_row(page, "phone")
    assert phone.count("+1 555 020002") == 2 and "agree" in phone
    assert "agree" in field_row(page, "status") and "active" in field_row(page, "status")
    assert "agree" in field_row(page, "department")
    assert "1 field differs: the next sync changes Cliq to HR's value." in page
    assert "read from Cliq just now" in page

    store = Store(world.settings.store.url, clock=world.clock)
    synced = store.runs(1)[0]
    store.close()
    assert f'(<a href="/runs/{synced.id}">run {synced.id}</a>, succeeded)' in page
    assert "Last sync" in page and "<time datetime=" in page


def test_a_column_the_export_lacks_is_not_a_value_hr_broke(admin: Admin, world: World) -> None:
    rows = sample_employees(12)
    rows[2]["mobile"] = "+1 555\x01 0103"  # a control character: broken in HR
    header = [name for name in rows[0] if name != "extension"]  # not carried at all
    with world.csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    page = admin.text("/people/default/E00002")
    extension = field_row(page, "extension")
    assert "not in the export, left as Cliq has it" in extension
    assert "1002" in extension and "broken" not in extension  # Cliq's value, kept
    assert "broken or missing" not in page

    broken = admin.text("/people/default/E00003")
    assert "contains the control character" in broken
    mobile = field_row(broken, "mobile")
    assert "broken in HR, left as Cliq has it" in mobile and "+1 555 010003" in mobile
    assert "not in the export" in field_row(broken, "extension")


def test_every_integrations_history_of_the_person_is_shown(admin: Admin, world: World) -> None:
    token = admin.csrf("/")
    admin.browser.post("/integrations", data={"csrf": token, "name": "hr2", "source_file": "x"})
    other = Store(world.settings.store.url, clock=world.clock, integration="hr2")
    run = other.start_run("apply")
    other.journal_intend(run, [("user:E00002:update", "update", "Update E00002 in hr2", "{}")])
    other.journal_mark(run, ["user:E00002:update"], "confirmed")
    other.finish_run(run, "succeeded", {})
    other.close()
    page = admin.text("/people/default/E00002")
    history = page.split("<h2>History</h2>")[1]
    assert "Update E00002 in hr2" in history and ">hr2</td>" in history
    assert ">hrsync.toml</td>" in history  # the first sync's invitation, from hrsync.toml
    assert history.index("Update E00002 in hr2") < history.index(">hrsync.toml</td>")


def test_cliq_out_of_reach_is_said_and_hr_still_shown(
    admin: Admin, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    down = httpx.Client(transport=httpx.MockTransport(refused))

    def unreachable(settings: Any, **options: Any) -> Any:
        if options.pop("client", None) is None:  # the HR read: as usual
            return build(settings, clock=world.clock, client=world.http, pacer_margin=0, **options)
        return build(settings, clock=world.clock, client=down, pacer_margin=0, **options)

    monkeypatch.setattr("hrsync.web.site.build", unreachable)
    page = admin.text("/people/default/E00002")
    assert "Cliq cannot be reached" in page
    assert "+1 555 010002" in field_row(page, "mobile")
    assert "Cliq not read" in field_row(page, "mobile")
    down.close()


def test_cliq_at_its_limit_is_not_waited_for(admin: Admin, world: World) -> None:
    store = Store(world.settings.store.url, clock=world.clock)
    log = store.call_log(world.settings.cliq.api_url)
    for _ in range(20):  # Zoho's limit on users.get, all spent in the last second
        log.add("users.get", world.clock.now() - 1)
    store.close()
    before = world.clock.now()
    page = admin.text("/people/default/E00002")
    assert world.clock.now() == before  # nothing slept
    assert "Cliq not read now: hrsync keeps within Zoho's limit on users.get" in page
    assert "Cliq not read" in field_row(page, "mobile") and "+1 555 010002" in page
