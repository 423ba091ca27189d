"""One line of ``hrsync doctor``'s table: what was checked, how it went, and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# ✓, ⚠ (works, but read the note), ✗, and "not checked" (a check a failure before it kept
# from being made: never taken for a pass)
Level = Literal["ok", "note", "fail", "skip"]
MARKS: dict[Level, str] = {"ok": "✓", "note": "⚠", "fail": "✗", "skip": "–"}


@dataclass(frozen=True, slots=True)
class Check:
    """One finding. ``remedy`` says what to do when it is not plainly ✓."""

    name: str
    level: Level
    detail: str
    remedy: str = ""

    @property
    def ok(self) -> bool:
        """Passed, perhaps with a note: a check not made is not ok."""
        return self.level in ("ok", "note")

    @property
    def mark(self) -> str:
        return MARKS[self.level]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "level": self.level,
            "detail": self.detail,
            "remedy": self.remedy,
        }


def passed(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def noted(name: str, detail: str, remedy: str = "") -> Check:
    return Check(name, "note", detail, remedy)


def failed(name: str, detail: str, remedy: str) -> Check:
    return Check(name, "fail", detail, remedy)


def not_checked(name: str, detail: str, remedy: str = "") -> Check:
    return Check(name, "skip", detail, remedy)
