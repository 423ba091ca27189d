"""run owner and heartbeat; recent API calls for pacing across processes

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("owner", sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("heartbeat_at", sa.Float, nullable=True))
    op.create_table(
        "api_calls",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("scope", sa.String(300), nullable=False),
        sa.Column("endpoint", sa.String(60), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_index("ix_api_calls_scope_at", "api_calls", ["scope", "at"])


def downgrade() -> None:
    op.drop_index("ix_api_calls_scope_at", "api_calls")
    op.drop_table("api_calls")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("owner")
