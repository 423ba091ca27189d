"""SCIM 2.0 pushes into ``hrsync serve``, in real time: how fast it takes them, whether any is
lost, and how soon the people pushed are in Cliq against Zoho's floor. Figures, never a pass
or a fail.

The Zoho emulator (``service_world.py``'s, whose ``/_bench/calls`` lists the API calls it
answered, timed by the wall clock) and ``hrsync serve`` run each in its own process on a
free loopback port of 127.0.0.1, over real HTTP. hrsync.toml's own integration is a SCIM
source (``[source] kind = "scim"``, ``debounce_seconds``, 1 s) into the emulator's Cliq; its
token is made with ``hrsync --json integrations scim-token hrsync.toml``, as an admin does.
The store is SQLite in the bench's folder (``--store sqlite``) or a throwaway PostgreSQL
server (``--store postgresql``, the tests' own ``tests/postgres.py``).

1. **Push** (``--users``, 10,000): ``--clients`` (8) threads, each with its own keep-alive
   httpx client, POST the users to ``/scim/v2/Users`` as fast as they are answered (each user
   with externalId, userName, name, a work email and the enterprise department, from the
   sample export). Requests per second over the whole push, latency p50/p95/p99/max, the
   answers by status. Lost: a 201's user missing from the store (``scim_resources``), and
   ``GET /Users`` (``count=0``) against the 201s.
2. **Patch** (``--patches``, 1,000): the same clients PATCH that many of the users pushed (each
   once) to another department, as Entra ID writes it (``{"op": "Replace", "path": "urn:…
   :enterprise:2.0:User:department", "value": …}``). The same figures; lost: a 204 whose
   department is not the stored one.
3. **Sync**: the scheduler of ``hrsync serve`` runs the HR events those writes queued while
   the push goes on (a run gathers a stream of pushes for at most 6 debounces after the first
   and takes up to 1,000 people); the bench waits until Cliq has every pushed user with their
   latest department and no event is queued. The sync's duration is
   from the first POST to the last invitation Cliq answered, against the floor: the least time
   Zoho's limit on invitations (5 calls a rolling minute, 100 users a call) allows for that
   many people (``harness.lower_bound_seconds``, as ``initial_sync.py`` computes it), and the
   ratio of the two (the goal is 1.02 at most). With the calls by endpoint (invitations
   against the fewest possible), the busiest rolling minute of each against Zoho's limit, the
   runs by outcome, the seconds hrsync waited for each endpoint, lock periods, and the
   events by final state.

Everything is in real time: hrsync serve and its scheduler run on the wall clock (the other
benches' virtual clock is for hrsync's runs made from the bench's own process), so 10,000
people take Zoho's 19 minutes of invitations, and a busy machine moves the figures (its load
average is printed).

    python bench/scim.py [--users 10000] [--patches 1000] [--clients 8]
        [--store sqlite|postgresql] [--debounce 1] [--folder DIR] [--json FILE]

Prints a table per part, then one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from harness import lower_bound_seconds
from hrsync.access.ownership import TOML
from hrsync.cli.demo import DEPARTMENTS, grant_refresh_token, sample_employees
from service import busiest_minutes, endpoint_of, percentiles, table
from service_world import Metrics, child_env, free_port, wait_until

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USERS_PER_ADD = 100  # users one invitation call takes at most
STARTUP_SECONDS = 60.0
TIMEOUT = 60.0  # seconds a SCIM call may take


def say(words: str) -> None:
    print(words, file=sys.stderr, flush=True)


def scim_user(row: dict[str, str]) -> dict[str, Any]:
    """A user as an identity provider pushes it, from a row of the sample export."""
    return {
        "schemas": [CORE, ENTERPRISE],
        "externalId": row["employee_id"],
        "userName": row["email"],
        "active": True,
        "name": {"givenName": row["first_name"], "familyName": row["last_name"]},
        "emails": [{"primary": True, "type": "work", "value": row["email"]}],
        ENTERPRISE: {"department": row["department"]},
    }


def moved(department: str) -> dict[str, Any]:
    """Entra ID's PATCH of a user's department."""
    replace = {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": department}
    return {"schemas": [PATCH_OP], "Operations": [replace]}


# The world


class ScimWorld:
    """The emulator, hrsync.toml (a SCIM source into its Cliq), the token and ``hrsync
    serve``. Use it in a ``with`` block: the processes are stopped on the way out."""

    def __init__(self, folder: Path, *, store_url: str, debounce: float) -> None:
        self.folder, self.debounce = folder, debounce
        self.store_url = store_url or f"sqlite:///{folder / 'hrsync.db'}"
        self.env = child_env()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.control = httpx.Client(timeout=None, trust_env=False)
        try:
            self.base = self._start_emulator()
            self.token = self._set_up(store_url)
            self.url = self._start_service()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> ScimWorld:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _start(self, name: str, command: list[str]) -> None:
        with (self.folder / f"{name}.log").open("ab") as sink:
            self.processes[name] = subprocess.Popen(
                command, cwd=self.folder, env=self.env, stdout=sink, stderr=subprocess.STDOUT
            )

    def _answering(self, name: str, url: str) -> bool:
        if self.processes[name].poll() is not None:
            log = (self.folder / f"{name}.log").read_text(errors="replace")
            raise RuntimeError(f"{name} exited: {log[-2000:]}")
        try:
            return self.control.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def _start_emulator(self) -> str:
        port = free_port()
        script = str(Path(__file__).resolve().parent / "service_world.py")
        # The offset 0: the emulator's clock is the wall clock, as hrsync serve's is.
        self._start("emulator", [sys.executable, script, "--port", str(port), "--offset", "0"])
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: self._answering("emulator", f"{base}/_emulator/clock"),
                   STARTUP_SECONDS, "the emulator did not answer")  # fmt: skip
        return base

    def _set_up(self, store_url: str) -> str:
        client_id, secret, refresh = grant_refresh_token(self.control, self.base)
        store = f'[store]\nurl = "{store_url}"\n' if store_url else ""
        (self.folder / "hrsync.toml").write_text(
            f'{store}[source]\nkind = "scim"\ndebounce_seconds = {self.debounce}\n'
            f'[cliq]\napi_url = "{self.base}"\naccounts_url = "{self.base}"\n'
            f'client_id = "{client_id}"\nallow_http = true\n',
            encoding="utf-8",
        )
        self.env |= {"HRSYNC_CLIQ__CLIENT_SECRET": secret, "HRSYNC_CLIQ__REFRESH_TOKEN": refresh}
        made = subprocess.run(
            [sys.executable, "-m", "hrsync", "--json", "integrations", "scim-token",
             "hrsync.toml"],
            cwd=self.folder, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(f"hrsync integrations scim-token: {made.stderr}")
        return str(json.loads(made.stdout)["token"])

    def _start_service(self) -> str:
        port = free_port()
        self._start("serve", [sys.executable, "-m", "hrsync", "serve", "--port", str(port),
                              "--check-every", "1"])  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: self._answering("serve", f"{url}/healthz"), STARTUP_SECONDS,
                   "hrsync serve did not answer /healthz")  # fmt: skip
        time.sleep(3)  # its first look (hrsync.toml's schedule: a run with nobody pushed)
        wait_until(lambda: not self.control.get(f"{url}/readyz").json()["running"], 600,
                   "the service never went idle")  # fmt: skip
        return url

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.control.close()

    def scim_client(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.url}/scim/v2",
            headers={"Authorization": f"Bearer {self.token}",
                     "Content-Type": "application/scim+json"},
            timeout=TIMEOUT, trust_env=False,
        )  # fmt: skip

    # What the processes say

    def metrics(self) -> Metrics:
        found = self.control.get(f"{self.url}/metrics").text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(found)
            for sample in family.samples
        }

    def stats(self) -> dict[str, Any]:
        return dict(self.control.get(f"{self.base}/_emulator/stats").json())

    def api_calls(self, since: int = 0) -> tuple[list[list[Any]], int]:
        found = self.control.get(f"{self.base}/_bench/calls", params={"since": since}).json()
        return found["calls"], int(found["next"])

    def cliq_users(self) -> list[dict[str, Any]]:
        users = self.control.get(f"{self.base}/_emulator/state").json()["users"]
        return [u for u in users if u.get("employee_id")]

    def query(self, sql: str) -> list[Any]:
        engine = create_engine(self.store_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), {"integration": TOML}))
        finally:
            engine.dispose()

    def cpu_seconds(self, name: str) -> float:
        stat = Path(f"/proc/{self.processes[name].pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self, name: str) -> float:
        for line in Path(f"/proc/{self.processes[name].pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError("no VmHWM")


# The clients


@dataclass
class Answer:
    key: str  # the user's externalId
    status: int  # 0: no answer
    seconds: float
    body: dict[str, Any]


def send_all(world: ScimWorld, calls: list[tuple[str, str, str, dict[str, Any]]],
             clients: int) -> tuple[list[Answer], float]:  # fmt: skip
    """(key, method, path, body) calls, sent by ``clients`` threads as fast as they are
    answered; the answers, and the seconds from the first call sent to the last answered."""
    answers: list[Answer] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(mine: list[tuple[str, str, str, dict[str, Any]]]) -> None:
        found = []
        with world.scim_client() as http:
            start.wait()
            for key, method, path, body in mine:
                began = time.perf_counter()
                try:
                    answer = http.request(method, path, json=body)
                    status = answer.status_code
                    kept = answer.json() if status == 201 else {}
                except httpx.HTTPError:
                    status, kept = 0, {}
                found.append(Answer(key, status, time.perf_counter() - began, kept))
        with lock:
            answers.extend(found)

    threads = [threading.Thread(target=client, args=(calls[k::clients],)) for k in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return answers, time.perf_counter() - began


def figures(answers: list[Answer], elapsed: float) -> dict[str, Any]:
    return {
        "requests": len(answers),
        "seconds": round(elapsed, 2),
        "per_s": round(len(answers) / elapsed, 1) if elapsed else None,
        "by_status": dict(sorted(Counter(str(a.status) for a in answers).items())),
        "latency_ms": percentiles([a.seconds * 1000 for a in answers]),
    }


def push(world: ScimWorld, rows: list[dict[str, str]], clients: int) -> dict[str, Any]:
    calls = [(r["employee_id"], "POST", "/Users", scim_user(r)) for r in rows]
    say(f"push: {len(calls)} users by {clients} clients")
    cpu = {name: world.cpu_seconds(name) for name in ("serve", "emulator")}
    answers, elapsed = send_all(world, calls, clients)
    created = {a.key: a.body["id"] for a in answers if a.status == 201}
    kept = {
        hr_id: rid
        for rid, hr_id in world.query(
            "SELECT id, hr_id FROM scim_resources WHERE integration = :integration "
            "AND resource_type = 'User' AND deleted_at IS NULL"
        )
    }
    with world.scim_client() as http:
        listed = http.get("/Users", params={"count": 0}).json()["totalResults"]
    lost = [key for key, rid in created.items() if kept.get(key) != rid]
    return {
        **figures(answers, elapsed),
        "created": len(created),
        "store_rows": len(kept),
        "get_users_total": listed,
        "lost": len(lost) + max(0, len(created) - listed),
        "lost_examples": lost[:5],
        "cpu_s": {n: round(world.cpu_seconds(n) - s, 1) for n, s in cpu.items()},
        "ids": created,  # dropped from the report
    }


def patch(
    world: ScimWorld, ids: dict[str, str], rows: list[dict[str, str]], count: int, clients: int
) -> dict[str, Any]:
    """PATCH ``count`` of the users pushed to another department; returns the figures and,
    under ``moved``, the department each person's 204 gave them."""
    rng = random.Random(11)
    department = {r["employee_id"]: r["department"] for r in rows}
    chosen = rng.sample(sorted(ids), min(count, len(ids)))
    to = {key: rng.choice([d for d in DEPARTMENTS if d != department[key]]) for key in chosen}
    calls = [(key, "PATCH", f"/Users/{ids[key]}", moved(to[key])) for key in chosen]
    say(f"patch: {len(calls)} users by {clients} clients")
    answers, elapsed = send_all(world, calls, clients)
    done = {a.key for a in answers if a.status == 204}
    stored = {
        hr_id: json.loads(body).get(ENTERPRISE, {}).get("department")
        for hr_id, body in world.query(
            "SELECT hr_id, body FROM scim_resources WHERE integration = :integration "
            "AND resource_type = 'User' AND deleted_at IS NULL"
        )
    }
    lost = [key for key in done if stored.get(key) != to[key]]
    return {
        **figures(answers, elapsed),
        "lost": len(lost),
        "lost_examples": lost[:5],
        "moved": {key: to[key] for key in done},  # dropped from the report
    }


