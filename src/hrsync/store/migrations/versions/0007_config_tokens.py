"""access tokens of the keys in hrsync.toml, shared by every process

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "config_tokens",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("sealed", sa.LargeBinary, nullable=True),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("denied_until", sa.Float, nullable=False),
        sa.Column("refreshes", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("config_tokens")
