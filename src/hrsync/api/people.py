"""Zoho People forms API: paged ``getRecords`` reads (no sync decisions).

People answers HTTP 200 either way and says ``"status": 1`` with ``errors`` when something
is wrong; code 7024 ("No records found") is simply the end of the data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hrsync.api.http import ZohoHttp
from hrsync.errors import BadRequest

PAGE = 200  # People's maximum per getRecords call
NO_RECORDS = 7024


class PeopleError(BadRequest):
    """People refused a request; ``code`` is its numeric error code."""


class PeopleClient:
    def __init__(self, http: ZohoHttp) -> None:
        self.http = http

    def iter_records(
        self, form: str, *, modified_after_ms: int | None = None
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        """(record id, fields) of every record of ``form``, 200 per call, in People's order.

        With ``modified_after_ms`` only records added or modified after that epoch-ms time.
        """
        start = 1
        while True:
            params: dict[str, Any] = {"sIndex": start, "limit": PAGE}
            if modified_after_ms is not None:
                params["modifiedtime"] = modified_after_ms
            page = self._result(f"/people/api/forms/{form}/getRecords", params)
            for entry in page:
                for record_id, versions in entry.items():
                    if versions:
                        yield str(record_id), versions[0]
            if len(page) < PAGE:
                return
            start += PAGE

    def _result(self, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        body = self.http.call("GET", path, endpoint="people", params=params)
        response = body.get("response", {}) if isinstance(body, dict) else {}
        if response.get("status") == 0:
            result = response.get("result") or []
            return result if isinstance(result, list) else []
        errors = response.get("errors") or {}
        code = errors.get("code") if isinstance(errors, dict) else None
        if code == NO_RECORDS:
            return []
        message = errors.get("message") if isinstance(errors, dict) else None
        raise PeopleError(
            f"Zoho People refused {path}: {message or response or body}",
            method="GET",
            url=path,
            status=200,
            code=str(code) if code is not None else None,
        )