# The sync


def sync(
    world: ScimWorld, want: dict[str, str], began: float, since: int, stats: dict[str, Any],
    timeout: float,
) -> dict[str, Any]:  # fmt: skip
    """Waits until Cliq has everyone in ``want`` (employee id → department) and no HR event
    is queued; the sync's figures, times from ``began`` (the wall clock at the first POST)."""
    say(f"sync: waiting for {len(want)} people in Cliq (Zoho's floor is about "
        f"{floor_seconds(len(want)) / 60:.0f} min)")  # fmt: skip
    last_said = time.monotonic()

    def converged() -> bool:
        nonlocal last_said
        users = world.cliq_users()
        there = {u["employee_id"]: (u.get("department") or {}).get("name") for u in users}
        queued = world.query(
            "SELECT count(*) FROM hr_events WHERE integration = :integration AND state = 'queued'"
        )[0][0]
        if time.monotonic() - last_said > 60:
            right = sum(1 for k, d in want.items() if there.get(k) == d)
            say(f"sync: {len(there)} in Cliq, {right} as pushed; {queued} events queued "
                f"({time.time() - began:.0f} s)")  # fmt: skip
            last_said = time.monotonic()
        return queued == 0 and all(there.get(k) == d for k, d in want.items())

    wait_until(converged, timeout, "the pushed people never all reached Cliq", every=2.0)
    converged_at = time.time()
    calls, _ = world.api_calls(since)
    invitations = [c for c in calls if endpoint_of(c[1], c[2]) == "users.add" and c[3] == 200]
    last_invite = max((c[0] for c in invitations), default=began)
    first_invite = min((c[0] for c in invitations), default=began)
    floor = floor_seconds(len(want))
    users = world.cliq_users()
    ids = [u["employee_id"] for u in users]
    emails = [u["email_id"].lower() for u in users]
    now_stats = world.stats()
    metrics = world.metrics()
    events = world.query(
        "SELECT state, count(*) FROM hr_events WHERE integration = :integration GROUP BY state"
    )
    at_calls = lower_bound_seconds({"users.add": len(invitations)})
    return {
        "people": len(want),
        "duration_s": round(last_invite - began, 1),
        "floor_s": round(floor, 1),
        "ratio": round((last_invite - began) / floor, 3) if floor else None,
        # the same for the invitation calls made: what a part-filled call cost, set apart
        "floor_for_calls_made_s": round(at_calls, 1),
        "ratio_to_calls_made": round((last_invite - began) / at_calls, 3) if at_calls else None,
        "first_invitation_after_s": round(first_invite - began, 1),
        "from_first_invitation_s": round(last_invite - first_invite, 1),
        "converged_s": round(converged_at - began, 1),
        "invitation_calls": len(invitations),
        "fewest_invitation_calls": math.ceil(len(want) / USERS_PER_ADD),
        "calls_by_endpoint": dict(sorted(Counter(endpoint_of(c[1], c[2]) for c in calls).items())),
        "busiest_minute_by_endpoint": busiest_minutes(calls),
        "lock_periods": now_stats["lock_periods_total"] - stats["lock_periods_total"],
        "nobody_twice": len(ids) == len(set(ids)) and len(emails) == len(set(emails)),
        "runs": labelled(metrics, "hrsync_runs_total"),
        "pacing_wait_s": labelled(metrics, "hrsync_pacing_wait_seconds_total"),
        "events_by_state": dict(sorted((state, n) for state, n in events)),
        "runs_made": runs_made(world, began),
    }


