"""What a handler knows about the call it serves."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from hrsync.emulator.core import ZohoError, require
from hrsync.emulator.state import Org


@dataclass(slots=True)
class Ctx:
    org: Org
    now: float
    caller: str  # zuid of the token's owner
    cursors: dict[str, tuple[str, int]]  # next_token -> (listing key, offset)
    scopes: tuple[str, ...] = ()  # of the access token
    variants: frozenset[str] = frozenset()  # the disputed readings played (variants.py)

    def has_scope(self, *wanted: str) -> bool:
        held = {s.lower() for s in self.scopes}
        return any(w.lower() in held for w in wanted)

    def page(
        self,
        listing: str,
        items: Iterable[Any],
        query: dict[str, str],
        *,
        default: int,
        maximum: int,
    ) -> tuple[list[Any], str | None]:
        """Slice ``items`` by ``limit`` and ``next_token``; return the page and the next token.
        ``items`` may be lazy: a page reads the items up to its end and one more."""
        limit = parse_limit(query.get("limit"), default=default, maximum=maximum)
        offset = 0
        token = query.get("next_token")
        if token:
            entry = self.cursors.get(token)
            require(entry is not None and entry[0] == listing, "invalid_next_token")
            assert entry is not None
            offset = entry[1]
        chunk = list(islice(items, offset, offset + limit + 1))
        if len(chunk) <= limit:
            return chunk, None
        del chunk[limit:]
        new_token = secrets.token_hex(24)
        self.cursors[new_token] = (listing, offset + limit)
        return chunk, new_token


def parse_limit(raw: str | None, *, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ZohoError(400) from None
    require(1 <= value <= maximum)
    return value
