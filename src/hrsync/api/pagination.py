"""Paginators: generators over Zoho's ``next_token`` pages, with loop detection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from hrsync.errors import TransientError

Page = dict[str, Any]


class NextTokenPaginator:
    """Walk pages that answer ``{"data": [...], "next_token": "..."}`` until none is left."""

    def __init__(self, fetch: Callable[[str | None], Page], *, max_pages: int = 100_000) -> None:
        self._fetch = fetch
        self._max_pages = max_pages

    def items(self) -> Iterator[Any]:
        for page in self.pages():
            yield from page.get("data") or []

    def pages(self) -> Iterator[Page]:
        seen: set[str] = set()
        token: str | None = None
        for _ in range(self._max_pages):
            page = self._fetch(token)
            yield page
            token = page.get("next_token") or None
            if token is None or page.get("has_more") is False:
                return
            if token in seen:
                raise TransientError(f"pagination loop: next_token {token[:12]}… came back twice")
            seen.add(token)
        raise TransientError(f"pagination did not end after {self._max_pages} pages")
