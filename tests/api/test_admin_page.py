"""The admin page as a browser sees it, in process and on a virtual clock: signing in with
the passphrase, sessions and CSRF tokens, the runs, and approving a held run, which asks for
the passphrase again once the last proof is five minutes old."""

from __future__ import annotations

import csv
import html
import io
import re
import time
import tomllib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hrsync.access.admin import set_passphrase
from hrsync.clock import VirtualClock
from hrsync.config import load_settings
from hrsync.service.app import create_service
from hrsync.store import Store
from hrsync.web.sessions import COOKIE, IDLE
from tests.asgi import AsgiClient
from tests.support import queued_events

PASSPHRASE = "correct horse battery staple"


class Site:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = VirtualClock(1_790_000_000.0)
        config = tmp_path / "hrsync.toml"
        config.write_text("", encoding="utf-8")
        self.url = load_settings(config).store.url
        store = Store(self.url, clock=self.clock)
        set_passphrase(store, PASSPHRASE)
        store.close()
        self.app = create_service(config, clock=self.clock)
        self.browser = AsgiClient(self.app)

    def held_run(self, integration: str = "hr") -> int:
        store = Store(self.url, clock=self.clock, integration=integration)
        try:
            run = store.start_run("apply")
            store.finish_run(
                run,
                "held",
                {
                    "hold": "this run would deactivate 40 of 60 managed users (67%), above the "
                    "limit of 10. Check the HR export; if it is right, run again with "
                    "--confirm-deactivations 40",
                    "counts": {"deactivate": 40},
                    "fingerprint": "0123456789abcdef",
                    "only": [],
                },
            )
            return run
        finally:
            store.close()

    def csrf(self, path: str) -> str:
        page = self.browser.get(path)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found, page.text
        return found.group(1)

    def sign_in(self, passphrase: str = PASSPHRASE) -> httpx.Response:
        token = self.csrf("/signin")
        return self.browser.post("/signin", data={"passphrase": passphrase, "csrf": token})


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    made = Site(tmp_path)
    yield made
    made.browser.close()


def test_every_page_wants_a_session_and_every_form_its_csrf_token(site: Site) -> None:
    run = site.held_run()
    for path in ("/", "/runs", f"/runs/{run}", f"/runs/{run}/changes.csv"):
        answer = site.browser.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/signin", path
    assert site.browser.post(f"/runs/{run}/approve", data={"csrf": "x"}).status_code == 401

    no_token = site.browser.post("/signin", data={"passphrase": PASSPHRASE})
    assert no_token.status_code == 403  # the sign-in form has its token too
    wrong = site.sign_in("not the passphrase")
    assert wrong.status_code == 401 and "that is not the admin passphrase" in wrong.text
    signed = site.sign_in()
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=strict" in cookie
    assert PASSPHRASE not in cookie

    for path in ("/", "/runs", f"/runs/{run}"):
        page = site.browser.get(path)
        assert page.status_code == 200 and PASSPHRASE not in page.text, path
        assert page.headers["cache-control"] == "no-store"
    for token in ("", "forged"):
        forged = site.browser.post(f"/runs/{run}/approve", data={"csrf": token})
        assert forged.status_code == 403 and "CSRF token" in forged.text
        assert site.browser.post("/signout", data={"csrf": token}).status_code == 403
    assert site.app.state.scheduler.approvals == []


