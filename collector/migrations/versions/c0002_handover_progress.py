"""collector: the handover's progress (check-in tokens and voted marks, the outbox of signed batches and close), so
a rerun after a cut continues where it stopped (docs/remote-voting.md, section 7)

Revision ID: c0002
Revises: c0001
Create Date: 2026-12-03 08:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0002"
down_revision: str | None = "c0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "handover_checkins",
        sa.Column("credential", sa.String(length=64), nullable=False),
        sa.Column("checkin_token", sa.String(length=64), nullable=False),
        sa.Column("voted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["credential"], ["credentials.credential"]),
        sa.PrimaryKeyConstraint("credential"),
    )
    op.create_table(
        "handover_outbox",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    op.drop_table("handover_outbox")
    op.drop_table("handover_checkins")
