"""The emulator's route table and dispatch: auth, rate limits, faults, stats, control API."""

from __future__ import annotations

import email.utils
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from hrsync.clock import Clock, RealClock
from hrsync.emulator import cliq_channels as channels
from hrsync.emulator import cliq_groups as groups
from hrsync.emulator import cliq_roles as roles
from hrsync.emulator import cliq_statuses as statuses
from hrsync.emulator import cliq_users as users
from hrsync.emulator import connect, control, people, scopes
from hrsync.emulator.accounts import Accounts
from hrsync.emulator.context import Ctx
from hrsync.emulator.core import INPUT_INVALID, THROTTLE_400, EmuRequest, EmuResponse, ZohoError
from hrsync.emulator.faults import Faults, refusal
from hrsync.emulator.hr import Vendor
from hrsync.emulator.hr import vendors as hr_vendors
from hrsync.emulator.limits import RateLimiter
from hrsync.emulator.state import Org, new_org
from hrsync.emulator.variants import parse as parse_variants

log = logging.getLogger(__name__)
Handler = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    endpoint: str  # rate-limit group, also the key of stats
    handler: Handler


def _routes() -> list[Route]:
    table: list[tuple[str, str, str, Handler]] = [
        ("POST", "/api/v2/users", "users.add", users.add_users),
        ("GET", "/api/v2/users", "users.list", users.list_users),
        ("GET", "/api/v2/users/layout", "users.layout", users.layouts),
        ("GET", "/api/v2/users/{id}", "users.get", users.get_user),
        ("PUT", "/api/v2/users/{id}", "users.update", users.update_user),
        ("GET", "/api/v2/users/{id}/teams", "users.teams", users.user_teams),
        ("GET", "/api/v2/userfields", "userfields", roles.list_userfields),
        ("POST", "/api/v2/userfields", "userfields", roles.create_userfield),
        ("GET", "/api/v2/userfields/{id}", "userfields", roles.get_userfield),
        ("PUT", "/api/v2/userfields/{id}", "userfields", roles.update_userfield),
        ("DELETE", "/api/v2/userfields/{id}", "userfields", roles.delete_userfield),
        ("POST", "/api/v2/departments", "departments", groups.create_department),
        ("GET", "/api/v2/departments", "departments", groups.list_departments),
        ("GET", "/api/v2/departments/{id}", "departments", groups.get_department),
        ("PUT", "/api/v2/departments/{id}", "departments", groups.update_department),
        ("DELETE", "/api/v2/departments/{id}", "departments", groups.delete_department),
        ("GET", "/api/v2/departments/{id}/members", "departments", groups.department_members),
        ("POST", "/api/v2/departments/{id}/members", "departments", groups.add_department_members),
        (
            "DELETE",
            "/api/v2/departments/{id}/members",
            "departments",
            groups.remove_department_members,
        ),
        ("POST", "/api/v2/designations", "designations", groups.create_designation),
        ("GET", "/api/v2/designations", "designations", groups.list_designations),
        ("GET", "/api/v2/designations/{id}", "designations", groups.get_designation),
        ("PUT", "/api/v2/designations/{id}", "designations", groups.update_designation),
        ("DELETE", "/api/v2/designations/{id}", "designations", groups.delete_designation),
        ("GET", "/api/v2/designations/{id}/members", "designations", groups.designation_members),
        (
            "POST",
            "/api/v2/designations/{id}/members",
            "designations",
            groups.add_designation_members,
        ),
        (
            "DELETE",
            "/api/v2/designations/{id}/members",
            "designations",
            groups.remove_designation_members,
        ),
        ("POST", "/api/v2/teams", "teams", groups.create_team),
        ("GET", "/api/v2/teams", "teams", groups.list_teams),
        ("GET", "/api/v2/teams/{id}", "teams", groups.get_team),
        ("GET", "/api/v2/teams/{id}/members", "teams", groups.team_members),
        ("POST", "/api/v2/teams/{id}/members", "teams", groups.add_team_members),
        ("DELETE", "/api/v2/teams/{id}/members/{user_id}", "teams", groups.remove_team_member),
        ("GET", "/api/v2/profiles", "roles", roles.list_roles),
        ("POST", "/api/v2/profiles", "roles", roles.create_role),
        ("GET", "/api/v2/profiles/{id}", "roles", roles.get_role),
        ("PUT", "/api/v2/profiles/{id}", "roles", roles.update_role),
        ("DELETE", "/api/v2/profiles/{id}", "roles", roles.delete_role),
        ("GET", "/api/v2/profiles/{id}/permissions", "roles", roles.get_permissions),
        ("PUT", "/api/v2/profiles/{id}/permissions", "roles", roles.update_permissions),
        ("GET", "/api/v2/profiles/{id}/users", "roles.users", roles.role_users),
        ("POST", "/api/v2/profiles/{id}/users", "roles.users", roles.add_role_users),
        ("DELETE", "/api/v2/profiles/{id}/users", "roles.users", roles.remove_role_users),
        ("GET", "/people/api/forms/{id}/getRecords", "people", people.get_records),
        ("POST", "/people/api/forms/json/{id}/insertRecord", "people.write", people.insert_record),
        ("POST", "/people/api/forms/json/{id}/updateRecord", "people.write", people.update_record),
        ("GET", "/pulse/api/allGroups", "connect", connect.all_groups),
        ("POST", "/pulse/api/addGroup", "connect", connect.add_group),
        ("POST", "/pulse/api/addUsersToGroup", "connect", connect.add_users_to_group),
        ("DELETE", "/pulse/api/removeUserFromGroup", "connect", connect.remove_user_from_group),
        ("DELETE", "/pulse/api/deletePartition", "connect", connect.delete_partition),
        ("GET", "/pulse/api/orgMembers", "connect", connect.org_members),
        ("POST", "/api/v2/statuses", "statuses", statuses.add_status),
        ("GET", "/api/v2/statuses", "statuses", statuses.list_statuses),
        ("PUT", "/api/v2/statuses/ephemeral", "statuses", statuses.set_transient),
        ("DELETE", "/api/v2/statuses/ephemeral", "statuses", statuses.clear_transient),
        ("GET", "/api/v2/statuses/current", "statuses", statuses.current),
        ("PUT", "/api/v2/statuses/{id}/set", "statuses", statuses.set_current),
        ("DELETE", "/api/v2/statuses/{id}", "statuses", statuses.delete_status),
        ("POST", "/api/v2/channelsbyname/{id}/message", "channels.message", channels.post_message),
    ]
    return [Route(m, _pattern(p), e, h) for m, p, e, h in table]


