"""The one chokepoint for Zoho API calls: pace, authenticate, send, map, retry.

``ZohoHttp.call`` returns the decoded JSON body or raises from ``errors``. This is the
only place in hrsync that reads an HTTP status code (the auth flow, ``api.auth.TokenAuth``,
looks for a 401 only to resend once with a fresh token). In dry mode it refuses every
request that is not a GET before anything is sent.
"""

from __future__ import annotations

import email.utils
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

import httpx

from hrsync import jsontext
from hrsync.api.ratelimit import Pacer
from hrsync.api.recording import ENDPOINT
from hrsync.api.retry import DEFAULT_HANDLERS, RetryHandler, RetryState
from hrsync.clock import Clock
from hrsync.errors import (
    ApiError,
    AuthError,
    BadRequest,
    Conflict,
    DryRunWrite,
    HrsyncError,
    NotFound,
    RateLimited,
    TransientError,
    Unreachable,
    Via,
)

log = logging.getLogger(__name__)
IDEMPOTENT = {"GET", "PUT", "DELETE"}


class ZohoHttp:
    """Sends requests to one Zoho API host on behalf of one token source."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        base_url: str,
        auth: httpx.Auth,
        pacer: Pacer,
        clock: Clock,
        dry_run: bool = False,
        retry_handlers: Sequence[RetryHandler] = DEFAULT_HANDLERS,
        via: Via | None = None,
    ) -> None:
        self._client = client
        self.via = via  # whose credentials, for an Unreachable to name
        self._base = base_url.rstrip("/")
        self.auth = auth  # api.auth.TokenAuth: the token, and one resend after a 401
        self.pacer = pacer
        self._clock = clock
        self.dry_run = dry_run
        self._handlers = tuple(retry_handlers)
        self.calls: Counter[str] = Counter()
        # Zoho's clock minus ours, from its last ``Date`` header (None: no answer had one)
        self.server_offset: float | None = None
        # The headers of the last answer (a cursor or a Link header an HR API pages by)
        self.last_headers: httpx.Headers = httpx.Headers()

    def now(self) -> float:
        """The time on the clock this client paces by."""
        return self._clock.now()

    def sleep(self, seconds: float) -> None:
        """Wait on the clock this client paces by."""
        self._clock.sleep(seconds)

    def server_now(self) -> float:
        """The time on Zoho's clock, as its last answer's ``Date`` header showed it (ours,
        before any answer): what Zoho's own time filters such as ``modified_after`` use."""
        return self._clock.now() + (self.server_offset or 0.0)

    def call(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """Send one logical request, retrying what is safe to retry."""
        if self.dry_run and method != "GET":
            raise DryRunWrite(f"dry run: refusing {method} {path}")
        state = RetryState(idempotent=method in IDEMPOTENT if idempotent is None else idempotent)
        while True:
            state.attempt += 1
            try:
                return self._send_once(
                    method, path, endpoint=endpoint, params=params, json=json, headers=headers
                )
            except HrsyncError as error:
                if isinstance(error, Unreachable) and error.via is None:
                    error.via = self.via
                handler = next((h for h in self._handlers if h.can_retry(state, error)), None)
                if handler is None:
                    raise
                wait = handler.wait_seconds(state, error)
                if isinstance(error, RateLimited):
                    self.pacer.locked(endpoint, wait)
                log.warning(
                    "%s %s failed (%s); retry %d in %.0fs", method, path, error, state.attempt, wait
                )
                state.waits.append(wait)
                if not isinstance(error, RateLimited):
                    self._clock.sleep(wait)  # a lock is waited out by the pacer on the next try

    def _send_once(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        params: Any,
        json: Any,
        headers: dict[str, str] | None = None,
    ) -> Any:
        url = self._base + path
        # A JSON body as httpx would write it (compact, UTF-8), written by orjson.
        body = None if json is None else jsontext.dumps(json).encode()
        request = self._client.build_request(
            method,
            url,
            params=params,
            content=body,
            headers=(headers or {})
            | ({} if body is None else {"Content-Type": "application/json"}),
            extensions={ENDPOINT: endpoint},  # for a recording (api/recording.py)
        )
        response = self._send_handling_auth(request, endpoint=endpoint, url=url)
        self.last_headers = response.headers
        return raise_for_zoho(method, url, response, lock_seconds=self._lock(endpoint))

    def _send_handling_auth(
        self, request: httpx.Request, *, endpoint: str, url: str
    ) -> httpx.Response:
        """Drive the auth flow as httpx would, pacing each send: Zoho counts a resend after
        a 401 against the endpoint's limit too."""
        flow = self.auth.sync_auth_flow(request)
        try:
            self.pacer.wait(endpoint)  # writes the call down: a kill from here on counts it
            try:
                request = next(flow)
            except HrsyncError:
                self.pacer.cancel(endpoint)
                raise
            while True:
                response = self._send_paced(request, endpoint=endpoint, url=url)
                try:
                    request = flow.send(response)
                except StopIteration:
                    return response
                self.pacer.wait(endpoint)
        finally:
            flow.close()

    def _send_paced(self, request: httpx.Request, *, endpoint: str, url: str) -> httpx.Response:
        """Send one request whose call the pacer has written down; settle that call."""
        method = request.method
        try:
            response = self._client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self.pacer.cancel(endpoint)  # nothing reached Zoho
            raise Unreachable(f"connection failed: {exc}", method=method, url=url) from exc
        except httpx.TimeoutException as exc:
            self.pacer.record(endpoint)
            raise TransientError(
                f"timed out: {exc}", method=method, url=url, ambiguous=method != "GET"
            ) from exc
        except httpx.TransportError as exc:  # sent, or partly: the call counts
            self.pacer.record(endpoint)
            raise TransientError(
                f"connection failed: {exc}", method=method, url=url, ambiguous=method != "GET"
            ) from exc
        self.pacer.record(endpoint)
        self.calls[endpoint] += 1
        self._note_server_time(response)
        # httpx's read stream points back at its response: a cycle that would keep every
        # answer's body (a page of users) until the cycle collector runs. The body is read.
        response.stream = httpx.ByteStream(response.content)
        return response

    def _note_server_time(self, response: httpx.Response) -> None:
        stamps = response.headers.get_list("date")
        if len(stamps) != 1:  # none, or two that disagree: no reading of Zoho's clock
            return
        stamp = stamps[0]
        try:
            server = email.utils.parsedate_to_datetime(stamp).timestamp()
        except (TypeError, ValueError):
            return
        self.server_offset = server - self._clock.now()

    def _lock(self, endpoint: str) -> float:
        return self.pacer.limit(endpoint).lock_seconds


def raise_for_zoho(method: str, url: str, response: httpx.Response, *, lock_seconds: float) -> Any:
    """Map Zoho's status and body to a value or an exception from ``errors``."""
    status = response.status_code
    body = _decode(response)
    if 200 <= status < 300:
        return body
    code = str(body.get("code") or "") if isinstance(body, dict) else ""
    message = str(body.get("message") or "") if isinstance(body, dict) else ""
    inner = body.get("error") if isinstance(body, dict) else None
    if isinstance(inner, dict):  # an HR API's envelope: {"error": {"code", "message"}}
        message = message or str(inner.get("message") or "")
    message = message or f"HTTP {status}"
    where: dict[str, Any] = {"method": method, "url": url, "status": status, "code": code or None}
    after = _retry_after(response)
    if status == 429 or code == "request_limit_exceeded" or (status == 503 and after):
        raise RateLimited(message, retry_after=after or lock_seconds, **where)
    if status >= 500:
        raise TransientError(message, ambiguous=method != "GET", **where)
    error: type[ApiError] = BadRequest
    if status in (401, 403):
        error = AuthError
    elif status == 404:
        error = NotFound
    elif code.endswith("already_exist") or code.endswith("already_exists"):
        error = Conflict
    raise error(message, **where)


def _retry_after(response: httpx.Response) -> float:
    """Seconds the answer's ``Retry-After`` asks to wait (0: none, or unreadable)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return _reset_after(response)
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return 0.0
    date = response.headers.get("date", "")
    try:
        now = email.utils.parsedate_to_datetime(date).timestamp() if date else when
    except (TypeError, ValueError):
        now = when
    return max(0.0, when - now)


def _reset_after(response: httpx.Response) -> float:
    """Seconds until ``X-RateLimit-Reset`` (epoch seconds, or seconds from now where the
    value is small), measured by the answer's own ``Date``; 0 without one."""
    value = response.headers.get("x-ratelimit-reset", "").strip()
    try:
        reset = float(value)
    except ValueError:
        return 0.0
    if reset < 1_000_000_000:  # a count of seconds, not a moment
        return max(0.0, reset)
    date = response.headers.get("date", "")
    try:
        now = email.utils.parsedate_to_datetime(date).timestamp() if date else None
    except (TypeError, ValueError):
        now = None
    return max(0.0, reset - now) if now is not None else 0.0


def _decode(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return jsontext.loads(response.content)
    except ValueError:
        return {"message": response.text[:200]}
