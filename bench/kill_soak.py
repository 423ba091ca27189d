"""The kill soak: applies SIGKILLed at random moments, then one fault-free apply, and
nothing lost, doubled, or held on hrsync's own backlog.

An emulated Cliq organisation (its own process, on a virtual clock, so Zoho's rate limits
cost no real time) of ``--employees`` people from an export, a team per department. Each
apply runs in a child process (``kill_soak.py --child``, hrsync built as ``sync`` builds
it), which the soak SIGKILLs at a random real time 0–0.6 s (a seeded generator) after the
plan is journalled and the first change goes out (``--kill-from run``: after the run
starts, so that planning is killed too): first in the initial sync, whose invitations go 100
to a call, then in rounds where 5–10 % of the staff move department (team joins, and team
leaves of up to 100 paced calls each), with leavers and joiners now and then. A killed
apply is started again a few simulated seconds later (up to three times a round, fewer when
one finishes first); between kills an apply is sometimes let finish, and a run a guard
holds is approved as an admin would (``--confirm-…`` with the number the hold names) before
HR changes again. After ``--kills`` kills, one fault-free apply (and one approving it, if a
guard holds it), then:

- nobody invited twice (emails unique in Cliq);
- every active HR person in Cliq, in exactly their department's team: no membership lost,
  nobody left in a team they moved out of;
- leavers inactive;
- the store's team memberships those of Cliq;
- no run held on hrsync's own backlog: a removal hold whose removals, less those an apply
  journalled after HR asked for them, are within the guard;
- no lock period (the emulator's stats);
- the next plan empty.

Where each kill landed comes from the killed run's journal: ``invite_round`` (a batch of
invitations in flight, or a wait between batches), ``team_leaves`` (a team leave in
flight), else ``team_joins``, ``in_flight:KIND``, ``between_changes``,
``after_the_changes``, ``nothing_journalled`` (planning) or ``before_the_run``. A kill
that came as the child exited, its run recorded as ended, is listed but not counted. The
emulator's calls during each killed apply are in ``kill_log``; ``removal_guard`` says how
often the guard saw more removals than its limit and let the run go because the rest were
hrsync's own backlog.

The store is a throwaway PostgreSQL server (``--store postgresql``, the default, started
as the tests start theirs; or an empty database at ``--store-url``), or SQLite
(``--store sqlite``). Prints the figures as JSON, then a short table; exits 1 when an
invariant breaks, with the journal of the people concerned. Not run in CI.

    python bench/kill_soak.py [--store postgresql|sqlite] [--store-url URL] [--kills 30]
        [--seed 1] [--employees 1000] [--kill-from changes|run] [--keep FOLDER]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import pickle
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from harness import EmulatedOrg
from hrsync.cli.demo import DEPARTMENTS, sample_employees
from hrsync.config import RulesConfig, StoreConfig
from hrsync.emulator.remote import RemoteClock
from hrsync.errors import SafetyHold
from hrsync.store import Store
from hrsync.sync import engine
from hrsync.sync.plan import Plan
from hrsync.sync.safety import Removal, Thresholds, removals
from hrsync.wiring import build
from soak_checks import Cliq, confirmation, evidence, hold_cause, invariants, landing
from soak_report import LATE, Attempt, report, table

KILL_WINDOW = 0.6  # real seconds after the child starts applying
MOVERS = (0.05, 0.10)  # share of the active staff moving department in a round
MANAGERS = 37  # the CEO, directors and managers head the sample: never moved or let go
LEAVERS, JOINERS = (0.3, 10), (0.3, 20)  # chance in a round, and at most how many
KILLS_PER_ROUND = (1, 3)
FINISH = 0.35  # chance a round then lets an apply finish
INITIAL_SHARE = 0.2  # of the kills, aimed at the initial sync
MAX_ROUNDS_PER_KILL = 5  # a bound, should applies keep outrunning their kills
BETWEEN_ROUNDS = 3600.0  # simulated seconds: a scheduler's next run
RESTART = (1.0, 10.0)  # simulated seconds before a killed apply is started again
FINAL_APPLIES = 3  # the fault-free apply, and approvals of what a guard holds
STARTED = "applying"  # the child's word to the soak: the kill window opens
KILL_FROM = {
    "changes": "the plan is journalled and the first change goes out (the default)",
    "run": "the run starts, before Cliq and HR are read",
}
SETTINGS = "settings.pickle"


def child(folder: Path, emulator: str, confirm: list[str], kill_from: str) -> int:
    """One apply in this process, as ``hrsync sync`` would make it; it says ``STARTED`` when
    the soak's kill window opens (``kill_from``), and its outcome as the last line."""
    logging.basicConfig(level=logging.WARNING)
    settings = pickle.loads((folder / SETTINGS).read_bytes())
    confirmed = {f"confirmed_{k}": int(n) for k, n in (c.split("=") for c in confirm)}
    _say_guard_counts()
    with httpx.Client(timeout=None, trust_env=False) as http:
        app = build(settings, dry_run=False, clock=RemoteClock(http, emulator))
        if kill_from == "changes":
            _say_when_journalled(app.store)
        else:
            print(STARTED, flush=True)
        try:
            outcome = app.engine.run_apply(**confirmed)
        except SafetyHold as hold:
            print(json.dumps({"held": str(hold)}), flush=True)
            return 3
        finally:
            app.close()
    failed = outcome.report.failed if outcome.report else []
    print(json.dumps({"run": outcome.run_id, "failed": failed}), flush=True)
    return 0


