"""Model-based: random histories of HR events, admin drift, faults and kills, on the virtual
clock against the in-process emulator, with the invariants checked after every step.

- no duplicate Cliq user, by email or by employee id;
- users hrsync does not manage are never touched;
- a person whose HR row is broken is never deactivated nor changed while it stays broken;
- after a fault-free apply, Cliq (users, teams) and Connect match HR and the next plan is
  empty; after faults or a kill, that one fault-free apply is enough.

`make test` runs a bounded, repeatable set of histories; `make soak` runs thousands and
prints what it explored (HYPOTHESIS_PROFILE=soak).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from hrsync.cli.demo import grant_refresh_token, sample_employees, write_csv
from hrsync.clock import VirtualClock
from hrsync.config import (
    ConnectServiceConfig,
    RulesConfig,
    SafetyConfig,
    Settings,
    SourceConfig,
    StoreConfig,
)
from hrsync.config_scope import ScopeConfig
from hrsync.emulator import Emulator
from hrsync.emulator.connect_data import SCOPE_ID
from hrsync.emulator.transport import mock_transport
from hrsync.emulator.variants import VARIANTS
from hrsync.errors import SafetyHold, SourceError
from hrsync.sync.stall import STALLED, STALLED_AFTER
from hrsync.targets.cliq.seen import Seen
from hrsync.targets.cliq.target import CliqTarget
from tests.conftest import BASE, World, service
from tests.support import KeepsOldValue, KillAfterWrites

settings.register_profile(
    "default",
    max_examples=int(os.environ.get("HRSYNC_MODEL_EXAMPLES", "6")),
    stateful_step_count=14,
    derandomize=True,  # the same histories on every CI run; `make soak` explores
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(
    "soak",
    max_examples=int(os.environ.get("HRSYNC_SOAK_EXAMPLES", "2000")),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

DEPARTMENTS = ["Engineering", "Sales", "Support", "Finance"]
BREAKS = {  # how a row breaks, and what the export then says
    "hire_date": "31/12/2020",
    "email": "not-an-email",
    "status": "Sabbatical",
    "exit_date": "next week",
}
ACTIVE_WORDS = ["active", "Active", "On Leave", "Probation", "Notice Period"]
VOLATILE = ("last_modified_time",)


class Killed(BaseException):
    """The process dies here."""


class Directory(RuleBasedStateMachine):
    """HR rows on one side, Cliq and Connect on the other, hrsync in between."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.clock = VirtualClock()
        self.emulator = Emulator(self.clock)
        self.transport = mock_transport(self.emulator)
        self.http = httpx.Client(transport=self.transport)
        client_id, secret, refresh = grant_refresh_token(self.http, BASE)
        base = Path(self.tmp.name)
        cliq = service(BASE, client_id, secret, refresh)
        self.world = World(
            self.clock,
            Settings(
                store=StoreConfig(url=f"sqlite:///{base / 'hrsync.db'}"),
                source=SourceConfig(path=base / "employees.csv"),
                cliq=cliq,
                connect=ConnectServiceConfig(
                    **cliq.model_dump(exclude={"network_id"}), network_id=SCOPE_ID
                ),
                rules=RulesConfig(teams_per=["department"], connect_groups_per=["department"]),
                safety=SafetyConfig(max_deactivation_share=1.0, max_removal_share=1.0),
            ),
            base / "employees.csv",
            self.transport,
            self.http,
        )
        self.rows: dict[str, dict[str, str]] = {}
        self.removed: set[str] = set()  # gone from the export
        self.broken: dict[str, tuple[str, dict[str, Any]]] = {}  # id -> (field, Cliq then)
        self.unmanaged: dict[str, str] = {}
        # People an admin changed by hand where Cliq's modified_after does not look (a mobile,
        # a deactivation, a team): hrsync finds them at its next full read of Cliq, not before.
        self.unseen: set[str] = set()
        self.serial = 100
        self.admin = self.world.app()
        # People whose change the last apply held back as stalled (sync/stall.py): a
        # named pending action, not yet in step, and not to be counted as out of step.
        self.stalled: set[str] = set()

    def teardown(self) -> None:
        self.admin.close()
        self.http.close()
        self.tmp.cleanup()

    # the world ----------------------------------------------------------------------------
    def today(self) -> dt.date:
        return dt.datetime.fromtimestamp(self.clock.now(), dt.UTC).date()

    def write(self) -> None:
        rows = []
        for eid, row in self.rows.items():
            if eid in self.removed:
                continue
            row = dict(row)
            if eid in self.broken:
                name = self.broken[eid][0]
                row[name] = BREAKS[name]
            rows.append(row)
        write_csv(self.world.csv, rows)

    def users(self) -> dict[str, dict[str, Any]]:
        state: Any = self.world.state()
        return {u.get("employee_id") or u["email_id"]: u for u in state["users"]}

    def apply(
        self, transport: httpx.BaseTransport | None = None, *, full_read: bool = False
    ) -> Any:
        self.write()
        self.clock.advance(180)  # runs a few minutes apart, as a schedule would start them
        app = self.world.app(transport=transport)
        try:
            outcome = app.engine.run_apply(full_read=full_read)
            self.stalled = {k.split(":")[1] for k in outcome.plan.stalled if k.startswith("user:")}
            if outcome.plan.stalled:
                event("run: a change held as stalled")
            return outcome
        except SourceError:
            assert not set(self.valid()) - self.outside(), "a feed with valid rows was refused"
            event("run: a feed with no valid row is refused")
            return None
        finally:
            self.read(app.engine.target.last_read.kind)
            app.close()

    def read(self, kind: str) -> None:
        if kind == "full":
            self.unseen.clear()  # hand edits are in what hrsync saw: it puts them back
        event(f"read of Cliq: {kind or 'none'}")

    def plan(self) -> list[Any]:
        self.clock.advance(180)
        app = self.world.app(dry_run=True)
        try:
            unseen = set(self.unseen)
            changes = app.engine.plan()[0].changes
            self.read(app.engine.target.last_read.kind)
            # A full read that came due since the apply finds the hand edits, and only them.
            return [c for c in changes if not _about(c, unseen)]
        finally:
            app.close()

    def new_row(self, manager: str, department: str, hire_in: int = 0) -> dict[str, str]:
        self.serial += 1
        eid = f"N{self.serial:04d}"
        hired = self.today() + dt.timedelta(days=hire_in) if hire_in else dt.date(2020, 1, 6)
        return {
            "employee_id": eid,
            "email": f"new.person.{self.serial}@zylker.example",
            "first_name": "New",
            "last_name": f"Person{self.serial}",
            "mobile": f"+1 555 09{self.serial:04d}",
            "department": department,
            "designation": "Engineer",
            "manager_id": manager,
            "status": "active",
            "hire_date": hired.isoformat(),
        }

    # what HR says -----------------------------------------------------------------------------
    def active_in_hr(self, eid: str) -> bool:
        row = self.rows[eid]
        if eid in self.removed or row["status"] not in ACTIVE_WORDS:
            return False
        today = self.today()
        if row.get("hire_date") and dt.date.fromisoformat(row["hire_date"]) > today:
            return False
        exit_date = row.get("exit_date", "")
        return not exit_date or dt.date.fromisoformat(exit_date) > today

    def valid(self) -> list[str]:
        return sorted(e for e in self.rows if e not in self.broken and e not in self.removed)

    def working(self) -> list[str]:
        return [e for e in self.valid() if self.active_in_hr(e)]

    def outside(self) -> set[str]:
        """People the configuration's [scope] leaves out (none here: see ScopedDirectory)."""
        return set()

    # setup -------------------------------------------------------------------------------------
    # Every disputed reading but people-managed, which the department invariants don't model
    # (tests/api/test_variant_matrix.py covers it).
    @initialize(variants=st.sets(st.sampled_from(sorted(set(VARIANTS) - {"people-managed"}))))
    def an_organisation_in_step(self, variants: set[str]) -> None:
        self.emulator.variants = frozenset(variants)
        for name in sorted(variants):
            event(f"emulator plays {name}")
        for row in sample_employees(12):
            row["department"] = DEPARTMENTS[int(row["employee_id"][1:]) % len(DEPARTMENTS)]
            self.rows[row["employee_id"]] = row
        target = self.admin.engine.target
        emails = ["contractor.one@partner.example", "contractor.two@partner.example"]
        target.invite(
            [{"email_id": e, "first_name": "Con", "last_name": "Tractor"} for e in emails]
        )
        users = self.users()
        self.unmanaged = {e: _frozen(users[e]) for e in emails}
        self.clean_apply()

    # HR events -----------------------------------------------------------------------------
    @rule(data=st.data(), later=st.sampled_from([0, 0, 0, 2, 5]))
    def join(self, data: st.DataObject, later: int) -> None:
        managers = self.working()
        manager = data.draw(st.sampled_from(["", *managers]))
        row = self.new_row(manager, data.draw(st.sampled_from(DEPARTMENTS)), later)
        self.rows[row["employee_id"]] = row
        event(f"HR: join{' later' if later else ''}")

    @precondition(lambda self: self.working())
    @rule(data=st.data(), how=st.sampled_from(["status", "exit_date", "removed", "exit_later"]))
    def leave(self, data: st.DataObject, how: str) -> None:
        eid = data.draw(st.sampled_from(self.working()))
        if how == "status":
            self.rows[eid]["status"] = "Terminated"
        elif how == "exit_date":
            self.rows[eid]["exit_date"] = (self.today() - dt.timedelta(days=1)).isoformat()
        elif how == "exit_later":
            self.rows[eid]["exit_date"] = (self.today() + dt.timedelta(days=2)).isoformat()
        else:
            self.removed.add(eid)
        event(f"HR: leave by {how}")

    @precondition(lambda self: any(not self.active_in_hr(e) for e in self.rows))
    @rule(data=st.data())
    def rehire(self, data: st.DataObject) -> None:
        gone = sorted(e for e in self.rows if not self.active_in_hr(e) and e not in self.broken)
        if not gone:
            return
        eid = data.draw(st.sampled_from(gone))
        self.removed.discard(eid)
        self.rows[eid].update(status="active", exit_date="")
        if dt.date.fromisoformat(self.rows[eid]["hire_date"]) > self.today():
            self.rows[eid]["hire_date"] = "2020-01-06"
        event("HR: rehire")

    @precondition(lambda self: self.valid())
    @rule(
        data=st.data(), what=st.sampled_from(["department", "manager", "location", "designation"])
    )
    def move(self, data: st.DataObject, what: str) -> None:
        eid = data.draw(st.sampled_from(self.valid()))
        row = self.rows[eid]
        if what == "department":
            row["department"] = data.draw(st.sampled_from(DEPARTMENTS))
        elif what == "designation":
            row["designation"] = data.draw(st.sampled_from(["Engineer", "Analyst", "Lead"]))
        elif what == "location":
            row["seating_location"] = f"Floor {data.draw(st.integers(1, 9))}"
        else:
            candidates = [
                e for e in self.working() if e != eid and not _reports_to(self.rows, e, eid)
            ]
            row["manager_id"] = data.draw(st.sampled_from(["", *candidates]))
        event(f"HR: move {what}")

    @precondition(lambda self: self.valid())
    @rule(data=st.data(), what=st.sampled_from(["email", "name", "status word"]))
    def edit(self, data: st.DataObject, what: str) -> None:
        eid = data.draw(st.sampled_from(self.valid()))
        row = self.rows[eid]
        self.serial += 1
        if what == "email":
            row["email"] = f"renamed.{self.serial}@zylker.example"
        elif what == "name":
            row["last_name"] = f"Renamed{self.serial}"
        elif row["status"] in ACTIVE_WORDS:
            row["status"] = data.draw(st.sampled_from(ACTIVE_WORDS))
        event(f"HR: {what} change")

    @precondition(lambda self: [e for e in self.valid() if e in self.users()])
    @rule(data=st.data(), name=st.sampled_from(sorted(BREAKS)))
    def break_a_row(self, data: st.DataObject, name: str) -> None:
        users = self.users()
        eid = data.draw(st.sampled_from([e for e in self.valid() if e in users]))
        self.broken[eid] = (name, _frozen(users[eid]))
        event(f"HR: a row breaks ({name})")

    @precondition(lambda self: self.broken)
    @rule(data=st.data())
    def fix_a_row(self, data: st.DataObject) -> None:
        eid = data.draw(st.sampled_from(sorted(self.broken)))
        del self.broken[eid]
        event("HR: a row is fixed")

    @rule(days=st.sampled_from([1, 3]))
    def days_pass(self, days: int) -> None:
        self.clock.advance(days * 86_400)
        event("time: days pass")

    # admin drift ------------------------------------------------------------------------------
    def drift_candidates(self) -> list[str]:
        users, outside = self.users(), self.outside()
        return [
            e
            for e in self.working()
            if e in users and users[e]["status"] == "active" and e not in outside
        ]

    @rule()
    def invitations_accepted(self) -> None:
        """People accept their invitations (not those whose rows are broken: they stay put)."""
        users, outside = self.users(), self.outside()
        emails = [users[e]["email_id"] for e in self.valid() if e in users and e not in outside]
        if not emails:
            return  # an empty list would accept every invitation
        self.http.post(f"{BASE}/_emulator/users/accept", json={"emails": emails})
        event("people accept their invitations")

    @rule(department=st.sampled_from(DEPARTMENTS))
    def admin_deletes_a_department(self, department: str) -> None:
        state: Any = self.world.state()
        found = next((d for d in state["departments"] if d["name"] == department), None)
        held = set(self.broken) | self.outside()
        if found is None or any(
            e in held and self.users().get(e, {}).get("department", {}).get("name") == department
            for e in self.rows
        ):
            return  # a broken row's person must stay exactly as they are
        self.admin.http.call("DELETE", f"/api/v2/departments/{found['id']}", endpoint="departments")
        event("admin: drift (department deleted)")

    @precondition(lambda self: self.drift_candidates())
    @rule(data=st.data(), what=st.sampled_from(["mobile", "deactivate", "team"]))
    def admin_drift(self, data: st.DataObject, what: str) -> None:
        eid = data.draw(st.sampled_from(self.drift_candidates()))
        user = self.users()[eid]
        target = self.admin.engine.target
        if what == "mobile":
            target.update_user(user["id"], {"mobile": "+0 000"}, email=user["email_id"])
            self.unseen.add(eid)
        elif what == "deactivate":
            target.set_active(user["id"], False)
            self.unseen.add(eid)
        else:
            state: Any = self.world.state()
            team = next((t for t in state["teams"] if user["id"] in t["members"]), None)
            if team is None:
                return
            target.remove_team_members(team["team_id"], [user["id"]])
            self.unseen.add(eid)
        event(f"admin: drift ({what})")

    @precondition(lambda self: self.drift_candidates())
    @rule(data=st.data())
    def cliq_keeps_an_old_value(self, data: st.DataObject) -> None:
        """A reading nobody has named: Cliq says a mobile's update is done and keeps the old
        number. After three fault-free applies, the next plan has no change left: the one
        Cliq never takes is a named pending action. Then HR takes Cliq's number."""
        self.clean_apply(full_read=True)
        candidates = self.drift_candidates()
        if not candidates:
            return
        eid = data.draw(st.sampled_from(candidates))
        old = self.rows[eid]["mobile"]
        self.serial += 1
        self.rows[eid]["mobile"] = new = f"+1 555 08{self.serial:04d}"
        keeps = KeepsOldValue(self.transport, "mobile", new, old)
        for _ in range(STALLED_AFTER):
            outcome = self.apply(keeps, full_read=True)
            assert outcome is not None and outcome.report.failed == [], outcome
        self.clock.advance(180)
        app = self.world.app(dry_run=True)
        try:
            plan = app.engine.plan(full_read="checking")[0]
        finally:
            app.close()
        assert keeps.kept >= STALLED_AFTER  # (a first update may try both body shapes)
        assert plan.changes == [], [c.describe(done=False) for c in plan.changes]
        assert plan.stalled == [f"user:{eid}:update"]
        said = STALLED.format(times=STALLED_AFTER)
        assert [p for p in plan.pending if p.startswith(said) and self.rows[eid]["email"] in p]
        event("run: Cliq keeps an old value; held as stalled")
        self.rows[eid]["mobile"] = old
        self.clean_apply(full_read=True)

    # runs ----------------------------------------------------------------------------------
    @rule(full_read=st.sampled_from([False, False, True]))
    def clean_apply(self, full_read: bool = False) -> None:
        outcome = self.apply(full_read=full_read)
        if outcome is None:
            return  # refused: nothing in the export can be trusted
        if outcome.report.failed and all(DEACTIVATED in f for f in outcome.report.failed):
            # An admin deactivated someone by hand, which an incremental read does not list,
            # and HR changed them meanwhile: Cliq refuses the update. That person is read
            # again by the next run, which puts HR's state back.
            event("run: an update met a deactivation made by hand; the next run reads them")
            outcome = self.apply()
            assert outcome is not None
        assert outcome.report.failed == [], outcome.report.failed
        self.check_converged()
        event("run: fault-free apply")

    @rule(
        mode=st.sampled_from(["error_500", "timeout", "throttle_400", "throttle_429"]),
        endpoint=st.sampled_from(["users.add", "users.update", "users.list", "teams"]),
        count=st.integers(1, 3),
    )
    def apply_with_faults(self, mode: str, endpoint: str, count: int) -> None:
        self.http.post(
            f"{BASE}/_emulator/faults",
            json=[{"mode": mode, "endpoint": endpoint, "count": count}],
        )
        try:
            self.apply()
        finally:
            self.http.post(f"{BASE}/_emulator/faults", json=[])
        event(f"run: faults ({mode} on {endpoint})")

    @rule(budget=st.integers(0, 6))
    def apply_killed(self, budget: int) -> None:
        try:
            self.apply(KillAfterWrites(self.transport, budget, Killed))
        except Killed:
            event("run: killed mid-apply")

    @rule(writes=st.integers(0, 6))
    def apply_across_token_expiry(self, writes: int) -> None:
        """The access token expires in the middle of a run (Zoho answers 401)."""
        self.apply(ExpireTokenAfterWrites(self.transport, writes, self.clock))
        event("run: the access token expires mid-run")

    @rule(data=st.data(), unknown=st.booleans())
    def hr_events(self, data: st.DataObject, unknown: bool) -> None:
        """A run for HR events: some people, in the order their events came (an id HR does
        not have among them, maybe): those HR can sync are synced, that one refused alone."""
        if not self.rows:
            return
        named = data.draw(st.lists(st.sampled_from(sorted(self.rows)), min_size=1, max_size=4))
        if unknown:
            named.insert(data.draw(st.integers(0, len(named))), "E99999")
        self.write()
        self.clock.advance(60)
        app = self.world.app()
        try:
            app.engine.only = frozenset(named)
            app.engine.events = tuple(named)
            try:
                outcome = app.engine.run_apply()
            except SafetyHold:
                event("hr events: held by a guard")
                return
            except SourceError:
                assert not set(self.valid()) - self.outside(), "a feed with valid rows was refused"
                return
        finally:
            self.read(app.engine.target.last_read.kind)
            app.close()
        refused = set(outcome.plan.refused)
        assert ("E99999" in refused) == unknown
        # refused: the unknown id, a broken row, or someone gone from HR before Cliq had them
        assert refused - {"E99999"} <= set(self.broken) | self.removed | self.outside(), refused
        if outcome.report.failed:
            return
        users = self.users()
        for eid in set(named) - refused - self.unseen - self.stalled - self.outside():
            user = users.get(eid)
            if user is not None and self.active_in_hr(eid) and user["status"] == "active":
                assert user.get("mobile", "") == self.rows[eid]["mobile"], f"{eid}'s event"
        event(f"hr events: {len(set(named))} people{', one unknown' if unknown else ''}")

    @rule(steps=st.integers(0, 8))
    def apply_gives_way(self, steps: int) -> None:
        """A run of everyone gives way to HR events after some changes; the run that goes on
        after them does the rest, and nothing is left open."""
        asked: list[int] = []

        def after_some() -> bool:
            asked.append(1)
            return len(asked) > steps

        self.write()
        self.clock.advance(180)
        app = self.world.app()
        app.engine.give_way = after_some
        try:
            outcome = app.engine.run_apply()
            journal = app.engine.store.journal(outcome.run_id)
        except (SafetyHold, SourceError):
            return
        finally:
            self.read(app.engine.target.last_read.kind)
            app.close()
        assert not [e for e in journal if e.state in ("intended", "sent")], "left open"
        if outcome.report.gave_way:
            event("run: gave way to HR events")
            self.clean_apply()

    # the invariants --------------------------------------------------------------------------
    @invariant()
    def nobody_twice(self) -> None:
        state: Any = self.world.state()
        emails = [u["email_id"].lower() for u in state["users"]]
        ids = [u["employee_id"] for u in state["users"] if u.get("employee_id")]
        assert len(emails) == len(set(emails)), "a Cliq user exists twice (email)"
        assert len(ids) == len(set(ids)), "a Cliq user exists twice (employee id)"

    @invariant()
    def unmanaged_users_untouched(self) -> None:
        users = self.users()
        for email, then in self.unmanaged.items():
            assert _frozen(users[email]) == then, f"{email} is not hrsync's, yet it changed"

    @invariant()
    def broken_rows_harm_nobody(self) -> None:
        users = self.users()
        for eid, (name, then) in self.broken.items():
            assert _frozen(users[eid]) == then, f"{eid}'s row is broken ({name}), yet Cliq changed"

    def check_picture(self) -> None:
        """What hrsync keeps of Cliq between full reads is what a full read finds now, but
        for the hand edits it is not meant to see yet (and pending or active: one to it)."""
        app = self.world.app(dry_run=True)
        try:
            seen = Seen.load(app.store)
            assert seen is not None, "a fault-free apply left no picture of Cliq"
            truth = CliqTarget(app.engine.target.client).inventory(full="checking")
        finally:
            app.close()
        for user in truth.users:
            if user.employee_id in self.unseen or user.zuid in seen.unsure:
                continue
            kept = seen.users.get(user.zuid)
            if kept is None:
                assert user.email.lower() in seen.invited, f"{user.email}: not in the picture"
                continue
            same = (kept.status == "inactive") == (user.status == "inactive")
            assert same and replace(kept, status="") == replace(user, status=""), (
                f"hrsync's picture of {user.email} is {kept}, Cliq has {user}"
            )

    def check_converged(self) -> None:
        self.check_picture()
        users = self.users()
        state: Any = self.world.state()
        teams = {t["name"]: set(t["members"]) for t in state["teams"]}
        groups = {g["name"]: set(g["members"]) for g in state["connect"]["groups"]}
        outside = self.outside()
        for eid, row in self.rows.items():
            if eid in self.broken or eid in self.stalled or eid in outside:
                continue
            user = users.get(eid)
            if not self.active_in_hr(eid):
                assert user is None or user["status"] == "inactive", (
                    f"{eid} left but is not inactive"
                )
                continue
            assert user is not None, f"{eid} works here but is not in Cliq"
            if eid not in self.unseen:  # a hand edit there waits for the next full read
                assert user["status"] in ("active", "pending"), f"{eid} is {user['status']}"
                assert user.get("mobile", "") == row["mobile"], f"{eid}'s mobile"
            assert user["email_id"] == row["email"], eid
            assert user["last_name"] == row["last_name"], eid
            assert user["department"]["name"] == row["department"], eid
            if eid not in self.unseen:
                assert user["id"] in teams[row["department"]], f"{eid} is not in their team"
            assert row["email"] in groups[row["department"]], f"{eid} not in their group"
            manager = row["manager_id"]
            held = manager in self.broken or manager in outside
            if manager and not held and self.active_in_hr(manager):
                assert user.get("reportingto", {}).get("id") == users[manager]["id"], eid
            elif not manager:
                assert "reportingto" not in user, f"{eid} has a manager HR does not name"
        assert self.plan() == [], "a fault-free apply left work for the next run"