def test_a_held_run_is_approved_with_a_fresh_proof_and_asks_again_later(site: Site) -> None:
    first, second = site.held_run(), site.held_run()
    site.sign_in()
    page = site.browser.get(f"/runs/{first}")
    assert "Held by a safety guard: 40 changes at stake" in page.text
    assert "this run would deactivate 40 of 60 managed users" in page.text
    assert "Approving deactivates these 40 people in Cliq now." in page.text
    assert "--confirm-deactivations" not in page.text  # the command line's remedy, not the page's
    assert 'data-must-equal="40"' in page.text and 'class="danger"' in page.text
    assert 'name="passphrase"' not in page.text  # signed in just now: no need to ask again
    token = site.csrf(f"/runs/{first}")
    for typed, said in (("", "nothing was typed"), ("39", "'39' was typed")):
        refused = site.browser.post(f"/runs/{first}/approve", data={"csrf": token, "count": typed})
        note = f"not approved: type 40, the number of changes at stake ({said})"
        assert note_of(site, refused) == note
    assert site.app.state.scheduler.approvals == []
    approved = site.browser.post(f"/runs/{first}/approve", data={"csrf": token, "count": "40"})
    assert approved.status_code == 303
    assert "approved" in site.browser.get(approved.headers["location"]).text
    (integration, held, only), = site.app.state.scheduler.approvals  # fmt: skip
    assert (integration, held.run_id, held.fingerprint, only) == (
        "hr", first, "0123456789abcdef", frozenset()
    )  # fmt: skip

    site.clock.advance(301)  # the proof is older than five minutes
    page = site.browser.get(f"/runs/{second}")
    assert 'name="passphrase"' in page.text
    refused = site.browser.post(f"/runs/{second}/approve", data={"csrf": token, "count": "40"})
    assert (
        "not approved: that is not the admin passphrase"
        in site.browser.get(refused.headers["location"]).text
    )
    assert len(site.app.state.scheduler.approvals) == 1
    given = site.browser.post(
        f"/runs/{second}/approve", data={"csrf": token, "passphrase": PASSPHRASE, "count": "40"}
    )
    assert given.status_code == 303 and len(site.app.state.scheduler.approvals) == 2
    assert 'name="passphrase"' not in site.browser.get(f"/runs/{second}").text


def test_runs_list_and_a_runs_changes_filtered_and_as_csv(site: Site) -> None:
    store = Store(site.url, clock=site.clock, integration="hr")
    run = store.start_run("apply")
    store.journal_intend(
        run,
        [
            ("invite:E1", "invite", "invite Ana Silva (E1)", "{}"),
            ("update:E2", "update", "update Bo Chen (E2): department", "{}"),
        ],
    )
    store.journal_mark(run, ["invite:E1"], "confirmed")
    store.journal_mark(run, ["update:E2"], "failed", error="Cliq said no")
    site.clock.advance(75)
    store.finish_run(run, "partial", {"counts": {"invite": 1, "update": 1}})
    store.close()
    site.sign_in()
    listed = site.browser.get("/runs?integration=hr").text
    assert f'href="/runs/{run}"' in listed and "1 min 15 s" in listed and "partial" in listed
    only_bo = site.browser.get(f"/runs/{run}", params={"person": "E2"}).text
    assert "update Bo Chen (E2)" in only_bo and "Ana Silva" not in only_bo
    assert "Cliq said no" in only_bo and "1 of 2 changes" in only_bo
    table = site.browser.get(f"/runs/{run}/changes.csv", params={"kind": "invite"})
    assert table.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(table.text)))
    assert rows == [
        ["change", "kind", "state", "summary", "error"],
        ["invite:E1", "invite", "confirmed", "invite Ana Silva (E1)", ""],
    ]


def test_a_session_ends_when_idle_or_signed_out(site: Site) -> None:
    site.sign_in()
    assert site.browser.get("/runs").status_code == 200
    site.clock.advance(IDLE + 1)
    assert site.browser.get("/runs").status_code == 303
    site.sign_in()
    token = site.csrf("/runs")
    out = site.browser.post("/signout", data={"csrf": token})
    assert out.status_code == 303 and out.headers["location"] == "/signin"
    assert site.browser.get("/runs").status_code == 303


def note_of(site: Site, answer: httpx.Response) -> str:
    assert answer.status_code == 303, answer.text
    page = site.browser.get(answer.headers["location"]).text
    found = re.search(r'<p class="status" role="status">(.*?)</p>', page, re.S)
    assert found, page
    return html.unescape(found.group(1))


