"""Orchestration: source → desired → inventory → diff → guard → apply → run record."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Protocol

from hrsync.clock import Clock
from hrsync.collector import fewer_collections
from hrsync.errors import RunStopped, SafetyHold, StalePlan
from hrsync.model import SourceSnapshot
from hrsync.store import Store
from hrsync.sync.apply import Applier, ConnectSide, Progress, Target
from hrsync.sync.desired import desired_state
from hrsync.sync.diff import diff
from hrsync.sync.drift import digests, ignored_values, leave_ignored, mark_drift
from hrsync.sync.explain import Explanation, Rules, explain
from hrsync.sync.in_flight import Unfinished, Unrecorded, unrecorded
from hrsync.sync.left_scope import note_kept
from hrsync.sync.pending import needs_custom_fields, needs_groups
from hrsync.sync.plan import Change, DeactivateUser, InviteUser, LinkUser, Plan, TeamMembers
from hrsync.sync.rules import MembershipRules
from hrsync.sync.runs import GAVE_WAY, YIELDED, HeldRun, Outcome, run_summary, stale_plan
from hrsync.sync.safety import (
    BURST_WINDOW,
    SOURCE_COLUMNS,
    Removal,
    Thresholds,
    check_blanking,
    check_columns,
    check_deactivations,
    check_removals,
    check_source,
    lost_columns,
    removals,
)
from hrsync.sync.scope import check_people, for_people, unknown_people
from hrsync.sync.stall import STALLED_AFTER, hold_stalled, stalled_changes
from hrsync.sync.stall import WINDOW as STALL_WINDOW
from hrsync.sync.state import ConnectState, DesiredState, Inventory, RoleSpec

log = logging.getLogger(__name__)
GROUPS_BY_PEOPLE = "cliq:groups_by_people"  # when Cliq last said People owns the groups
RECHECK_GROUPS = 7 * 86_400.0
DESIRED_DIGESTS = "desired:digests"  # per person, what HR decided at the last clean apply
ASKED = "a full read was asked for (--full-read)"
STAKES = 500  # the changes of a held plan kept for the admin to read (the counts say all)
IGNORED_VALUES = "desired:ignored"  # per person, HR's values of the [drift] ignore fields
SCOPE_OUTSIDE = "scope:managed_outside"  # managed people outside the [scope] at the last apply


class Source(Protocol):
    def describe(self) -> str: ...
    def read(self) -> SourceSnapshot: ...


class CliqSide(Target, Protocol):
    def inventory(self, *, full: str = "") -> Inventory: ...
    def applying(self) -> None: ...
    def applied(
        self,
        inventory: Inventory,
        confirmed: Iterable[Change],
        unsettled: Iterable[Change],
        *,
        links: dict[str, str],
        groups_written: bool,
    ) -> None: ...
    def load_team_members(self, inventory: Inventory, names: Iterable[str]) -> None: ...
    def find_groups(self, inventory: Inventory, wanted: Mapping[str, Iterable[str]]) -> None: ...
    def userfields(self, inventory: Inventory) -> bool: ...
    def groups(self, inventory: Inventory) -> bool: ...
    def load_roles(
        self, inventory: Inventory, members_of: Iterable[str], permissions_of: Iterable[str]
    ) -> None: ...


class Engine:
    def __init__(
        self,
        source: Source,
        target: CliqSide,
        store: Store,
        *,
        clock: Clock,
        thresholds: Thresholds | None = None,
        custom_fields: Mapping[str, str] | None = None,
        teams: MembershipRules | None = None,
        connect: ConnectSide | None = None,
        connect_groups: MembershipRules | None = None,
        roles: Sequence[RoleSpec] = (),
        role_rules: MembershipRules | None = None,
        department_rules: MembershipRules | None = None,
        designation_rules: MembershipRules | None = None,
        invite_days_before: int = 0,
        drift_ignore: Sequence[str] = (),
    ) -> None:
        self.source = source
        self.target = target
        self.store = store
        self.clock = clock
        self.thresholds = thresholds or Thresholds()
        self.custom_fields = dict(custom_fields or {})
        self.teams = teams or MembershipRules()
        self.connect = connect
        self.connect_groups = connect_groups or MembershipRules()
        self.roles = list(roles)
        self.role_rules = role_rules or MembershipRules()
        self.department_rules = department_rules or MembershipRules()
        self.designation_rules = designation_rules or MembershipRules()
        self.invite_days_before = invite_days_before
        self.drift_ignore = tuple(drift_ignore)
        self._desired: DesiredState | None = None
        # Employee ids to sync alone (``--employee``); empty: everyone.
        self.only: frozenset[str] = frozenset()
        # The people HR events named, in the order the events arrived (the service's runs):
        # synced in that order, and one HR cannot sync is refused alone, not the whole run.
        self.events: tuple[str, ...] = ()
        # Asked between two Cliq changes of an apply: True to stop there and give way to HR
        # events (the service's scheduled runs); the rest goes on in the next run.
        self.give_way: Callable[[], bool] = lambda: False
        # What the last plan linked: stored links, then the links it found (see ``_links``).
        self._stored_links: dict[str, str] = {}
        self._planned_links: dict[str, str] = {}
        # What the last plan found in Cliq of killed runs' team changes (``sync/in_flight.py``).
        self._unrecorded = Unrecorded()

    @fewer_collections()
    def plan(self, *, full_read: str = "") -> tuple[Plan, SourceSnapshot, Inventory]:
        """Read both sides and diff them. Sends only GET requests. Cliq's users are read in
        full when ``full_read`` says why, or when the target finds it due; an adoption
        planned from an incremental read is planned again from a full one."""
        snapshot = self.source.read()
        check_source(snapshot, where=self.source.describe())
        today = dt.datetime.fromtimestamp(self.clock.now(), dt.UTC).date()
        desired = desired_state(
            snapshot.employees,
            today=today,
            custom_fields=self.custom_fields,
            teams=self.teams,
            connect_groups=self.connect_groups,
            roles=self.role_rules,
            departments=self.department_rules,
            designations=self.designation_rules,
            held=snapshot.held,
            complete=snapshot.complete,
            invite_days_before=self.invite_days_before,
            scope=snapshot.scope,
        )
        inventory = self.target.inventory(full=full_read or self._full_read_needed())
        seen = self.store.bookmark(GROUPS_BY_PEOPLE)
        if seen and self.clock.now() - float(seen["at"]) < RECHECK_GROUPS:
            inventory.groups_by_people = True
        groups = {"departments": desired.departments(), "designations": desired.designations()}
        if inventory.groups_partial:
            self.target.find_groups(inventory, groups)
        links = self._links(inventory)
        self._planned_links = dict(links)
        unfinished = self._unfinished_teams()
        managed_teams = self.store.memberships("team")
        if self.teams or managed_teams or unfinished:
            named = desired.teams() | managed_teams.keys() | unfinished.teams()
            self.target.load_team_members(inventory, named)
        # A killed run's joins and leaves that Cliq shows count as made: the store is told
        # so when this plan is applied.
        self._unrecorded = unrecorded(unfinished, inventory, links)
        managed_teams = self._unrecorded.applied_to(managed_teams)
        if self.connect is not None:
            managed = self.store.memberships("connect_group")
            if self.connect_groups or managed:
                inventory.connect = ConnectState(self.connect.groups(), managed)
        managed_roles = self.store.memberships("role")
        if self.roles or self.role_rules or managed_roles:
            wanted = {u.role for u in desired.users.values() if u.active and u.role}
            self.target.load_roles(
                inventory, wanted | managed_roles.keys(), [s.name for s in self.roles]
            )

        def planned() -> Plan:
            return diff(
                desired,
                inventory,
                links,
                managed_teams,
                roles=self.roles,
                managed_roles=managed_roles,
            )

        plan = planned()
        # Custom fields kept from the last listing do for a run that neither writes nor waits
        # for one (an HR event's mover or leaver: a listing is 10 a minute, updates 20); one
        # that does lists them, and plans again if they changed.
        refs = [ref for ref in self.custom_fields.values() if ref]
        if needs_custom_fields(plan, refs, inventory.userfields) and self.target.userfields(
            inventory
        ):
            plan = planned()
        # So are the departments and designations, for a run that writes none (the ids of
        # those it writes are listed again, and the plan made again from them).
        if needs_groups(plan) and self.target.groups(inventory):
            if inventory.groups_partial:
                self.target.find_groups(inventory, groups)
            plan = planned()
        if not inventory.full_read and any(isinstance(c, LinkUser) for c in plan.changes):
            return self.plan(full_read="adopting an existing Cliq user needs a full read")
        plan.cliq_read = inventory.read
        plan.errors.extend(snapshot.errors)
        plan.notes[:0] = snapshot.notes
        if plan.scope:
            note_kept(plan, self.store.bookmark(SCOPE_OUTSIDE) or [])
        leave_ignored(plan, desired, self.store.bookmark(IGNORED_VALUES) or {}, self.drift_ignore)
        mark_drift(plan, desired, lambda: self.store.bookmark(DESIRED_DIGESTS) or {})
        self._hold_stalled(plan)
        self._desired = desired
        if self.events:
            refused = unknown_people(self.events, desired, links)
            plan = for_people(plan, set(self.events) - refused.keys(), order=self.events)
            plan.refused = refused
            plan.notes.append(f"only the {len(set(self.events))} people HR events named")
        elif self.only:
            check_people(self.only, desired, links)
            plan = for_people(plan, self.only)
            plan.notes.append(f"only {', '.join(sorted(self.only))}: everyone else is left as is")
        plan.lost_columns = self._lost_columns(snapshot)
        if plan.lost_columns:
            plan.notes.append(
                f"the HR export has no column for {', '.join(plan.lost_columns)}: those fields "
                "are left as Cliq has them; apply needs --confirm-missing-columns "
                f"{','.join(plan.lost_columns)}"
            )
        return plan, snapshot, inventory

    def _hold_stalled(self, plan: Plan) -> None:
        """Changes made ``STALLED_AFTER`` times, each reported done, and planned again the
        same: held as pending actions (``sync/stall.py``)."""
        if not plan.changes or not self.store.applied_before():
            return
        since = self.clock.now() - STALL_WINDOW
        stalled = stalled_changes(
            plan.changes,
            lambda keys: self.store.recent_outcomes(keys, since=since, per_key=STALLED_AFTER),
        )
        for change in stalled:
            log.warning("%s: made %d times, Cliq still differs; held", change.key, STALLED_AFTER)
        hold_stalled(plan, stalled)

    def _full_read_needed(self) -> str:
        """Why the store says Cliq must be read in full now ("" when it does not)."""
        if self.store.unfinished_changes():
            return "an interrupted run left changes unconfirmed"
        return ""

    def _lost_columns(self, snapshot: SourceSnapshot) -> list[str]:
        """Fields whose column the export had last time, or that the configuration maps."""
        if snapshot.columns is None:
            return []
        seen = self.store.bookmark(SOURCE_COLUMNS)
        return lost_columns(snapshot.columns, snapshot.unmapped, seen)

    def _remember_desired(self, desired: DesiredState) -> None:
        """What HR decided, once Cliq matches it: the baseline that tells drift apart."""
        self.store.save_bookmark(DESIRED_DIGESTS, digests(desired))
        if self.drift_ignore:
            self.store.save_bookmark(IGNORED_VALUES, ignored_values(desired, self.drift_ignore))

    def _remember_outside(self, plan: Plan) -> None:
        """The managed people outside the [scope]: a later plan names only newer ones as
        having left it."""
        outside = plan.scope.get("managed_outside")
        if outside is not None and outside != (self.store.bookmark(SCOPE_OUTSIDE) or []):
            self.store.save_bookmark(SCOPE_OUTSIDE, outside)

    def _remember_columns(self, snapshot: SourceSnapshot) -> None:
        if snapshot.columns is not None:
            self.store.save_bookmark(SOURCE_COLUMNS, sorted(snapshot.columns))

    def _links(self, inventory: Inventory) -> dict[str, str]:
        """Stored links, plus users invited by an earlier run whose id was never recorded."""
        self._stored_links = self.store.links()
        links = dict(self._stored_links)
        by_employee = {u.employee_id: u for u in inventory.users if u.employee_id}
        for employee_id, email in self.store.invited_without_link(self._stored_links).items():
            user = by_employee.get(employee_id)
            if user is not None and user.email.lower() == email.lower():
                links[employee_id] = user.zuid
        return links

    def explain(self, who: str) -> tuple[Explanation | None, SourceSnapshot]:
        """What hrsync wants for one person and why; reads the source only."""
        snapshot = self.source.read()
        today = dt.datetime.fromtimestamp(self.clock.now(), dt.UTC).date()
        origin_of = getattr(self.source, "field_origin", lambda name: f"HR field {name!r}")
        rules = Rules(
            self.custom_fields,
            self.teams,
            self.connect_groups,
            self.role_rules,
            self.department_rules,
            self.designation_rules,
        )
        found = explain(
            who,
            snapshot,
            source=self.source.describe(),
            origin_of=origin_of,
            rules=rules,
            today=today,
        )
        last_push = getattr(self.source, "last_push", None)
        if found is not None and last_push is not None:
            found.pushed = last_push(found.employee_id)
        scope_of = getattr(self.source, "scope_of", None)
        if found is not None and scope_of is not None:
            employee = next(e for e in snapshot.employees if e.employee_id == found.employee_id)
            found.scope = scope_of(employee)
        return found, snapshot

    def run_plan(self, *, full_read: bool = False) -> Outcome:
        run_id = self.store.start_run("plan")
        try:
            plan, snapshot, _ = self.plan(full_read=ASKED if full_read else "")
        except Exception as exc:
            self.store.finish_run(run_id, "failed", {"error": str(exc)})
            raise
        self.store.finish_run(run_id, "succeeded", run_summary(plan, plan.fingerprint()))
        return Outcome(plan, run_id, snapshot)

    def holds(self, plan: Plan) -> list[str]:
        """Why each guard would hold a run of ``plan`` (none: a run would apply it)."""
        checks: list[Callable[[], None]] = [
            lambda: check_deactivations(
                plan, self.thresholds, confirmed=None, recent=self._recent_deactivations(plan)
            ),
            lambda: check_blanking(plan, self.thresholds, confirmed=None),
            lambda: check_removals(
                plan, self.thresholds, confirmed=None, started=self._started_removals(plan)
            ),
            lambda: check_columns(plan, confirmed=None),
        ]
        said = []
        for check in checks:
            try:
                check()
            except SafetyHold as hold:
                said.append(str(hold))
        return said

    @fewer_collections()
    def run_apply(
        self,
        *,
        expected: str | None = None,
        confirmed_deactivations: int | None = None,
        confirmed_blanking: int | None = None,
        confirmed_removals: int | None = None,
        confirmed_columns: Collection[str] | None = None,
        progress: Progress | None = None,
        full_read: bool = False,
        approves: HeldRun | None = None,
    ) -> Outcome:
        """Plan again, check guards (and a saved plan's fingerprint), then apply. With
        ``approves``, the plan must be exactly the held run's, and an admin's approval
        stands in for the guards."""
        run_id = self.store.start_run("apply")
        if approves is not None:
            expected = approves.fingerprint
        try:
            plan, snapshot, inventory = self.plan(full_read=ASKED if full_read else "")
            encoded = plan.encoded()  # once, for the fingerprint and the journal
            fingerprint = plan.fingerprint(encoded)
            if expected is not None and fingerprint != expected:
                raise StalePlan(stale_plan(approves))
            if approves is None:
                check_deactivations(
                    plan,
                    self.thresholds,
                    confirmed=confirmed_deactivations,
                    recent=self._recent_deactivations(plan),
                )
                check_blanking(plan, self.thresholds, confirmed=confirmed_blanking)
                check_removals(
                    plan,
                    self.thresholds,
                    confirmed=confirmed_removals,
                    started=self._started_removals(plan),
                )
                check_columns(plan, confirmed=confirmed_columns)
            if not self.only:
                self._remember_columns(snapshot)
                self._remember_outside(plan)
            self._record_unrecorded()  # before the changes it comes from are settled
            resumed = self._settle_previous_runs(run_id)
            self._record_links(inventory, replanned=resumed > 0)
            self.target.applying()
            report = Applier(
                self.target,
                self.store,
                run_id,
                inventory=inventory,
                progress=progress,
                connect=self.connect,
                give_way=self.give_way,
            ).apply(plan, encoded)
        except SafetyHold as hold:
            hold.run_id = run_id
            held = run_summary(plan, fingerprint) | {
                "hold": str(hold),
                # Whom an approval applies it for: not those refused (the plan has none of
                # theirs, and an approval of some people refuses an id HR cannot sync).
                "only": sorted(self.only - plan.refused.keys()),
                "stakes": [c.describe(done=False) for c in plan.changes[:STAKES]],
            }
            self.store.finish_run(run_id, "held", held)
            raise
        except StalePlan as stale:
            self.store.finish_run(run_id, "refused", {"error": str(stale)})
            raise
        except RunStopped:
            stopped = "stopped before it finished; the next run resumes what it left"
            self.store.finish_run(run_id, "stopped", {"error": stopped})
            raise
        except BaseException as exc:
            self.store.finish_run(run_id, "failed", {"error": str(exc) or type(exc).__name__})
            raise
        left = self._left_for_next_run(run_id) if report.gave_way else set()
        self.target.applied(
            inventory,
            [c for c in plan.changes if c.key in report.confirmed],
            [c for c in plan.changes if c.key not in report.confirmed and c.key not in left],
            links=self.store.links(),
            groups_written=not report.groups_by_people,
        )
        if report.groups_by_people:
            self.store.save_bookmark(GROUPS_BY_PEOPLE, {"at": self.clock.now()})
        if report.ok and self._desired is not None and not self.only and not left:
            self._remember_desired(self._desired)  # a run for some people decides no baseline
        status = "succeeded" if report.ok and not plan.errors else "partial"
        if report.gave_way:
            status = YIELDED
        self.store.finish_run(
            run_id,
            status,
            run_summary(plan, fingerprint)
            | {
                "done": len(report.done),
                "failed": report.failed,
                "skipped": report.skipped,
                "notes": report.notes,
                "resumed": resumed,
            }
            | ({"left": len(left), "note": GAVE_WAY} if report.gave_way else {})
            | ({"refused": plan.refused} if plan.refused else {})
            | ({"approves": approves.run_id} if approves is not None else {}),
        )
        if approves is not None:
            self.store.annotate_run(
                approves.run_id,
                {"approved_by": run_id, "approver": approves.approver},
                status="approved",
            )
        return Outcome(plan, run_id, snapshot, report, resumed)

    def _left_for_next_run(self, run_id: int) -> set[str]:
        """The changes a run that gave way to HR events never sent: settled as skipped, so
        the next run plans them again from Cliq as it is, without reading anyone again."""
        left = [e.change_key for e in self.store.journal(run_id) if e.state == "intended"]
        self.store.journal_mark(run_id, left, "skipped", error=GAVE_WAY)
        log.info("%d changes left for the next run: HR events go first", len(left))
        return set(left)

    def _recent_deactivations(self, plan: Plan) -> int:
        """For a run for HR events that deactivates someone: what such runs deactivated in
        the last hour (a pushed source's burst of leavers arrives as many small runs)."""
        if not self.only or not plan.of(DeactivateUser):
            return 0
        return self.store.recent_deactivations(since=self.clock.now() - BURST_WINDOW)

    def _started_removals(self, plan: Plan) -> set[Removal]:
        """Removals earlier applies set out to make and did not finish (only read when this
        plan takes memberships away)."""
        if not removals(plan):
            return set()
        return self.store.started_removals(since=self.clock.now() - STALL_WINDOW)

    def _unfinished_teams(self) -> Unfinished:
        """The team changes killed runs left unfinished (mostly none: one query)."""
        kinds = {c.kind for c in self.store.unfinished_changes()}
        if not kinds & {InviteUser.kind, TeamMembers.kind}:
            return Unfinished()
        return Unfinished.parse(
            self.store.unfinished_payloads(InviteUser.kind),
            self.store.unfinished_payloads(TeamMembers.kind),
        )

    def _record_unrecorded(self) -> None:
        """Invitations and joins a killed run sent without hearing back may have put people
        in teams, and a leave may have taken one out: where Cliq shows it, the store says
        so (a later move takes them out again). Recorded before the killed run's changes are
        settled, so a run killed in its turn leaves the same to the next."""
        found = self._unrecorded
        if not found:
            return
        log.info(
            "team memberships a killed run changed: %d teams joined, %d left",
            len(found.joined),
            len(found.left),
        )
        self.store.add_many_memberships("team", found.joined)
        for team, employee_ids in found.left.items():
            self.store.remove_memberships("team", team, employee_ids)

    def _settle_previous_runs(self, run_id: int) -> int:
        unfinished = self.store.unfinished_changes()
        if not unfinished:
            return 0
        log.warning(
            "%d changes of an interrupted run were not confirmed; this run re-planned "
            "them from Cliq's current state",
            len(unfinished),
        )
        return self.store.settle_unfinished(note=f"re-planned by run {run_id}")

    def _record_links(self, inventory: Inventory, *, replanned: bool) -> None:
        """Store the links the plan found beyond the stored ones. Settling an interrupted
        run's changes (``replanned``) may change which invitations count: then they are
        looked up again."""
        if replanned:
            # The plan matched people to the invitations it found, "sent" ones included (a
            # killed run's, now settled): those links stay, as the plan assumed them.
            self._planned_links = self._links(inventory) | self._planned_links
        stored = self._stored_links
        found = [(e, z) for e, z in self._planned_links.items() if stored.get(e) != z]
        if not found:
            return
        email_of = {u.zuid: u.email for u in inventory.users}
        self.store.save_links(
            ((employee_id, zuid, email_of.get(zuid, "")) for employee_id, zuid in found),
            origin="invited",
        )
