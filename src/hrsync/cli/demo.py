"""``hrsync demo``: the whole lifecycle against a local emulator, on embedded defaults.

The emulator is served over real HTTP on a free loopback port. Its clock is virtual and
shared with the client, so Zoho's rate limits are honoured in simulated time: waits are
reported, not slept.
"""

from __future__ import annotations

import csv
import random
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from pydantic import SecretStr

from hrsync.access.connections import loopback_redirect_uri
from hrsync.access.services import PEOPLE_SCOPES_OF_CLIQ_READS
from hrsync.api.auth import exchange_code
from hrsync.cli.output import console
from hrsync.cli.syncing import CallProgress, show_plan
from hrsync.clock import VirtualClock
from hrsync.config import (
    ConnectServiceConfig,
    GroupRule,
    RoleConfig,
    RulesConfig,
    Settings,
    SourceConfig,
    StoreConfig,
    ZohoServiceConfig,
)
from hrsync.emulator import Emulator
from hrsync.emulator.asgi import create_app
from hrsync.emulator.connect_data import SCOPE_ID
from hrsync.model import CANONICAL_FIELDS
from hrsync.plural import counted
from hrsync.wiring import build

FIRST = [
    "Asha",
    "Ben",
    "Chen",
    "Dara",
    "Elif",
    "Femi",
    "Gita",
    "Hugo",
    "Ines",
    "Jon",
    "Kofi",
    "Lena",
    "Mina",
    "Noor",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Uma",
    "Vik",
]
LAST = [
    "Iyer",
    "Okafor",
    "Schmidt",
    "Tanaka",
    "García",
    "Nowak",
    "Haddad",
    "Silva",
    "Kim",
    "Müller",
    "Rossi",
    "Singh",
    "Dubois",
    "Larsen",
    "Ahmed",
    "Cohen",
    "Novak",
    "Reyes",
]
DEPARTMENTS = ["Engineering", "Sales", "Support", "Finance", "People", "Marketing"]
TITLES = [
    "Engineer",
    "Senior Engineer",
    "Account Executive",
    "Support Specialist",
    "Analyst",
    "Designer",
    "Recruiter",
    "Marketing Lead",
]
DEMO_SCOPES = ",".join(
    (
        "ZohoCliq.Users.ALL",
        "ZohoCliq.Departments.ALL",
        "ZohoCliq.Designations.ALL",
        "ZohoCliq.Teams.ALL",
        "ZohoCliq.Organisation.ALL",
        "ZohoCliq.Profile.ALL",
        "ZohoCliq.UserFields.ALL",
        "ZohoCliq.Webhooks.CREATE",
        *PEOPLE_SCOPES_OF_CLIQ_READS,
        "ZOHOPEOPLE.forms.ALL",
        "zohopulse.grouplist.ALL",
        "zohopulse.userDetail.READ",
        "zohopulse.networklist.READ",
    )
)
SITES = ["Chennai Office", "Austin HQ", "Berlin Hub", "Remote"]


