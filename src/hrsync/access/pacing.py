"""A connection's calls to Zoho's API, paced as every sync's are: Zoho counts them all
against one limit per endpoint group, and going over locks the endpoint."""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from hrsync.api.ratelimit import CallLog, Pacer
from hrsync.clock import Clock

log = logging.getLogger(__name__)


def paced(
    calls: CallLog, clock: Clock, name: str, endpoint: str, send: Callable[[], httpx.Response]
) -> httpx.Response:
    """``send`` once ``calls`` (the store's log for the host) has room for it, written down
    there; a throttled answer records Zoho's lock, so every process waits it out."""
    pacer = Pacer(clock, log=calls)
    wait = pacer.delay(endpoint)
    if wait > 1:
        log.warning(
            "%s: waiting %.0f s for Zoho's %s limit (%d calls a minute, shared with "
            "hrsync's other runs)",
            name, wait, endpoint, pacer.limit(endpoint).per_minute,
        )  # fmt: skip
    pacer.wait(endpoint)
    try:
        response = send()
    except (httpx.ConnectError, httpx.ConnectTimeout):
        pacer.cancel(endpoint)  # nothing reached Zoho
        raise
    except httpx.TransportError:
        pacer.record(endpoint)
        raise
    pacer.record(endpoint)
    if throttled(response):
        pacer.locked(endpoint, pacer.limit(endpoint).lock_seconds)
    return response


def throttled(response: httpx.Response) -> bool:
    """Zoho's answer to a call over the limit: 429, or 400 ``request_limit_exceeded``."""
    if response.status_code == 429:
        return True
    if response.status_code != 400:
        return False
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("code") == "request_limit_exceeded"