def runs_made(world: ScimWorld, began: float) -> list[list[Any]]:
    """[seconds after the first POST, people invited, invitation calls] of each run that
    invited anyone, from the store's runs."""
    found = []
    for started, summary in world.query(
        "SELECT started_at, summary FROM runs WHERE integration = :integration AND "
        "mode = 'apply' ORDER BY id"
    ):
        said = json.loads(summary or "{}")
        invited = said.get("counts", {}).get("invite", 0)
        if invited:
            calls = said.get("api_calls", {}).get("users.add", 0)
            found.append([round(started - began, 1), invited, calls])
    return found


def floor_seconds(people: int) -> float:
    """The least time Zoho's limits allow for inviting ``people``: 100 a call, 5 calls a
    rolling minute (``harness.lower_bound_seconds``)."""
    return lower_bound_seconds({"users.add": math.ceil(people / USERS_PER_ADD)})


def labelled(metrics: Metrics, name: str) -> dict[str, float]:
    """A counter by its labels' values, without the integration's."""
    found: dict[str, float] = {}
    for (metric, labels), value in metrics.items():
        if metric == name and value:
            label = "/".join(v for k, v in labels if k != "integration")
            found[label] = round(found.get(label, 0.0) + value, 1)
    return dict(sorted(found.items()))


