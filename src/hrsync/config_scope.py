"""``[scope]``: which of the HR source's people an integration manages.

```toml
[scope]
include = { department = ["Sales", "Support"], work_location = "Chennai" }  # all must match
exclude = { employment_type = ["Contractor", "Intern"] }                    # any one excludes
on_leave = "keep"        # or "deactivate": what becomes of a managed person who leaves it
```

Fields are canonical HR fields or any field a source carries along (a CSV column, a mapped
field); values are compared exactly, case and surrounding spaces aside. The older form, fields
straight under ``[scope]`` (``department = ["Sales"]``), is ``include`` and may not sit
beside ``include`` or ``exclude``."""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hrsync.model import CANONICAL_FIELDS

TABLES = ("include", "exclude")
KEYS = (*TABLES, "on_leave")
EXAMPLE = 'include = { department = ["Sales", "Support"] }'


class ScopeConfig(BaseModel):
    """The people an integration manages: those every ``include`` rule takes (each: one of
    its values) and no ``exclude`` rule names; ``on_leave`` says what becomes of a managed
    person who no longer is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    include: dict[str, list[str]] = Field(default_factory=dict)
    exclude: dict[str, list[str]] = Field(default_factory=dict)
    # keep: left exactly as Cliq has them, no longer managed; deactivate: like a leaver
    on_leave: Literal["keep", "deactivate"] = "keep"

    @property
    def restricts(self) -> bool:
        """Whether anyone can be outside it (no rule: everyone is in)."""
        return bool(self.include or self.exclude)

    @model_validator(mode="before")
    @classmethod
    def _either_form(cls, value: Any) -> Any:
        if isinstance(value, ScopeConfig):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"write it as a table, e.g. [scope] {EXAMPLE}")
        fields = {k: v for k, v in value.items() if k not in KEYS}
        if not fields:
            return value
        for name, given in fields.items():
            _not_a_misspelt_key(str(name), given)
        if any(table in value for table in TABLES):
            name = sorted(fields)[0]
            raise ValueError(
                f"{name} sits beside include/exclude: write it inside include "
                f"(include = {{ {name} = {_toml(fields[name])} }}), not straight under [scope]"
            )
        return {"include": fields} | {k: v for k, v in value.items() if k in KEYS}

    @field_validator("include", "exclude", mode="before")
    @classmethod
    def _rules(cls, value: Any) -> dict[str, list[str]]:
        if not isinstance(value, dict):
            raise ValueError(f"write it as a table of HR field = values, e.g. {EXAMPLE}")
        rules: dict[str, list[str]] = {}
        for name, given in value.items():
            values = [given] if isinstance(given, str) else given
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"{name} = {given!r}: write a value or a list of values")
            kept = [v.strip() for v in values if v.strip()]
            if not str(name).strip() or not kept:
                raise ValueError(
                    f"{name or '(no field)'} = {given!r}: name a field and at least one value"
                )
            rules.setdefault(str(name).strip(), []).extend(kept)
        return rules

    @model_validator(mode="after")
    def _someone_fits(self) -> ScopeConfig:
        for name, taken in self.include.items():
            left = {_plain(v) for v in taken} - {_plain(v) for v in self.exclude.get(name, [])}
            if not left:
                raise ValueError(
                    f"exclude {name} = {', '.join(self.exclude[name])} leaves nobody of "
                    f"include {name} = {', '.join(taken)}: nobody would be in the scope"
                )
        return self


def _not_a_misspelt_key(name: str, given: Any) -> None:
    """A field straight under ``[scope]`` that looks like one of its keys misspelt (or holds
    a table, as only ``include`` and ``exclude`` do) is refused, never taken as a field."""
    near = difflib.get_close_matches(name, KEYS, n=1, cutoff=0.75)
    if name in CANONICAL_FIELDS or (not near and not isinstance(given, dict)):
        return
    hint = f"did you mean {near[0]}?" if near else f"the keys here are {', '.join(KEYS)}"
    raise ValueError(f"{name} = {_toml(given)}: unknown key; {hint}")


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return repr(value)


def _plain(value: str) -> str:
    return value.strip().lower()
