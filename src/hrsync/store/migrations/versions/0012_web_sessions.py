"""web_sessions and web_consents: the admin page's sessions and OAuth consents under way, a
row each (they were one JSON bookmark each, rewritten whole: two sign-ins at once could lose
one, and a sign-out could be undone); the sessions kept before are dropped (sign in again)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("seen", sa.Float, nullable=False),
        sa.Column("proof", sa.Float, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "web_consents",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("connection", sa.String(100), nullable=False),
        sa.Column("session", sa.String(64), nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.execute("DELETE FROM bookmarks WHERE name IN ('web:sessions', 'web:oauth')")


def downgrade() -> None:
    op.drop_table("web_consents")
    op.drop_table("web_sessions")
