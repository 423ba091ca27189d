"""Inviting joiners: 100 to an "add users" call, every manager before their reports.

"Add users" answers with emails only, so after each level of the hierarchy the new managers'
ids are looked up (one listing of pending users) before their reports are invited with
reporting-to filled in. A refused batch is halved until the one bad invitation stands alone;
an ambiguous failure (a timeout after sending) is settled by looking, never by re-sending.
"""

from __future__ import annotations

import logging
from itertools import islice
from typing import TYPE_CHECKING, Any

from hrsync.api.cliq import AddUsersResult
from hrsync.errors import BadRequest, TransientError
from hrsync.sync.plan import InviteUser

if TYPE_CHECKING:
    from hrsync.targets.cliq.changes import CliqChanges

log = logging.getLogger(__name__)
BATCH = 100
# Per-email answers of "add users" that mean the person is already in the organisation.
ALREADY_THERE = {"email.activeuser", "email.pendinguser"}


class InviteRound:
    """Invites joiners 100 to a call, a manager always before their reports.

    "Add users" answers with emails only, so the ids of newly invited managers are looked up
    (one listing of pending users) before the people who report to them are invited.
    """

    def __init__(self, changes: CliqChanges, invites: list[InviteUser]) -> None:
        self.c = changes
        self.ledger = changes.ledger
        # In line, in order (managers' levels first); a dict, so taking a batch out is cheap.
        self.waiting = {id(i): i for i in sorted(invites, key=lambda i: (i.depth, i.employee_id))}
        self.queued = {i.employee_id for i in invites}
        self.unresolved: dict[str, str] = {}  # invited employee id -> email, zuid not yet known
        self.attempts: dict[str, int] = {}

    def run(self) -> None:
        while self.waiting:
            ready = self._ready()
            if len(ready) < BATCH and self._waiting_on_invited_managers():
                self._resolve_managers()
                ready = self._ready()
            if not ready:  # managers could not be found: invite without reporting-to
                ready = list(islice(self.waiting.values(), BATCH))
            self._send(ready)

    def _ready(self) -> list[InviteUser]:
        """The next batch whose managers' ids are known (the line is in level order, so the
        search mostly stops after a batch)."""
        known = (i for i in self.waiting.values() if self._manager_known(i))
        return list(islice(known, BATCH))

    def _manager_known(self, invite: InviteUser) -> bool:
        m = invite.manager_id
        return not m or m in self.c.zuid_of or (m not in self.queued and m not in self.unresolved)

    def _waiting_on_invited_managers(self) -> bool:
        return any(i.manager_id in self.unresolved for i in self.waiting.values())

    def _resolve_managers(self) -> None:
        needed = {i.manager_id for i in self.waiting.values() if i.manager_id in self.unresolved}
        emails = {self.unresolved[m].lower(): m for m in needed}
        for email, zuid in self.c.target.find_users(emails).items():
            employee_id = emails[email]
            self.c.zuid_of[employee_id] = zuid
            self.ledger.journal.save_link(
                employee_id, zuid, email=self.unresolved.pop(employee_id), origin="invited"
            )
        for employee_id in needed & self.unresolved.keys():
            log.warning("could not find the Cliq id of invited manager %s", employee_id)
            self.queued.discard(employee_id)
            del self.unresolved[employee_id]

    def _send(self, batch: list[InviteUser]) -> None:
        for invite in batch:
            self.waiting.pop(id(invite), None)
        self.ledger.sent(batch)
        try:
            result = self.c.target.invite([self._payload(i) for i in batch])
        except BadRequest as error:
            self._split_or_fail(batch, error)
            return
        except TransientError as error:
            self._recover(batch, error)
            return
        self._settle(batch, result)

    def _payload(self, invite: InviteUser) -> dict[str, Any]:
        body: dict[str, Any] = dict(invite.fields)
        body.update({name: self.c.encoded(name, v) for name, v in invite.custom.items()})
        body.update(self.c.group_ids(invite.department, invite.designation))
        teams = self.c.team_ids(invite.teams)
        if teams:
            body["team_ids"] = teams
        manager = self.c.zuid_of.get(invite.manager_id, "")
        if manager:
            body["reporting_to_zuid"] = manager
        return body

    def _settle(self, batch: list[InviteUser], result: AddUsersResult) -> None:
        invited = {e.lower() for e in result.success_users}
        ok = [i for i in batch if i.email.lower() in invited]
        for invite in ok:
            self.unresolved[invite.employee_id] = invite.email
        self._joined(ok)
        failures = {e.lower(): code for e, code in result.failed_users.items()}
        # Some answers list people already in the organisation apart (READINGS #24).
        there = {e.lower() for e in result.already_availableusers}
        existing = [
            i
            for i in batch
            if failures.get(i.email.lower()) in ALREADY_THERE or i.email.lower() in there
        ]
        self._adopt(existing)
        for invite in batch:
            code = failures.get(invite.email.lower())
            if code and code not in ALREADY_THERE:
                refused = BadRequest(f"Cliq refused the invitation of {invite.email}: {code}")
                self.ledger.settle([invite], refused)
        answered = invited | failures.keys() | there
        self._unmentioned([i for i in batch if i.email.lower() not in answered])

    def _unmentioned(self, invites: list[InviteUser]) -> None:
        """Cliq's answer named neither success nor failure for these: look, never assume."""
        if not invites:
            return
        found = self.c.target.find_users(i.email for i in invites)
        done = [i for i in invites if i.email.lower() in found]
        for invite in done:
            self.c.zuid_of[invite.employee_id] = found[invite.email.lower()]
            self.ledger.journal.save_link(
                invite.employee_id,
                self.c.zuid_of[invite.employee_id],
                email=invite.email,
                origin="invited",
            )
        self._joined(done)
        for invite in invites:
            if invite not in done:
                unmentioned = BadRequest(
                    f"Cliq's answer to the invitation did not mention {invite.email}, and no "
                    "such user is in Cliq; the next run invites again"
                )
                self.ledger.settle([invite], unmentioned)

    def _joined(self, invites: list[InviteUser]) -> None:
        """Confirm invitations Cliq carried out, with the teams they joined in the invitation:
        recorded as hrsync's, so a later move takes the person out of them again."""
        joined: dict[str, list[str]] = {}
        for invite in invites:
            for team in invite.teams:
                if team.lower() in self.c.teams:
                    joined.setdefault(team, []).append(invite.employee_id)
        if joined:
            self.ledger.journal.add_many_memberships("team", joined)
        self.ledger.settle(invites)
        self.c.awaiting_role(invites)

    def _adopt(self, invites: list[InviteUser]) -> None:
        """Already in the organisation (an earlier, interrupted run): link, never re-invite."""
        if not invites:
            return
        found = self.c.target.find_users(i.email for i in invites)
        for invite in invites:
            zuid = found.get(invite.email.lower())
            if zuid is None:
                lost = BadRequest(f"{invite.email} is already in Cliq but was not found")
                self.ledger.settle([invite], lost)
                continue
            self.ledger.journal.save_link(
                invite.employee_id, zuid, email=invite.email, origin="adopted"
            )
            self.c.zuid_of[invite.employee_id] = zuid
            self.ledger.settle([invite])
            self.c.awaiting_role([invite])

    def _split_or_fail(self, batch: list[InviteUser], error: BadRequest) -> None:
        """Zoho refused the whole call: halve it until the one bad entry stands alone."""
        if len(batch) == 1:
            self.ledger.settle(batch, error)
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            self._send(half)

    def _recover(self, batch: list[InviteUser], error: TransientError) -> None:
        """No clear answer: see who was invited after all, then put the rest back in line."""
        found = self.c.target.find_users(i.email for i in batch) if error.ambiguous else {}
        done = [i for i in batch if i.email.lower() in found]
        for invite in done:
            self.c.zuid_of[invite.employee_id] = found[invite.email.lower()]
        self._joined(done)  # the answer was lost, not the invitation: its teams count too
        for invite in batch:
            if invite in done:
                continue
            self.attempts[invite.employee_id] = self.attempts.get(invite.employee_id, 0) + 1
            if self.attempts[invite.employee_id] >= 3:
                self.ledger.settle([invite], error)
            else:
                self.waiting = {id(invite): invite, **self.waiting}  # first in line again
