"""HR systems' own APIs, served beside Zoho's on the emulator's port: BambooHR under
``/bamboohr/``, Personio under ``/personio/``, HiBob under ``/hibob/``.

Each vendor is an independent witness of its own documents (``../shared/external/hr-apis/``)
and public references, recorded behaviour by behaviour in ``docs/readings/<vendor>.md``:
its answer shapes, paging, changed-since queries, authentication, errors and rate limits.
Disputed readings are variants (``VARIANTS`` of each module, named ``<vendor>-…``), chosen
like Zoho's. The control API reaches a vendor under ``/_emulator/hr/<vendor>/``: ``POST
employees`` seeds or changes people in the vendor's own field names, ``GET employees``,
``POST credentials``/``faults`` and the like as each module documents.
"""

from __future__ import annotations

from typing import Any, Protocol

from hrsync.emulator.core import EmuRequest, EmuResponse
from hrsync.emulator.variants import Variant


class Vendor(Protocol):
    """One HR system's API. ``path`` is what follows the vendor's prefix (``/bamboohr``)."""

    name: str

    def handle(
        self, req: EmuRequest, path: str, now: float, variants: frozenset[str]
    ) -> EmuResponse:
        """Answer one API call, as the vendor would."""
        ...

    def control(self, req: EmuRequest, path: str, now: float) -> EmuResponse:
        """Answer one control call (``/_emulator/hr/<vendor>/<path>``)."""
        ...

    def state(self) -> dict[str, Any]:
        """The vendor's data, for ``GET /_emulator/state``."""
        ...

    def stats(self) -> dict[str, Any]:
        """Calls per endpoint, throttled answers, for ``GET /_emulator/stats``."""
        ...


def vendors(seed: str) -> dict[str, Vendor]:
    """A fresh instance of every vendor (at the emulator's reset)."""
    from hrsync.emulator.hr import bamboohr, hibob, personio

    return {
        "bamboohr": bamboohr.Api(seed),
        "personio": personio.Api(seed),
        "hibob": hibob.Api(seed),
    }


def variants() -> tuple[Variant, ...]:
    """The disputed readings of every vendor."""
    from hrsync.emulator.hr import bamboohr, hibob, personio

    return (*bamboohr.VARIANTS, *personio.VARIANTS, *hibob.VARIANTS)
