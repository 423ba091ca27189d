"""What the store hands out about runs and their changes, as plain records, and the small
helpers that make them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hrsync.store.tables import Run


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    mode: str
    status: str
    started_at: float
    finished_at: float | None
    summary: dict[str, Any]
    integration: str = "default"


@dataclass(frozen=True, slots=True)
class JournalRecord:
    change_key: str
    kind: str
    summary: str
    state: str
    error: str


def like_literal(text: str) -> str:
    """``text`` inside a LIKE pattern, its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def run_record(r: Run) -> RunRecord:
    return RunRecord(
        r.id, r.mode, r.status, r.started_at, r.finished_at, json.loads(r.summary), r.integration
    )
