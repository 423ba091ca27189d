"""hr_events: the people HR events name, kept until a run settles them, so a restart or a
kill between the webhook's 202 and the run loses none

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    op.create_table(
        "hr_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("integration", sa.String(100), nullable=False),
        sa.Column("employee_id", sa.String(100), nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_try_at", sa.Float, nullable=False),
        sa.Column("settled_at", sa.Float, nullable=True),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("sender", sa.String(20), nullable=False),
    )
    op.create_index("ix_hr_events_state_next", "hr_events", ["state", "next_try_at"])
    op.create_index("ix_hr_events_integration_state", "hr_events", ["integration", "state"])


def downgrade() -> None:
    op.drop_table("hr_events")