# Reporting


def calls_table(title: str, found: dict[str, Any]) -> str:
    lat = found["latency_ms"]
    rows = [
        ("requests", f"{found['requests']} in {found['seconds']} s"),
        ("requests per second", found["per_s"]),
        ("latency p50/p95/p99/max", "{p50} / {p95} / {p99} / {max} ms".format(**lat)),
        ("answers by status", found["by_status"]),
        ("lost", found["lost"]),
    ]
    if "store_rows" in found:
        rows += [
            ("201s / store rows / GET total",
             f"{found['created']} / {found['store_rows']} / {found['get_users_total']}"),
            ("CPU (s)", found["cpu_s"]),
        ]  # fmt: skip
    return table(title, rows)


def sync_table(found: dict[str, Any]) -> str:
    return table(
        f"Sync: {found['people']} pushed people into Cliq",
        [
            ("last invitation after 1st POST", f"{found['duration_s']} s"),
            ("floor (Zoho's invitations)", f"{found['floor_s']} s"),
            ("ratio", found["ratio"]),
            ("floor for the calls made, ratio",
             f"{found['floor_for_calls_made_s']} s, {found['ratio_to_calls_made']}"),
            ("first invitation after", f"{found['first_invitation_after_s']} s"),
            ("converged after", f"{found['converged_s']} s"),
            ("invitation calls / fewest",
             f"{found['invitation_calls']} / {found['fewest_invitation_calls']}"),
            ("calls by endpoint", found["calls_by_endpoint"]),
            ("busiest minute/limit", found["busiest_minute_by_endpoint"]),
            ("runs", found["runs"]),
            ("runs inviting: [s, people, calls]", found["runs_made"]),
            ("hrsync pacing waits (s)", found["pacing_wait_s"]),
            ("events by state", found["events_by_state"]),
            ("lock periods", found["lock_periods"]),
            ("nobody twice", found["nobody_twice"]),
            ("serve peak memory", f"{found['serve_peak_rss_mb']} MB (VmHWM)"),
            ("machine load avg", f"{found['machine_load_avg']} on {os.cpu_count()} CPUs"),
        ],
    )  # fmt: skip