def _pattern(template: str) -> re.Pattern[str]:
    """``{id}`` and ``{user_id}`` as one path segment each. ``\\Z``, not ``$``: a path
    ending in a newline (``/profiles/%0A``) must not match ``/profiles``."""
    segments = template.replace("{id}", "([^/]+)").replace("{user_id}", "([^/]+)")
    return re.compile("^" + segments + r"/?\Z")


ROUTES = _routes()


class Emulator:
    """A whole local Zoho. ``handle`` turns one request into one response."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        seed: str = "hrsync-emulator",
        variants: Iterable[str] = (),
    ) -> None:
        self.clock: Clock = clock or RealClock()
        self.seed = seed
        self.variants = parse_variants(variants)  # the disputed readings played (variants.py)
        self.unexpected_errors = 0  # requests a handler failed on (_unexpected); kept by reset
        self.reset()

    def reset(self) -> None:
        """Back to a brand-new organisation (the OAuth client stays the same)."""
        self.org: Org = new_org(self.clock.now())
        self.org.people_managed = "people-managed" in self.variants
        kept = getattr(self, "accounts", None)  # registered redirect URIs survive a reset
        self.accounts = Accounts(admin_id=self.org.admin_id, seed=self.seed)
        if kept is not None:
            self.accounts.client.redirect_uris = kept.client.redirect_uris
        self.limiter = RateLimiter()
        self.faults = Faults()
        self.calls: dict[str, int] = defaultdict(int)
        self.cursors: dict[str, tuple[str, int]] = {}
        # HR systems' own APIs, each under its prefix (/bamboohr/, /personio/, /hibob/)
        self.hr: dict[str, Vendor] = hr_vendors(self.seed)

    def handle(self, req: EmuRequest) -> EmuResponse:
        """Every answer carries a ``Date`` header on the emulator's clock, as a server's does."""
        response = self._handle(req)  # may be a shared constant (NO_CONTENT): not changed
        date = email.utils.formatdate(self.clock.now(), usegmt=True)
        return replace(response, headers={"date": date, **response.headers})

    def _handle(self, req: EmuRequest) -> EmuResponse:
        path = req.path.rstrip("/") or "/"
        try:
            if path.startswith("/_emulator/"):
                return control.handle(self, req, path)
            if path.startswith("/oauth/v2/"):
                return self._accounts(req, path)
            prefix, _, rest = path.removeprefix("/").partition("/")
            if prefix in self.hr:
                return self.hr[prefix].handle(req, "/" + rest, self.clock.now(), self.variants)
            return self._api(req, path)
        except ZohoError as err:
            return err.response()
        except Exception:
            return self._unexpected(req)

    def _unexpected(self, req: EmuRequest) -> EmuResponse:
        """The last resort for a request no check refused but a handler failed on: answered
        as Zoho answers a malformed request (400 with a code), never as a bare 500, and kept
        visible: logged with its traceback and counted in ``/_emulator/stats``
        (``unexpected_errors``), which the tests and the fuzzer require to stay 0. A 500
        comes only from the faults control API (mode ``error_500``)."""
        log.exception("emulator: %s %s failed in its handler", req.method, req.path)
        self.unexpected_errors += 1
        return ZohoError(400, INPUT_INVALID).response()

    def _accounts(self, req: EmuRequest, path: str) -> EmuResponse:
        now = self.clock.now()
        if path == "/oauth/v2/auth" and req.method == "GET":
            return self.accounts.authorize(req, now)
        if path == "/oauth/v2/token" and req.method == "POST":
            return self.accounts.token(req, now)
        if path == "/oauth/v2/token/revoke" and req.method == "POST":
            return self.accounts.revoke(req, now)
        raise ZohoError(404)

    def _api(self, req: EmuRequest, path: str) -> EmuResponse:
        route, args = self._match(req.method, path)
        now = self.clock.now()
        grant = self.accounts.grant_for(req, now)
        if grant is None:
            raise ZohoError(401)
        caller = grant.user
        needed = scopes.required(req.method, path)
        if needed is not None and not scopes.granted(grant.scopes, needed):
            if path.startswith("/people/"):
                return people.refused(path, needed)
            raise ZohoError(403, "invalid_oauthscope")
        if "departments-need-people-scope" in self.variants:
            also = scopes.people_scope(req.method, path)
            if also is not None and not scopes.granted(grant.scopes, also):
                raise ZohoError(403, "invalid_oauthscope")
        self.calls[route.endpoint] += 1
        if not self.limiter.admit(caller, route.endpoint, now):
            if "throttle-400" in self.variants:
                raise ZohoError(400, THROTTLE_400["code"], THROTTLE_400["message"])
            raise ZohoError(429)
        fault = self.faults.pick(route.endpoint)
        if fault is not None and (early := refusal(fault)) is not None:
            return early
        self._accept_due_invitations(now)
        ctx = Ctx(self.org, now, caller, self.cursors, grant.scopes, self.variants)
        result = route.handler(ctx, req, *args)
        response = result if isinstance(result, EmuResponse) else EmuResponse(200, result)
        if fault is not None:  # "timeout": the work is done, the answer comes too late
            response = EmuResponse(response.status, response.body, response.headers, fault.delay)
        return response

    def _match(self, method: str, path: str) -> tuple[Route, tuple[str, ...]]:
        """The route for this method and path; else 404, or 405 naming in ``Allow`` the
        methods the path takes (those of the first template that matches it, so a literal
        such as ``/users/layout`` is not answered with the methods of ``/users/{id}``)."""
        others: list[Route] = []
        for route in ROUTES:
            found = route.pattern.match(path)
            if found:
                if route.method == method:
                    return route, found.groups()
                others.append(route)
        if not others:
            raise ZohoError(404)
        template = others[0].pattern.pattern
        methods = sorted({r.method for r in others if r.pattern.pattern == template})
        raise ZohoError(405, headers={"allow": ", ".join(methods)})

    def _accept_due_invitations(self, now: float) -> None:
        if self.org.accept_after is None:
            return
        for user in self.org.users.values():
            if user.status == "pending" and user.invited_at + self.org.accept_after <= now:
                user.status = "active"
