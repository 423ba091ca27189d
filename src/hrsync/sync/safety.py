"""Guards before anything destructive: a sane source, and bounded numbers of deactivations,
blanked fields and memberships taken away. A tripped guard holds the run until the admin
confirms the exact number (a broken export must not empty the directory)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from hrsync.errors import SafetyHold, SourceError
from hrsync.model import SourceSnapshot
from hrsync.sync.left_scope import LEFT_SCOPE
from hrsync.sync.plan import (
    ConnectMembers,
    DeactivateUser,
    Plan,
    RoleMembers,
    TeamMembers,
    UpdateUser,
)

BURST_WINDOW = 3600.0  # seconds over which runs for HR events' deactivations add up


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Above a share of managed users (and past ``floor``), hold the run."""

    max_deactivation_share: float = 0.10
    deactivation_floor: int = 10
    max_blanking_share: float = 0.10
    max_removal_share: float = 0.10


def check_source(snapshot: SourceSnapshot, *, where: str) -> None:
    """Refuse outright a source that yielded nobody: that is a broken feed, not mass leaving."""
    if not snapshot.employees and not snapshot.nothing_pushed:
        detail = f" ({len(snapshot.errors)} records rejected)" if snapshot.errors else ""
        raise SourceError(
            f"the HR source {where} yielded no valid employee{detail}; refusing "
            "to sync from an empty feed"
        )


def check_deactivations(
    plan: Plan, thresholds: Thresholds, *, confirmed: int | None, recent: int = 0
) -> None:
    """Hold when a run would deactivate too many managed users, unless the admin confirmed
    exactly that number. ``recent``, for a run for HR events: what applies deactivated in the
    last ``BURST_WINDOW`` since an admin last approved a held run (a burst spread over many
    small runs is held like one large run)."""
    count = len(plan.of(DeactivateUser))
    allowed = max(
        thresholds.deactivation_floor, int(plan.managed_users * thresholds.max_deactivation_share)
    )
    if not count or count + recent <= allowed or confirmed == count:
        return
    total = count + recent
    share = total / plan.managed_users if plan.managed_users else 1.0
    before = f", after {recent} in the past hour," if recent else ""
    scoped = sum(c.reason.startswith(LEFT_SCOPE) for c in plan.of(DeactivateUser))
    check = "the HR source and [scope]" if scoped else "the HR source"
    raise SafetyHold(
        f"this run would deactivate {count} of {plan.managed_users} managed users{before} "
        f"({total}, {share:.0%}){_of_them(scoped)}, above the limit of {allowed}. Check "
        f"{check}; if it is right, run again with --confirm-deactivations {count}"
    )


def _of_them(scoped: int) -> str:
    return f", {scoped} of them for leaving [scope]" if scoped else ""


SOURCE_COLUMNS = "source:columns"  # bookmark: the canonical fields the export carried last run


def lost_columns(
    present: Collection[str], unmapped: Iterable[str], seen: Iterable[str] | None
) -> list[str]:
    """Fields the export lacks though it had their column last run (``seen``, the
    ``SOURCE_COLUMNS`` bookmark) or [source.columns] maps one (``unmapped``): what a plan
    holds for, and what ``config check`` names before it."""
    return sorted((set(seen or ()) - set(present)) | set(unmapped))


def check_columns(plan: Plan, *, confirmed: Collection[str] | None) -> None:
    """Hold when the export lost a column: its fields are left alone, but a lost status or
    exit date column also hides leavers, so the admin decides."""
    lost = [c for c in plan.lost_columns if c not in set(confirmed or ())]
    if not lost:
        return
    raise SafetyHold(
        f"the HR export has no column for {', '.join(lost)} (it had one last run, or "
        "[source.columns] maps one); those fields are left as Cliq has them. Check the "
        f"export; if the column is gone for good, run again with "
        f"--confirm-missing-columns {','.join(lost)}"
    )


def _allowed(plan: Plan, share: float, floor: int) -> int:
    return max(floor, int(plan.managed_users * share))


def check_blanking(plan: Plan, thresholds: Thresholds, *, confirmed: int | None) -> None:
    """Hold when many people would have a field emptied: a column missing from an export
    looks exactly like that."""
    fields: dict[str, int] = {}
    people = 0
    for change in plan.of(UpdateUser):
        emptied = [
            name
            for name, (old, new) in change.changes.items()
            if name != "reporting_to" and old and not new
        ]
        people += bool(emptied)
        for name in emptied:
            fields[name] = fields.get(name, 0) + 1
    allowed = _allowed(plan, thresholds.max_blanking_share, thresholds.deactivation_floor)
    if people <= allowed or confirmed == people:
        return
    which = ", ".join(f"{name} for {n}" for name, n in sorted(fields.items()))
    raise SafetyHold(
        f"this run would empty fields of {people} people ({which}), above the limit of "
        f"{allowed}. Is a column missing from the HR export? If this is right, run again "
        f"with --confirm-blanking {people}"
    )


Removal = tuple[str, str, str]  # (change kind, group lower-cased, employee id)


def removals(plan: Plan) -> set[Removal]:
    """Every membership the plan takes away, one person at a time."""
    return {
        (change.kind, _group(change).lower(), employee_id)
        for change in (*plan.of(TeamMembers), *plan.of(ConnectMembers), *plan.of(RoleMembers))
        if not change.join
        for employee_id in change.employee_ids
    }


def _group(change: TeamMembers | ConnectMembers | RoleMembers) -> str:
    if isinstance(change, TeamMembers):
        return change.team
    return change.group if isinstance(change, ConnectMembers) else change.role


def check_removals(
    plan: Plan,
    thresholds: Thresholds,
    *,
    confirmed: int | None,
    started: Collection[Removal] = (),
) -> None:
    """Hold when many memberships hrsync made would be taken away in one run. Removals an
    earlier apply set out to make, past this guard, and did not finish (a kill, a failure)
    are ``started``: hrsync's own backlog, not news from HR, so they are not counted again."""
    count = len(removals(plan) - set(started))
    allowed = _allowed(plan, thresholds.max_removal_share, thresholds.deactivation_floor)
    if count <= allowed or confirmed == count:
        return
    raise SafetyHold(
        f"this run would take {count} memberships away (teams, Connect groups, roles), above "
        f"the limit of {allowed}. Check the HR export and the rules; if this is right, run "
        f"again with --confirm-removals {count}"
    )
