"""one index on the journal's run and change key, so marking a change finds it directly

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_index("ix_journal_run_key", "journal", ["run_id", "change_key"])


def downgrade() -> None:
    op.drop_index("ix_journal_run_key", table_name="journal")
