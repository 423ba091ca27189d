"""webhook_signatures: the signatures of the webhook calls taken, each refused again until
the call it signed would be stale anyway, in every process on the store

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.create_table(
        "webhook_signatures",
        sa.Column("integration", sa.String(100), primary_key=True),
        sa.Column("signature", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_webhook_signatures_expires_at", "webhook_signatures", ["expires_at"])


def downgrade() -> None:
    op.drop_table("webhook_signatures")
