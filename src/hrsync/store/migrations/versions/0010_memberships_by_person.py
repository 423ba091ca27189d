"""one index on the memberships of a kind by person, so moving someone to another role
finds their rows directly instead of reading every membership of that kind

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_index("ix_memberships_person", "memberships", ["integration", "kind", "employee_id"])


def downgrade() -> None:
    op.drop_index("ix_memberships_person", table_name="memberships")
