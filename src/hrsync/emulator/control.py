"""The control API under ``/_emulator/`` (DESIGN.md §3): state, reset, clock, stats, faults,
and channels (make one; read the messages posted in each)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from hrsync.clock import VirtualClock
from hrsync.emulator import cliq_channels, connect, people, variants, views
from hrsync.emulator.core import EmuRequest, EmuResponse, ZohoError, require

if TYPE_CHECKING:
    from hrsync.emulator.app import Emulator


def handle(emu: Emulator, req: EmuRequest, path: str) -> EmuResponse:
    name = path.removeprefix("/_emulator/")
    key = (req.method, name)
    if name.startswith("hr/"):  # an HR system's own control calls
        vendor, _, rest = name.removeprefix("hr/").partition("/")
        if vendor not in emu.hr:
            raise ZohoError(404)
        # the variants played reach a vendor's control calls too (a webhook's signature)
        played = {"x-emulator-variants": ",".join(sorted(emu.variants))}
        req = dataclasses.replace(req, headers={**req.headers, **played})
        return emu.hr[vendor].control(req, "/" + rest, emu.clock.now())
    if key == ("GET", "state"):
        return EmuResponse(200, state(emu))
    if key == ("POST", "reset"):
        emu.reset()
        return EmuResponse(200, {"status": "reset"})
    if key == ("POST", "clock/advance"):
        return EmuResponse(200, advance(emu, req))
    if key == ("GET", "clock"):
        return EmuResponse(200, {"now": emu.clock.now(), "virtual": _virtual(emu)})
    if key == ("GET", "stats"):
        return EmuResponse(200, stats(emu))
    if key == ("POST", "faults"):
        faults = emu.faults.configure(req.json())
        return EmuResponse(200, {"faults": [dataclasses.asdict(f) for f in faults]})
    if key == ("GET", "clients"):
        client = emu.accounts.client
        return EmuResponse(200, {"clients": [dataclasses.asdict(client)]})
    if key == ("POST", "clients/redirect_uris"):
        return EmuResponse(200, register_redirects(emu, req))
    if key == ("POST", "users/accept"):
        return EmuResponse(200, accept(emu, req))
    if key == ("GET", "variants"):
        return EmuResponse(200, {"variants": sorted(emu.variants), "known": variants.table()})
    if key == ("POST", "variants"):
        return EmuResponse(200, choose_variants(emu, req))
    if key == ("POST", "config"):
        return EmuResponse(200, configure(emu, req))
    if key == ("POST", "channels"):
        return EmuResponse(200, cliq_channels.create(emu.org, req.json()))
    if key == ("GET", "channels"):
        found = emu.org.channels.values()
        return EmuResponse(200, {"channels": [cliq_channels.view(c) for c in found]})
    if key == ("POST", "people/employees"):
        records = req.json()
        require(isinstance(records, list))
        return EmuResponse(200, people.seed(emu.org.people, records, emu.clock.now()))
    raise ZohoError(404)


def _virtual(emu: Emulator) -> bool:
    return isinstance(emu.clock, VirtualClock)


def advance(emu: Emulator, req: EmuRequest) -> dict[str, Any]:
    if not isinstance(emu.clock, VirtualClock):
        raise ZohoError(400, "clock_not_virtual", "Start the emulator with --clock virtual.")
    try:
        seconds = float(req.query.get("seconds", ""))
    except ValueError:
        raise ZohoError(400) from None
    require(seconds >= 0)
    emu.clock.advance(seconds)
    return {"now": emu.clock.now()}


def stats(emu: Emulator) -> dict[str, Any]:
    limiter = emu.limiter
    return {
        "calls": dict(emu.calls),
        "throttled": dict(limiter.throttled),
        "lock_periods_triggered": dict(limiter.locks_triggered),
        "lock_periods_total": sum(limiter.locks_triggered.values()),
        "faults_injected": dict(emu.faults.injected),
        "token_refreshes": emu.accounts.refreshes,
        "token_denials": emu.accounts.denials,
        "unexpected_errors": emu.unexpected_errors,
        "hr": {name: vendor.stats() for name, vendor in emu.hr.items()},
    }


def state(emu: Emulator) -> dict[str, Any]:
    org = emu.org
    return {
        "users": [
            {**views.user_full(org, u), "role_id": org.role_of.get(u.id, "")}
            for u in sorted(org.users.values(), key=lambda u: int(u.id))
        ],
        "departments": [views.department(org, d) for d in org.departments.values()],
        "designations": [{"name": d.name, "id": d.id} for d in org.designations.values()],
        "teams": [
            {"team_id": t.id, "name": t.name, "members": sorted(t.members, key=int)}
            for t in org.teams.values()
        ],
        "roles": [
            {**views.role(r), "users": sorted(u for u, rid in org.role_of.items() if rid == r.id)}
            for r in org.roles.values()
        ],
        "userfields": [views.userfield(uf) for uf in org.userfields.values()],
        "admin_id": org.admin_id,
        "people_managed": org.people_managed,
        "people": people.state(org.people),
        "connect": connect.state(org),
        "hr": {name: vendor.state() for name, vendor in emu.hr.items()},
    }


def register_redirects(emu: Emulator, req: EmuRequest) -> dict[str, Any]:
    """``{"client_id", "redirect_uris": [...]}``: register more redirect URIs for a client."""
    body = req.json()
    require(isinstance(body, dict) and isinstance(body.get("redirect_uris"), list))
    uris = [str(u) for u in body["redirect_uris"]]
    registered = emu.accounts.register_redirects(str(body.get("client_id", "")), uris)
    return {"client_id": body["client_id"], "redirect_uris": registered}


def accept(emu: Emulator, req: EmuRequest) -> dict[str, Any]:
    """Accept pending invitations: all of them, or ``{"emails": [...]}``."""
    body = req.json() if req.body else {}
    emails = {e.lower() for e in body.get("emails", [])} if isinstance(body, dict) else set()
    accepted = []
    for user in emu.org.users.values():
        if user.status == "pending" and (not emails or user.email_id.lower() in emails):
            user.status = "active"
            accepted.append(user.email_id)
    return {"accepted": accepted}


def configure(emu: Emulator, req: EmuRequest) -> dict[str, Any]:
    """Org switches: accept_after, people_managed, foreign_accounts, blocked_emails."""
    body = req.json()
    require(isinstance(body, dict))
    org = emu.org
    if "accept_after" in body:
        org.accept_after = None if body["accept_after"] is None else float(body["accept_after"])
    if "people_managed" in body:
        org.people_managed = bool(body["people_managed"])
    if "foreign_accounts" in body:
        org.foreign_accounts = {str(e).lower() for e in body["foreign_accounts"]}
    if "blocked_emails" in body:
        org.blocked_emails = {str(e).lower() for e in body["blocked_emails"]}
    return {
        "accept_after": org.accept_after,
        "people_managed": org.people_managed,
        "foreign_accounts": sorted(org.foreign_accounts),
        "blocked_emails": sorted(org.blocked_emails),
    }


def choose_variants(emu: Emulator, req: EmuRequest) -> dict[str, Any]:
    """``{"variants": [...]}``: play exactly these disputed readings from now on."""
    body = req.json()
    require(isinstance(body, dict) and isinstance(body.get("variants"), list))
    try:
        chosen = variants.parse(str(v) for v in body["variants"])
    except ValueError as unknown:
        raise ZohoError(400, "unknown_variant", str(unknown)) from None
    if ("people-managed" in chosen) != ("people-managed" in emu.variants):
        emu.org.people_managed = "people-managed" in chosen
    emu.variants = chosen
    return {"variants": sorted(emu.variants)}
