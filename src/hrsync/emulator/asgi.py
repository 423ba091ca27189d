"""Serve the emulator over HTTP: one catch-all ASGI app on one port."""

from __future__ import annotations

import asyncio
import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hrsync.emulator.app import Emulator
from hrsync.emulator.core import EmuRequest

# Every method reaches the emulator, which answers one a path does not take with 405 and the
# path's own methods in ``Allow`` (Starlette would answer with this list instead).
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "QUERY"]


def create_app(emulator: Emulator) -> Starlette:
    # Handlers mutate one in-memory org; a lock keeps concurrent requests from interleaving.
    lock = threading.Lock()

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        req = EmuRequest(
            method=request.method,
            # the decoded path as sent: Starlette's request.url goes through urlsplit, which
            # drops tabs and newlines, so /profiles/%0A would be taken for /profiles
            path=request.scope["path"],
            query=dict(request.query_params),
            query_pairs=list(request.query_params.multi_items()),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
        )
        with lock:
            result = emulator.handle(req)
        if result.delay:
            await asyncio.sleep(result.delay)
        headers = dict(result.headers)
        media = "application/json" if result.body is not None else None
        return Response(result.content(), result.status, headers=headers, media_type=media)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=METHODS)])