def _say_when_journalled(store: Store) -> None:
    """Print ``STARTED`` once the plan is in the journal: the first change goes out next."""
    intend = store.journal_intend

    def journalled(run_id: int, entries: Iterable[tuple[str, str, str, str]]) -> None:
        intend(run_id, entries)
        print(STARTED, flush=True)

    store.journal_intend = journalled  # type: ignore[method-assign]


def _say_guard_counts() -> None:
    """Print what the removal guard counts: the removals planned, those of them an earlier
    apply set out to make (hrsync's backlog, not counted), and the limit."""
    check = engine.check_removals

    def counted(
        plan: Plan, thresholds: Thresholds, *, confirmed: int | None, started: Any = ()
    ) -> None:
        planned = removals(plan)
        allowed = max(
            thresholds.deactivation_floor, int(plan.managed_users * thresholds.max_removal_share)
        )
        backlog = len(planned & set(started))
        counts = {"removals": len(planned), "backlog": backlog, "allowed": allowed}
        print(json.dumps({"guard": counts}), flush=True)
        check(plan, thresholds, confirmed=confirmed, started=started)

    engine.check_removals = counted


class Soak:
    """The organisation, its store, and the child applies made against them."""

    def __init__(
        self, org: EmulatedOrg, folder: Path, rng: random.Random, *, kill_from: str
    ) -> None:
        self.org, self.folder, self.rng, self.kill_from = org, folder, rng, kill_from
        self.store = Store(org.settings.store.url, clock=org.clock)
        (folder / SETTINGS).write_bytes(pickle.dumps(org.settings))
        self.attempts: list[Attempt] = []
        self.holds: list[dict[str, Any]] = []
        self.confirm: list[str] = []  # an admin's approval of the last hold
        self.asked_at: dict[Removal, float] = {}  # when HR last asked for each removal
        self.departments = {r["department"] for r in org.rows}
        self.round = 0

    # applies -----------------------------------------------------------------------------
    def apply(self, phase: str, *, kill: bool) -> Attempt:
        """One apply in a child process, SIGKILLed ``kill_after`` seconds into its kill
        window when ``kill`` (unless it ends sooner, or never applies a change)."""
        attempt = Attempt(phase, self.round, self.rng.uniform(0, KILL_WINDOW) if kill else None)
        before, last_run = self.org.calls(), self._last_run_id()
        log = self.folder / f"child-{len(self.attempts) + 1}.log"
        process, said = self._start_child(log)
        if said and said[-1] == STARTED and attempt.kill_after is not None:
            time.sleep(attempt.kill_after)
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        said += process.communicate()[0].splitlines()
        attempt.guard = next((json.loads(w)["guard"] for w in said if '"guard"' in w), {})
        attempt.killed = process.returncode == -signal.SIGKILL
        self.org.clock.advance(0)  # the children moved the emulator's clock on
        self._record(attempt, last_run, process.returncode, log)
        attempt.calls = _more(self.org.calls(), before)
        self.attempts.append(attempt)
        return attempt

    def _start_child(self, log: Path) -> tuple[subprocess.Popen[str], list[str]]:
        """The child, and what it said up to ``STARTED`` (all it said, when it never got
        there: it had no change to make, or a guard held it)."""
        confirm = [a for c in self.confirm for a in ("--confirm", c)]
        command = [sys.executable, __file__, "--child", str(self.folder)]
        where = ["--emulator", self.org.server.base, "--kill-from", self.kill_from]
        with log.open("w") as sink:
            process = subprocess.Popen(
                [*command, *where, *confirm],
                stdout=subprocess.PIPE,
                stderr=sink,
                text=True,
            )
        assert process.stdout is not None
        said: list[str] = []
        while (line := process.stdout.readline()) and line.strip() != STARTED:
            said.append(line)
        return process, [*said, line.strip()] if line else said

    def _last_run_id(self) -> int | None:
        runs = self.store.runs(limit=1)
        return runs[0].id if runs else None

    def _record(self, attempt: Attempt, last_run: int | None, code: int, log: Path) -> None:
        """What became of the child's run; where a kill landed; a hold's cause."""
        run = next((r for r in self.store.runs(limit=1) if r.id != last_run), None)
        if run is not None:
            attempt.run_id, attempt.status = run.id, run.status
        if attempt.killed and attempt.status in ("", "interrupted"):
            attempt.landed, attempt.in_flight = landing(self.store, attempt.run_id)
            return
        if attempt.killed:
            attempt.landed = LATE  # the run had ended; only its process was left
        if run is not None and run.status == "held":
            attempt.note = str(run.summary.get("hold", ""))
            self._held(attempt)
        elif run is not None and run.status in ("succeeded", "partial"):
            self.confirm = []
        elif not attempt.killed:
            attempt.note = f"exit {code}: {log.read_text()[-1500:]}"

    def _held(self, attempt: Attempt) -> None:
        """Why the run was held; the next apply approves it, as an admin would."""
        guard = confirmation(attempt.note)
        held: dict[str, Any] = {"run": attempt.run_id, "phase": attempt.phase, "guard": None}
        if guard is not None:
            kind, count = guard
            held["guard"] = kind
            self.confirm = [f"{kind}={count}"]
            if kind == "removals":
                plan = self.plan()
                held |= hold_cause(self.store, plan, self.asked_at, count)
        self.holds.append(held)

    def plan(self) -> Plan:
        """``hrsync plan``, here."""
        check = self.org.build(dry_run=True)
        try:
            return check.engine.plan()[0]
        finally:
            check.close()

    # phases ------------------------------------------------------------------------------
    def initial_sync(self, kills: int) -> None:
        """Kills inside the initial sync, until ``kills`` of them or an apply outruns its
        kill; then it is let finish (the removal guard counts against the users hrsync
        manages: move rounds need them all)."""
        while len(self.kills()) < kills:
            if not self.apply("initial", kill=True).cut_short:
                return
        self.apply("initial", kill=False)

    def rounds(self, kills: int) -> Counter[str]:
        """HR rounds, each with up to 1–3 killed applies (fewer when one finishes first),
        until ``kills`` kills in all; a hold is approved before HR changes again (that apply
        killed or not), and now and then an apply is let finish. What HR changed, in all."""
        hr: Counter[str] = Counter()
        while len(self.kills()) < kills and self.round < kills * MAX_ROUNDS_PER_KILL:
            hr.update(self.hr_round())
            for _ in range(self.rng.randint(*KILLS_PER_ROUND)):
                if len(self.kills()) >= kills or not self.apply("rounds", kill=True).cut_short:
                    break  # enough, or the round's work is done
                self.org.clock.advance(self.rng.uniform(*RESTART))
            if self.confirm:
                self.apply("rounds", kill=len(self.kills()) < kills and self.rng.random() < 0.5)
            if self.rng.random() < FINISH:
                self.apply("rounds", kill=False)
        return hr

    def final(self) -> None:
        """The fault-free apply, and approvals of what a guard holds."""
        self.org.clock.advance(BETWEEN_ROUNDS)
        self.org.accept_invitations()
        for _ in range(FINAL_APPLIES):
            if self.apply("final", kill=False).status != "held":
                return

    # HR ----------------------------------------------------------------------------------
    def hr_round(self) -> dict[str, int]:
        """5–10 % of the staff move department; leavers and joiners now and then."""
        self.round += 1
        self.confirm = []  # an approval was of the plan before this change
        self.org.clock.advance(BETWEEN_ROUNDS)
        self.org.accept_invitations()  # those invited so far joined meanwhile
        staff = [r for r in self.org.rows[MANAGERS:] if r["status"] == "active"]
        share = self.rng.uniform(*MOVERS)
        movers = self.rng.sample(staff, round(share * len(staff)))
        for row in movers:
            self.asked_at[("team_members", row["department"].lower(), row["employee_id"])] = (
                self.org.clock.now()
            )
            row["department"] = self.rng.choice([d for d in DEPARTMENTS if d != row["department"]])
        leavers = self._some(LEAVERS, [r for r in staff if r not in movers])
        for row in leavers:
            row["status"] = "inactive"
        joiners = self._hire(self._some_count(JOINERS))
        self.org.write_source()
        return {"movers": len(movers), "leavers": len(leavers), "joiners": joiners}

    def _some(self, odds: tuple[float, int], rows: list[dict[str, str]]) -> list[dict[str, str]]:
        return self.rng.sample(rows, min(len(rows), self._some_count(odds)))

    def _some_count(self, odds: tuple[float, int]) -> int:
        chance, most = odds
        return self.rng.randint(1, most) if self.rng.random() < chance else 0

    def _hire(self, count: int) -> int:
        known = len(self.org.rows)
        self.org.rows.extend(sample_employees(known + count)[known:])
        self.departments.update(r["department"] for r in self.org.rows[known:])
        return count

    # figures -----------------------------------------------------------------------------
    def kills(self) -> list[Attempt]:
        """The kills that cut an apply short (not those that came as its process exited)."""
        return [a for a in self.attempts if a.cut_short]

    def check(self) -> dict[str, Any]:
        """Each invariant's breaches, after the final apply."""
        state = self.org.control.get(f"{self.org.server.base}/_emulator/state").json()
        cliq = Cliq.read(state, self.departments)
        breaches = invariants(self.org.rows, cliq, self.store.memberships("team"))
        plan = self.plan()
        breaches["next_plan"] = [c.describe(done=False) for c in plan.changes]
        breaches["held_on_own_backlog"] = [h for h in self.holds if h.get("on_own_backlog")]
        breaches["lock_periods"] = [
            f"{endpoint}: {n}" for endpoint, n in self.org.stats()["lock_periods_triggered"].items()
        ]
        return breaches


