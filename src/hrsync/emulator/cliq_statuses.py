"""Cliq API v2 user statuses: the caller's custom statuses, a transient one, and the current one.

Statuses belong to the token's owner; other users' current status is read through
``GET /users/{id}?fields=chat_status``.
"""

from __future__ import annotations

from typing import Any

from hrsync.emulator.body import Body, read
from hrsync.emulator.cliq_groups import NO_CONTENT
from hrsync.emulator.context import Ctx
from hrsync.emulator.core import EmuRequest, EmuResponse, ZohoError, require
from hrsync.emulator.state import Presence

CODES = {"busy", "available", "invisible"}


def _body(req: EmuRequest, *keys: str) -> Body:
    """A status body: ``code`` (one of CODES) and ``message``, both required, and the keys
    given (``expiry`` for a transient status)."""
    body = read(req, allowed=keys, required=keys)
    require(body.text("code") in CODES, "invalid_status")
    body.text("message")
    return body


def _view(presence: Presence) -> dict[str, Any]:
    return {"code": presence.code, "message": presence.message, "id": presence.id}


def add_status(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    body = _body(req, "code", "message")
    presence = Presence(int(ctx.org.ids.object_id()), body.text("code"), body.text("message"))
    ctx.org.statuses.setdefault(ctx.caller, {})[presence.id] = presence
    return {"data": _view(presence)}


def list_statuses(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    mine = ctx.org.statuses.get(ctx.caller, {})
    return {"data": [{"message": p.message, "id": p.id} for p in mine.values()]}


def set_transient(ctx: Ctx, req: EmuRequest) -> EmuResponse:
    body = _body(req, "code", "message", "expiry")
    expiry = body.whole("expiry")
    require(expiry > ctx.now * 1000, "invalid_expiry")
    presence = Presence(int(ctx.org.ids.object_id()), body.text("code"), body.text("message"))
    ctx.org.transient[ctx.caller] = (presence, expiry / 1000)
    return NO_CONTENT


def clear_transient(ctx: Ctx, req: EmuRequest) -> EmuResponse:
    ctx.org.transient.pop(ctx.caller, None)
    return NO_CONTENT


def current(ctx: Ctx, req: EmuRequest) -> dict[str, Any]:
    return {"data": _view(current_of(ctx, ctx.caller))}


def current_of(ctx: Ctx, zuid: str) -> Presence:
    transient = ctx.org.transient.get(zuid)
    if transient is not None and transient[1] > ctx.now:
        return transient[0]
    return ctx.org.current_status.get(zuid) or Presence(0, "available", "Available")


def set_current(ctx: Ctx, req: EmuRequest, status_id: str) -> dict[str, Any]:
    presence = ctx.org.statuses.get(ctx.caller, {}).get(_id(status_id))
    if presence is None:
        raise ZohoError(404)
    ctx.org.current_status[ctx.caller] = presence
    return {
        "url": f"/api/v2/statuses/{status_id}/set",
        "type": "status_message",
        "data": {"code": presence.code, "message": presence.message, "id": str(presence.id)},
    }


def delete_status(ctx: Ctx, req: EmuRequest, status_id: str) -> EmuResponse:
    mine = ctx.org.statuses.get(ctx.caller, {})
    if mine.pop(_id(status_id), None) is None:
        raise ZohoError(404)
    return NO_CONTENT


def _id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ZohoError(404) from None
