"""Guards before anything destructive: a sane source and a bounded number of deactivations."""

from __future__ import annotations

from dataclasses import dataclass

from hrsync.errors import SafetyHold, SourceError
from hrsync.model import SourceSnapshot
from hrsync.sync.plan import DeactivateUser, Plan


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Above ``max_deactivation_share`` of managed users (and past ``floor``), hold the run."""

    max_deactivation_share: float = 0.10
    deactivation_floor: int = 10


def check_source(snapshot: SourceSnapshot, *, where: str) -> None:
    """Refuse outright a source that yielded nobody: that is a broken feed, not mass leaving."""
    if not snapshot.employees:
        detail = f" ({len(snapshot.errors)} records rejected)" if snapshot.errors else ""
        raise SourceError(
            f"the HR source {where} yielded no valid employee{detail}; refusing "
            "to sync from an empty feed"
        )


def check_deactivations(plan: Plan, thresholds: Thresholds, *, confirmed: int | None) -> None:
    """Hold when a run would deactivate too many managed users, unless the admin confirmed
    exactly that number."""
    count = len(plan.of(DeactivateUser))
    allowed = max(
        thresholds.deactivation_floor, int(plan.managed_users * thresholds.max_deactivation_share)
    )
    if count <= allowed or confirmed == count:
        return
    share = count / plan.managed_users if plan.managed_users else 1.0
    raise SafetyHold(
        f"this run would deactivate {count} of {plan.managed_users} managed users "
        f"({share:.0%}), above the limit of {allowed}. Check the HR export; if it is right, "
        f"run again with --confirm-deactivations {count}"
    )
