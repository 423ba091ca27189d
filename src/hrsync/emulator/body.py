"""A Cliq request body, checked key by key before a handler reads it.

Zoho refuses a body key its document does not list with
``{"code": "extra_key_found", "message": "'<key>' is an extra key in the JSON Object."}``
(READINGS #22), and answers every malformed request with HTTP 400 and a code. Handlers read
their bodies only through ``Body``, whose readers refuse a value of the wrong JSON type (a list
where an id belongs, an object where a name belongs) with a typed 400 before it reaches code
that would fail on it (``x in dict`` with an unhashable ``x``, ``int(x)``, ``x.lower()``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hrsync.emulator.core import INPUT_INVALID, EmuRequest, ZohoError

INPUT_MISSING = "input_data_missing"


def extra_key(key: str) -> ZohoError:
    return ZohoError(400, "extra_key_found", f"'{key}' is an extra key in the JSON Object.")


def missing(key: str) -> ZohoError:
    return ZohoError(400, INPUT_MISSING, f"'{key}' is required.")


def invalid(key: str, wanted: str) -> ZohoError:
    return ZohoError(400, INPUT_INVALID, f"'{key}' must be {wanted}.")


@dataclass(frozen=True, slots=True)
class Body:
    """A JSON object whose keys are all known; each reader checks its value's type."""

    values: dict[str, Any]

    @classmethod
    def of(
        cls, raw: Any, *, allowed: Iterable[str], required: Iterable[str] = (), where: str = ""
    ) -> Body:
        """``raw`` as a body: an object with only ``allowed`` keys and every ``required`` one."""
        if not isinstance(raw, dict):
            raise ZohoError(400, INPUT_INVALID, f"{where or 'The body'} must be a JSON object.")
        known = set(allowed)
        for key in raw:
            if key not in known:
                raise extra_key(key)
        for key in required:
            if key not in raw:
                raise missing(key)
        return cls(raw)

    def has(self, key: str) -> bool:
        return key in self.values

    def text(self, key: str, default: str | None = None) -> str:
        """A string; when absent, ``default`` (None: the key is required)."""
        value = self._given(key, default)
        if not isinstance(value, str):
            raise invalid(key, "a string")
        return value

    def ident(self, key: str, default: str | None = None) -> str:
        """An id: a string, or a number as some answers give them (READINGS #15)."""
        value = self._given(key, default)
        if not _id_like(value):
            raise invalid(key, "an id")
        return str(value)

    def ids(self, key: str) -> list[str]:
        """A list of ids or emails (absent: empty)."""
        value = self.values.get(key, [])
        return id_list(value, key)

    def flag(self, key: str, default: bool) -> bool:
        value = self.values.get(key, default)
        if not isinstance(value, bool):
            raise invalid(key, "true or false")
        return value

    def whole(self, key: str) -> int:
        """An integer (a JSON number without a fraction; not true or false)."""
        value = self._given(key, None)
        if not isinstance(value, int) or isinstance(value, bool):
            raise invalid(key, "an integer")
        return value

    def objects(self, key: str) -> list[dict[str, Any]]:
        """A list of JSON objects (absent: empty); each is read with ``Body.of``."""
        value = self.values.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise invalid(key, "a list of objects")
        return value

    def texts(self, key: str) -> list[str]:
        """A list of strings (absent: empty)."""
        value = self.values.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(key, "a list of strings")
        return value

    def _given(self, key: str, default: Any) -> Any:
        if key in self.values:
            return self.values[key]
        if default is None:
            raise missing(key)
        return default


def read(req: EmuRequest, *, allowed: Iterable[str], required: Iterable[str] = ()) -> Body:
    """The request's JSON body as a ``Body``."""
    return Body.of(req.json(), allowed=allowed, required=required)


def id_list(value: Any, key: str) -> list[str]:
    """Ids or emails, as strings (numbers are taken, as some answers give ids)."""
    if not isinstance(value, list) or not all(_id_like(v) for v in value):
        raise invalid(key, "a list of ids")
    return [str(v) for v in value]


def _id_like(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
