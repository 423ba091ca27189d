"""scim_uploads: each bulk upload an HR script sent, with what became of each record

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"


def upgrade() -> None:
    op.create_table(
        "scim_uploads",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("integration", sa.String(100), nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("records", sa.Text, nullable=False),
        sa.Column("without_active", sa.Integer, nullable=False),
        sa.Column("upload_set", sa.String(200), nullable=False),
        sa.Column("absent", sa.Text, nullable=False),
    )
    op.create_index("ix_scim_uploads_integration", "scim_uploads", ["integration", "upload_set"])


def downgrade() -> None:
    op.drop_table("scim_uploads")
