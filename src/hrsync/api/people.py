"""Zoho People forms API: paged ``getRecords`` reads (no sync decisions).

People answers HTTP 200 either way and says ``"status": 1`` with ``errors`` when something
is wrong; code 7024 ("No records found") is simply the end of the data.
"""

from __future__ import annotations

import re
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
            path = f"/people/api/forms/{form}/getRecords"
            page = self._result(path, params)
            for entry in page:
                yield from _records(entry, path)
            if len(page) < PAGE:
                return
            start += PAGE

    def _result(self, path: str, params: dict[str, Any]) -> list[Any]:
        body = self.http.call("GET", path, endpoint="people", params=params)
        response = body.get("response") if isinstance(body, dict) else None
        if not isinstance(response, dict):
            raise _odd(path, f"{_shape(body)} without a 'response' object")
        if response.get("status") == 0:
            result = response.get("result")
            if result is None:
                return []
            if not isinstance(result, list):
                raise _odd(path, f"a 'result' that is {_shape(result)}, not a list")
            return result
        errors = response.get("errors")
        code = errors.get("code") if isinstance(errors, dict) else None
        if code == NO_RECORDS:
            return []
        message = errors.get("message") if isinstance(errors, dict) else None
        said = _masked(message) if isinstance(message, str) else "no message"
        raise PeopleError(
            f"Zoho People refused {path}: {said}",
            method="GET",
            url=path,
            status=200,
            code=str(code) if code is not None else None,
        )


def _records(entry: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """One result entry, ``{record id: [fields, ...]}``, as (record id, fields)."""
    if not isinstance(entry, dict):
        raise _odd(path, f"a result entry that is {_shape(entry)}, not an object")
    for record_id, versions in entry.items():
        if not versions:
            continue
        first = versions[0] if isinstance(versions, list) else versions
        if not isinstance(first, dict):
            raise _odd(path, f"record {record_id} as {_shape(first)}, not an object of fields")
        yield str(record_id), first


EMAIL = re.compile(r"[^\s@'\"]+@[^\s@'\"]+")


def _odd(path: str, what: str) -> PeopleError:
    # Never quote the answer itself: it holds people's personal data.
    return PeopleError(
        f"Zoho People answered {path} with {what}; check [people] api_url and the form name "
        "([source] form)",
        method="GET",
        url=path,
        status=200,
        code="unexpected_shape",
    )


def _shape(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", type(None): "null"}
    return names.get(type(value), f"a {type(value).__name__}")


def _masked(message: str) -> str:
    """People's own message, cut short, with any email address in it masked."""
    return EMAIL.sub("<email>", message)[:200]
