"""leases: which hrsync serve worker runs an integration, until when

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("integration", sa.String(100), primary_key=True),
        sa.Column("owner", sa.String(300), nullable=False, server_default=""),
        sa.Column("expires_at", sa.Float, nullable=False, server_default="0"),
        sa.Column("renewed_at", sa.Float, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    op.drop_table("leases")
