"""The kill soak's record of each child apply (``Attempt``), and its figures: JSON and a
short table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from soak_checks import bucket

LATE = "after_the_run_ended"  # where a kill landed that came as the child exited


@dataclass
class Attempt:
    """One child apply: killed or not, where, and what its run became."""

    phase: str
    round: int
    kill_after: float | None  # real seconds into the apply; None: let it finish
    killed: bool = False
    run_id: int | None = None
    status: str = ""
    landed: str = ""
    in_flight: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    guard: dict[str, int] = field(default_factory=dict)  # what the removal guard counted
    note: str = ""  # a hold's words, or a child's error

    @property
    def cut_short(self) -> bool:
        """Killed before its run ended (a kill as the process exited does not count)."""
        return self.killed and self.landed != LATE


def report(
    attempts: list[Attempt],
    holds: list[dict[str, Any]],
    breaches: dict[str, list[Any]],
    hr: Mapping[str, int],
) -> dict[str, Any]:
    """The soak's figures, from its attempts, the holds and the invariants' breaches."""
    killed = [a for a in attempts if a.cut_short]
    applies = [a for a in attempts if a.run_id is not None]
    return {
        "ok": not any(breaches.values()),
        "kills": {
            "made": len(killed),
            "by_phase": dict(Counter(a.phase for a in killed)),
            "where": dict(Counter(bucket(a.landed) for a in killed)),
            "where_by_phase": {
                phase: dict(Counter(bucket(a.landed) for a in killed if a.phase == phase))
                for phase in dict.fromkeys(a.phase for a in killed)
            },
            "landed": dict(Counter(a.landed for a in killed)),
            # Not counted: the apply had ended when the kill came, or ended before it.
            "came_after_the_run_ended": sum(1 for a in attempts if a.landed == LATE),
            "outran_by_the_apply": sum(
                1 for a in attempts if a.kill_after is not None and not a.killed
            ),
            "let_finish": sum(1 for a in attempts if a.kill_after is None),
        },
        "rounds": max((a.round for a in attempts), default=0),
        "hr_changes": dict(hr),
        "runs_by_status": dict(Counter(a.status for a in applies)),
        "final_runs": [f"run {a.run_id}: {a.status}" for a in attempts if a.phase == "final"],
        "holds": holds,
        "removal_guard": _guard_figures(attempts),
        "invariants": {name: len(found) for name, found in breaches.items()},
        "breaches": {name: found[:20] for name, found in breaches.items() if found},
        "child_errors": [a.note for a in attempts if a.note.startswith("exit ")],
        "kill_log": [_kill_line(a) for a in attempts if a.killed],
    }


def _guard_figures(attempts: list[Attempt]) -> dict[str, Any]:
    """What the removal guard counted in every apply that reached it: how many passed only
    because hrsync's own backlog is not counted again, and the largest counts."""
    checked = [a.guard for a in attempts if a.guard]
    return {
        "applies_checked": len(checked),
        "over_the_limit_with_the_backlog": sum(
            1 for g in checked if g["removals"] > g["allowed"] >= g["removals"] - g["backlog"]
        ),
        "most_removals": max((g["removals"] for g in checked), default=0),
        "most_backlog": max((g["backlog"] for g in checked), default=0),
    }


def _kill_line(a: Attempt) -> dict[str, Any]:
    """A killed attempt, as the figures list it."""
    line = asdict(a)
    line["kill_after"] = round(a.kill_after or 0.0, 3)
    return {k: v for k, v in line.items() if k not in ("killed", "note")}


def table(figures: dict[str, Any]) -> str:
    """The figures a reader wants first, one line each."""
    kills, checks = figures["kills"], figures["invariants"]
    where = ", ".join(f"{k} {n}" for k, n in sorted(kills["where"].items()))
    statuses = ", ".join(f"{k} {n}" for k, n in sorted(figures["runs_by_status"].items()))
    rows = [
        ("store", figures["store"]),
        ("kills made", f"{kills['made']} ({where})"),
        ("runs by status", statuses),
        ("lost memberships", checks["lost_memberships"]),
        ("extra memberships", checks["extra_memberships"]),
        ("duplicates", checks["duplicates"]),
        ("store ≠ Cliq", checks["store_only_memberships"] + checks["cliq_only_memberships"]),
        ("held on own backlog", checks["held_on_own_backlog"]),
        ("held in all", len(figures["holds"])),
        ("passed on backlog", figures["removal_guard"]["over_the_limit_with_the_backlog"]),
        ("lock periods", checks["lock_periods"]),
        ("next plan", f"{checks['next_plan']} changes"),
        ("real seconds", figures["real_seconds"]),
        ("invariants", "hold" if figures["ok"] else "BROKEN"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}}  {value}" for name, value in rows)
