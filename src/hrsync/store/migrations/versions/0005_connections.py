"""connections and their shared access tokens

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("data_centre", sa.String(4), nullable=False),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("secrets", sa.LargeBinary, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "access_tokens",
        sa.Column(
            "connection_id",
            sa.Integer,
            sa.ForeignKey("connections.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("sealed", sa.LargeBinary, nullable=True),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("denied_until", sa.Float, nullable=False),
        sa.Column("refreshes", sa.Integer, nullable=False),
        sa.Column("turn", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("access_tokens")
    op.drop_table("connections")
