"""Cliq API v2 messages: post a message in a channel by its unique name.

``POST /api/v2/channelsbyname/{CHANNEL_UNIQUE_NAME}/message`` with ``{"text": ...}`` (at most
5,000 characters), scope ``ZohoCliq.Webhooks.CREATE`` (the scope of every messaging API), and
answered 204 without a body, as Cliq's messages document says. Only a participant posts in a
channel; to anyone else an unknown channel and someone else's look the same (404).
"""

from __future__ import annotations

from typing import Any

from hrsync.emulator.body import read
from hrsync.emulator.cliq_groups import NO_CONTENT
from hrsync.emulator.context import Ctx
from hrsync.emulator.core import INPUT_INVALID, EmuRequest, EmuResponse, ZohoError, require
from hrsync.emulator.state import Channel, ChannelMessage, Org

MAX_TEXT = 5000
NOT_FOUND = "The requested channel does not exist or you are not a participant."


def post_message(ctx: Ctx, req: EmuRequest, unique_name: str) -> EmuResponse:
    text = read(req, allowed=("text",), required=("text",)).text("text")
    require(bool(text.strip()) and len(text) <= MAX_TEXT, INPUT_INVALID, "1 to 5,000 characters.")
    channel = ctx.org.channels.get(unique_name.lower())
    if channel is None or ctx.caller not in channel.participants:
        raise ZohoError(404, "channel_not_found", NOT_FOUND)
    channel.messages.append(ChannelMessage(ctx.caller, ctx.now, text))
    return NO_CONTENT


def create(org: Org, body: Any) -> dict[str, Any]:
    """A channel (control API): ``{"unique_name", "name"?, "participants"?: [zuid]}``; the
    organisation's admin, who owns the tokens, takes part unless participants are named."""
    require(isinstance(body, dict) and isinstance(body.get("unique_name"), str))
    unique = body["unique_name"].strip().lower()
    require(bool(unique))
    participants = body.get("participants")
    members = {str(p) for p in participants} if isinstance(participants, list) else {org.admin_id}
    org.channels[unique] = Channel(unique, str(body.get("name") or unique), members)
    return view(org.channels[unique])


def view(channel: Channel) -> dict[str, Any]:
    return {
        "unique_name": channel.unique_name,
        "name": channel.name,
        "participants": sorted(channel.participants),
        "messages": [
            {"sender": m.sender, "time": m.time, "text": m.text} for m in channel.messages
        ],
    }
