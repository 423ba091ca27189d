"""Wire an in-process emulator into an ``httpx.Client`` (no sockets, shared virtual clock)."""

from __future__ import annotations

import httpx

from hrsync.emulator.app import Emulator
from hrsync.emulator.core import EmuRequest


def to_emu_request(request: httpx.Request, body: bytes) -> EmuRequest:
    return EmuRequest(
        method=request.method,
        path=request.url.path,
        query=dict(request.url.params),
        query_pairs=list(request.url.params.multi_items()),
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )


def mock_transport(emulator: Emulator) -> httpx.MockTransport:
    """A transport that answers from ``emulator``; a held-back answer becomes a timeout."""

    def handler(request: httpx.Request) -> httpx.Response:
        response = emulator.handle(to_emu_request(request, request.read()))
        if response.delay:
            raise httpx.ReadTimeout("emulated timeout", request=request)
        headers = {"content-type": "application/json", **response.headers}
        return httpx.Response(response.status, headers=headers, content=response.content())

    return httpx.MockTransport(handler)
