"""The overview's charts, drawn on the server as SVG: well-formed, named for a screen reader,
and each mark a figure of the store (a run and its outcome, a run's changes by kind, an
endpoint's calls against Zoho's documented limit)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from hrsync.api.ratelimit import LOCKED, ZOHO_LIMITS
from hrsync.store import Store
from hrsync.web.charts import calls_chart, changes_chart, runs_chart
from tests.api.test_admin_page import Site

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    made = Site(tmp_path)
    yield made
    made.browser.close()


def charts_of(page: str) -> dict[str, ET.Element]:
    """Each chart of the page by its title, parsed as XML (a malformed one fails here)."""
    found = {}
    for svg in re.findall(r"<svg .*?</svg>", page, flags=re.S):
        root = ET.fromstring(svg)
        title = root.find(f"{SVG}title")
        assert title is not None and title.text
        assert root.get("role") == "img"
        assert root.get("aria-labelledby") == f"{title.get('id')} {title.get('id', '')[:-6]}-desc"
        assert root.find(f"{SVG}desc") is not None
        found[title.text] = root
    return found


def marks(chart: ET.Element, attribute: str) -> list[dict[str, str]]:
    return [dict(r.attrib) for r in chart.iter(f"{SVG}rect") if attribute in r.attrib]


def test_the_overview_charts_the_runs_their_changes_and_the_calls_against_zoho_limits(
    site: Site,
) -> None:
    store = Store(site.url, clock=site.clock, integration="default")
    done = []
    for status, counts in (
        ("succeeded", {"invite": 30, "create_team": 2}),
        ("partial", {"update": 4, "deactivate": 1}),
        ("failed", {}),
        ("held", {"deactivate": 16}),
    ):
        run = store.start_run("apply")
        store.finish_run(run, status, {"counts": counts})
        done.append((run, status, counts))
        site.clock.advance(900)
    store.finish_run(store.start_run("plan"), "succeeded", {"counts": {"invite": 3}})
    log = store.call_log("https://cliq.zoho.com")
    now = site.clock.now()
    for ago in (5, 10, 20, 300, 1200):  # three in the last minute, five in the hour
        log.add("users.update", now - ago)
    log.add("users.list", now - 30)
    log.add("users.add" + LOCKED, now + 240)  # Zoho locked it: a lock, not a call
    store.close()

    site.sign_in()
    page = site.browser.get("/overview")
    assert page.status_code == 200
    charts = charts_of(page.text)
    runs = marks(charts["Runs over time, by outcome"], "data-run")
    assert [(int(r["data-run"]), r["data-outcome"]) for r in runs] == [
        (run, status) for run, status, _ in done
    ]  # the applies only, oldest first
    assert [int(r["data-changes"]) for r in runs] == [sum(c.values()) for _, _, c in done]
    kinds = marks(charts["Changes per run, by kind"], "data-kind")
    drawn = {(int(k["data-run"]), k["data-kind"], int(k["data-changes"])) for k in kinds}
    assert drawn == {(run, kind, n) for run, _, counts in done for kind, n in counts.items()}
    calls = marks(
        charts["Zoho calls in the last minute, against each endpoint's limit"], "data-calls"
    )
    assert {(c["data-endpoint"], int(c["data-calls"]), int(c["data-limit"])) for c in calls} == {
        ("users.add", 0, ZOHO_LIMITS["users.add"].per_minute),
        ("users.list", 1, ZOHO_LIMITS["users.list"].per_minute),
        ("users.update", 3, ZOHO_LIMITS["users.update"].per_minute),
    }
    text = page.text
    assert "users.update: 3 of 20 a minute, 5 in the last hour" in text  # the desc, in words
    assert "locked by Zoho until" in text  # and the table beside it
    assert 'href="/overview" aria-current="page"' in text


def test_empty_charts_say_so_and_stay_well_formed() -> None:
    for chart in (runs_chart([]), changes_chart([]), calls_chart([])):
        root = ET.fromstring(str(chart))
        desc = root.find(f"{SVG}desc")
        assert desc is not None and desc.text and desc.text.startswith("No ")


def test_the_favicon_is_served_and_linked(site: Site) -> None:
    icon = site.browser.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    ET.fromstring(icon.text)
    assert '<link rel="icon" href="/static/favicon.svg"' in site.browser.get("/signin").text