def _more(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)}


@dataclass(frozen=True)
class Options:
    store: str
    kills: int
    seed: int
    employees: int
    kill_from: str


def soak(options: Options, store_url: str, folder: Path) -> dict[str, Any]:
    """The whole soak against one store; its figures."""
    started = time.perf_counter()
    rng = random.Random(options.seed)
    with EmulatedOrg(folder, "csv", options.employees, "process") as org:
        org.settings.rules = RulesConfig(teams_per=["department"])
        if store_url:
            org.settings.store = StoreConfig(url=store_url)
        run = Soak(org, folder, rng, kill_from=options.kill_from)
        since = org.clock.now()
        run.initial_sync(max(1, round(options.kills * INITIAL_SHARE)))
        hr = run.rounds(options.kills)
        run.final()
        breaches = run.check()
        simulated = org.clock.now() - since
        figures = report(run.attempts, run.holds, breaches, hr)
        figures["evidence"] = evidence(run.store, breaches) if not figures["ok"] else {}
        run.store.close()
    return {
        "store": options.store,
        "employees": options.employees,
        "seed": options.seed,
        "kill_window": f"0–{KILL_WINDOW} s after {KILL_FROM[options.kill_from]}",
        **figures,
        "simulated_hours": round(simulated / 3600, 1),
        "real_seconds": round(time.perf_counter() - started, 1),
    }


