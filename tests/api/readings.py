"""What the tests of the disputed readings share: playing variants, an admin's own token,
an export with custom values, and a count of the emulator's answers."""

from __future__ import annotations

from collections import Counter

import httpx

from hrsync.cli.demo import sample_employees
from tests.conftest import BASE, World
from tests.support import access_token

GENDERS = ["Female", "Male", "Non-binary", "Not disclosed"]


def play(world: World, *variants: str) -> None:
    answer = world.http.post(f"{BASE}/_emulator/variants", json={"variants": list(variants)})
    assert answer.status_code == 200, answer.text


def bearer(world: World) -> dict[str, str]:
    """An admin's own access token, for calls made by hand."""
    return {"Authorization": f"Zoho-oauthtoken {access_token(world)}"}


def export(size: int) -> list[dict[str, str]]:
    """The sample export with a drop-down (gender) and a date (date of birth) for everyone."""
    rows = sample_employees(size)
    for n, row in enumerate(rows):
        row["gender"] = GENDERS[n % len(GENDERS)]
        row["date_of_birth"] = f"19{70 + n % 30}-0{1 + n % 9}-1{n % 9}"
    return rows


class Answers(httpx.BaseTransport):
    """Counts the emulator's API answers as "METHOD PATH [modified_after] STATUS"."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.made: Counter[str] = Counter()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.inner.handle_request(request)
        if request.url.path.startswith("/api/"):
            asked = " modified_after" if "modified_after" in request.url.params else ""
            self.made[f"{request.method} {request.url.path}{asked} {answer.status_code}"] += 1
        return answer

    def refused_modified_after(self) -> int:
        return sum(n for k, n in self.made.items() if k.endswith("modified_after 400"))
