"""A plan cut down to some people: ``hrsync sync --employee ID`` syncs one person now, with
only the groups, teams and roles their own changes need."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from hrsync.errors import HrsyncError
from hrsync.model import OUTSIDE_SCOPE
from hrsync.sync.left_scope import leaves_by_deactivation
from hrsync.sync.plan import (
    Change,
    ConnectMembers,
    CreateConnectGroup,
    CreateDepartment,
    CreateDesignation,
    CreateRole,
    CreateTeam,
    InviteUser,
    Plan,
    RoleMembers,
    TeamMembers,
    UpdateUser,
)
from hrsync.sync.state import DesiredState


class NotInSource(HrsyncError):
    """An employee asked for by id is not one the HR source can sync."""


def check_people(only: Collection[str], desired: DesiredState, links: Collection[str]) -> None:
    """Every id asked for must be in HR (or a managed user HR no longer lists)."""
    for why in unknown_people(only, desired, links).values():
        raise NotInSource(why)


def unknown_people(
    only: Collection[str], desired: DesiredState, links: Collection[str]
) -> dict[str, str]:
    """Employee id → why hrsync cannot sync them, of the ids asked for that HR does not
    have (or has broken), and that hrsync manages no Cliq user for."""
    unknown: dict[str, str] = {}
    for employee_id in sorted(only):
        if employee_id in desired.starting:
            continue  # HR has them, starting later: invited when the time comes
        if leaves_by_deactivation(desired, employee_id) and employee_id in links:
            continue  # managed, and out of a scope whose leavers are deactivated
        if desired.held.get(employee_id, "").startswith(OUTSIDE_SCOPE):
            unknown[employee_id] = (
                f"employee {employee_id} is {desired.held[employee_id]}: this integration "
                "leaves them alone"
            )
        elif employee_id in desired.held:
            unknown[employee_id] = (
                f"employee {employee_id}: {desired.held[employee_id]} is broken, so nothing "
                "is synced for them; fix the record first"
            )
        elif employee_id not in desired.users and employee_id not in links:
            unknown[employee_id] = (
                f"employee {employee_id} is not in the HR source, and hrsync manages no Cliq "
                "user for them"
            )
    return unknown


def for_people(plan: Plan, only: Collection[str], *, order: Sequence[str] = ()) -> Plan:
    """``plan`` with the changes of ``only``: theirs, their share of member changes, and the
    creations those need; record errors about others are left out. With ``order`` (the
    people in the order their HR events arrived), each person's changes go in that order."""
    wanted = set(only)
    kept: list[Change] = []
    for change in plan.changes:
        if isinstance(change, TeamMembers | RoleMembers):
            ids = [e for e in change.employee_ids if e in wanted]
            if ids:
                kept.append(replace(change, employee_ids=ids))
        elif isinstance(change, ConnectMembers):
            pairs = [
                (e, m)
                for e, m in zip(change.employee_ids, change.emails, strict=False)
                if e in wanted
            ]
            if pairs:
                kept.append(
                    replace(
                        change, employee_ids=[e for e, _ in pairs], emails=[m for _, m in pairs]
                    )
                )
        elif getattr(change, "employee_id", None) in wanted:
            kept.append(change)
    if order:
        kept.sort(key=_arrival(order))
    needed = _needed(kept)
    creations = [c for c in plan.changes if _creation(c) in needed]
    known = wanted | _managers(kept)  # a manager not named is known all the same
    return replace(
        plan,
        changes=creations + kept,
        errors=[e for e in plan.errors if e.employee_id in wanted],
        drift=[k for k in plan.drift if k in {c.key for c in kept}],
        known_users={e: z for e, z in plan.known_users.items() if e in known},
    )


def _managers(changes: list[Change]) -> set[str]:
    """The employee ids of the managers the kept changes give someone."""
    found = {c.manager_id for c in changes if isinstance(c, InviteUser) and c.manager_id}
    for change in changes:
        if isinstance(change, UpdateUser) and "reporting_to" in change.changes:
            found.add(change.changes["reporting_to"][1])
    return found - {""}


def _arrival(order: Sequence[str]) -> Callable[[Change], int]:
    """A change's place: that of the first of its people to arrive."""
    place = {employee_id: n for n, employee_id in reversed(list(enumerate(order)))}
    last = len(order)

    def arrived(change: Change) -> int:
        people = getattr(change, "employee_ids", None) or [getattr(change, "employee_id", "")]
        return min((place.get(e, last) for e in people), default=last)

    return arrived


def _needed(changes: list[Change]) -> set[tuple[str, str]]:
    """(kind, lower-cased name) of every group the kept changes put someone in."""
    needed: set[tuple[str, str]] = set()
    for change in changes:
        if isinstance(change, InviteUser):
            needed.update(("department", n.lower()) for n in [change.department or ""] if n)
            needed.update(("designation", n.lower()) for n in [change.designation or ""] if n)
            needed.update(("team", t.lower()) for t in change.teams)
            needed.update(("role", r.lower()) for r in [change.role] if r)
        elif isinstance(change, UpdateUser):
            for name in ("department", "designation"):
                new = change.changes.get(name, ["", ""])[1]
                if new:
                    needed.add((name, new.lower()))
        elif isinstance(change, TeamMembers) and change.join:
            needed.add(("team", change.team.lower()))
        elif isinstance(change, ConnectMembers) and change.join:
            needed.add(("connect_group", change.group.lower()))
        elif isinstance(change, RoleMembers) and change.join:
            needed.add(("role", change.role.lower()))
    return needed


def _creation(change: Change) -> tuple[str, str] | None:
    kinds = {
        CreateDepartment: "department",
        CreateDesignation: "designation",
        CreateTeam: "team",
        CreateConnectGroup: "connect_group",
        CreateRole: "role",
    }
    kind = kinds.get(type(change))
    if kind is None:
        return None
    return (kind, str(getattr(change, "name", "")).lower())