class ExpireTokenAfterWrites(httpx.BaseTransport):
    """Lets ``writes`` writes through, then moves the clock past the token's hour, once."""

    def __init__(self, inner: httpx.BaseTransport, writes: int, clock: VirtualClock) -> None:
        self.inner, self.left, self.clock = inner, writes, clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET" and "/oauth/" not in request.url.path:
            self.left -= 1
            if self.left == -1:
                self.clock.advance(3_601)
        return self.inner.handle_request(request)


DEACTIVATED = "The user is deactivated."  # Cliq's answer to an update of an inactive user


def _about(change: Any, people: set[str]) -> bool:
    """Whether ``change`` concerns only ``people``."""
    named = getattr(change, "employee_ids", None) or [getattr(change, "employee_id", "")]
    return set(named) <= people


def _frozen(user: dict[str, Any]) -> dict[str, Any]:
    """A user as hrsync could change them (a manager's name shows their own renames)."""
    frozen = {k: v for k, v in user.items() if k not in VOLATILE}
    if "reportingto" in frozen:
        frozen["reportingto"] = frozen["reportingto"]["id"]
    return frozen


def _reports_to(rows: dict[str, dict[str, str]], person: str, boss: str) -> bool:
    """Whether ``person`` is somewhere below ``boss`` (a new manager must not close a loop)."""
    seen: set[str] = set()
    while person and person not in seen:
        if person == boss:
            return True
        seen.add(person)
        person = rows.get(person, {}).get("manager_id", "")
    return False