def test_an_integration_is_created_enabled_only_when_complete_and_deleted_with_proof(
    site: Site, tmp_path: Path
) -> None:
    (tmp_path / "employees.csv").write_text("employee_id,email\n", encoding="utf-8")
    site.sign_in()
    token = site.csrf("/")
    form = {"csrf": token, "name": "hr", "source_file": "employees.csv", "schedule": "every 15 min"}
    made = note_of(site, site.browser.post("/integrations", data=form))
    assert made.startswith("hr created as a draft; it waits for: [cliq] names no connection")
    again = note_of(site, site.browser.post("/integrations", data=form))
    assert again == "hr not created: an integration named 'hr' already exists"
    bad = note_of(
        site, site.browser.post("/integrations", data=form | {"name": "x", "schedule": "hourly"})
    )
    assert "x not created: schedule 'hourly'" in bad
    listed = site.browser.get("/").text
    assert str(tmp_path / "employees.csv") in listed and "draft" in listed
    # the next run: none until enabled
    assert '<td data-label="Next run">not while draft</td>' in listed

    enabled = note_of(site, site.browser.post("/integrations/hr/enable", data={"csrf": token}))
    assert enabled.startswith("hr cannot be enabled yet; pending actions: [cliq]")
    assert site.browser.post("/integrations/hr/enable", data={}).status_code == 403

    delete = "/integrations/hr/delete"
    unsure = note_of(site, site.browser.post(delete, data={"csrf": token, "confirm": "h"}))
    assert unsure == "hr not deleted: type its name to confirm"
    site.clock.advance(301)
    assert 'name="passphrase"' in site.browser.get("/").text
    unproven = note_of(site, site.browser.post(delete, data={"csrf": token, "confirm": "hr"}))
    assert unproven == "hr: that is not the admin passphrase"
    assert ">hr</th>" in site.browser.get("/").text
    proven = {"csrf": token, "confirm": "hr", "passphrase": PASSPHRASE}
    assert note_of(site, site.browser.post(delete, data=proven)) == "hr deleted"
    assert ">hr</th>" not in site.browser.get("/").text


def test_a_consent_state_is_made_for_a_session_used_once_and_short_lived(site: Site) -> None:
    site.sign_in()
    token = site.csrf("/connections")
    added = site.browser.post(
        "/connections",
        data={
            "csrf": token,
            "name": "cliq",
            "service": "zoho_cliq",
            "client_id": "1000.ABC",
            "client_secret": "a client secret of the org",
            "accounts_url": "http://127.0.0.1:9",
            "api_url": "http://127.0.0.1:9",
            "allow_http": "true",
        },
    )
    assert note_of(site, added) == "cliq added: authorise it to let hrsync call Zoho"
    assert "a client secret of the org" not in site.browser.get("/connections").text

    def consent() -> str:
        go = site.browser.post("/connections/cliq/authorise", data={"csrf": token})
        assert go.status_code == 303
        target = httpx.URL(go.headers["location"])
        assert str(target).startswith("http://127.0.0.1:9/oauth/v2/auth?")
        assert target.params["redirect_uri"] == "https://hrsync.test/oauth/callback"
        return target.params["state"]

    def back(**query: str) -> str:
        page = site.browser.get("/oauth/callback", params=query).text
        return html.unescape(re.search(r'<p role="status">(.*?)</p>', page, re.S).group(1))  # type: ignore[union-attr]

    state = consent()
    assert (
        back(state=state, error="access_denied") == "cliq not authorised: Zoho said access_denied"
    )
    assert back(state=state, code="x") == (
        "not authorised: the consent is unknown or too old; start again"
    )  # once only
    late = consent()
    site.clock.advance(601)
    assert back(state=late, code="x").startswith("not authorised: the consent is unknown")
    assert back(state="made-up", code="x").startswith("not authorised: the consent is unknown")
    assert site.browser.post("/connections/cliq/authorise", data={}).status_code == 403


PUBLIC = {"/signin", "/oauth/callback", "/healthz", "/readyz", "/metrics"}


def test_every_route_of_the_page_wants_a_session_and_every_post_a_csrf_token(site: Site) -> None:
    from fastapi.routing import APIRoute

    run = site.held_run()
    values = {"run_id": str(run), "integration": "hr", "employee_id": "E1", "name": "hr",
              "action": "enable"}  # fmt: skip
    routes = [
        (method, re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], r.path))
        for r in _every_route(site.app.routes)
        if isinstance(r, APIRoute)
        and r.path not in PUBLIC
        and not r.path.startswith(("/hooks/", "/scim/", "/{version}/"))  # their own tokens
        for method in r.methods
    ]
    gets = [path for method, path in routes if method == "GET"]
    posts = [path for method, path in routes if method == "POST"]
    assert len(gets) >= 8 and len(posts) >= 9  # every page and form of the admin page
    for path in gets:
        answer = site.browser.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/signin", path
    for path in posts:
        assert site.browser.post(path, data={"csrf": "x"}).status_code == 401, path
    site.sign_in()
    for path in posts:
        for token in ({}, {"csrf": "forged"}):
            answer = site.browser.post(path, data=token)
            assert answer.status_code == 403, (path, token)
    assert site.app.state.scheduler.approvals == []
    assert queued_events(site.app.state.scheduler) == []


