"""Every page of the admin page at 1366 and 390 pixels wide, in Debian's chromium against
``hrsync serve`` and the emulator over real HTTP: no page is wider than the window (tables
stack or scroll in their own box, the nav wraps), and axe finds no serious or critical
violation. With ``HRSYNC_SCREENSHOTS=DIR`` each page is kept there as NAME.png (1366) and
NAME-390.png (``make screenshots``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hrsync.cli.demo import sample_employees, write_csv
from tests.e2e.conftest import Serve
from tests.e2e.test_admin_page_browser import PASSPHRASE, browser_page, screenshots
from tests.e2e.test_serve import set_up_integration

__all__ = ["browser_page"]  # the fixture, shared with the walk through the page
pytestmark = pytest.mark.e2e
WIDTHS = {1366: 900, 390: 844}  # width: height (a laptop, a phone)
OVERFLOW = "document.documentElement.scrollWidth - window.innerWidth"


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} elements)"
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def routes(page: Any, url: str, run_id: str) -> dict[str, str]:
    """Every page reachable from the nav, and one of each page they lead to."""
    found = {}
    for link in page.locator("nav a").all():
        href = link.get_attribute("href")
        found[href.strip("/") or "integrations"] = href
    found |= {
        "run": "/runs/1",
        "held-run": f"/runs/{run_id}",
        "people": "/people?integration=hr&q=silva",
        "person": "/people/hr/E00002",
        "configure": "/integrations/hr/configure",
    }
    return {name: url + path for name, path in found.items()}


def test_every_page_fits_a_phone_and_a_laptop_and_passes_axe(
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
    write_csv(tmp_path / "employees.csv", sample_employees(30)[:15])  # 15 leavers: held
    held = hrsync("sync", "--integration", "hr")
    assert held.returncode == 3, held.stderr
    run_id = held.stderr.split("held (run ")[1].split(")")[0]
    _, url = service(env)
    shots = screenshots()
    page = browser_page

    problems: list[str] = []

    def check(name: str, width: int) -> None:
        wider = page.evaluate(OVERFLOW)
        if wider > 0:
            problems.append(f"{name} at {width} px: {wider} px wider than the window")
        problems.extend(f"{name} at {width} px: {v}" for v in serious_violations(page))
        if shots is not None:
            suffix = "" if width == 1366 else f"-{width}"
            page.screenshot(path=str(shots / f"{name}{suffix}.png"), full_page=True)

    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(f"{url}/signin")
        check("signin", width)
    page.get_by_label("Admin passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    pages = routes(page, url, run_id)
    assert {"integrations", "runs", "connections", "people", "overview"} <= pages.keys()
    for width, height in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        for name, address in pages.items():
            answer = page.goto(address)
            assert answer is not None and answer.status == 200, address
            check(name, width)
    assert problems == [], "\n".join(problems)