TestDirectory = Directory.TestCase


class ScopedDirectory(Directory):
    """The same histories under a ``[scope]`` that leaves Finance out (by exclude, or by an
    include of the others), people moving in and out of it: nobody outside is invited; a
    managed person who leaves it is left exactly as Cliq had them (``keep``) or deactivated
    (``deactivate``); everyone inside converges as before."""

    @initialize(
        variants=st.just(frozenset()),
        form=st.sampled_from(["exclude", "include"]),
        on_leave=st.sampled_from(["keep", "deactivate"]),
    )
    def an_organisation_in_step(  # type: ignore[override]
        self, variants: set[str], form: str, on_leave: str
    ) -> None:
        inside = [d for d in DEPARTMENTS if d != "Finance"]
        rules = {"exclude": {"department": ["Finance"]}, "include": {"department": inside}}
        scope = ScopeConfig.model_validate({form: rules[form], "on_leave": on_leave})
        self.world.settings = self.world.settings.model_copy(update={"scope": scope})
        self.on_leave = on_leave
        self.left: dict[str, dict[str, Any] | None] = {}  # outside -> Cliq when they left
        event(f"scope: {form} ({rules[form]['department']}), on_leave {on_leave}")
        super().an_organisation_in_step(variants)

    def outside(self) -> set[str]:
        return {e for e, row in self.rows.items() if row["department"] == "Finance"}

    @precondition(lambda self: set(self.valid()) - self.outside())
    @rule(data=st.data())
    def move_out_of_the_scope(self, data: st.DataObject) -> None:
        eid = data.draw(st.sampled_from(sorted(set(self.valid()) - self.outside())))
        self.rows[eid]["department"] = "Finance"
        event("HR: move out of the scope")

    def apply(self, transport: httpx.BaseTransport | None = None, **kwargs: Any) -> Any:
        self.track_scope()  # before the run: who left the scope, and as Cliq had them then
        return super().apply(transport, **kwargs)

    def track_scope(self) -> None:
        users, outside = self.users(), self.outside()
        for eid in outside - set(self.left):
            self.left[eid] = _frozen(users[eid]) if eid in users else None
            if eid in users:
                event("scope: someone in Cliq left it")
        for eid in set(self.left) - outside:
            del self.left[eid]  # back inside: hrsync's again

    @invariant()
    def outside_the_scope_as_configured(self) -> None:
        self.track_scope()  # right after a move out of it, before any run
        users = self.users()
        for eid, then in getattr(self, "left", {}).items():
            user = users.get(eid)
            if then is None:  # never managed: never invited, whatever HR says
                assert user is None or eid in self.removed, f"{eid} is outside, yet invited"
            elif self.on_leave == "keep" and eid not in self.removed:
                assert user is not None and _frozen(user) == then, f"{eid} left; Cliq changed"

    def check_converged(self) -> None:
        super().check_converged()
        users = self.users()
        for eid, then in self.left.items():
            if then is not None and self.on_leave == "deactivate" and eid not in self.broken:
                assert users[eid]["status"] == "inactive", f"{eid} left the scope, still active"


TestScopedDirectory = ScopedDirectory.TestCase