@contextlib.contextmanager
def store_url(kind: str, given: str) -> Iterator[str]:
    """The store's URL: ``given``, a throwaway PostgreSQL server's (the tests' own), or ""
    (SQLite in the soak's folder)."""
    if given or kind == "sqlite":
        yield given
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.postgres import PostgresServer, _binaries

    bin_dir = _binaries()
    if bin_dir is None:
        raise SystemExit("PostgreSQL's server binaries are not installed: pass --store-url")
    server = PostgresServer(bin_dir)
    try:
        server.start()
        yield server.url
    finally:
        server.remove()


@contextlib.contextmanager
def work_folder(keep: str) -> Iterator[Path]:
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        yield Path(keep)
        return
    with tempfile.TemporaryDirectory(prefix="hrsync-kill-soak-") as folder:
        yield Path(folder)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--store", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--store-url", default="", help="an empty PostgreSQL database")
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--employees", type=int, default=1000)
    parser.add_argument("--keep", default="", help="work in this folder and keep it")
    parser.add_argument(
        "--kill-from",
        choices=list(KILL_FROM),
        default="changes",
        help="the kill window opens when " + "; ".join(f"{k}: {v}" for k, v in KILL_FROM.items()),
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--emulator", help=argparse.SUPPRESS)
    parser.add_argument("--confirm", action="append", default=[], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return child(args.child, args.emulator, args.confirm, args.kill_from)
    # The soak's own store notes each killed run as interrupted: the figures say it.
    logging.getLogger("hrsync").setLevel(logging.ERROR)
    options = Options(args.store, args.kills, args.seed, args.employees, args.kill_from)
    with store_url(args.store, args.store_url) as url, work_folder(args.keep) as folder:
        figures = soak(options, url, folder)
    json.dump(figures, sys.stdout, indent=2)
    print("\n")
    print(table(figures))
    return 0 if figures["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
