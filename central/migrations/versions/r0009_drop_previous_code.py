"""drop ``ballots.previous_code`` (issue 19)

A ballot's confirmation code no longer chains to the previous ballot's (it binds the ballot, the kiosk and the
election only; the kiosk's batch chain links the codes instead, migration 0006), so the column has been NULL for
every ballot stored since. Dropped; on SQLite through Alembic's batch mode (the table is copied, its indexes kept).
The downgrade adds the column back, empty.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.drop_column("previous_code")


def downgrade() -> None:
    with op.batch_alter_table("ballots") as batch:
        batch.add_column(sa.Column("previous_code", sa.String(length=128), nullable=True))