def sample_employees(size: int, seed: int = 42) -> list[dict[str, str]]:
    """A realistic export: a CEO, directors, managers, staff; unique ids and emails."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for n in range(1, size + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        eid = f"E{n:05d}"
        if n == 1:
            manager, title, dept = "", "Chief Executive", "Leadership"
        elif n <= 7:
            manager, title, dept = "E00001", "Director", DEPARTMENTS[n - 2]
        elif n <= 7 + 30:
            director = 2 + (n - 8) % 6
            manager, title, dept = f"E{director:05d}", "Manager", DEPARTMENTS[director - 2]
        else:
            boss = rng.randint(8, 37)
            manager, title = f"E{boss:05d}", rng.choice(TITLES)
            dept = DEPARTMENTS[(boss - 8) % 6]
        rows.append(
            {
                "employee_id": eid,
                "email": f"{first}.{last}.{n}@zylker.example".lower()
                .replace("í", "i")
                .replace("ü", "u"),
                "first_name": first,
                "last_name": last,
                "mobile": f"+1 555 01{n:04d}",
                "work_phone": f"+1 555 02{n:04d}",
                "extension": str(1000 + n),
                "seating_location": f"Floor {1 + n % 5}, Desk {n}",
                "work_location": rng.choice(SITES),
                "department": dept,
                "designation": title,
                "manager_id": manager,
                "status": "active",
                "hire_date": f"20{10 + n % 15:02d}-0{1 + n % 9}-1{n % 9}",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(CANONICAL_FIELDS), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def change_export(rows: list[dict[str, str]]) -> list[str]:
    """Movers, leavers, a rehire and an email change; returns what was done, in words."""
    done = []
    for row in rows[40:45]:
        row["department"], row["designation"] = "Support", "Support Specialist"
        done.append(f"{row['employee_id']} moves to Support")
    rows[50]["manager_id"] = "E00009"
    done.append(f"{rows[50]['employee_id']} gets a new manager")
    for row in rows[60:63]:
        row["status"] = "Terminated"
        done.append(f"{row['employee_id']} leaves")
    rows[70]["email"] = "renamed." + rows[70]["email"]
    done.append(f"{rows[70]['employee_id']} changes email")
    del rows[80]
    done.append("one person disappears from the export")
    return done


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_demo(*, size: int, workdir: Path | None) -> dict[str, object]:
    """The demo's rounds, narrated on the console; returns its totals."""
    started = time.monotonic()
    folder = workdir or Path(tempfile.mkdtemp(prefix="hrsync-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    clock = VirtualClock()
    emulator = Emulator(clock)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(  # answers are dated by the emulator's virtual clock, not uvicorn's
            create_app(emulator),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            date_header=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    console.print(
        f"[bold]1.[/] Zoho emulator on {base} (virtual clock: rate limits are "
        "honoured in simulated time)"
    )
    try:
        settings = _settings(base, folder)
        rows = sample_employees(size)
        write_csv(settings.source.path, rows)
        console.print(f"[bold]2.[/] Sample HR export of {size} people: {settings.source.path}")
        _round(settings, clock, "3. First sync: everyone is a joiner")
        for line in change_export(rows):
            console.print(f"   HR: {line}")
        write_csv(settings.source.path, rows)
        _round(settings, clock, "4. HR changed: movers, leavers, an email change")
        rehired = rows[61]
        rehired["status"] = "active"
        console.print(f"   HR: {rehired['employee_id']} is rehired")
        write_csv(settings.source.path, rows)
        _round(settings, clock, "5. A leaver comes back")
        _round(settings, clock, "6. Plan again")
        stats = httpx.get(f"{base}/_emulator/stats").json()
        console.print(
            f"Emulator: {sum(stats['calls'].values())} API calls, "
            f"{stats['lock_periods_total']} lock periods triggered. Simulated time "
            f"waited for rate limits: {clock.slept / 60:.1f} min; real time "
            f"{time.monotonic() - started:.1f} s. Files in {folder}."
        )
        console.print(
            "Next: `hrsync admin passphrase`, then `hrsync serve` runs your integrations on "
            "their schedules by itself and serves the admin page at http://127.0.0.1:8080/ "
            "(connections, integrations, runs, people; /healthz, /readyz, /metrics). "
            "`hrsync connections add` and `hrsync integrations create` do the same from the "
            "command line."
        )
        return {
            "employees": size,
            "api_calls": sum(stats["calls"].values()),
            "lock_periods": stats["lock_periods_total"],
            "simulated_wait_minutes": round(clock.slept / 60, 1),
            "workdir": str(folder),
        }
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def _round(settings: Settings, clock: VirtualClock, title: str) -> None:
    console.print(f"[bold]{title}[/]")
    preview = build(settings, dry_run=True, clock=clock, pacer_margin=0)
    try:
        plan, _, _ = preview.engine.plan()
        show_plan(plan, preview.http, limit=12)
    finally:
        preview.close()
    if not plan.changes:
        return
    app = build(settings, dry_run=False, clock=clock, pacer_margin=0)
    try:
        with CallProgress(app.services) as progress:
            outcome = app.engine.run_apply(expected=plan.fingerprint(), progress=progress)
    finally:
        app.close()
    report = outcome.report
    assert report is not None
    console.print(f"   applied {counted(len(report.done), 'change')}, {len(report.failed)} failed")


def grant_refresh_token(
    http: httpx.Client, base: str, *, scope: str = DEMO_SCOPES
) -> tuple[str, str, str]:
    """Walk the emulator's authorization-code flow: (client id, client secret, refresh token)."""
    client = http.get(f"{base}/_emulator/clients").json()["clients"][0]
    redirect = loopback_redirect_uri()  # registered for the emulator's client from the start
    answer = http.get(
        f"{base}/oauth/v2/auth",
        params={
            "client_id": client["client_id"],
            "redirect_uri": redirect,
            "response_type": "code",
            "scope": scope,
            "access_type": "offline",
        },
    )
    code = httpx.URL(answer.headers["location"]).params["code"]
    tokens = exchange_code(
        http,
        accounts_url=base,
        client_id=client["client_id"],
        client_secret=SecretStr(client["client_secret"]),
        code=code,
        redirect_uri=redirect,
    )
    return client["client_id"], client["client_secret"], tokens["refresh_token"]


def emulated_service(base: str, client_id: str, secret: str, refresh: str) -> dict[str, Any]:
    """The settings of a Zoho service that the emulator at ``base`` plays (any of them)."""
    return {
        "api_url": base,
        "accounts_url": base,
        "client_id": client_id,
        "client_secret": SecretStr(secret),
        "refresh_token": SecretStr(refresh),
        "allow_http": True,
    }


def _settings(base: str, folder: Path) -> Settings:
    with httpx.Client() as http:
        client_id, secret, refresh = grant_refresh_token(http, base)
    service = emulated_service(base, client_id, secret, refresh)
    return Settings(
        store=StoreConfig(url=f"sqlite:///{folder / 'hrsync.db'}"),
        source=SourceConfig(path=folder / "employees.csv"),
        cliq=ZohoServiceConfig(**service),
        connect=ConnectServiceConfig(**service, network_id=SCOPE_ID),
        # A Cliq team per department, a Connect group per designation, a role for managers.
        rules=RulesConfig(
            teams_per=["department"],
            team_names={"department": "{value} team"},
            connect_groups_per=["designation"],
            roles=[
                GroupRule(name="People Managers", when={"designation": ["Manager", "Director"]})
            ],
        ),
        roles=[RoleConfig(name="People Managers", clone_of="Members")],
    )
