"""scim_resources and scim_tokens: what identity providers push to hrsync over SCIM, kept
before hrsync answers, and each SCIM source's bearer token as its hash

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    op.create_table(
        "scim_resources",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("integration", sa.String(100), nullable=False),
        sa.Column("resource_type", sa.String(20), nullable=False),
        sa.Column("name_key", sa.String(400), nullable=True),
        sa.Column("hr_key", sa.String(100), nullable=True),
        sa.Column("hr_id", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(400), nullable=True),
        sa.Column("employee_number", sa.String(100), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("modified_at", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deleted_at", sa.Float, nullable=True),
        sa.Column("last_push", sa.Text, nullable=False),
        sa.Column("event_id", sa.Integer, nullable=True),
        sa.UniqueConstraint("integration", "resource_type", "name_key"),
        sa.UniqueConstraint("integration", "hr_key"),
    )
    op.create_index(
        "ix_scim_resources_external",
        "scim_resources",
        ["integration", "resource_type", "external_id"],
    )
    op.create_index(
        "ix_scim_resources_number", "scim_resources", ["integration", "employee_number"]
    )
    op.create_index("ix_scim_resources_hr_id", "scim_resources", ["integration", "hr_id"])
    op.create_table(
        "scim_tokens",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("integration", sa.String(100), nullable=False),
        sa.Column("made_at", sa.Float, nullable=False),
    )
    op.create_index("ix_scim_tokens_integration", "scim_tokens", ["integration"])


def downgrade() -> None:
    op.drop_table("scim_tokens")
    op.drop_table("scim_resources")
