"""Request, response and error types of the emulator, and Zoho's documented messages."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

# The eight documented error responses of the Cliq API, by HTTP status.
MESSAGES: dict[int, str] = {
    400: "The request cannot be performed. Usually because of malformed parameter or "
    "missing parameter.",
    401: "Request was rejected because of invalid AuthToken.",
    403: "The user does not have enough permission or possibly not an user of the respective "
    "organization to access the resource.",
    404: "The URL you've sent is wrong. It's possible that the resource you've requested has "
    "been moved to another URL.",
    405: "The requested resource does not support the HTTP method used. For example, "
    "requesting List of all customers API with PUT as the HTTP method.",
    406: "The response has been received but the requested response type is not supported by "
    "the browser.",
    429: "Too many requests within a certain time frame.",
    500: "Cliq server encountered an error which prevents it from fulfilling the request.",
}
# Every 400 carries a code (READINGS #22). Where Zoho's documents and the evidence name none for
# a malformed request, the emulator's own: the value is of the wrong type, out of range, or
# not a value the document allows.
INPUT_INVALID = "input_data_invalid"
THROTTLE_400 = {
    "code": "request_limit_exceeded",
    "message": "You have exceeded the URL throttle limits.",
}


@dataclass(slots=True)
class EmuRequest:
    """An HTTP request as the emulator sees it."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Every query parameter as sent, repeated ones included (``attributes[]=a&attributes[]=b``);
    # ``query`` keeps the last value of each.
    query_pairs: list[tuple[str, str]] = field(default_factory=list)

    def json(self) -> Any:
        if not self.body:
            raise ZohoError(400)
        try:
            return json.loads(self.body)
        except ValueError:
            raise ZohoError(400) from None

    def form(self) -> dict[str, str]:
        """Query parameters merged with an urlencoded body (Zoho Accounts takes either)."""
        from urllib.parse import parse_qsl

        merged = dict(self.query)
        if self.body and "json" not in self.headers.get("content-type", ""):
            merged.update(parse_qsl(self.body.decode("utf-8", "replace")))
        return merged


@dataclass(slots=True)
class EmuResponse:
    """An HTTP response: a status, a JSON body (or none, or bytes sent as they are: an HR
    system's XML or CSV, with its content-type among the headers) and headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    # Fault mode "timeout": the work is done but the answer is held back this long.
    delay: float = 0.0

    def content(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


class ZohoError(Exception):
    """Raised inside handlers; turned into Zoho's documented error body."""

    def __init__(
        self,
        status: int,
        code: str | None = None,
        message: str | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.code = INPUT_INVALID if code is None and status == 400 else code
        self.message = message or MESSAGES.get(status, MESSAGES[500])
        self.headers = headers or {}

    def response(self) -> EmuResponse:
        body: dict[str, str] = {"message": self.message}
        if self.code:
            body = {"code": self.code, **body}
        return EmuResponse(self.status, body, dict(self.headers))


def require(condition: bool, code: str | None = None, message: str | None = None) -> None:
    """Refuse a malformed request with HTTP 400 unless ``condition`` holds."""
    if not condition:
        raise ZohoError(400, code, message)