def _every_route(routes: list[Any]) -> Iterator[Any]:
    """The app's routes, those of included routers among them."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _every_route(included.routes) if included is not None else [route]


def test_an_integration_is_configured_as_toml_and_its_secrets_never_shown(
    site: Site, tmp_path: Path
) -> None:
    site.sign_in()
    token = site.csrf("/")
    site.browser.post("/integrations", data={"csrf": token, "name": "hr", "source_file": "e.csv"})
    shown = html.unescape(site.browser.get("/integrations/hr/configure").text)
    assert "[source]" in shown and f'path = "{tmp_path / "e.csv"}"' in shown
    edited = (
        f'[source]\nkind = "csv"\npath = "{tmp_path / "e.csv"}"\n'
        '[cliq]\nclient_id = "1000.X"\nclient_secret = "the org\'s client secret"\n'
        '[rules]\nteams_per = ["department"]\n'
    )
    hourly = {"csrf": token, "text": edited, "schedule": "every hour"}
    refused = site.browser.post("/integrations/hr/configure", data=hourly | {"schedule": "often"})
    assert "not saved: schedule 'often'" in html.unescape(refused.text)
    assert "teams_per" not in html.unescape(site.browser.get("/integrations/hr/configure").text)
    saved = site.browser.post("/integrations/hr/configure", data=hourly)
    assert note_of(site, saved).startswith("hr configured: draft")
    assert '<td data-label="Schedule">every hour</td>' in site.browser.get("/").text
    again = html.unescape(site.browser.get("/integrations/hr/configure").text)
    resaved = html.unescape(re.findall(r"<textarea[^>]*>(.*?)</textarea>", again, re.S)[0])
    assert tomllib.loads(resaved)["rules"]["teams_per"] == ["department"]
    assert tomllib.loads(resaved)["cliq"] == {"client_id": "1000.X"}
    assert "the org's client secret" not in again and "client_secret" not in again
    site.browser.post(
        "/integrations/hr/configure",
        data={"csrf": token, "text": resaved, "schedule": "every hour"},
    )
    store = Store(site.url, clock=site.clock)
    from hrsync.access.integrations import Integrations

    kept = Integrations(store, None).config("hr")  # type: ignore[arg-type]
    store.close()
    assert kept["cliq"]["client_secret"] == "the org's client secret"  # left out, so kept
    broken = site.browser.post("/integrations/hr/configure", data={"csrf": token, "text": "[x"})
    assert broken.status_code == 200 and "not saved: the TOML cannot be read" in broken.text
    unknown = site.browser.post(
        "/integrations/hr/configure", data={"csrf": token, "text": "[rulez]\n"}
    )
    assert "not saved: integration hr: rulez" in html.unescape(unknown.text)


def test_a_custom_service_connection_is_added_from_the_page(site: Site) -> None:
    site.sign_in()
    token = site.csrf("/connections")
    form = {
        "csrf": token,
        "name": "hris",
        "auth_type": "basic",
        "base_url": "https://hris.example.com/api",
        "username": "svc-hrsync",
        "password": "a basic password of the org",
    }
    assert note_of(site, site.browser.post("/connections/custom", data=form)) == "hris added"
    listed = site.browser.get("/connections").text
    assert ">hris</th>" in listed and "a basic password of the org" not in listed
    # The page's title is its name: no form (nor its CSRF token) inside <title>.
    assert "<title>Connections · hrsync</title>" in listed
    assert listed.count('id="x-name"') == 1
    half = form | {"name": "sso", "auth_type": "oauth2", "authorize_url": "https://sso.example"}
    said = note_of(site, site.browser.post("/connections/custom", data=half))
    assert said == "sso added; it still needs access_token_url"
    wrong = note_of(site, site.browser.post("/connections/custom", data=form | {"auth_type": "x"}))
    assert wrong.startswith("hris not added: auth_type: Input should be 'basic', 'oauth1' or")


def test_a_runs_pending_actions_and_stalled_changes_are_shown(site: Site) -> None:
    stalled = (
        "hrsync has made this change 3 times and Cliq still differs: Would update "
        "ana@zylker.example: mobile '1' → '2'"
    )
    store = Store(site.url, clock=site.clock, integration="hr")
    run = store.start_run("apply")
    store.finish_run(
        run,
        "succeeded",
        {
            "counts": {},
            "pending": [stalled, "create the Cliq user field 'badge'"],
            "stalled": ["user:E1:update"],
        },
    )
    store.close()
    site.sign_in()
    page = html.unescape(site.browser.get(f"/runs/{run}").text)
    assert "Pending actions (2)" in page
    assert stalled in page and "create the Cliq user field 'badge'" in page
    assert "1 change held back: hrsync made it three times" in page


def test_guesses_on_the_page_never_lock_the_command_line_out(site: Site, tmp_path: Path) -> None:
    """An outsider who reaches the sign-in page makes the page wait, not the operator on the
    machine: the command line keeps its own count of wrong passphrases."""
    from typer.testing import CliRunner

    from hrsync.access.admin import backoff_wait
    from hrsync.cli.main import app

    site.clock.advance(time.time() - site.clock.now() + 3600)  # the page's time: ahead of real
    for n in range(1, 9):
        site.clock.advance(backoff_wait(n - 1))
        assert site.sign_in(f"guess number {n}").status_code == 401
    waiting = site.sign_in()
    assert waiting.status_code == 401 and "8 wrong admin passphrases in a row" in waiting.text
    env = {"HRSYNC_ADMIN_PASSPHRASE": PASSPHRASE}
    config = str(tmp_path / "hrsync.toml")
    cli = CliRunner().invoke(app, ["--config", config, "admin", "reauth"], env=env)
    assert cli.exit_code == 0, cli.output
    assert "Re-authenticated" in cli.stdout
    assert "8 wrong admin passphrases in a row" in site.sign_in().text  # the page still waits


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _assert_secure_headers(answer: httpx.Response, what: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (what, name, answer.headers)
    policy = answer.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("default-src") == ["'self'"], (what, policy)
    assert directives.get("frame-ancestors") == ["'none'"], (what, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (what, policy)


def test_every_answer_carries_the_security_headers(site: Site) -> None:
    run = site.held_run()
    public = ["/signin", "/healthz", "/readyz", "/metrics", "/static/hrsync.css", "/nowhere"]
    for path in public:
        _assert_secure_headers(site.browser.get(path), path)
    _assert_secure_headers(site.browser.post("/hooks/people/hr", content=b"{}"), "a webhook")
    _assert_secure_headers(site.sign_in(), "the sign-in")
    for path in ("/", "/runs", f"/runs/{run}", "/connections", "/people", "/progress"):
        _assert_secure_headers(site.browser.get(path), path)


def test_the_api_documents_are_not_served(site: Site) -> None:
    for path in ("/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"):
        assert site.browser.get(path).status_code == 404, path


def test_the_pages_carry_no_inline_script_or_style() -> None:
    """What the Content-Security-Policy would refuse: every script and style is a file."""
    from hrsync.web.site import HERE

    for template in sorted((HERE / "templates").glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, (template.name, tag)
        assert "<style" not in text, template.name
        assert not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        assert "javascript:" not in text, template.name


def test_a_cross_origin_post_is_refused_even_with_a_valid_csrf_token(site: Site) -> None:
    token = site.csrf("/signin")
    foreign = {"Origin": "https://attacker.example"}
    login = site.browser.post(
        "/signin", data={"passphrase": PASSPHRASE, "csrf": token}, headers=foreign
    )
    assert login.status_code == 403 and COOKIE not in str(site.browser.cookies)
    site.sign_in()
    token = site.csrf("/")
    form = {"csrf": token, "name": "hr", "source_file": "employees.csv"}
    for headers in (
        foreign,
        {"Origin": "http://hrsync.test"},  # the same host, another scheme
        {"Origin": "https://hrsync.test:8443"},
        {"Origin": "null"},  # a sandboxed frame, or a page with no origin to give
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://hrsync.test"},
        {"Referer": "https://attacker.example/form.html"},
    ):
        refused = site.browser.post("/integrations", data=form, headers=headers)
        assert refused.status_code == 403, headers
        assert "another site" in refused.text, headers
    assert ">hr</th>" not in site.browser.get("/").text
    # A page of this site with Referrer-Policy no-referrer posts with "Origin: null", and
    # says where it comes from in Sec-Fetch-Site.
    ours = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}
    assert site.browser.post("/integrations", data=form, headers=ours).status_code == 303
    also = {"Origin": "https://hrsync.test"}
    second = form | {"name": "hr2"}
    assert site.browser.post("/integrations", data=second, headers=also).status_code == 303
    listed = site.browser.get("/").text
    assert ">hr</th>" in listed and ">hr2</th>" in listed


def test_no_message_is_taken_from_the_url(site: Site, tmp_path: Path) -> None:
    """A link can no longer make the page say what its author wants ("call this number")."""
    run = site.held_run()
    said = "Your session expired: call +1 555 0100 to restore access"
    assert said not in site.browser.get("/signin", params={"problem": said}).text
    site.sign_in()
    token = site.csrf("/")
    site.browser.post("/integrations", data={"csrf": token, "name": "hr", "source_file": "e.csv"})
    for path in ("/", f"/runs/{run}", "/connections", "/people/hr/E1"):
        page = site.browser.get(path, params={"note": said})
        assert page.status_code == 200 and said not in page.text, path
    page = site.browser.get("/integrations/hr/configure", params={"problem": said})
    assert page.status_code == 200 and said not in page.text
    # The page's own messages still come, once: said by the form that was sent.
    made = site.browser.post("/integrations", data={"csrf": token, "name": "hr"})
    assert note_of(site, made) == "hr not created: an integration named 'hr' already exists"
    assert 'role="status"' not in site.browser.get("/").text


def test_each_form_refuses_a_body_over_its_limit_before_reading_it(site: Site) -> None:
    token = site.csrf("/signin")
    huge = site.browser.post("/signin", data={"passphrase": "x" * 100_000, "csrf": token})
    assert huge.status_code == 413
    assert site.sign_in().status_code == 303  # not counted as a wrong passphrase
    token = site.csrf("/")
    site.browser.post("/integrations", data={"csrf": token, "name": "hr", "source_file": "e.csv"})
    big = {"csrf": token, "text": "# " + "x" * 2_000_000, "schedule": ""}
    assert site.browser.post("/integrations/hr/configure", data=big).status_code == 413
    roomy = {"csrf": token, "text": "# " + "x" * 100_000 + "\n[x]\n", "schedule": ""}
    assert site.browser.post("/integrations/hr/configure", data=roomy).status_code == 200
    named = {"csrf": token, "name": "c" * 100_000, "client_id": "x"}
    assert site.browser.post("/connections", data=named).status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        yield f"csrf={token}&name=".encode()
        for _ in range(100):
            yield b"n" * 10_000

    form = {"Content-Type": "application/x-www-form-urlencoded"}
    streamed = site.browser.post("/integrations", content=chunks(), headers=form)
    assert streamed.status_code == 413


def test_the_cookie_replayed_after_sign_out_is_refused(site: Site) -> None:
    site.sign_in()
    kept = site.browser.cookies[COOKIE]
    token = site.csrf("/runs")
    assert site.browser.post("/signout", data={"csrf": token}).status_code == 303
    replay = {"Cookie": f"{COOKIE}={kept}"}
    replayed = site.browser.get("/runs", headers=replay)
    assert replayed.status_code == 303 and replayed.headers["location"] == "/signin"
    posted = site.browser.post("/signout", data={"csrf": token}, headers=replay)
    assert posted.status_code == 401


def test_hrsync_toml_is_listed_and_a_second_owner_of_its_organisation_is_refused(
    site: Site, tmp_path: Path
) -> None:
    from hrsync.service.app import NOTHING_ENABLED, TOML_WAITS

    assert site.browser.get("/readyz").json()["degraded"] == [NOTHING_ENABLED]
    site.sign_in()
    token = site.csrf("/")
    connection = {"csrf": token, "name": "cliq", "service": "zoho_cliq",
                  "client_id": "1000.ABC", "client_secret": "a client secret of the org",
                  "allow_http": "true", "accounts_url": "http://127.0.0.1:9",
                  "api_url": "http://127.0.0.1:9"}  # fmt: skip
    assert site.browser.post("/connections", data=connection).status_code == 303
    form = {"csrf": token, "name": "hr", "source_file": "employees.csv", "target": "cliq"}
    made = note_of(site, site.browser.post("/integrations", data=form))
    assert made.startswith("hr created as a draft")  # hrsync.toml names no organisation yet

    toml = tmp_path / "hrsync.toml"  # now it does: the same Cliq host and OAuth client
    toml.write_text(
        '[source]\npath = "employees.csv"\n[cliq]\napi_url = "http://127.0.0.1:9"\n'
        'accounts_url = "http://127.0.0.1:9"\nclient_id = "1000.ABC"\nclient_secret = "s"\n'
        'refresh_token = "r"\nallow_http = true\n',
        encoding="utf-8",
    )
    assert site.browser.get("/readyz").json()["degraded"] == [TOML_WAITS]  # no export yet
    (tmp_path / "employees.csv").write_text("employee_id,email\n", encoding="utf-8")
    assert site.browser.get("/readyz").json()["degraded"] == []
    listed = site.browser.get("/").text
    assert ">hrsync.toml</th>" in listed and "Changed in hrsync.toml itself." in listed
    owner = (
        "the Cliq organisation at http://127.0.0.1:9 (OAuth client 1000.ABC) is managed "
        "already by hrsync.toml's own integration (listed as hrsync.toml)"
    )
    second = note_of(site, site.browser.post("/integrations", data=form | {"name": "payroll"}))
    assert second.startswith(f"payroll not created: {owner}")
    enabled = note_of(site, site.browser.post("/integrations/hr/enable", data={"csrf": token}))
    assert enabled.startswith("hr cannot be enabled yet; pending actions:") and owner in enabled

    with toml.open("a", encoding="utf-8") as file:
        file.write('[scope]\ndepartment = ["Sales", "Support"]\n')
    scoped = form | {"name": "payroll", "scope": "department=Finance\nwork_location=Remote"}
    apart = note_of(site, site.browser.post("/integrations", data=scoped))
    assert apart.startswith("payroll created as a draft"), apart
    assert "scope: department = Finance; work_location = Remote" in site.browser.get("/").text
    bad = note_of(site, site.browser.post("/integrations", data=form | {"scope": "Finance"}))
    assert bad.startswith("hr not created: scope 'Finance': write FIELD=VALUE[,VALUE] to include")


def test_a_scim_sources_token_is_made_on_the_page_shown_once_and_replaced_with_the_passphrase(
    site: Site,
) -> None:
    site.sign_in()
    made = site.browser.post(
        "/integrations",
        data={"csrf": site.csrf("/"), "name": "idp", "source_scim": "1"},
    )
    assert made.status_code == 303
    listing = site.browser.get("/").text
    assert "SCIM pushes to /scim/v2/" in listing and "Make SCIM token" in listing
    first = site.browser.post("/integrations/idp/scim-token", data={"csrf": site.csrf("/")})
    assert first.status_code == 200 and first.headers["cache-control"] == "no-store"
    token = re.search(r'value="(hrsync_scim_[^"]+)"', first.text)
    assert token, first.text
    users = "/scim/v2/Users"
    bearer = {"Authorization": f"Bearer {token.group(1)}"}
    assert site.browser.get(users, headers=bearer).status_code == 200
    listing = site.browser.get("/").text
    assert token.group(1) not in listing and "Replace SCIM token" in listing

    site.clock.advance(600)  # the sign-in's proof is stale: replacing needs the passphrase
    refused = site.browser.post("/integrations/idp/scim-token", data={"csrf": site.csrf("/")})
    assert refused.status_code == 303  # back to the list, with why
    assert site.browser.get(users, headers=bearer).status_code == 200  # still the same token
    second = site.browser.post(
        "/integrations/idp/scim-token", data={"csrf": site.csrf("/"), "passphrase": PASSPHRASE}
    )
    replaced = re.search(r'value="(hrsync_scim_[^"]+)"', second.text)
    assert replaced and replaced.group(1) != token.group(1)
    assert site.browser.get(users, headers=bearer).status_code == 401
    fresh = {"Authorization": f"Bearer {replaced.group(1)}"}
    assert site.browser.get(users, headers=fresh).status_code == 200


def test_hrsync_toml_with_runs_is_listed_even_once_it_names_no_organisation(site: Site) -> None:
    """Its runs are on the Runs page: the integration that made them is on Integrations."""
    site.sign_in()
    assert ">hrsync.toml</th>" not in site.browser.get("/").text  # no runs, no organisation
    site.held_run("default")
    listed = site.browser.get("/").text
    assert ">hrsync.toml</th>" in listed and "draft" in listed
    assert "hrsync.toml names no Cliq organisation" in listed
    assert 'aria-label="Plan hrsync.toml now"' in listed
