"""passphrase_tries: wrong admin passphrases in a row, one row per door (the admin page, the
command line), so a guess holds the count while it is compared; the shared count kept as a
bookmark before is dropped (it starts again at zero)

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.create_table(
        "passphrase_tries",
        sa.Column("door", sa.String(20), primary_key=True),
        sa.Column("wrong", sa.Integer, nullable=False, server_default="0"),
        sa.Column("at", sa.Float, nullable=False, server_default="0"),
    )
    op.execute("DELETE FROM bookmarks WHERE name = 'admin:wrong_passphrases'")


def downgrade() -> None:
    op.drop_table("passphrase_tries")
