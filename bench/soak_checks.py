"""What the kill soak (``kill_soak.py``) reads from the store, Cliq and a plan: where a kill
landed, why a run was held, and the invariants checked at the end."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hrsync.store import Store
from hrsync.store.tables import JournalEntry, Run
from hrsync.sync.plan import Plan
from hrsync.sync.safety import Removal, Thresholds, removals

CONFIRM = re.compile(r"--confirm-(removals|deactivations|blanking) (\d+)")
OPEN = ("intended", "sent")
BUCKETS = ("invite_round", "team_leaves")  # the rest is "other"
SHOWN = 20  # people listed per broken invariant


def landing(store: Store, run_id: int | None) -> tuple[str, int]:
    """Where a kill landed in run ``run_id``, from its journal: what was in flight (``sent``)
    and how many changes were."""
    if run_id is None:
        return "before_the_run", 0
    rows = _journal(store, run_id)
    if not rows:
        return "nothing_journalled", 0  # planning (or a plan of no change)
    sent = [(kind, payload) for kind, state, payload in rows if state == "sent"]
    if sent:
        kind, payload = sent[0]
        if kind == "invite":
            return "invite_round", len(sent)
        if kind == "team_members":
            joining = json.loads(payload).get("join", True)
            return ("team_joins" if joining else "team_leaves"), len(sent)
        return f"in_flight:{kind}", len(sent)
    invites = {state for kind, state, _ in rows if kind == "invite"}
    if "intended" in invites and invites - {"intended"}:
        return "invite_round", 0  # between two invitation batches (a pacing wait)
    if not any(state in OPEN for _, state, _ in rows):
        return "after_the_changes", 0
    return "between_changes", 0


def bucket(landed: str) -> str:
    return landed if landed in BUCKETS else "other"


def _journal(store: Store, run_id: int) -> list[tuple[str, str, str]]:
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(JournalEntry.kind, JournalEntry.state, JournalEntry.payload)
            .where(JournalEntry.run_id == run_id)
            .order_by(JournalEntry.id)
        )
        return [(str(k), str(s), str(p)) for k, s, p in rows]


def confirmation(hold: str) -> tuple[str, int] | None:
    """The guard a hold names and the number an admin confirms it with."""
    found = CONFIRM.search(hold)
    return (found.group(1), int(found.group(2))) if found else None


def hold_cause(
    store: Store, plan: Plan, asked_at: Mapping[Removal, float], counted: int
) -> dict[str, Any]:
    """Whether a removal hold was HR's news or hrsync's own backlog. ``plan`` is the held
    run's plan made again (a held run writes nothing); ``asked_at`` says when HR last asked
    for each removal. A removal an apply journalled (past the guard) after HR asked for it
    is hrsync's backlog; the hold is on that backlog if HR's news alone is within the
    guard."""
    wanted = removals(plan)
    own = wanted & _journalled_since_asked(store, asked_at)
    news = len(wanted - own)
    thresholds = Thresholds()
    allowed = max(
        thresholds.deactivation_floor, int(plan.managed_users * thresholds.max_removal_share)
    )
    return {
        "guard_counted": counted,
        "removals_planned": len(wanted),
        "hrsync_backlog": len(own),
        "hr_news": news,
        "allowed": allowed,
        "on_own_backlog": news <= allowed,
    }


def _journalled_since_asked(store: Store, asked_at: Mapping[Removal, float]) -> set[Removal]:
    found: set[Removal] = set()
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(Run.started_at, JournalEntry.payload)
            .join(Run, Run.id == JournalEntry.run_id)
            .where(
                Run.integration == store.integration,
                Run.mode == "apply",
                Run.status.not_in(("held", "refused")),
                JournalEntry.kind == "team_members",
            )
        )
        for started_at, payload in rows:
            change = json.loads(payload)
            if change.get("join", True):
                continue
            for employee_id in change.get("employee_ids", []):
                key = ("team_members", str(change["team"]).lower(), str(employee_id))
                if key in asked_at and started_at >= asked_at[key]:
                    found.add(key)
    return found


@dataclass
class Cliq:
    """The emulator's organisation as the checks need it: users by email, and each
    department team's members by employee id."""

    users: list[dict[str, Any]]
    teams: dict[str, set[str]]

    @classmethod
    def read(cls, state: Mapping[str, Any], departments: Iterable[str]) -> Cliq:
        users = list(state["users"])
        employee_of = {str(u["id"]): str(u.get("employee_id", "")) for u in users}
        names = set(departments)
        teams = {
            str(t["name"]): {employee_of.get(str(z), "") for z in t["members"]} - {""}
            for t in state["teams"]
            if t["name"] in names
        }
        return cls(users, teams)


def invariants(
    rows: list[dict[str, str]], cliq: Cliq, stored: Mapping[str, set[str]]
) -> dict[str, list[Any]]:
    """Each invariant's breaches (empty lists when all hold): nobody twice in Cliq, every
    active person in Cliq and in exactly their department's team, leavers inactive, the
    store's team memberships those of Cliq."""
    emails = Counter(str(u["email_id"]).lower() for u in cliq.users)
    by_email = {str(u["email_id"]).lower(): u for u in cliq.users}
    active = {r["employee_id"]: r for r in rows if r["status"] == "active"}
    team_of = {eid: r["department"] for eid, r in active.items()}
    hr_ids = {r["employee_id"] for r in rows}
    mismatch = _store_against_cliq(cliq, stored, hr_ids)
    return {
        "duplicates": sorted(e for e, n in emails.items() if n > 1),
        "missing_users": sorted(e for e, r in active.items() if r["email"].lower() not in by_email),
        "lost_memberships": sorted(
            (team_of[e], e) for e in active if e not in cliq.teams.get(team_of[e], set())
        ),
        "extra_memberships": sorted(
            (team, e)
            for team, members in cliq.teams.items()
            for e in members
            if e in team_of and team_of[e] != team
        ),
        "leavers_active": sorted(
            r["employee_id"]
            for r in rows
            if r["status"] != "active"
            and by_email.get(r["email"].lower(), {}).get("status", "inactive") != "inactive"
        ),
        **mismatch,
    }


def _store_against_cliq(
    cliq: Cliq, stored: Mapping[str, set[str]], hr_ids: set[str]
) -> dict[str, list[Any]]:
    """Memberships the store records that Cliq lacks, and the other way round (HR people
    only: the admin who made a team is in it, and not hrsync's)."""
    only_store: list[tuple[str, str]] = []
    only_cliq: list[tuple[str, str]] = []
    for team, members in sorted(cliq.teams.items()):
        in_store = stored.get(team.lower(), set())
        only_store += [(team, e) for e in sorted(in_store - members)]
        only_cliq += [(team, e) for e in sorted((members & hr_ids) - in_store)]
    return {"store_only_memberships": only_store, "cliq_only_memberships": only_cliq}


def evidence(store: Store, breaches: Mapping[str, list[Any]]) -> dict[str, list[str]]:
    """For the first people each broken invariant names: every journal entry that concerned
    them (run, its status, the change, its state), oldest first."""
    people: list[str] = []
    for found in breaches.values():
        for item in found[:5]:
            employee_id = item[1] if isinstance(item, tuple) else str(item)
            if employee_id.startswith("E") and employee_id not in people:
                people.append(employee_id)
    return {
        who: [
            f"run {run.id} ({run.status}): {entry.summary} [{entry.state}]"
            + (f" {entry.error}" if entry.error else "")
            for run, entry in reversed(store.history(who))
        ]
        for who in people[:SHOWN]
    }
