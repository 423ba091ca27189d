"""One line of ``hrsync doctor``'s table: what was checked, how it went, and what to do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Level = Literal["ok", "note", "fail"]  # ✓, ⚠ (works, but read the note), ✗
MARKS: dict[Level, str] = {"ok": "✓", "note": "⚠", "fail": "✗"}


@dataclass(frozen=True, slots=True)
class Check:
    """One finding. ``remedy`` says what to do when it is not plainly ✓."""

    name: str
    level: Level
    detail: str
    remedy: str = ""

    @property
    def ok(self) -> bool:
        return self.level != "fail"

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
