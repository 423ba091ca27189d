"""A change is said in the words of its state: future while planned, past once confirmed,
the attempt that failed, "Not done" when skipped; runs kept by older versions read right."""

from __future__ import annotations

import pytest

from hrsync.sync.plan import (
    ConnectMembers,
    CreateDepartment,
    CreateDesignation,
    CreateRole,
    CreateTeam,
    DeactivateUser,
    InviteUser,
    LinkUser,
    ReactivateUser,
    RoleMembers,
    TeamMembers,
    UpdateRole,
    UpdateUser,
)
from hrsync.tense import told

EVERY_KIND = [
    CreateDepartment("Sales"),
    CreateDesignation("Engineer"),
    CreateTeam("Sales"),
    TeamMembers("Sales", ["E1", "E2"]),
    TeamMembers("Sales", ["E1"], join=False),
    ConnectMembers("Sales", ["E1"], ["a@x.com"]),
    ConnectMembers("Sales", ["E1"], ["a@x.com"], join=False),
    CreateRole("Leads", "Member"),
    UpdateRole("Leads", description="x"),
    RoleMembers("Leads", ["E1"]),
    RoleMembers("Leads", ["E1"], join=False),
    InviteUser("E1", {"email_id": "a@x.com"}),
    LinkUser("E1", "a@x.com", "same email"),
    UpdateUser("E1", "a@x.com", {"mobile": ["", "+1 555"]}),
    DeactivateUser("E1", "a@x.com", "left"),
    ReactivateUser("E1", "a@x.com"),
]


@pytest.mark.parametrize("change", EVERY_KIND, ids=lambda c: c.kind)
def test_a_confirmed_change_reads_as_done_and_a_planned_one_as_would(change: object) -> None:
    planned = change.describe(done=False)  # type: ignore[attr-defined]
    assert planned.startswith("Would ")
    assert told(planned, "intended") == planned
    assert told(planned, "confirmed") == change.describe(done=True)  # type: ignore[attr-defined]
    assert "Would" not in told(planned, "failed", "Cliq said no")
    assert told(planned, "failed", "Cliq said no").endswith(" failed: Cliq said no")


def test_each_state_has_its_own_words() -> None:
    planned = "Would invite a@x.com (employee E1)"
    assert told(planned, "confirmed") == "Invited a@x.com (employee E1)"
    assert told(planned, "failed", "email.invitation.blocked") == (
        "Inviting a@x.com (employee E1) failed: email.invitation.blocked"
    )
    assert told(planned, "failed") == "Inviting a@x.com (employee E1) failed"
    assert told("Would create team 'Sales'", "failed") == "Creating team 'Sales' failed"
    assert told(planned, "skipped", "left to Zoho People") == (
        "Not done: invite a@x.com (employee E1): left to Zoho People"
    )
    assert told(planned, "sent") == "Inviting a@x.com (employee E1): sent, not confirmed yet"
    assert told(planned, "superseded") == "Not confirmed: invite a@x.com (employee E1)"
    assert told("Would adopt existing Cliq user a@x.com", "confirmed").startswith("Adopted ")


def test_texts_that_are_not_a_plans_are_left_alone() -> None:
    assert told("invite Ana Silva (E1)", "confirmed") == "invite Ana Silva (E1)"
    assert told("Would frobnicate x", "confirmed") == "Would frobnicate x"