@contextlib.contextmanager
def store_url(kind: str) -> Iterator[str]:
    """The store's URL: a throwaway PostgreSQL server's database, or "" (SQLite in the
    bench's folder)."""
    if kind == "sqlite":
        yield ""
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.postgres import PostgresServer, _binaries

    bin_dir = _binaries()
    if bin_dir is None:
        raise SystemExit("PostgreSQL's server binaries are not installed")
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server.new_database()
    finally:
        server.remove()


def run(
    folder: Path,
    *,
    users: int = 10_000,
    patches: int = 1_000,
    clients: int = 8,
    store: str = "sqlite",
    debounce: float = 1.0,
    sync_timeout: float = 3600.0,
) -> dict[str, Any]:
    rows = sample_employees(users)
    with store_url(store) as url, ScimWorld(folder, store_url=url, debounce=debounce) as world:
        stats = world.stats()
        _, since = world.api_calls()
        began = time.time()
        pushed = push(world, rows, clients)
        ids = pushed.pop("ids")
        patched = patch(world, ids, rows, patches, clients)
        want = {r["employee_id"]: r["department"] for r in rows if r["employee_id"] in ids}
        want |= patched.pop("moved")
        synced = sync(world, want, began, since, stats, sync_timeout)
        synced["serve_peak_rss_mb"] = world.peak_rss_mb("serve")
        synced["machine_load_avg"] = [round(x, 2) for x in os.getloadavg()]
    return {"store": store, "clients": clients, "debounce_s": debounce, "push": pushed,
            "patch": patched, "sync": synced}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--patches", type=int, default=1_000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--debounce", type=float, default=1.0, help="[source] debounce_seconds")
    parser.add_argument("--sync-timeout", type=float, default=3600.0)
    parser.add_argument("--folder", type=Path, help="work here and keep the logs and store")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hrsync-bench-scim-") as scratch:
        folder = args.folder or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        found = run(
            folder,
            users=args.users,
            patches=args.patches,
            clients=args.clients,
            store=args.store,
            debounce=args.debounce,
            sync_timeout=args.sync_timeout,
        )
    print(calls_table(f"Push: {args.users} users, {args.clients} clients", found["push"]))
    print()
    print(calls_table(f"Patch: {args.patches} department changes", found["patch"]))
    print()
    print(sync_table(found["sync"]))
    print()
    text_ = json.dumps(found)
    print(text_)
    if args.json:
        args.json.write_text(text_ + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
