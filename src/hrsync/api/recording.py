"""``--record FILE``: every exchange with Zoho, one JSON line each, as the run goes.

A line holds ``time``, ``method``, ``path``, ``query``, the request's ``body`` (JSON) or
``form`` (urlencoded, as token requests are), ``status``, the ``response`` (JSON, or null),
and the rate-limit ``endpoint`` group when hrsync named one. No header is written, so no
``Authorization``; tokens, secrets and grant codes are replaced, and emails, personal names
and phone numbers get pseudonyms (``redaction.Pseudonyms``). ``hrsync emulator replay FILE``
reads it back.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl

import httpx

from hrsync.clock import Clock, RealClock
from hrsync.owner_only import OWNER_ONLY
from hrsync.redaction import SECRET_KEYS, TOKEN_ENDPOINT_KEYS, Pseudonyms

ENDPOINT = "hrsync.endpoint"  # the request extension that carries the rate-limit group
Hooks = dict[str, list[Callable[[Any], Any]]]


class Recorder:
    """Writes each exchange of an ``httpx.Client`` built with its ``event_hooks()``."""

    def __init__(self, sink: TextIO, clock: Clock) -> None:
        self._sink = sink
        self._clock = clock
        self._pseudonyms = Pseudonyms()
        self._lock = threading.Lock()

    def event_hooks(self) -> Hooks:
        """The ``event_hooks`` argument of the ``httpx.Client`` to record."""
        return {"response": [self.record]}

    def record(self, response: httpx.Response) -> None:
        """Write one exchange (the response's body is read for it)."""
        response.read()
        with self._lock:
            line = self._exchange(response)
            self._sink.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._sink.flush()  # a crash loses nothing already answered

    def _exchange(self, response: httpx.Response) -> dict[str, Any]:
        request = response.request
        secrets = TOKEN_ENDPOINT_KEYS if "/oauth/" in request.url.path else SECRET_KEYS
        redact = self._pseudonyms
        line: dict[str, Any] = {
            "time": round(self._clock.now(), 3),
            "method": request.method,
            "path": redact.text(request.url.path),
            "query": redact.json(dict(request.url.params), secrets=secrets),
        }
        sent = _request_body(request)
        if sent is not None:
            line[sent[0]] = redact.json(sent[1], secrets=secrets)
        line["status"] = response.status_code
        line["response"] = redact.json(_json(response), secrets=secrets)
        if endpoint := request.extensions.get(ENDPOINT):
            line["endpoint"] = endpoint
        return line


@contextmanager
def recording(path: Path, *, clock: Clock | None = None) -> Iterator[Recorder]:
    """A recorder writing to ``path`` (replaced, owner-only) until the block ends."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, OWNER_ONLY)
    os.fchmod(fd, OWNER_ONLY)  # an existing file keeps its mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as sink:
        yield Recorder(sink, clock or RealClock())


def _request_body(request: httpx.Request) -> tuple[str, Any] | None:
    try:
        content = request.content
    except httpx.RequestNotRead:  # a streamed upload: hrsync sends none to Zoho
        return None
    if not content:
        return None
    if "x-www-form-urlencoded" in request.headers.get("content-type", ""):
        return "form", dict(parse_qsl(content.decode("utf-8", "replace")))
    try:
        return "body", json.loads(content)
    except ValueError:
        return None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json() if response.content else None
    except ValueError:
        return None
